import { fromBinary } from "@bufbuild/protobuf";
import { ModelSchema } from "../src/gen/Model_pb.js";
test("smoke", () => { expect(fromBinary(ModelSchema, new Uint8Array()).specificationVersion).toBe(0); });

/**
 * The hand-written QuantizationParams encoder against protobuf-es's toBinary, byte
 * for byte, on random parameters of both kinds.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { encodeQuantizationParams } from "../../src/codec/encode-model.js";
import {
  LinearQuantizationParamsSchema,
  LookUpTableQuantizationParamsSchema,
  QuantizationParamsSchema,
} from "../../src/gen/NeuralNetwork_pb.js";

const floats = fc.array(fc.float(), { maxLength: 300 });
const params = fc.record({
  bits: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 40n })),
  kind: fc.constantFrom("linear", "lut", "none"),
  scale: floats,
  bias: floats,
}).map(({ bits, kind, scale, bias }) => create(QuantizationParamsSchema, {
  numberOfBits: bits,
  QuantizationType: kind === "linear"
    ? { case: "linearQuantization", value: create(LinearQuantizationParamsSchema, { scale, bias }) }
    : kind === "lut"
      ? { case: "lookupTableQuantization", value: create(LookUpTableQuantizationParamsSchema, { floatValue: scale }) }
      : { case: undefined },
}));

test("the same bytes as toBinary", () => {
  fc.assert(fc.property(params, (message) => {
    const ours = encodeQuantizationParams(message);
    expect(ours).toBeDefined();
    expect(ours).toEqual(toBinary(QuantizationParamsSchema, message));
  }), { seed: 9, numRuns: 500 });
});

test("leaves messages with unknown fields to protobuf-es", () => {
  const message = create(QuantizationParamsSchema, { numberOfBits: 8n });
  message.$unknown = [{ no: 7, wireType: 0, data: Uint8Array.of(1) }];
  expect(encodeQuantizationParams(message)).toBeUndefined();
});

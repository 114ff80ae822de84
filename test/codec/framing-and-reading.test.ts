/**
 * checkFraming says why it does not locate a watched field's records, and
 * readWeights takes its options as an object (the former positional form is
 * refused with how to write it).
 */
import { create } from "@bufbuild/protobuf";
import { checkFraming } from "../../src/codec/check-framing.js";
import type { WeightParams } from "../../src/codec/model-types.js";
import { withLinear } from "../../src/codec/weight-storage.js";
import { readWeights } from "../../src/walker/read-weights.js";
import { WeightParamsSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

const WATCH = { typeName: "CoreML.Specification.WeightParams", field: 1, spare: 3, limit: 2 } as const;
/** A floatValue record (field 1, length-delimited) holding one float, with a one-byte tag. */
const FLOAT_RECORD = [0x0a, 4, 0, 0, 0x80, 0x3f];

describe("checkFraming", () => {
  test("locates the watched records' tags", () => {
    expect(checkFraming(WeightParamsSchema, Uint8Array.from([...FLOAT_RECORD, ...FLOAT_RECORD]), 64, WATCH)).toEqual({ located: true, tags: [0, 6] });
  });

  test.each([
    ["not-watched", FLOAT_RECORD, undefined],
    ["spare-field-used", [...FLOAT_RECORD, 0x1a, 0], WATCH],
    // The same record with its tag written in two bytes (0x8a 0x00 is 10, not minimal).
    ["wide-tag", [0x8a, 0x00, 4, 0, 0, 0x80, 0x3f], WATCH],
    ["over-limit", [...FLOAT_RECORD, ...FLOAT_RECORD, ...FLOAT_RECORD], WATCH],
  ] as const)("says %s", (reason, bytes, watch) => {
    expect(checkFraming(WeightParamsSchema, Uint8Array.from(bytes), 64, watch)).toEqual({ located: false, reason });
  });
});

describe("readWeights options", () => {
  const empty: WeightParams = { ...create(WeightParamsSchema), floatValue: new Float32Array(0) };
  const weights = withLinear(empty, 8, Uint8Array.from([0, 1, 2, 3]), [1], [0]);

  test("shape, axis, path and into are named", () => {
    const into = new Float32Array(4);
    expect(readWeights(weights, { shape: [4], axis: 0, path: "fc/weights", into })).toBe(into);
    expect(Array.from(into)).toEqual([0, 1, 2, 3]);
    expectQuantizeError(() => readWeights(weights, { path: "fc/weights" }), "invalid-weights", "fc/weights", "tensor shape");
  });

  test("the former positional form is refused, saying how to write it", () => {
    expectQuantizeError(() => readWeights(weights, [4] as never), "invalid-option", "readWeights(weightParams, { shape, axis, path })", "an array");
  });
});

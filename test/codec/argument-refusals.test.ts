/**
 * Public codec functions refuse a bad argument with a QuantizeError carrying a
 * code (what scripts and the CLI switch on), never a bare RangeError.
 */
import { create } from "@bufbuild/protobuf";
import { packIndices } from "../../src/codec/bit-pack.js";
import { decodeFloat16, encodeFloat16 } from "../../src/codec/float16.js";
import type { WeightParams } from "../../src/codec/model-types.js";
import { withInt8, withLinear, withLut } from "../../src/codec/weight-storage.js";
import { readWeights } from "../../src/walker/read-weights.js";
import { WeightParamsSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

const empty: WeightParams = { ...create(WeightParamsSchema), floatValue: new Float32Array(0) };

describe("an `into` array of the wrong length is invalid-option", () => {
  test("decodeFloat16", () => {
    const bytes = encodeFloat16(Float32Array.of(1, 2, 3));
    expectQuantizeError(() => decodeFloat16(bytes, new Float32Array(2)), "invalid-option", "3 halves", "array of 2");
    expect(Array.from(decodeFloat16(bytes, new Float32Array(3)))).toEqual([1, 2, 3]);
  });

  test("readWeights of int8 weights", () => {
    const weights = withInt8(empty, Int8Array.of(1, -2, 3, 4), 0.5);
    expectQuantizeError(
      () => readWeights(weights, { shape: [4], axis: 0, path: "fc/weights", into: new Float32Array(3) }),
      "invalid-option",
      "fc/weights",
      "4 int8 values",
    );
    expect(Array.from(readWeights(weights, { shape: [4], axis: 0, path: "fc/weights", into: new Float32Array(4) }))).toEqual([0.5, -1, 1.5, 2]);
  });

  test("readWeights of linear and lookup-table weights", () => {
    const packed = packIndices(Uint8Array.of(0, 1, 2, 3), 2);
    const linear = withLinear(empty, 2, packed, [1], [0]);
    const lut = withLut(empty, 2, packed, [0, 1, 2, 3]);
    for (const weights of [linear, lut]) {
      expectQuantizeError(
        () => readWeights(weights, { shape: [4], axis: 0, path: "fc/weights", into: new Float32Array(5) }),
        "invalid-option",
        "fc/weights",
        "4 values",
      );
      expect(Array.from(readWeights(weights, { shape: [4], axis: 0, path: "fc/weights", into: new Float32Array(4) }))).toEqual([0, 1, 2, 3]);
    }
  });
});

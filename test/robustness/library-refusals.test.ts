/**
 * The library on its own, where the CLI's checks do not reach: decodeModel must
 * refuse every length beyond the buffer, and quantizeWeights (called directly, as
 * an API user does, without validateWeights first) must refuse weights whose count
 * does not match the shape the layer declares instead of returning a model that
 * validateWeights refuses, or one that hides the mismatch.
 */
import { decodeModel } from "../../src/codec/decode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { isQuantizeError } from "../../src/errors.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { validateWeights } from "../../src/validate-model.js";
import { concat, F, fcModel, floatValueRecords, sixteen, tag, varint, WIRE } from "./helpers.js";

describe("decodeModel refuses lengths beyond the buffer, however they are spelled", () => {
  test.each([2n ** 31n, 2n ** 32n, 2n ** 32n + 2n, 2n ** 35n, 2n ** 63n].map((n) => [String(n), n] as const))(
    "a record declaring %s bytes",
    (_label, length) => {
      // Arrange: a good model, then a neuralNetwork record claiming `length` bytes with 2 present
      const bytes = concat(fcModel(floatValueRecords(sixteen())), tag(F.model.neuralNetwork, WIRE.lengthDelimited), varint(length), Uint8Array.of(0x0a, 0x00));

      // Act
      let thrown: unknown;
      try {
        decodeModel(bytes);
      } catch (error) {
        thrown = error;
      }

      // Assert
      expect({ length: String(length), invalidProtobuf: isQuantizeError(thrown, "invalid-protobuf") }).toEqual({
        length: String(length),
        invalidProtobuf: true,
      });
    },
  );
});

describe("quantizeWeights refuses weights whose count does not match the declared shape (the CLI checks first; API users rely on this)", () => {
  const modes = [
    ["linear 8", { nbits: 8 }],
    ["half precision", { nbits: 16 }],
    ["linear_lut 3", { nbits: 3, mode: "linear_lut" }],
    ["kmeans_lut 4", { nbits: 4, mode: "kmeans_lut" }],
    ["linear_symmetric 8", { nbits: 8, mode: "linear_symmetric" }],
  ] as const;
  // 12 values split evenly into the 4 output channels; 15 do not.
  const rows = modes.flatMap(([name, options]) => [12, 15].map((count) => [name, count, options] as const));

  test.each(rows)("%s, a 4x4 innerProduct holding %i weights", (_name, count, options) => {
    // Arrange
    const model = decodeModel(fcModel(floatValueRecords(sixteen().slice(0, count))));

    // Act
    let thrown: unknown;
    let returned: Model | undefined;
    try {
      returned = quantizeWeights(model, options);
    } catch (error) {
      thrown = error;
    }

    // Assert
    const what = returned === undefined ? "threw" : `returned a model (validateWeights: ${validationOf(returned)})`;
    expect({ what, code: isQuantizeError(thrown) ? thrown.code : String(thrown) }).toEqual({ what: "threw", code: "invalid-weights" });
    expect((thrown as Error).message).toMatch(/layers\[0\] "fc"\/weights/);
  });
});

function validationOf(model: Model): string {
  try {
    validateWeights(model);
    return "accepts it";
  } catch (error) {
    return (error as Error).message;
  }
}

import * as quantizer from "../../src/quantizer/index.js";

describe("quantizer/index", () => {
  test("exports exactly the public surface", () => {
    expect(Object.keys(quantizer).sort()).toEqual([
      "DEFAULT_EXACT_BUDGET",
      "DEFAULT_MAX_LLOYD_ITERATIONS",
      "MAX_NBITS",
      "SCALE_EPSILON",
      "channelLayout",
      "channelRange",
      "customLut",
      "dequantizeLinear",
      "dequantizeLut",
      "kmeansLut",
      "layoutSize",
      "quantizeInt8",
      "quantizeLinear",
      "quantizeLinearLut",
      "quantizeLinearSymmetric",
      "roundHalfEven",
      "roundHalfEvenNonNegative",
      "squaredError",
    ]);
  });
});

/**
 * The uniform LUT of a float16 weight: entries computed in float64 and cast to
 * float16 in one rounding, as numpy's `astype` does (MLPROGRAM.md section 10,
 * `LUT[i] = fl_D(i*step + mn)` evaluated in float64).
 */
import { roundFloat64ToFloat16 } from "../../src/codec/float16.js";
import { roundToFloat16 } from "../../src/mlprogram/blockwise-linear.js";
import { palettizeTensor } from "../../src/mlprogram/palettize-tensor.js";

test("a 3-bit uniform LUT entry just above a float16 midpoint rounds up, where rounding through float32 would tie and round down", () => {
  // Arrange: two float16 values whose top LUT entry, 7 * step + mn in float64, lies a hair above a midpoint.
  const [mn, mx] = [-0.48388671875, 1.396484375];
  const step = roundToFloat16(mx - mn) / 7;
  const top = 7 * step + mn;
  expect(roundToFloat16(top)).not.toBe(roundFloat64ToFloat16(top));

  // Act
  const palettized = palettizeTensor(Float64Array.of(mn, mx), [2, 1], { mode: "uniform", nbits: 3, axis: 0, groupSize: 2, vector: 1, float: "float16" });

  // Assert
  if (typeof palettized === "string") throw new Error(palettized);
  expect(palettized.lut[7]).toBe(roundFloat64ToFloat16(top));
});

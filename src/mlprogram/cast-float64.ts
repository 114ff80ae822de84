/**
 * A float64 result cast to a weight's float type as numpy's `astype` does.
 *
 * @packageDocumentation
 */
import { roundFloat64ToFloat16 } from "../codec/float16.js";
import { roundToFloat, type ArithmeticFloat } from "./blockwise-linear.js";

/**
 * Casts a float64 result (a k-means centroid, a uniform LUT entry) to a float
 * type as numpy's `astype` does: to float16 in one rounding, not through float32,
 * whose rounding can land on a tie the number is not on. (Arithmetic on float16
 * operands may round through float32: {@link roundToFloat}.)
 *
 * @param float - the type
 * @param x - the float64 number
 * @returns the nearest value of the type, ties to even
 */
export function castFloat64(float: ArithmeticFloat, x: number): number {
  return float === "float16" ? roundFloat64ToFloat16(x) : roundToFloat(float, x);
}

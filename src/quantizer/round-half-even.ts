/**
 * Rounding to the nearest integer with ties to even, as numpy's `round` does.
 *
 * @packageDocumentation
 */
import { ROUNDING_SHIFT } from "../kernels/run-kernels.js";

/**
 * Rounds to the nearest integer, halves to the even neighbour (numpy `round` /
 * `rint`): 0.5 → 0, 1.5 → 2, 2.5 → 2, -0.5 → -0, -1.5 → -2. Exact for every
 * double; the sign of zero follows numpy; NaN and ±Infinity are returned unchanged.
 *
 * @param x - any double
 * @returns the integer nearest to `x`, the even one on a tie
 * @example
 * ```ts
 * roundHalfEven(2.5); // 2
 * ```
 */
export function roundHalfEven(x: number): number {
  // Math.round is exact but sends ties towards +Infinity. r - x is exact (Sterbenz for
  // |x| >= 0.5, -x below), so a tie is recognised exactly; an odd r then steps back
  // down to the even neighbour. -0 % 2 is -0, which === 0, so -0.5 keeps -0.
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * {@link roundHalfEven} for `0 <= x < 2^51`, in two additions and no branch:
 * `(x + 1.5·2^52) - 1.5·2^52`. Both operations are exact apart from the one rounding
 * we want. `Math.round` compiles to a branch that random weights mispredict half the
 * time; this is several times faster in the quantizers' inner loops, whose
 * `(w - min) * inv` and `(w - bias) / scale` lie in [0, 2^nbits].
 *
 * @param x - a number in [0, 2^51) (for anything else use {@link roundHalfEven})
 * @returns `x` rounded to the nearest integer, ties to even
 */
export function roundHalfEvenNonNegative(x: number): number {
  return x + ROUNDING_SHIFT - ROUNDING_SHIFT;
}

/**
 * Symmetric int8 weights for int8 × int8 matrix multiplication, bit-exact with
 * coremltools' `activate_int8_int8_matrix_multiplications`.
 *
 * @packageDocumentation
 */

import { channelRange } from "./channel-range.js";
import type { QuantizerOptions } from "./quantizer-options.js";

/** A tensor quantized as `w ≈ values[k] * scale`. */
export interface Int8Quantized {
  /** One signed value per weight, in tensor order, in -127..127. */
  readonly values: Int8Array;
  /** The one step for the whole tensor, a float32 value. */
  readonly scale: number;
}

/**
 * Quantizes a whole tensor to int8 with one scale, as the reference does:
 * `m = max(|min w|, |max w|)`, `q = trunc(127 * w / m)` (truncation towards zero, not
 * rounding; float64, multiply then divide), `scale = fround(m / 127)`.
 *
 * An all-zero tensor (`m = 0`) gives all-zero values and scale 0 rather than the
 * reference's NaN from 0 / 0: `values[k] * scale` still reconstructs it exactly. When
 * `m / 127` is below the smallest float32 (m < ~1.8e-43) the stored scale rounds to 0,
 * as the reference's float32 storage does too.
 * Reconstruct with `values[k] * scale`; that is not an exact inverse, since truncation
 * loses up to one step per value.
 *
 * @param values - the tensor, finite
 * @param options - where the tensor lives, for errors
 * @returns the int8 values and the float32 scale
 * @throws QuantizeError `invalid-weights` when there are no values;
 *   `non-finite-weight` naming the first NaN or infinite value
 */
export function quantizeInt8(values: Float32Array, options: QuantizerOptions = {}): Int8Quantized {
  const n = values.length;
  const { min, max } = channelRange(values, { outer: 1, channels: 1, inner: n }, options);
  const m = Math.max(Math.abs(min[0] as number), Math.abs(max[0] as number));
  const out = new Int8Array(n);
  if (m === 0) return { values: out, scale: 0 };
  // 127 * w is exact in float64 (24 + 7 bits), so |127 * w / m| <= 127 always.
  for (let k = 0; k < n; k++) out[k] = Math.trunc((127 * (values[k] as number)) / m);
  return { values: out, scale: Math.fround(m / 127) };
}

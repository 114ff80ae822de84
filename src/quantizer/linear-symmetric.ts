/**
 * Per-channel symmetric linear quantization, bit-exact with coremltools'
 * `linear_symmetric` mode.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";
import type { ChannelLayout } from "./channel-layout.js";
import { runKernels } from "../kernels/index.js";
import { channelRange } from "./channel-range.js";
import { SCALE_EPSILON, type LinearQuantized } from "./linear.js";
import { assertFloat32Finite, assertNbits, type QuantizerOptions } from "./quantizer-options.js";

/**
 * Quantizes each channel on a grid symmetric around zero, as coremltools'
 * `_quantize_channelwise_linear(..., symmetric=True)` does, bit for bit.
 *
 * Per channel, in float64 and in this order: `r = max(|min|, |max|)`,
 * `scale = r / (2^nbits / 2 - 1)`, `bias = -(2^nbits / 2) * scale`,
 * `q = |scale| > 1e-6 ? roundHalfEven((w - bias) / scale) : 0` (a division, not a
 * multiplication by an inverse: the last bit depends on it); scale and bias are then
 * stored as float32. Zero maps to index `2^nbits / 2`, and `±r` to `2^nbits / 2 ± (2^nbits
 * / 2 - 1)`, so indices stay below `2^nbits`. {@link dequantizeLinear} is the inverse on
 * the grid.
 *
 * The model API allows this mode only at 8 bits; this function accepts 2..8 (one bit
 * has no symmetric grid: its step would divide by zero).
 *
 * @param values - the tensor, row-major, finite
 * @param nbits - bits per index, 2..8
 * @param layout - how the tensor splits into channels (see {@link channelLayout})
 * @param options - where the tensor lives, for errors
 * @returns indices in tensor order and per-channel float32 scale and bias
 * @throws QuantizeError `invalid-option` for a bad `nbits` (including 1) or layout;
 *   `invalid-weights` when the layout does not cover exactly the values or there are
 *   none; `non-finite-weight` naming the first NaN or infinite value
 */
export function quantizeLinearSymmetric(values: Float32Array, nbits: number, layout: ChannelLayout, options: QuantizerOptions = {}): LinearQuantized {
  assertNbits(nbits, options);
  if (nbits < 2) {
    throw new QuantizeError("invalid-option", "symmetric linear quantization needs at least 2 bits", options);
  }
  const { min, max } = channelRange(values, layout, options);
  const { channels } = layout;
  const half = 2 ** nbits / 2;
  const scale64 = new Float64Array(channels);
  const bias64 = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const r = Math.max(Math.abs(min[c] as number), Math.abs(max[c] as number));
    const step = r / (half - 1);
    scale64[c] = step;
    bias64[c] = -half * step;
    assertFloat32Finite(bias64[c] as number, `the bias of channel ${c}`, options);
  }
  const indices = new Uint8Array(values.length);
  // The reference's `where=` leaves index 0 where the step is at most 1e-6: dividing
  // by Infinity gives exactly that.
  const divisor = scale64.map((step) => (Math.abs(step) > SCALE_EPSILON ? step : Infinity));
  runKernels().linearIndices(values, layout, bias64, divisor, true, indices);
  return { indices, scale: Float32Array.from(scale64), bias: Float32Array.from(bias64) };
}

/**
 * Per-channel linear (affine) quantization, bit-exact with coremltools' `linear` mode.
 *
 * @packageDocumentation
 */

import type { ChannelLayout } from "./channel-layout.js";
import { runKernels } from "../kernels/index.js";
import { channelRange } from "./channel-range.js";
import { assertFloat32Finite, assertNbits, type QuantizerOptions } from "./quantizer-options.js";

/**
 * Below this step the reference does not divide by the scale and maps every value of
 * the channel to index 0 (its `inv_scale` / `where=` guard).
 */
export const SCALE_EPSILON = 1e-6;

/** A tensor quantized per channel as `w ≈ q * scale[c] + bias[c]`. */
export interface LinearQuantized {
  /** One index per value, in tensor order, each below `2^nbits`. */
  readonly indices: Uint8Array;
  /** Per-channel step, float32 as stored in the model. */
  readonly scale: Float32Array;
  /** Per-channel offset (the value of index 0), float32 as stored in the model. */
  readonly bias: Float32Array;
}

/**
 * Quantizes each channel linearly between its minimum and maximum, as coremltools'
 * `_quantize_channelwise_linear` (non-symmetric) does, bit for bit.
 *
 * Per channel, in float64 and in this order: `a = min`, `b = max`,
 * `scale = (b - a) / (2^nbits - 1)`, `inv = |scale| > 1e-6 ? 1 / scale : 0`,
 * `q = roundHalfEven((w - a) * inv)`, `bias = a`; scale and bias are then stored as
 * float32. A constant channel (or one narrower than `1e-6 * (2^nbits - 1)`) gets all
 * indices 0. {@link dequantizeLinear} is the inverse on the grid.
 *
 * @param values - the tensor, row-major, finite
 * @param nbits - bits per index, 1..8
 * @param layout - how the tensor splits into channels (see {@link channelLayout})
 * @param options - where the tensor lives, for errors
 * @returns indices in tensor order and per-channel float32 scale and bias
 * @throws QuantizeError `invalid-option` for a bad `nbits` or layout;
 *   `invalid-weights` when the layout does not cover exactly the values or there are
 *   none; `non-finite-weight` naming the first NaN or infinite value
 * @example
 * ```ts
 * const { indices, scale, bias } =
 *   quantizeLinear(weights, 8, channelLayout([64, 3, 3, 3], 0));
 * ```
 */
export function quantizeLinear(values: Float32Array, nbits: number, layout: ChannelLayout, options: QuantizerOptions = {}): LinearQuantized {
  assertNbits(nbits, options);
  const { min, max } = channelRange(values, layout, options);
  const channels = layout.channels;
  const scale = new Float32Array(channels);
  const bias = new Float32Array(channels);
  const inverse = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const step = linearScale(min[c] as number, max[c] as number, nbits);
    assertFloat32Finite(step, `the step of channel ${c}`, options);
    scale[c] = step;
    bias[c] = min[c] as number;
    inverse[c] = linearInverse(step);
  }
  const indices = new Uint8Array(values.length);
  linearIndicesInto(values, layout, min, inverse, indices);
  return { indices, scale, bias };
}

/**
 * The float64 step of a channel with extremes `min` and `max` (before any float32
 * rounding): `(max - min) / (2^nbits - 1)`.
 *
 * Shared with {@link quantizeLinearLut}.
 *
 * @internal
 * @param min - the channel minimum
 * @param max - the channel maximum
 * @param nbits - bits per index
 * @returns the step, float64
 */
export function linearScale(min: number, max: number, nbits: number): number {
  return (max - min) / (2 ** nbits - 1);
}

/**
 * What the reference multiplies by instead of dividing by the step: `1 / scale`,
 * or 0 when `|scale| <= 1e-6`.
 *
 * Shared with {@link quantizeLinearLut}.
 *
 * @internal
 * @param scale - the float64 step
 * @returns the float64 multiplier
 */
export function linearInverse(scale: number): number {
  return Math.abs(scale) > SCALE_EPSILON ? 1 / scale : 0;
}

/**
 * Writes `roundHalfEven((w - min[c]) * inverse[c])` for every value, in tensor order.
 *
 * Shared with {@link quantizeLinearLut}.
 *
 * @internal
 * @param values - the tensor, already checked finite and covered by `layout`
 * @param layout - how it splits into channels
 * @param min - per-channel minimum, float64
 * @param inverse - per-channel multiplier from {@link linearInverse}
 * @param out - receives one index per value
 */
export function linearIndicesInto(values: Float32Array, layout: ChannelLayout, min: Float64Array, inverse: Float64Array, out: Uint8Array): void {
  runKernels().linearIndices(values, layout, min, inverse, false, out);
}

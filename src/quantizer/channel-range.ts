/**
 * The per-channel minimum and maximum, the first pass of linear quantization.
 *
 * @packageDocumentation
 */

import { assertLayoutFits, type ChannelLayout } from "../codec/channel-layout.js";
import { assertNotEmpty, nonFiniteWeightError, type QuantizerOptions }
  from "./quantizer-options.js";

/** Per-channel extremes, as float64 (exact: they are float32 values). */
export interface ChannelRange {
  /** Smallest value of each channel. */
  readonly min: Float64Array;
  /** Largest value of each channel. */
  readonly max: Float64Array;
}

/**
 * The minimum and maximum of each channel, in one pass in tensor order that also
 * refuses non-finite values.
 *
 * @param values - the tensor, row-major
 * @param layout - how it splits into channels
 * @param options - where the tensor lives, for errors
 * @returns `min[c]` and `max[c]` for every channel `c`
 * @throws QuantizeError `invalid-weights` when `layout` does not cover exactly the
 *   values or there are none; `non-finite-weight` naming the first NaN or infinite
 *   value in tensor order
 */
export function channelRange(values: Float32Array, layout: ChannelLayout,
  options: QuantizerOptions = {}): ChannelRange {
  assertNotEmpty(values.length, options);
  assertLayoutFits(layout, values.length, options);
  const { outer, channels, inner } = layout;
  const min = new Float64Array(channels).fill(Infinity);
  const max = new Float64Array(channels).fill(-Infinity);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let lo = min[c];
      let hi = max[c];
      for (let i = 0; i < inner; i++, k++) {
        const v = values[k];
        // v - v is NaN for NaN and ±Infinity, 0 otherwise: one test for both.
        if (v - v !== 0) throw nonFiniteWeightError(k, v, options);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      min[c] = lo;
      max[c] = hi;
    }
  }
  return { min, max };
}

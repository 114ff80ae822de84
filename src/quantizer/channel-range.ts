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
    for (let c = 0; c < channels; c++, k += inner) {
      if (!widenRange(values, k, k + inner, c, min, max)) {
        let bad = k;
        while (Number.isFinite(values[bad])) bad++;
        throw nonFiniteWeightError(bad, values[bad] as number, options);
      }
    }
  }
  return { min, max };
}

/**
 * Widens `min[c]` and `max[c]` to cover `values[start..end)`; false when the run holds
 * NaN or an infinity. One small function per run rather than one loop nest per
 * tensor: V8 optimizes it from complete type feedback after a few runs, where a
 * whole-tensor loop is compiled on the stack mid-loop and thrown away as soon as it
 * leaves its first run (measured: the first tensors quantized 2-4x slower).
 */
function widenRange(values: Float32Array, start: number, end: number, c: number,
  min: Float64Array, max: Float64Array): boolean {
  let lo = min[c] as number;
  let hi = max[c] as number;
  // v - v is NaN for NaN and ±Infinity, 0 otherwise: one sum tests them all.
  let check = 0;
  for (let k = start; k < end; k++) {
    const v = values[k] as number;
    check += v - v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  min[c] = lo;
  max[c] = hi;
  return check === 0;
}

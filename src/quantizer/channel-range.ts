/**
 * The per-channel minimum and maximum, the first pass of linear quantization.
 *
 * @packageDocumentation
 */

import { assertLayoutFits, type ChannelLayout } from "./channel-layout.js";
import { runKernels } from "../kernels/index.js";
import { assertNotEmpty, nonFiniteWeightError, type QuantizerOptions } from "./quantizer-options.js";

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
export function channelRange(values: Float32Array, layout: ChannelLayout, options: QuantizerOptions = {}): ChannelRange {
  assertNotEmpty(values.length, options);
  assertLayoutFits(layout, values.length, options);
  const min = new Float64Array(layout.channels);
  const max = new Float64Array(layout.channels);
  if (!runKernels().channelRanges(values, layout, min, max)) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    throw nonFiniteWeightError(bad, values[bad] as number, options);
  }
  return { min, max };
}

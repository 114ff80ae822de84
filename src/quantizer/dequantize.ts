/**
 * Back from indices to float32 weights, bit-exact with coremltools' `dequantization`.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";
import { runKernels } from "../kernels/index.js";
import { assertLayoutFits, type ChannelLayout } from "./channel-layout.js";
import type { QuantizeErrorOptions } from "../errors.js";

/** Where the tensor lives (for errors), and optionally where to write the result. */
export interface DequantizeOptions extends QuantizeErrorOptions {
  /**
   * Write into this array (exactly as long as the indices) instead of a new one, so
   * a caller going through many tensors can reuse one buffer.
   * @defaultValue a new Float32Array
   */
  readonly into?: Float32Array;
}
type QuantizerOptions = DequantizeOptions;

/**
 * Reconstructs linearly quantized weights: `w = q * scale[c] + bias[c]`, in float64,
 * stored as float32. A `scale` and `bias` of length 1 apply to every channel (what a
 * one-channel quantization stores).
 *
 * Inverse of {@link quantizeLinear} and {@link quantizeLinearSymmetric} on the grid:
 * quantizing the result again with the same layout and bit width gives back `indices`
 * when each channel's grid can be recovered from its values (its extreme indices are
 * present and its step is above 1e-6 and well above the float32 resolution of its
 * values).
 *
 * @param indices - one index per value, in tensor order
 * @param scale - per-channel step, or one for all channels
 * @param bias - per-channel offset, or one for all channels
 * @param layout - how the tensor splits into channels
 * @param options - where the tensor lives, for errors
 * @returns the float32 weights, in tensor order
 * @throws QuantizeError `invalid-weights` when `layout` does not cover exactly the
 *   indices or `scale` / `bias` have neither 1 nor `layout.channels` entries;
 *   `invalid-option` for a malformed layout or an `into` of another length
 */
export function dequantizeLinear(
  indices: Uint8Array,
  scale: ArrayLike<number>,
  bias: ArrayLike<number>,
  layout: ChannelLayout,
  options: QuantizerOptions = {},
): Float32Array {
  assertLayoutFits(layout, indices.length, options);
  const { channels } = layout;
  assertChannelCount("scale", scale.length, channels, options);
  assertChannelCount("bias", bias.length, channels, options);
  const perChannel = scale.length !== 1;
  const biasPerChannel = bias.length !== 1;
  const out = outputFor(indices.length, options);
  // One scale (or bias) for all channels is spread to each.
  const scales = Float64Array.from({ length: channels }, (_, c) => scale[perChannel ? c : 0] as number);
  const biases = Float64Array.from({ length: channels }, (_, c) => bias[biasPerChannel ? c : 0] as number);
  runKernels().dequantizeLinear(indices, layout, scales, biases, out);
  return out;
}

/**
 * Reconstructs lookup-table quantized weights: `w = lut[q]`.
 *
 * Inverse of {@link quantizeLinearLut}, {@link kmeansLut} and {@link customLut} on
 * the table: every value becomes an entry of `lut`.
 *
 * @param indices - one index per value, in tensor order
 * @param lut - the table
 * @param options - where the tensor lives, for errors
 * @returns the float32 weights, in tensor order
 * @throws QuantizeError `invalid-weights` naming the first index beyond the table;
 *   `invalid-option` for an `into` of another length
 */
export function dequantizeLut(indices: Uint8Array, lut: ArrayLike<number>, options: QuantizerOptions = {}): Float32Array {
  const table = Float32Array.from(lut);
  const size = table.length;
  const n = indices.length;
  const out = outputFor(n, options);
  for (let k = 0; k < n; k++) {
    const q = indices[k] as number;
    if (q >= size) {
      throw new QuantizeError("invalid-weights", `index ${q} at position ${k} is beyond the ${size}-entry lookup table`, options);
    }
    out[k] = table[q] as number;
  }
  return out;
}

function assertChannelCount(name: string, length: number, channels: number, options: QuantizerOptions): void {
  if (length !== 1 && length !== channels) {
    throw new QuantizeError("invalid-weights", `${name} has ${length} entries; expected 1 or one per channel (${channels})`, options);
  }
}

function outputFor(length: number, options: DequantizeOptions): Float32Array {
  const into = options.into;
  if (into === undefined) return new Float32Array(length);
  if (into.length !== length) {
    throw new QuantizeError(
      "invalid-option",
      `cannot dequantize ${length} values into an array of ${into.length}`,
      options.path === undefined ? {} : { path: options.path },
    );
  }
  return into;
}

/**
 * Lookup-table quantization with an evenly spaced table, bit-exact with coremltools'
 * `linear_lut` mode.
 *
 * @packageDocumentation
 */

import { channelRange } from "./channel-range.js";
import { linearIndicesInto, linearInverse, linearScale } from "./linear.js";
import type { LutQuantized } from "./lut-quantized.js";
import { assertFloat32Finite, assertNbits, type QuantizerOptions } from "./quantizer-options.js";

/**
 * Quantizes the whole tensor linearly as one channel and stores the grid as a table,
 * as coremltools' `_get_linear_lookup_table_and_weight` does, bit for bit.
 *
 * Indices are those of {@link quantizeLinear} with a single channel; the table is
 * `lut[i] = fround(i * scale + bias)` for `i` in `0..2^nbits - 1`, computed in float64
 * from the float64 `scale = (max - min) / (2^nbits - 1)` and `bias = min`.
 * {@link dequantizeLut} is the inverse on the grid.
 *
 * @param values - the tensor, finite
 * @param nbits - bits per index, 1..8
 * @param options - where the tensor lives, for errors
 * @returns indices in tensor order and the `2^nbits`-entry table
 * @throws QuantizeError `invalid-option` for a bad `nbits`; `invalid-weights` when
 *   there are no values; `non-finite-weight` naming the first NaN or infinite value
 */
export function quantizeLinearLut(values: Float32Array, nbits: number, options: QuantizerOptions = {}): LutQuantized {
  assertNbits(nbits, options);
  const layout = { outer: 1, channels: 1, inner: values.length };
  const { min, max } = channelRange(values, layout, options);
  const scale64 = linearScale(min[0] as number, max[0] as number, nbits);
  const indices = new Uint8Array(values.length);
  linearIndicesInto(values, layout, min, Float64Array.of(linearInverse(scale64)), indices);
  // The table comes from the float64 scale, not the scale rounded to float32: the
  // reference computes `indices * scales[0] + biases[0]` on the float64 arrays its
  // linear quantizer returns (all 976 linear_lut tables of the golden files match
  // bit for bit; from the rounded scale, 765 differ). The bias is a float32 weight.
  const bias = min[0] as number;
  const size = 2 ** nbits;
  const lut = new Float32Array(size);
  for (let i = 0; i < size; i++) lut[i] = i * scale64 + bias;
  assertFloat32Finite(lut[size - 1] as number, `lookup table entry ${size - 1}`, options);
  return { indices, lut };
}

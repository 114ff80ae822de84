/**
 * The summed squared reconstruction error of a lookup-table quantization.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";
import type { QuantizerOptions } from "./quantizer-options.js";

/**
 * Sum over the tensor of `(lut[indices[k]] - values[k])²`, in float64: the measure
 * k-means minimises and the golden cases compare against the reference.
 *
 * @param values - the original tensor
 * @param lut - the table
 * @param indices - one index per value
 * @param options - where the tensor lives, for errors
 * @returns the summed squared error (NaN if a value or entry is NaN)
 * @throws QuantizeError `invalid-weights` when `indices` and `values` differ in length
 *   or an index is beyond the table
 */
export function squaredError(values: Float32Array, lut: ArrayLike<number>, indices: Uint8Array, options: QuantizerOptions = {}): number {
  const n = values.length;
  if (indices.length !== n) {
    throw new QuantizeError("invalid-weights", `${indices.length} indices for ${n} values`, options);
  }
  const table = Float64Array.from(lut);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const q = indices[k] as number;
    if (q >= table.length) {
      throw new QuantizeError("invalid-weights", `index ${q} at position ${k} is beyond the ${table.length}-entry lookup table`, options);
    }
    const d = (table[q] as number) - (values[k] as number);
    total += d * d;
  }
  return total;
}

/**
 * The one data-movement kernel of the shape layers: a row-major walk of the
 * output that reads the source through arbitrary per-axis strides. Transposes,
 * broadcasts (stride 0) and strided slices (stride x step, offset at the start)
 * are all this walk.
 *
 * @packageDocumentation
 */
import { sizeOf, stridesOf } from "../tensor.js";

/**
 * A new array of `outShape`, where the value at output index `(i0, i1, ...)` is
 * `source[offset + i0 * strides[0] + i1 * strides[1] + ...]`.
 *
 * @param source - the values read
 * @param outShape - the output's shape
 * @param strides - one source stride per output axis (0 repeats a value)
 * @param offset - where the walk starts in `source` @defaultValue 0
 * @returns the gathered values
 */
export function stridedCopy(source: Float32Array, outShape: readonly number[], strides: readonly number[], offset = 0): Float32Array {
  const out = new Float32Array(sizeOf(outShape));
  if (out.length === 0) return out;
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = source[offset] as number;
    return out;
  }
  const inner = outShape[rank - 1] as number;
  const innerStride = strides[rank - 1] as number;
  // An odometer over the axes before the last; `from` follows it in the source.
  const index = new Array<number>(rank - 1).fill(0);
  let from = offset;
  for (let o = 0; o < out.length; o += inner) {
    if (innerStride === 1) {
      out.set(source.subarray(from, from + inner), o);
    } else {
      for (let k = 0, s = from; k < inner; k++, s += innerStride) out[o + k] = source[s] as number;
    }
    for (let a = rank - 2; a >= 0; a--) {
      const stride = strides[a] as number;
      from += stride;
      if (++(index[a] as number) < (outShape[a] as number)) break;
      from -= stride * (outShape[a] as number);
      index[a] = 0;
    }
  }
  return out;
}

/**
 * `data` (of `shape`) with its axes reordered: output axis `i` is input axis
 * `perm[i]`.
 *
 * @param data - the values
 * @param shape - their shape
 * @param perm - a permutation of the axes of `shape`
 * @returns the transposed values and their shape
 */
export function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): { shape: number[]; data: Float32Array } {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p] as number);
  return {
    shape: outShape,
    data: stridedCopy(
      data,
      outShape,
      perm.map((p) => inStrides[p] as number),
    ),
  };
}

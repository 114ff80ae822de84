/**
 * The hot loops of quantizing and measuring, as kernels over runs of a tensor:
 * `[start, end)` of typed arrays, every array indexed by position in the tensor.
 * Two implementations give bit-identical results: WebAssembly SIMD
 * (wasm-kernels.ts), used wherever the runtime has it (Node 16.4+, current
 * browsers), and plain JavaScript (js-kernels.ts), used otherwise.
 *
 * @packageDocumentation
 */

/**
 * Error sums as two lanes each, lane `k & 1` holding the values at positions `k`
 * of that parity: [Σx² ×2, Σ(y-x)² ×2, max|x| ×2, max|y-x| ×2, Σxy ×2, Σy² ×2,
 * Σ(n - n) ×2] (the last is 0 while every value is finite). Fixed lanes make the
 * sums independent of how a tensor is cut into runs.
 */
export const ERROR_SUM_LANES = 14;

/** The loops, each over positions `[start, end)`. */
export interface RunKernels {
  /** Which implementation this is. */
  readonly name: "wasm-simd" | "js";
  /**
   * Writes the smallest and largest of `values[start..end)` to `extremes[0]` and
   * `extremes[1]`; a zero extreme takes the sign of the first zero in the run.
   * Returns false when the run holds NaN or an infinity (extremes then unspecified).
   */
  range(values: Float32Array, start: number, end: number, extremes: Float64Array): boolean;
  /**
   * `out[k] = roundHalfEven((values[k] - a) * inverse)`, or with `divide`,
   * `roundHalfEven((values[k] - a) / inverse)`, in float64, kept modulo 256. Every
   * `(values[k] - a) * inverse` must lie in [0, 2^51).
   */
  indices(values: Float32Array, start: number, end: number, a: number, inverse: number, divide: boolean, out: Uint8Array): void;
  /** `out[k] = float32(indices[k] * scale + bias)`, in float64 before the rounding. */
  dequantizeLinear(indices: Uint8Array, start: number, end: number, scale: number, bias: number, out: Float32Array): void;
  /**
   * Adds the pairs `(original[k], reconstructed[k - start + offset])` to `sums`
   * (see {@link ERROR_SUM_LANES}).
   */
  errorSums(original: Float32Array, start: number, end: number, reconstructed: Float32Array, offset: number, sums: Float64Array): void;
  /** {@link RunKernels.errorSums} against `float32(indices[k] * scale + bias)`. */
  linearErrorSums(original: Float32Array, indices: Uint8Array, start: number, end: number, scale: number, bias: number, sums: Float64Array): void;
  /** {@link RunKernels.errorSums} against the half-precision values `halves[k]`. */
  float16ErrorSums(original: Float32Array, halves: Uint16Array, start: number, end: number, sums: Float64Array): void;
  /**
   * `halves[k]` = the half-precision bits nearest the float32 bits `bits[k]` (ties
   * to even) for magnitudes below 65536; larger magnitudes, infinities and NaN get
   * only their sign bit, for the caller to convert. Returns the largest magnitude's
   * bits (`bits & 0x7fffffff`, so NaN orders above infinity).
   */
  encodeHalves(bits: Uint32Array, start: number, end: number, halves: Uint16Array): number;
  /** `bits[k]` = the float32 bits of the half-precision value `halves[k]` (exact). */
  decodeHalves(halves: Uint16Array, start: number, end: number, bits: Uint32Array): void;
}

/** Float32 bits at and above which {@link RunKernels.encodeHalves} leaves values to the caller. */
export const HALF_ENCODE_LIMIT_BITS = 0x47800000;

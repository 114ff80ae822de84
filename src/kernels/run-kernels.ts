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

/**
 * How a tensor splits into channels, as in codec/channel-layout.ts: `outer` blocks
 * of `channels` runs of `inner` consecutive values, run `r` belonging to channel
 * `r % channels`.
 */
export interface RunLayout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
}

/**
 * The loops. Per-channel ones take a whole tensor and its layout, the others
 * positions `[start, end)`; every array is indexed by position in the tensor.
 */
export interface RunKernels {
  /** Which implementation this is. */
  readonly name: "wasm-simd" | "js";
  /**
   * Sets `min[c]` and `max[c]` to the smallest and largest value of each channel; of
   * equal extremes the first in tensor order is kept (which decides the sign of a
   * zero). Returns false when any value is NaN or infinite (extremes then unspecified).
   */
  channelRanges(values: Float32Array, layout: RunLayout, min: Float64Array, max: Float64Array): boolean;
  /**
   * `out[k] = roundHalfEven((values[k] - offset[c]) * factor[c])` for the channel `c`
   * of each position, or with `divide`, `roundHalfEven((values[k] - offset[c]) /
   * factor[c])`, in float64, kept modulo 256. Every rounded quantity must lie in
   * [0, 2^51); dividing by Infinity gives index 0.
   */
  linearIndices(values: Float32Array, layout: RunLayout, offset: ArrayLike<number>, factor: ArrayLike<number>, divide: boolean, out: Uint8Array): void;
  /** `out[k] = float32(indices[k] * scale[c] + bias[c])`, in float64 before the rounding. */
  dequantizeLinear(indices: Uint8Array, layout: RunLayout, scale: ArrayLike<number>, bias: ArrayLike<number>, out: Float32Array): void;
  /** {@link RunKernels.errorSums} of a whole tensor against `float32(indices[k] * scale[c] + bias[c])`. */
  linearErrorSums(original: Float32Array, indices: Uint8Array, layout: RunLayout, scale: ArrayLike<number>, bias: ArrayLike<number>, sums: Float64Array): void;
  /**
   * Adds the pairs `(original[k], reconstructed[k - start + offset])` for `k` in
   * `[start, end)` to `sums` (see {@link ERROR_SUM_LANES}).
   */
  errorSums(original: Float32Array, start: number, end: number, reconstructed: Float32Array, offset: number, sums: Float64Array): void;
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

/**
 * 1.5 · 2^52: every double in [2^52, 2^53) is an integer, so adding this to a number
 * in [0, 2^51) makes the FPU round it to an integer in its default mode, ties to
 * even. The constant is even, so the parity of the sum is the parity of the result.
 */
export const ROUNDING_SHIFT = 6_755_399_441_055_744;

/** Float32 bits at and above which {@link RunKernels.encodeHalves} leaves values to the caller. */
export const HALF_ENCODE_LIMIT_BITS = 0x47800000;


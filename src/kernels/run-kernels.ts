/**
 * The hot loops of quantizing and measuring, as kernels over runs of a tensor:
 * `[start, end)` of typed arrays, every array indexed by position in the tensor;
 * and the matrix product and depthwise convolution the executor's layers use.
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
 * How a tensor splits into channels, as in quantizer/channel-layout.ts: `outer` blocks
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
  /** The matrix product `c = start + a · b` in float32 (see {@link Matmul} for the order of the sums). */
  matmul(product: Matmul): void;
  /** A depthwise convolution in float32 (see {@link DepthwiseConv2d} for the order of the sums). */
  depthwiseConv2d(conv: DepthwiseConv2d): void;
}

/**
 * The planes and window of a 2-D convolution, or of its transpose, over one image:
 * an `inHeight` x `inWidth` input plane, an `outHeight` x `outWidth` output plane,
 * and a `kernelHeight` x `kernelWidth` kernel moved `strideY` rows and `strideX`
 * columns a step. All positive integers.
 */
export interface ConvWindow2d {
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly strideY: number;
  readonly strideX: number;
}

/**
 * The window of a (not transposed) convolution: a {@link ConvWindow2d} whose
 * taps are `dilationY` rows and `dilationX` columns apart, over the input with
 * zeros around it.
 */
export interface DilatedConvWindow2d extends ConvWindow2d {
  readonly dilationY: number;
  readonly dilationX: number;
  /** Rows of zeros before the input: output row `oy` starts at input row `oy * strideY - padTop`. */
  readonly padTop: number;
  readonly padLeft: number;
}

/**
 * A depthwise convolution of one image: output channel `co = c * multiplier + m`
 * reads input channel c alone. Each output `output[co, oy, ox]` is the bias
 * `bias[co]` (or zero), then `weights[co, ky, kx] * input[c, iy, ix]` added for
 * ky, then kx, in order, with `iy = oy * strideY - padTop + ky * dilationY` and
 * `ix = ox * strideX - padLeft + kx * dilationX`, reading zero outside the input:
 * each product and each sum rounded to float32, the order of {@link Matmul} over
 * the patch of one channel. Both implementations give the same bits.
 */
export interface DepthwiseConv2d extends DilatedConvWindow2d {
  readonly channels: number;
  readonly multiplier: number;
  /** `[channels, inHeight, inWidth]` from `inOffset`. */
  readonly input: Float32Array;
  readonly inOffset: number;
  /** `[channels * multiplier, kernelHeight, kernelWidth]`. */
  readonly weights: Float32Array;
  /** `[channels * multiplier]`, or undefined for none. */
  readonly bias: Float32Array | undefined;
  /** Receives `[channels * multiplier, outHeight, outWidth]` from `outOffset`. */
  readonly output: Float32Array;
  readonly outOffset: number;
}

/**
 * Where each output of a {@link Matmul} starts: zero, one value per row of `c`
 * (`values[offset + i]`) or one per column (`values[offset + j]`).
 */
export type MatmulStart = { readonly along: "none" } | { readonly along: "rows" | "columns"; readonly values: Float32Array; readonly offset: number };

/**
 * A matrix product over row-major float32 matrices inside larger arrays: element
 * `(i, j)` of `x` is `x[xOffset + i * xStride + j]`. `c` (m x n) receives, for each
 * `(i, j)`, the start value `s` followed by `s = float32(s + float32(a[i, t] * b[t, j]))`
 * for t = 0, 1, ..., k - 1, in that order: no fused multiply-add, no reassociation.
 * That order is what both implementations compute, so their results are
 * bit-identical (NaN payloads aside). `c` must not overlap `a` or `b`.
 */
export interface Matmul {
  /** Rows of `a` and `c`. */
  readonly m: number;
  /** Columns of `b` and `c`. */
  readonly n: number;
  /** Columns of `a`, rows of `b` (at least 1). */
  readonly k: number;
  readonly a: Float32Array;
  readonly aOffset: number;
  readonly aStride: number;
  readonly b: Float32Array;
  readonly bOffset: number;
  readonly bStride: number;
  readonly c: Float32Array;
  readonly cOffset: number;
  readonly cStride: number;
  readonly start: MatmulStart;
}

/**
 * 1.5 · 2^52: every double in [2^52, 2^53) is an integer, so adding this to a number
 * in [0, 2^51) makes the FPU round it to an integer in its default mode, ties to
 * even. The constant is even, so the parity of the sum is the parity of the result.
 */
export const ROUNDING_SHIFT = 6_755_399_441_055_744;

/** Float32 bits at and above which {@link RunKernels.encodeHalves} leaves values to the caller. */
export const HALF_ENCODE_LIMIT_BITS = 0x47800000;

/**
 * How far a reconstructed tensor is from the original: signal-to-noise ratios,
 * largest error and cosine similarity, in one float64 pass over two float32 arrays.
 *
 * @packageDocumentation
 */
import type { ChannelLayout } from "../quantizer/channel-layout.js";
import { dequantizeLinear } from "../quantizer/dequantize.js";
import { decodeFloat16, float16Halves } from "../codec/float16.js";
import { ERROR_SUM_LANES, runKernels } from "../kernels/index.js";
import { QuantizeError } from "../errors.js";

/**
 * The error of one tensor. Every number is finite or `null`, so the object is
 * faithful through `JSON.stringify` (JSON has no Infinity or NaN).
 */
export interface TensorError {
  /** Values compared. */
  readonly count: number;
  /**
   * Positions where the original or the reconstruction is NaN or ±Infinity: left
   * out of every sum below.
   */
  readonly nonFinite: number;
  /**
   * Whether every reconstructed value equals its original: finite values equal,
   * non-finite ones the same (NaN with NaN, an infinity with the same infinity).
   */
  readonly exact: boolean;
  /**
   * Signal-to-noise ratio in dB: `10 log10(Σx² / Σn²)`, signal x the original,
   * noise n the reconstruction minus the original. `null` when infinite: +∞ when
   * there is no noise (`maxAbsError` is 0), −∞ when the original is all zeros and
   * the reconstruction is not.
   */
  readonly snrDb: number | null;
  /**
   * Peak signal-to-noise ratio in dB: `10 log10(max x² / mean n²)`. Never below
   * `snrDb` (the peak is at least the mean square). `null` in the same cases as `snrDb`.
   */
  readonly psnrDb: number | null;
  /** The largest `|reconstruction − original|`; 0 when nothing was compared. */
  readonly maxAbsError: number;
  /**
   * Cosine of the angle between original and reconstruction, in [−1, 1]: 1 when
   * both are all zeros (identical), 0 when exactly one is.
   */
  readonly cosine: number;
}

/**
 * Compares a reconstruction with its original. All arithmetic is float64; no
 * per-value allocation.
 *
 * @param original - the reference values (the signal)
 * @param reconstructed - the values to judge, as many as `original`
 * @returns the error measures
 * @throws {@link QuantizeError} `invalid-weights` when the lengths differ
 * @example
 * ```ts
 * tensorError(Float32Array.of(1, 2), Float32Array.of(1, 2)); // { exact: true, snrDb: null, ... }
 * ```
 */
export function tensorError(original: Float32Array, reconstructed: Float32Array): TensorError {
  const count = original.length;
  if (reconstructed.length !== count) {
    throw new QuantizeError("invalid-weights", `cannot compare ${count} original values with ${reconstructed.length} reconstructed ones`);
  }
  const all = accumulate(original, reconstructed);
  if (finiteCheck(all) === 0) return summarize(count, 0, true, count, all);
  // Rare: NaN or infinities. Count them, compare them, and sum over the finite pairs only.
  const keptOriginal = new Float32Array(count);
  const keptReconstructed = new Float32Array(count);
  let kept = 0;
  let sameNonFinite = true;
  for (let i = 0; i < count; i++) {
    const x = original[i] as number;
    const y = reconstructed[i] as number;
    if (Number.isFinite(x) && Number.isFinite(y)) {
      keptOriginal[kept] = x;
      keptReconstructed[kept++] = y;
    } else if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) {
      // Object.is: NaN matches NaN; an infinity matches only itself.
      sameNonFinite = false;
    }
  }
  const finite = accumulate(keptOriginal.subarray(0, kept), keptReconstructed.subarray(0, kept));
  return summarize(count, count - kept, sameNonFinite, kept, finite);
}

/**
 * {@link tensorError} of `original` against a reconstruction produced run by run:
 * `decode(start, end, into)` writes values `[start, end)` into `into`. Only a few
 * thousand values exist decoded at a time, so comparing a lookup-table tensor (or
 * any other storage) needs no second tensor-sized buffer.
 *
 * @param original - the reference values, in tensor order
 * @param decode - writes the reconstruction of `[start, end)` into `into` (exactly
 *   `end - start` long)
 * @returns the error measures, the same as `tensorError(original, reconstruction)`
 */
export function decodedTensorError(original: Float32Array, decode: (start: number, end: number, into: Float32Array) => void): TensorError {
  const count = original.length;
  const kernels = runKernels();
  const sums = new Float64Array(ERROR_SUM_LANES);
  const run = new Float32Array(Math.min(RUN_LENGTH, count));
  for (let start = 0; start < count; start += RUN_LENGTH) {
    const end = Math.min(start + RUN_LENGTH, count);
    const decoded = run.subarray(0, end - start);
    decode(start, end, decoded);
    kernels.errorSums(original, start, end, decoded, 0, sums);
  }
  return finiteOr(
    count,
    sums,
    () => {
      const reconstruction = new Float32Array(count);
      decode(0, count, reconstruction);
      return reconstruction;
    },
    original,
  );
}

/**
 * {@link tensorError} of `original` against linearly quantized values
 * (`q * scale[c] + bias[c]` rounded to float32, exactly what
 * `dequantizeLinear` writes), without writing the reconstruction anywhere:
 * the report's pass over an n-bit linear tensor costs one read of each side.
 *
 * @param original - the reference values, in tensor order
 * @param indices - one index per value, in tensor order
 * @param scale - the step of each channel
 * @param bias - the offset of each channel
 * @param layout - how the tensor splits into channels; covers `original` exactly
 * @returns the error measures, the same as `tensorError(original,
 *   dequantizeLinear(indices, scale, bias, layout))`
 * @throws {@link QuantizeError} `invalid-weights` when the counts differ
 */
export function linearTensorError(
  original: Float32Array,
  indices: Uint8Array,
  scale: ArrayLike<number>,
  bias: ArrayLike<number>,
  layout: ChannelLayout,
): TensorError {
  const count = original.length;
  if (
    indices.length !== count ||
    layout.outer * layout.channels * layout.inner !== count ||
    scale.length !== layout.channels ||
    bias.length !== layout.channels
  ) {
    throw new QuantizeError(
      "invalid-weights",
      `cannot compare ${count} original values with ${indices.length} indices in ${layout.channels} channels of ${scale.length} scales and ${bias.length} biases`,
    );
  }
  const sums = new Float64Array(ERROR_SUM_LANES);
  runKernels().linearErrorSums(original, indices, layout, scale, bias, sums);
  return finiteOr(count, sums, () => dequantizeLinear(indices, scale, bias, layout), original);
}

/**
 * {@link tensorError} of `original` against half-precision values, read straight
 * from their little-endian bytes (as `WeightParams.float16Value` holds them).
 *
 * @param original - the reference values, in tensor order
 * @param float16Bytes - two bytes per value
 * @returns the error measures, the same as `tensorError(original, decodeFloat16(float16Bytes))`
 * @throws {@link QuantizeError} `invalid-weights` when the counts differ
 */
export function float16TensorError(original: Float32Array, float16Bytes: Uint8Array): TensorError {
  const count = original.length;
  if (float16Bytes.length !== 2 * count) {
    throw new QuantizeError("invalid-weights", `cannot compare ${count} original values with ${float16Bytes.length} bytes of half-precision values`);
  }
  const sums = new Float64Array(ERROR_SUM_LANES);
  runKernels().float16ErrorSums(original, float16Halves(float16Bytes), 0, count, sums);
  return finiteOr(count, sums, () => decodeFloat16(float16Bytes), original);
}

/** Values per kernel call where the tensor has no channels to follow. */
const RUN_LENGTH = 4096;

/** The sums of a whole tensor. */
function accumulate(original: Float32Array, reconstructed: Float32Array): Float64Array {
  const sums = new Float64Array(ERROR_SUM_LANES);
  runKernels().errorSums(original, 0, original.length, reconstructed, 0, sums);
  return sums;
}

/** The summary of `sums` when every value was finite, else the general path over the reconstruction. */
function finiteOr(count: number, sums: Float64Array, reconstruct: () => Float32Array, original: Float32Array): TensorError {
  if (finiteCheck(sums) === 0) return summarize(count, 0, true, count, sums);
  // Rare: non-finite values. The general path counts and sorts them out.
  return tensorError(original, reconstruct());
}

function finiteCheck(sums: Float64Array): number {
  return (sums[12] as number) + (sums[13] as number);
}

function summarize(count: number, nonFinite: number, sameNonFinite: boolean, finite: number, sums: Float64Array): TensorError {
  // Two lanes per sum (see ERROR_SUM_LANES), added here.
  const lane = (i: number): [number, number] => [sums[2 * i] as number, sums[2 * i + 1] as number];
  const [signal, noise, dot, energy] = [0, 1, 4, 5].map((i) => lane(i)[0] + lane(i)[1]) as [number, number, number, number];
  const peak = Math.max(...lane(2));
  const maxAbsError = Math.max(...lane(3));
  const finiteRatio = (numerator: number): number | null => (noise === 0 || numerator === 0 ? null : 10 * Math.log10(numerator / noise));
  return {
    count,
    nonFinite,
    exact: maxAbsError === 0 && sameNonFinite,
    snrDb: finiteRatio(signal),
    psnrDb: finiteRatio(peak * peak * finite),
    maxAbsError,
    // Equal vectors: exactly 1, not dot / (|x| |y|) rounded.
    cosine: noise === 0 ? 1 : cosineOf(dot, signal, energy),
  };
}

function cosineOf(dot: number, a: number, b: number): number {
  if (a === 0 && b === 0) return 1;
  if (a === 0 || b === 0) return 0;
  // Rounding can push |cos| a hair past 1 for parallel vectors.
  return Math.max(-1, Math.min(1, dot / (Math.sqrt(a) * Math.sqrt(b))));
}

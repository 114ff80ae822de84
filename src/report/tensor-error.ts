/**
 * How far a reconstructed tensor is from the original: signal-to-noise ratios,
 * largest error and cosine similarity, in one float64 pass over two float32 arrays.
 *
 * @packageDocumentation
 */
import type { ChannelLayout } from "../codec/channel-layout.js";
import { dequantizeLinear } from "../codec/dequantize.js";
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
  if (all[FINITE_CHECK] === 0) return summarize(count, 0, true, count, all);
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
 * thousand values exist decoded at a time, so comparing a half-precision or
 * lookup-table tensor needs no second tensor-sized buffer.
 *
 * @param original - the reference values, in tensor order
 * @param decode - writes the reconstruction of `[start, end)` into `into` (exactly
 *   `end - start` long)
 * @returns the error measures, the same as `tensorError(original, reconstruction)`
 */
export function decodedTensorError(original: Float32Array,
  decode: (start: number, end: number, into: Float32Array) => void): TensorError {
  const count = original.length;
  const sums = new Float64Array(SUM_COUNT);
  const run = new Float32Array(Math.min(RUN_LENGTH, count));
  for (let start = 0; start < count; start += RUN_LENGTH) {
    const end = Math.min(start + RUN_LENGTH, count);
    const decoded = run.subarray(0, end - start);
    decode(start, end, decoded);
    accumulateRun(original.subarray(start, end), decoded, 0, end - start, sums);
  }
  if (sums[FINITE_CHECK] === 0) return summarize(count, 0, true, count, sums);
  // Rare: non-finite values. The general path counts and sorts them out.
  const reconstruction = new Float32Array(count);
  decode(0, count, reconstruction);
  return tensorError(original, reconstruction);
}

/** Running sums, in a Float64Array so run kernels can carry them from run to run. */
const SIGNAL = 0;
const NOISE = 1;
/** Largest |original|. */
const PEAK = 2;
const MAX_ABS_ERROR = 3;
const DOT = 4;
const ENERGY = 5;
/** 0 while every value is finite, NaN after any is not. */
const FINITE_CHECK = 6;
const SUM_COUNT = 7;

/** Values per call of the run kernels when a tensor has no channels to follow. */
const RUN_LENGTH = 4096;

/** The sums of a whole tensor, run by run. */
function accumulate(original: Float32Array, reconstructed: Float32Array): Float64Array {
  const sums = new Float64Array(SUM_COUNT);
  for (let start = 0; start < original.length; start += RUN_LENGTH) {
    accumulateRun(original, reconstructed, start, Math.min(start + RUN_LENGTH, original.length), sums);
  }
  return sums;
}

/**
 * Adds `[start, end)` to the sums with no data-dependent branch (a branch here costs
 * several times the whole loop on random weights): finiteness is accumulated as
 * n - n for the difference n, which turns NaN if either value is NaN or infinite.
 * Kernels work on runs, not whole tensors, so V8 optimizes them from complete type
 * feedback after a few calls instead of recompiling a loop nest mid-tensor.
 */
function accumulateRun(original: Float32Array, reconstructed: Float32Array, start: number, end: number,
  sums: Float64Array): void {
  let signal = sums[SIGNAL] as number;
  let noise = sums[NOISE] as number;
  let peak = sums[PEAK] as number;
  let maxAbsError = sums[MAX_ABS_ERROR] as number;
  let dot = sums[DOT] as number;
  let energy = sums[ENERGY] as number;
  let finiteCheck = sums[FINITE_CHECK] as number;
  for (let k = start; k < end; k++) {
    const x = original[k] as number;
    const y = reconstructed[k] as number;
    const n = y - x;
    finiteCheck += n - n;
    signal += x * x;
    noise += n * n;
    peak = Math.max(peak, Math.abs(x));
    maxAbsError = Math.max(maxAbsError, Math.abs(n));
    dot += x * y;
    energy += y * y;
  }
  sums.set([signal, noise, peak, maxAbsError, dot, energy, finiteCheck]);
}

/** {@link accumulateRun} against `q * s + b` rounded to float32 for the indices q. */
function accumulateLinearRun(original: Float32Array, indices: Uint8Array, start: number, end: number,
  s: number, b: number, sums: Float64Array): void {
  let signal = sums[SIGNAL] as number;
  let noise = sums[NOISE] as number;
  let peak = sums[PEAK] as number;
  let maxAbsError = sums[MAX_ABS_ERROR] as number;
  let dot = sums[DOT] as number;
  let energy = sums[ENERGY] as number;
  let finiteCheck = sums[FINITE_CHECK] as number;
  for (let k = start; k < end; k++) {
    const x = original[k] as number;
    const y = Math.fround((indices[k] as number) * s + b);
    const n = y - x;
    finiteCheck += n - n;
    signal += x * x;
    noise += n * n;
    peak = Math.max(peak, Math.abs(x));
    maxAbsError = Math.max(maxAbsError, Math.abs(n));
    dot += x * y;
    energy += y * y;
  }
  sums.set([signal, noise, peak, maxAbsError, dot, energy, finiteCheck]);
}

/**
 * {@link tensorError} of `original` against linearly quantized values
 * (`q * scale[c] + bias[c]` rounded to float32, exactly what
 * {@link dequantizeLinear} writes), without writing the reconstruction anywhere:
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
export function linearTensorError(original: Float32Array, indices: Uint8Array,
  scale: ArrayLike<number>, bias: ArrayLike<number>, layout: ChannelLayout): TensorError {
  const count = original.length;
  if (indices.length !== count || layout.outer * layout.channels * layout.inner !== count
    || scale.length !== layout.channels || bias.length !== layout.channels) {
    throw new QuantizeError("invalid-weights", `cannot compare ${count} original values with ${indices.length} indices in ${layout.channels} channels of ${scale.length} scales and ${bias.length} biases`);
  }
  const { outer, channels, inner } = layout;
  const sums = new Float64Array(SUM_COUNT);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      // Long channels in runs too: a tensor of a single channel is common (biases, one-scale storage).
      const end = k + inner;
      for (let start = k; start < end; start += RUN_LENGTH) {
        accumulateLinearRun(original, indices, start, Math.min(start + RUN_LENGTH, end), scale[c] as number, bias[c] as number, sums);
      }
      k = end;
    }
  }
  if (sums[FINITE_CHECK] === 0) return summarize(count, 0, true, count, sums);
  // Rare: a non-finite original or parameter. The general path counts and sorts them out.
  return tensorError(original, dequantizeLinear(indices, scale, bias, layout));
}

function summarize(count: number, nonFinite: number, sameNonFinite: boolean, finite: number, sums: Float64Array): TensorError {
  const [signal, noise, peak, maxAbsError, dot, energy] = sums as unknown as [number, number, number, number, number, number];
  const finiteRatio = (numerator: number): number | null =>
    noise === 0 || numerator === 0 ? null : 10 * Math.log10(numerator / noise);
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

/**
 * How far a reconstructed tensor is from the original: signal-to-noise ratios,
 * largest error and cosine similarity, in one float64 pass over two float32 arrays.
 *
 * @packageDocumentation
 */
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
  if (all.finiteCheck === 0) return summarize(count, 0, true, count, all);
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

interface Sums {
  readonly signal: number;
  readonly noise: number;
  readonly peak: number;
  readonly maxAbsError: number;
  readonly dot: number;
  readonly energy: number;
  /** 0 when every value is finite, NaN otherwise. */
  readonly finiteCheck: number;
}

/**
 * The sums in one pass with no data-dependent branch (a branch here costs several
 * times the whole loop on random weights): finiteness is accumulated as
 * x - x + y - y, which turns NaN if any value is NaN or infinite.
 */
function accumulate(original: Float32Array, reconstructed: Float32Array): Sums {
  let signal = 0;
  let noise = 0;
  let peak = 0;
  let maxAbsError = 0;
  let dot = 0;
  let energy = 0;
  let finiteCheck = 0;
  for (let i = 0; i < original.length; i++) {
    const x = original[i] as number;
    const y = reconstructed[i] as number;
    finiteCheck += x - x + (y - y);
    const n = y - x;
    const x2 = x * x;
    signal += x2;
    noise += n * n;
    peak = Math.max(peak, x2);
    maxAbsError = Math.max(maxAbsError, Math.abs(n));
    dot += x * y;
    energy += y * y;
  }
  return { signal, noise, peak, maxAbsError, dot, energy, finiteCheck };
}

function summarize(count: number, nonFinite: number, sameNonFinite: boolean, finite: number, sums: Sums): TensorError {
  const { signal, noise, peak, maxAbsError, dot, energy } = sums;
  const finiteRatio = (numerator: number): number | null =>
    noise === 0 || numerator === 0 ? null : 10 * Math.log10(numerator / noise);
  return {
    count,
    nonFinite,
    exact: maxAbsError === 0 && sameNonFinite,
    snrDb: finiteRatio(signal),
    psnrDb: finiteRatio(peak * finite),
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

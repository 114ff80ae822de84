/**
 * The numbers {@link compareModels} reports for array and image outputs and for
 * intermediate blobs: coremltools' ModelMetrics figures (kept formula for
 * formula, for comparability) and the same ratios without its noise floor.
 * Plain float64 arithmetic over typed arrays; no model types.
 *
 * @packageDocumentation
 */

/**
 * What coremltools adds to the noise's mean square before dividing
 * (quantization_utils `NoiseMetrics`): it keeps an exact match finite, and caps
 * the SNR of an output whose mean square is `m` at `10 log10(m / 1e-7)` dB.
 */
export const COREMLTOOLS_NOISE_FLOOR = 1e-7;

/**
 * Below this ceiling coremltools' SNR says nothing: 40 dB is what 8-bit linear
 * weights typically keep (and the default target of `nbits: "auto"`), so an
 * output whose ceiling is lower reads about the same whether the quantized model
 * is lossless or badly damaged (the brief's pose heatmaps of ~1e-3 have a
 * ceiling near 10 dB). Equivalently: mean(b^2) < 1e-3.
 */
export const MEANINGFUL_CEILING_DB = 40;

/**
 * Sums over the values of one output (or blob) of one sample, from which every
 * figure is derived; sums over several samples add up field by field (except
 * the maxima).
 */
export interface ErrorSums {
  /** Values compared. */
  readonly count: number;
  /** Sum of b^2, b the quantized model's values (coremltools' signal). */
  readonly signal: number;
  /** Sum of (a - b)^2, a the original's values. */
  readonly noise: number;
  /** Sum of a^2. */
  readonly original: number;
  /** Sum of a * b. */
  readonly dot: number;
  /** The largest b^2 (coremltools' peak). */
  readonly peak: number;
  /** The largest |a - b|. */
  readonly maxAbsError: number;
}

/** The figures of one sample of an array or image output. */
export interface SampleMetrics {
  /** `10 log10(sum b^2 / sum (a-b)^2)`: +Infinity when equal, -Infinity when b is all zeros and a is not. */
  readonly snrDb: number;
  /** `10 log10(max b^2 / mean (a-b)^2)`: +Infinity when equal. */
  readonly psnrDb: number;
  /** coremltools' SNR: `10 log10(mean b^2 / (mean (a-b)^2 + 1e-7))`. */
  readonly coremltoolsSnrDb: number;
  /** coremltools' PSNR: `10 log10(max b^2 / (mean (a-b)^2 + 1e-7))`. */
  readonly coremltoolsPsnrDb: number;
  /** The largest |a - b|. */
  readonly maxAbsError: number;
  /** `sum ab / sqrt(sum a^2 * sum b^2)`: 1 when both are all zeros, 0 when only one is. */
  readonly cosineSimilarity: number;
}

/** A mean and a population variance (numpy's `np.mean`, `np.var`). */
export interface MeanVariance {
  /** The mean. */
  readonly mean: number;
  /** The population variance (divided by n, not n - 1). */
  readonly variance: number;
}

/**
 * The sums of one comparison.
 *
 * @param original - a: the original model's values
 * @param quantized - b: the quantized model's values, as many
 * @returns the sums, in float64
 * @throws RangeError when the lengths differ (the caller checks them first)
 */
export function errorSums(original: ArrayLike<number>, quantized: ArrayLike<number>): ErrorSums {
  if (original.length !== quantized.length) throw new RangeError(`errorSums: ${original.length} values against ${quantized.length}`);
  let signal = 0;
  let noise = 0;
  let orig = 0;
  let dot = 0;
  let peak = 0;
  let maxAbsError = 0;
  for (let i = 0; i < original.length; i++) {
    const a = original[i] as number;
    const b = quantized[i] as number;
    const d = a - b;
    const bb = b * b;
    signal += bb;
    noise += d * d;
    orig += a * a;
    dot += a * b;
    // Written so that a NaN makes the maxima NaN, as numpy's amax does.
    if (!(bb <= peak)) peak = bb;
    const ad = Math.abs(d);
    if (!(ad <= maxAbsError)) maxAbsError = ad;
  }
  return { count: original.length, signal, noise, original: orig, dot, peak, maxAbsError };
}

/** Field-by-field sum of two {@link ErrorSums} (maxima: the larger). */
export function addErrorSums(x: ErrorSums, y: ErrorSums): ErrorSums {
  return {
    count: x.count + y.count,
    signal: x.signal + y.signal,
    noise: x.noise + y.noise,
    original: x.original + y.original,
    dot: x.dot + y.dot,
    peak: nanMax(x.peak, y.peak),
    maxAbsError: nanMax(x.maxAbsError, y.maxAbsError),
  };
}

/** Sums of nothing: the identity of {@link addErrorSums}. */
export const NO_ERROR: ErrorSums = { count: 0, signal: 0, noise: 0, original: 0, dot: 0, peak: 0, maxAbsError: 0 };

function nanMax(x: number, y: number): number {
  return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y);
}

/**
 * `10 log10(signal / noise)` without any floor: +Infinity when the noise is
 * zero (an exact match, whatever the signal), -Infinity when only the signal is.
 *
 * @param signal - a sum (or mean) of squares of the reference
 * @param noise - the matching sum (or mean) of squared differences
 * @returns the ratio in dB
 */
export function ratioDb(signal: number, noise: number): number {
  if (noise === 0 && !Number.isNaN(signal)) return Infinity;
  return 10 * Math.log10(signal / noise);
}

/**
 * Every figure of one sample (or, given summed {@link ErrorSums}, of several
 * pooled as one long vector).
 *
 * @param sums - from {@link errorSums}
 * @returns the figures; coremltools' are its formulas in float64
 */
export function sampleMetrics(sums: ErrorSums): SampleMetrics {
  const { count, signal, noise, peak } = sums;
  const noiseVar = noise / count + COREMLTOOLS_NOISE_FLOOR;
  return {
    snrDb: ratioDb(signal, noise),
    psnrDb: ratioDb(peak * count, noise),
    coremltoolsSnrDb: 10 * Math.log10(signal / count / noiseVar),
    coremltoolsPsnrDb: 10 * Math.log10(peak / noiseVar),
    maxAbsError: sums.maxAbsError,
    cosineSimilarity: cosine(sums),
  };
}

function cosine(sums: ErrorSums): number {
  if (sums.original === 0 && sums.signal === 0) return 1;
  if (sums.original === 0 || sums.signal === 0) return 0;
  return sums.dot / Math.sqrt(sums.original * sums.signal);
}

/**
 * The highest SNR coremltools can report for values whose mean square is
 * `signal / count`: its noise floor caps it there.
 *
 * @param sums - the output's sums (all samples pooled)
 * @returns the ceiling in dB
 */
export function coremltoolsCeilingDb(sums: ErrorSums): number {
  return 10 * Math.log10(sums.signal / sums.count / COREMLTOOLS_NOISE_FLOOR);
}

/**
 * Mean and population variance, as numpy's `np.mean` and `np.var` (divide by
 * n, not n - 1); an infinite value makes the mean infinite and the variance NaN,
 * as in numpy.
 *
 * @param values - one figure per sample
 * @returns both; NaN for no values
 */
export function meanVariance(values: readonly number[]): MeanVariance {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return { mean, variance: squares / values.length };
}

/**
 * A raw image blob as the 8-bit pixels Core ML makes of it: each value rounded
 * to the nearest integer (halves up) and clamped to 0..255. NaN stays NaN, so a
 * broken output shows in the figures instead of reading as black.
 *
 * @param data - the image output's float values
 * @returns the pixel values, as floats
 */
export function toPixels(data: ArrayLike<number>): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}

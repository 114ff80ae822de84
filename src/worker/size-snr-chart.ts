/**
 * The size-against-SNR chart of one model: the model quantized at every bit
 * width of every mode, and to half precision, each result measured by its file
 * size and the SNR of its weights — the figures of docs/report.md's chart
 * (scripts/snr-chart.mjs), for any model.
 *
 * @packageDocumentation
 */
import { encodeModel } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { isQuantizeError, type ErrorCode } from "../errors.js";
import { inspectModel } from "../inspect-model.js";
import { quantizeWeights, type Float16Overflow } from "../quantize/quantize-weights.js";
import type { LayerSelector } from "../selectors.js";
import { weightReport } from "../report/weight-report.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";

/** The modes charted, one line each, in the order they are drawn. */
export const SIZE_SNR_MODES = ["linear", "linear_lut", "kmeans_lut"] as const;

/** The bit widths charted for each mode. */
export const SIZE_SNR_BITS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8];

/**
 * Errors that refuse one setting and may spare others (half precision of values
 * beyond ±65504; NaN kept by float16 but refused by n-bit modes): such a setting
 * is listed as refused. Any other error is the model's or the options', and ends
 * the chart.
 */
const REFUSED_PER_SETTING: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["float16-overflow", "non-finite-weight"]);

/** A line of the chart: one of {@link SIZE_SNR_MODES}, or the single half-precision point. */
export type SizeSnrSeries = (typeof SIZE_SNR_MODES)[number] | "float16";

/** Where a point is: its line and bit width (16 for float16). */
export interface SizeSnrSetting {
  /** The mode, or `float16`. */
  readonly series: SizeSnrSeries;
  /** Bits per weight: 16 for `float16`. */
  readonly nbits: number;
}

/** Every point of the chart, half precision first, then each mode from 1 bit up. */
export const SIZE_SNR_SETTINGS: readonly SizeSnrSetting[] = [
  { series: "float16", nbits: 16 },
  ...SIZE_SNR_MODES.flatMap((series) => SIZE_SNR_BITS.map((nbits) => ({ series, nbits }))),
];

/** One point: what quantizing at one setting gives. */
export interface SizeSnrPoint extends SizeSnrSetting {
  /** The quantized model's file size in bytes. */
  readonly fileBytes: number;
  /** Bytes of its weights (the report's `bytesAfter`). */
  readonly weightBytes: number;
  /** The weights' mean SNR in dB, weighted by size (the report's `meanSnrDb`); `null` when every tensor is exact. */
  readonly meanSnrDb: number | null;
  /** The lowest SNR of any tensor in dB; `null` when every tensor is exact. */
  readonly minSnrDb: number | null;
}

/** A setting the model cannot be quantized at (half precision of values beyond ±65504, …), with why. */
export interface SizeSnrRefusal extends SizeSnrSetting {
  /** The QuantizeError's one-line message. */
  readonly message: string;
}

/** What {@link sizeSnrChart} measured. */
export interface SizeSnrChart {
  /** The model's own file size in bytes (as encoded). */
  readonly fileBytes: number;
  /** Bytes of its weights as they are (as `inspect` counts them: the report's `bytesBefore`). */
  readonly weightBytes: number;
  /** The points measured, in the order of {@link SIZE_SNR_SETTINGS}. */
  readonly points: readonly SizeSnrPoint[];
  /** The settings quantizeWeights refused, in the same order. */
  readonly refused: readonly SizeSnrRefusal[];
}

/** Progress of {@link sizeSnrChart}: after each point, and within each as its tensors are done. */
export interface SizeSnrProgress {
  /** Settings done so far (measured or refused). */
  readonly done: number;
  /** Settings in all. */
  readonly total: number;
  /** Within a setting: the part of the one under way done, in [0, 1). Absent on reports after a setting. */
  readonly fraction?: number;
}

/** Options of {@link sizeSnrChart}: what every point shares. */
export interface SizeSnrChartOptions {
  /** Which layers to change, as for quantizeWeights. @defaultValue the default selector */
  readonly selector?: LayerSelector;
  /** Fuse batchnorm, scale and bias layers into the layer before (below 16 bits). @defaultValue true */
  readonly fuse?: boolean;
  /** For the float16 point. @defaultValue "error" (the point is refused for values beyond ±65504) */
  readonly float16Overflow?: Float16Overflow;
  /** Called with progress. @defaultValue none */
  readonly onProgress?: (progress: SizeSnrProgress) => void;
}

/**
 * Quantizes `model` at every setting of {@link SIZE_SNR_SETTINGS} with
 * quantizeWeights and measures each result with weightReport and encodeModel:
 * the points of a chart of SNR against file size, from which a user picks the
 * setting to quantize at. Each point is what quantizeWeights gives with those
 * options, so quantizing at a point gives that point's model. Slow on a large
 * model: 25 quantizations, k-means among them.
 *
 * @param model - the model to measure; not modified
 * @param options - the options every point shares, a progress callback
 * @returns the model's own size, and every point
 * @throws {@link index!QuantizeError} for a model quantizeWeights refuses at every
 *   setting (no neural network, weights that do not fit their layers) or refused
 *   options; a setting refused on its own (half precision of values beyond ±65504
 *   with `float16Overflow: "error"`) is listed in `refused` instead
 * @example
 * ```ts
 * const chart = sizeSnrChart(decodeModel(bytes));
 * for (const p of chart.points) console.log(p.series, p.nbits, p.fileBytes, p.meanSnrDb);
 * ```
 */
export function sizeSnrChart(model: Model, options: SizeSnrChartOptions = {}): SizeSnrChart {
  const { onProgress, ...shared } = options;
  assertHasNetwork(model);
  validateWeights(model);
  const points: SizeSnrPoint[] = [];
  const refused: SizeSnrRefusal[] = [];
  const total = SIZE_SNR_SETTINGS.length;
  SIZE_SNR_SETTINGS.forEach((setting, done) => {
    try {
      const quantized = quantizeWeights(model, {
        ...shared,
        ...(setting.series === "float16" ? { nbits: 16 } : { nbits: setting.nbits, mode: setting.series }),
        ...(onProgress === undefined
          ? {}
          : {
              onProgress: (p) => {
                const fraction = p.total === 0 ? 0 : (p.done + (p.fraction ?? 0)) / p.total;
                if (fraction < 1) onProgress({ done, total, fraction });
              },
            }),
      });
      const { totals } = weightReport(model, quantized);
      points.push({
        ...setting,
        fileBytes: encodeModel(quantized).byteLength,
        weightBytes: totals.bytesAfter,
        meanSnrDb: totals.meanSnrDb,
        minSnrDb: totals.minSnrDb,
      });
    } catch (error) {
      if (!isQuantizeError(error) || !REFUSED_PER_SETTING.has(error.code)) throw error;
      refused.push({ ...setting, message: error.message });
    }
    onProgress?.({ done: done + 1, total });
  });
  return { fileBytes: encodeModel(model).byteLength, weightBytes: inspectModel(model).totals.bytes, points, refused };
}

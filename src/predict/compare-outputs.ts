/**
 * The per-output half of {@link compareModels}: how each output is compared by
 * its declared type (labels, probability dictionaries, arrays and images),
 * accumulated over the samples.
 *
 * @packageDocumentation
 */
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import {
  addErrorSums,
  coremltoolsCeilingDb,
  errorSums,
  MEANINGFUL_CEILING_DB,
  meanVariance,
  NO_ERROR,
  ratioDb,
  sampleMetrics,
  toPixels,
  type ErrorSums,
  type MeanVariance,
  type SampleMetrics,
} from "./compare-metrics.js";
import type { OutputValue } from "./feature-io.js";

/** A string or int64 class label: top-1 agreement, as coremltools. */
export interface LabelComparison {
  /** A class label output (string or integer). */
  readonly kind: "label";
  /** The output feature's name. */
  readonly name: string;
  /** The fraction of samples (0..1) where both models give the same label. */
  readonly agreement: number;
  /** The samples where they differ, with both labels. */
  readonly disagreements: readonly LabelDisagreement[];
  /** The first sample where the labels differ; undefined when none does. */
  readonly worstSample: number | undefined;
}

/** One sample where two labels differ. */
export interface LabelDisagreement {
  /** The sample's index. */
  readonly sample: number;
  /** The original model's label. */
  readonly original: string | bigint;
  /** The quantized model's label. */
  readonly quantized: string | bigint;
}

/** A probability dictionary: top-k agreement, as coremltools, and more. */
export interface DictionaryComparison {
  /** A dictionary of class probabilities. */
  readonly kind: "dictionary";
  /** The output feature's name. */
  readonly name: string;
  /** k: 5, or the number of classes when fewer. */
  readonly topK: number;
  /**
   * coremltools' figure: the fraction of samples where the original's most
   * probable class is among the quantized model's k most probable (ties in
   * label order).
   */
  readonly agreement: number;
  /** The fraction of samples where both models' most probable class is the same. */
  readonly top1Agreement: number;
  /** The largest |p - q| over every class and sample. */
  readonly maxAbsError: number;
  /**
   * The sample where the original's top class ranks lowest in the quantized
   * model's order (then: the largest probability error); undefined when every
   * probability is the same.
   */
  readonly worstSample: number | undefined;
  /** Per sample: the rank of the original's top class in the quantized model's order (0: the top) and the largest |p - q|. */
  readonly perSample: readonly {
    /** The rank of the original's top class in the quantized model's order (0: the top). */
    readonly rank: number;
    /** The largest |p - q| over the sample's classes. */
    readonly maxAbsError: number;
  }[];
}

/** A multiArray (or double) output, or an image output compared as its 8-bit pixels. */
export interface ArrayComparison {
  /** A multi-array output, or an image output compared as its pixel values. */
  readonly kind: "array" | "image";
  /** The output feature's name. */
  readonly name: string;
  /**
   * `10 log10(sum b^2 / sum (a-b)^2)` over every value of every sample (a the
   * original's output, b the quantized model's), without coremltools' floor:
   * +Infinity when equal.
   */
  readonly snrDb: number;
  /** `10 log10(max b^2 / mean (a-b)^2)` over every sample, no floor. */
  readonly psnrDb: number;
  /** The largest |a - b|. */
  readonly maxAbsError: number;
  /** The mean over samples of the cosine similarity of a and b. */
  readonly cosineSimilarity: number;
  /** coremltools' figures: per sample, with its `+1e-7` floor, then mean and variance over the samples. */
  readonly coremltools: {
    /** coremltools' SNR in dB, per sample. */
    readonly snrDb: MeanVariance;
    /** coremltools' PSNR in dB, per sample. */
    readonly psnrDb: MeanVariance;
  };
  /** The highest SNR coremltools can report for this output: `10 log10(mean b^2 / 1e-7)`. */
  readonly coremltoolsCeilingDb: number;
  /**
   * Whether the output is too small for coremltools' SNR to mean anything: its
   * ceiling is below {@link MEANINGFUL_CEILING_DB} (mean b^2 < 1e-3). Read `snrDb`.
   */
  readonly floorDominated: boolean;
  /** The sample with the lowest SNR; undefined when every sample is equal. */
  readonly worstSample: number | undefined;
  /** Every figure of every sample. */
  readonly perSample: readonly SampleMetrics[];
}

/** One output's comparison, by its declared type. */
export type OutputComparison = LabelComparison | DictionaryComparison | ArrayComparison;

/** How outputs are compared, by declared feature type. */
export type OutputKind = OutputComparison["kind"];

/** @internal The kind of comparison of each output feature type; types absent here are refused. */
export const KIND_OF_TYPE: Readonly<Record<string, OutputKind>> = {
  stringType: "label",
  int64Type: "label",
  dictionaryType: "dictionary",
  multiArrayType: "array",
  doubleType: "array",
  imageType: "image",
};

/** @internal Accumulates one output over samples. */
export interface OutputAccumulator {
  readonly add: (sample: number, original: OutputValue, quantized: OutputValue) => void;
  readonly result: () => OutputComparison;
}

/**
 * @internal A fresh accumulator for one output.
 *
 * @param name - the output feature's name, for messages
 * @param kind - how it is compared
 * @returns the accumulator
 */
export function accumulatorOf(name: string, kind: OutputKind): OutputAccumulator {
  switch (kind) {
    case "label":
      return labelAccumulator(name);
    case "dictionary":
      return dictionaryAccumulator(name);
    case "array":
    case "image":
      return arrayAccumulator(name, kind);
    default: {
      const never: never = kind;
      throw new Error(`unreachable: ${String(never)}`);
    }
  }
}

function wrongValue(name: string, sample: number, value: unknown, expected: string): never {
  throw new QuantizeError("unsupported-model", `sample ${sample}: output '${name}' is ${describeValue(value)}, expected ${expected}`);
}

function labelAccumulator(name: string): OutputAccumulator {
  let count = 0;
  const disagreements: LabelDisagreement[] = [];
  const isLabel = (v: OutputValue): v is string | bigint => typeof v === "string" || typeof v === "bigint";
  return {
    add: (sample, a, b) => {
      if (!isLabel(a)) wrongValue(name, sample, a, "a string or int64 label");
      if (!isLabel(b)) wrongValue(name, sample, b, "a string or int64 label");
      count++;
      if (a !== b) disagreements.push({ sample, original: a, quantized: b });
    },
    result: () => ({
      kind: "label",
      name,
      agreement: (count - disagreements.length) / count,
      disagreements,
      worstSample: disagreements[0]?.sample,
    }),
  };
}

/** Coremltools' k for probability dictionaries. */
const TOP_K = 5;

function dictionaryAccumulator(name: string): OutputAccumulator {
  const perSample: { rank: number; maxAbsError: number }[] = [];
  let topK = TOP_K;
  let topKAgreed = 0;
  let top1Agreed = 0;
  return {
    add: (sample, a, b) => {
      if (!(a instanceof Map)) wrongValue(name, sample, a, "a probability dictionary");
      if (!(b instanceof Map)) wrongValue(name, sample, b, "a probability dictionary");
      const p = a as ReadonlyMap<string | bigint, number>;
      const q = b as ReadonlyMap<string | bigint, number>;
      // As coremltools: k shrinks to the original's class count, and stays shrunk.
      topK = Math.min(topK, p.size);
      let maxAbsError = 0;
      for (const [label, value] of p) {
        const other = q.get(label);
        if (other === undefined) {
          throw new QuantizeError("models-differ", `sample ${sample}: output '${name}' of the quantized model has no class ${String(label)}`);
        }
        const d = Math.abs(value - other);
        if (!(d <= maxAbsError)) maxAbsError = d;
      }
      const top = descending(p)[0];
      const order = descending(q);
      const rank = top === undefined ? 0 : order.indexOf(top);
      // An empty dictionary (a k-NN stage with no samples yet) has no top class: it
      // agrees with another empty one, where k would be 0 and nothing could count.
      const agreed = top === undefined ? q.size === 0 : rank >= 0 && rank < topK;
      if (agreed) topKAgreed++;
      if (top === undefined ? q.size === 0 : rank === 0) top1Agreed++;
      perSample.push({ rank: rank < 0 ? order.length : rank, maxAbsError });
    },
    result: () => {
      let worstSample: number | undefined;
      perSample.forEach((s, i) => {
        const w = worstSample === undefined ? undefined : (perSample[worstSample] as (typeof perSample)[number]);
        if (w === undefined ? s.rank > 0 || s.maxAbsError !== 0 : s.rank > w.rank || (s.rank === w.rank && s.maxAbsError > w.maxAbsError)) {
          worstSample = i;
        }
      });
      const n = perSample.length;
      let maxAbsError = 0;
      for (const s of perSample) if (!(s.maxAbsError <= maxAbsError)) maxAbsError = s.maxAbsError;
      return { kind: "dictionary", name, topK, agreement: topKAgreed / n, top1Agreement: top1Agreed / n, maxAbsError, worstSample, perSample };
    },
  };
}

/** Labels by probability, highest first; ties keep the dictionary's order (as Python's stable sorted). */
function descending(map: ReadonlyMap<string | bigint, number>): (string | bigint)[] {
  return [...map.entries()].sort((x, y) => y[1] - x[1]).map(([label]) => label);
}

function arrayAccumulator(name: string, kind: "array" | "image"): OutputAccumulator {
  const perSample: SampleMetrics[] = [];
  let pooled: ErrorSums = NO_ERROR;
  const valuesOf = (sample: number, v: OutputValue): ArrayLike<number> => {
    // A double feature would come as a number: one value.
    const u: unknown = v;
    if (typeof u === "number") return [u];
    if (typeof v === "object" && "data" in v && v.data instanceof Float32Array) return kind === "image" ? toPixels(v.data) : v.data;
    return wrongValue(name, sample, v, kind === "image" ? "an image" : "a multiArray");
  };
  return {
    add: (sample, a, b) => {
      const x = valuesOf(sample, a);
      const y = valuesOf(sample, b);
      if (x.length !== y.length) {
        throw new QuantizeError(
          "models-differ",
          `sample ${sample}: output '${name}' has ${x.length} values in the original model, ${y.length} in the quantized one`,
        );
      }
      const sums = errorSums(x, y);
      pooled = addErrorSums(pooled, sums);
      perSample.push(sampleMetrics(sums));
    },
    result: () => {
      let worstSample: number | undefined;
      let worst = Infinity;
      perSample.forEach((s, i) => {
        const score = Number.isNaN(s.snrDb) ? -Infinity : s.snrDb;
        if (score < worst || (worstSample === undefined && score === -Infinity)) {
          worst = score;
          worstSample = i;
        }
      });
      const ceiling = coremltoolsCeilingDb(pooled);
      return {
        kind,
        name,
        snrDb: ratioDb(pooled.signal, pooled.noise),
        psnrDb: ratioDb(pooled.peak * pooled.count, pooled.noise),
        maxAbsError: pooled.maxAbsError,
        cosineSimilarity: meanVariance(perSample.map((s) => s.cosineSimilarity)).mean,
        coremltools: {
          snrDb: meanVariance(perSample.map((s) => s.coremltoolsSnrDb)),
          psnrDb: meanVariance(perSample.map((s) => s.coremltoolsPsnrDb)),
        },
        coremltoolsCeilingDb: ceiling,
        floorDominated: !(ceiling >= MEANINGFUL_CEILING_DB),
        worstSample,
        perSample,
      };
    },
  };
}

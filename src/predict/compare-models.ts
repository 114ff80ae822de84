/**
 * compareModels: run an original model and its quantized version on the same
 * samples and say how far the quantized predictions drift, output by output
 * (coremltools' ModelMetrics figures, corrected, and more) and blob by blob.
 *
 * @packageDocumentation
 */
import { guardCallback, isBoolean, isFunction, readOptions, type OptionRules } from "../check-options.js";
import type { Model } from "../codec/model-types.js";
import { describeValue } from "../describe-value.js";
import { isQuantizeError, QuantizeError } from "../errors.js";
import type { FeatureDescription } from "../gen/Model_pb.js";
import { layerComparer, type LayerComparison } from "./compare-layers.js";
import { accumulatorOf, KIND_OF_TYPE, type OutputAccumulator, type OutputComparison, type OutputKind } from "./compare-outputs.js";
import type { PredictInputs, PredictOutputs } from "./feature-io.js";
import type { LayerImpls } from "./layer-runner.js";
import { LAYER_IMPLS } from "./layers/index.js";
import { prepareModel, type PreparedModel } from "./predict.js";

export type { ComparedLayer, LayerComparison, LayerRef, MismatchedLayer, RemovedLayer } from "./compare-layers.js";
export type { MeanVariance, SampleMetrics } from "./compare-metrics.js";
export type {
  ArrayComparison,
  DictionaryComparison,
  LabelComparison,
  LabelDisagreement,
  OutputComparison,
} from "./compare-outputs.js";

/** Options of {@link compareModels}. */
export interface CompareModelsOptions {
  /**
   * Also compare every intermediate blob (each sample keeps both models' blobs
   * in memory while it is compared).
   * @defaultValue true
   */
  readonly perLayer?: boolean;
  /**
   * The layer implementations, as `prepareModel`'s option of that name.
   * @defaultValue every layer kind the executor implements
   */
  readonly layers?: LayerImpls;
  /** Called after each sample, with the samples done and the total (a progress bar). @defaultValue none */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
}

/** What {@link compareModels} found. */
export interface ModelComparison {
  /** Samples run. */
  readonly samples: number;
  /** One per output feature of the original model, in its order. */
  readonly outputs: readonly OutputComparison[];
  /**
   * One row per blob of the original model (network inputs, layer outputs), in
   * run order; empty when `perLayer` is false.
   */
  readonly layers: readonly LayerComparison[];
}

const RULES: OptionRules<CompareModelsOptions> = {
  perLayer: { expected: "true or false", accepts: isBoolean },
  layers: { expected: "an object of layer implementations by kind", accepts: (v) => typeof v === "object" && v !== null },
  onProgress: { expected: "a function", accepts: isFunction },
};

/**
 * Runs both models on every sample and compares their predictions.
 *
 * Each output by its declared type, with coremltools' ModelMetrics figures
 * (`compare_models`) for comparability:
 * - string or int64 label: top-1 agreement (coremltools refuses int64 labels);
 * - probability dictionary: top-k agreement (the original's top class among the
 *   quantized model's top min(5, classes)), top-1 agreement, largest error;
 * - multiArray, double and image: coremltools' SNR and PSNR per sample (mean and
 *   population variance over the samples) — `noise_var = sum((a-b)^2)/n + 1e-7`,
 *   `SNR = 10 log10(mean(b^2) / noise_var)`, `PSNR = 10 log10(max(b^2) /
 *   noise_var)`, b the quantized model's output — and the same ratios without
 *   the floor, which for small outputs swamps the signal (`floorDominated`
 *   says when), the largest absolute error, the cosine similarity and the worst
 *   sample. Images are compared as the 8-bit pixels Core ML makes of them, in
 *   float64 (coremltools subtracts numpy uint8 arrays, which wraps around).
 *
 * With `perLayer` (the default), every blob of the quantized model is compared
 * with the original's blob of the same name over all samples, and each layer is
 * also run alone on the original's inputs: its `aloneSnrDb` is the error it adds
 * by itself, the figure to pick layers to leave unquantized with a selector.
 *
 * Each model is prepared once.
 *
 * @param original - the original model
 * @param quantized - its quantized version (same inputs and outputs)
 * @param samples - input values, one object per sample (e.g. from {@link randomInputs})
 * @param options - see {@link CompareModelsOptions}
 * @returns the comparison
 * @throws {@link QuantizeError} `invalid-input` when there is no sample or a
 *   sample is refused (the message names the sample and the model);
 *   `models-differ` when the models' outputs differ in name, type, value count
 *   or class labels; `unsupported-model` when a model cannot be run;
 *   `invalid-option` for refused options
 * @example
 * ```ts
 * const quantized = quantizeWeights(model, { nbits: 4 });
 * const result = compareModels(model, quantized, randomInputs(model, 16, 1));
 * console.log(formatComparison(result));
 * ```
 */
export function compareModels(original: Model, quantized: Model, samples: readonly PredictInputs[], options?: CompareModelsOptions): ModelComparison {
  const opts = readOptions(options, RULES, "compareModels");
  const perLayer = opts.perLayer ?? true;
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new QuantizeError("invalid-input", `compareModels needs at least one sample (an array of inputs objects), got ${describeValue(samples)}`);
  }
  const outputs = outputKinds(original, quantized);
  const impls = opts.layers ?? LAYER_IMPLS;
  const layers = perLayer ? layerComparer(original, quantized, impls) : undefined;
  const first = prepare(original, "the original model", impls);
  const second = prepare(quantized, "the quantized model", layers?.impls ?? impls);
  const accumulators = outputs.map(([name, kind]) => accumulatorOf(name, kind));
  const onProgress = guardCallback(opts.onProgress, "compareModels' onProgress", () => undefined);

  samples.forEach((inputs, sample) => {
    let a: PredictOutputs;
    let b: PredictOutputs;
    if (layers !== undefined) {
      const x = run(() => first.predictWithBlobs(inputs), sample, "the original model");
      layers.beforeQuantized(x.blobs);
      const y = run(() => second.predictWithBlobs(inputs), sample, "the quantized model");
      layers.add(x.blobs, y.blobs);
      ({ outputs: a } = x);
      ({ outputs: b } = y);
    } else {
      a = run(() => first.predict(inputs), sample, "the original model");
      b = run(() => second.predict(inputs), sample, "the quantized model");
    }
    outputs.forEach(([name], i) => {
      const x = a[name];
      const y = b[name];
      if (x === undefined || y === undefined) {
        throw new QuantizeError("unsupported-model", `sample ${sample}: ${x === undefined ? "the original" : "the quantized"} model gave no output '${name}'`);
      }
      (accumulators[i] as OutputAccumulator).add(sample, x, y);
    });
    onProgress?.({ done: sample + 1, total: samples.length });
  });
  return { samples: samples.length, outputs: accumulators.map((acc) => acc.result()), layers: layers?.rows() ?? [] };
}

function prepare(model: Model, which: string, layers: LayerImpls): PreparedModel {
  return run(() => prepareModel(model, { layers }), undefined, which);
}

/** Runs `fn`, naming the model (and sample) in any QuantizeError it throws. */
function run<R>(fn: () => R, sample: number | undefined, which: string): R {
  try {
    return fn();
  } catch (error) {
    if (!isQuantizeError(error)) throw error;
    const where = sample === undefined ? which : `sample ${sample}, ${which}`;
    throw new QuantizeError(error.code, `${where}: ${error.message}`, { cause: error });
  }
}

/** The outputs to compare and how, after checking that both models declare them alike. */
function outputKinds(original: Model, quantized: Model): [string, OutputKind][] {
  const declared = original.description?.output ?? [];
  const other = new Map((quantized.description?.output ?? []).map((f) => [f.name, f]));
  return declared.map((f): [string, OutputKind] => {
    const type = typeCase(f);
    const kind = Object.hasOwn(KIND_OF_TYPE, type) ? KIND_OF_TYPE[type] : undefined;
    if (kind === undefined) throw new QuantizeError("unsupported-model", `output '${f.name}' is of type ${type}, which cannot be compared`, { path: "model" });
    const g = other.get(f.name);
    if (g === undefined) throw new QuantizeError("models-differ", `the quantized model has no output '${f.name}'`, { path: "model" });
    if (typeCase(g) !== type) {
      throw new QuantizeError("models-differ", `output '${f.name}' is of type ${type} in the original model, ${typeCase(g)} in the quantized one`, {
        path: "model",
      });
    }
    return [f.name, kind];
  });
}

function typeCase(f: FeatureDescription): string {
  return f.type?.Type.case ?? "none";
}

/**
 * Running a Core ML neural-network model (or a pipeline of them) in plain
 * TypeScript: prepare once, predict many times.
 *
 * @packageDocumentation
 */
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import type { PredictInputs, PredictOutputs } from "./feature-io.js";
import type { LayerImpls, Tensor } from "./layer-runner.js";
import { LAYER_IMPLS } from "./layers/index.js";
import { prepareStage, type BlobTrace, type FeatureValue } from "./prepare-stage.js";

/** Options of {@link prepareModel}. */
export interface PrepareModelOptions {
  /**
   * The layer implementations by kind; kinds absent are refused.
   * @defaultValue every layer kind the executor implements
   */
  readonly layers?: LayerImpls;
}

/** A prediction with every blob the networks computed. */
export interface PredictionWithBlobs {
  /** The model's outputs, as {@link PreparedModel.predict} returns them. */
  readonly outputs: PredictOutputs;
  /**
   * Every blob of every network run (inputs as fed to the network, layer
   * outputs, blobs of branch and loop bodies as last written), by network path
   * (`model/neuralNetwork`, `model/pipeline/models[1]/neuralNetwork`) then blob name.
   */
  readonly blobs: ReadonlyMap<string, ReadonlyMap<string, Tensor>>;
}

/** A model whose weights are decoded and layers prepared, ready to run many times. */
export interface PreparedModel {
  /** The input feature names, in the model's order. */
  readonly inputNames: readonly string[];
  /** The output feature names, in the model's order. */
  readonly outputNames: readonly string[];
  /**
   * Runs the model.
   *
   * @param inputs - a value for every input feature (optional ones may be left out: zeros)
   * @returns every output feature
   * @throws {@link QuantizeError} `invalid-input` for unknown, missing or
   *   ill-shaped inputs
   */
  readonly predict: (inputs: PredictInputs) => PredictOutputs;
  /** As {@link PreparedModel.predict}, also returning every intermediate blob. */
  readonly predictWithBlobs: (inputs: PredictInputs) => PredictionWithBlobs;
}

/**
 * Prepares a model for prediction: every layer's weights are decoded to float32
 * and its options checked, once.
 *
 * Supported: neuralNetwork, neuralNetworkClassifier, neuralNetworkRegressor,
 * pipelines of these (stages wired by feature name, any nesting), and
 * kNearestNeighborsClassifier stages. Inputs: multiArrays and images; outputs:
 * multiArrays (rank-5 `[Seq, Batch, C, H, W]` for sequence outputs of rank-5
 * networks), images as their raw float blob `[C, H, W]`, class labels (string or
 * bigint) and probability dictionaries (`Map`).
 *
 * @param model - a decoded model; it is not changed
 * @param options - see {@link PrepareModelOptions}
 * @returns the prepared model
 * @throws {@link QuantizeError} `unsupported-model` naming the stage for model
 *   kinds not run; `unsupported-layer` naming the layer, kind and option for
 *   layers not implemented
 * @example
 * ```ts
 * const prepared = prepareModel(decodeModel(bytes));
 * const { scores } = prepared.predict({ features: new Float32Array(8) });
 * ```
 */
export function prepareModel(model: Model, options: PrepareModelOptions = {}): PreparedModel {
  const layers = options.layers ?? LAYER_IMPLS;
  const description = model.description;
  if (description === undefined) throw new QuantizeError("unsupported-model", "the model has no description (no input or output features)", { path: "model" });
  const stage = prepareStage(model, "model", layers);
  const inputNames = description.input.map((f) => f.name);
  const outputNames = description.output.map((f) => f.name);
  const required = description.input.filter((f) => f.type?.isOptional !== true).map((f) => f.name);

  const run = (inputs: PredictInputs, trace: BlobTrace | undefined): PredictOutputs => {
    if (typeof inputs !== "object" || inputs === null) throw new QuantizeError("invalid-input", "inputs must be an object: feature name -> value");
    const features = new Map<string, FeatureValue>();
    for (const [name, value] of Object.entries(inputs)) {
      if (!inputNames.includes(name)) {
        throw new QuantizeError("invalid-input", `unknown input '${name}'; the model's inputs are: ${inputNames.map((s) => `'${s}'`).join(", ")}`);
      }
      if (value !== undefined) features.set(name, value);
    }
    for (const name of required) {
      if (!features.has(name)) throw new QuantizeError("invalid-input", `input '${name}' is missing`);
    }
    stage.run(features, trace);
    const outputs: Record<string, PredictOutputs[string]> = {};
    for (const name of outputNames) {
      const value = features.get(name);
      if (value === undefined || (!(value instanceof Map) && typeof value === "object" && "width" in value)) {
        throw new QuantizeError("unsupported-model", `no stage computes the output '${name}'`, { path: "model" });
      }
      outputs[name] = value as PredictOutputs[string];
    }
    return outputs;
  };

  return {
    inputNames,
    outputNames,
    predict: (inputs) => run(inputs, undefined),
    predictWithBlobs: (inputs) => {
      const blobs: BlobTrace = new Map();
      const outputs = run(inputs, blobs);
      return { outputs, blobs };
    },
  };
}

/**
 * Runs a model once: {@link prepareModel} then predict. Prepare the model
 * yourself to run it many times.
 *
 * @param model - a decoded model
 * @param inputs - a value for every input feature
 * @returns every output feature
 * @throws {@link QuantizeError} as {@link prepareModel} and {@link PreparedModel.predict}
 */
export function predict(model: Model, inputs: PredictInputs): PredictOutputs {
  return prepareModel(model).predict(inputs);
}

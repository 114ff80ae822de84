/**
 * A model (or a stage of a pipeline) prepared into a function over named feature
 * values: neural networks (plain, classifier, regressor), pipelines wired by
 * feature name, and k-nearest-neighbours classifiers.
 *
 * @packageDocumentation
 */
import type { Model, NeuralNetwork } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import type { FeatureDescription } from "../gen/Model_pb.js";
import { NeuralNetworkImageShapeMapping, NeuralNetworkMultiArrayShapeMapping } from "../gen/NeuralNetwork_pb.js";
import {
  arrayInputBlob,
  arrayInputSpec,
  arrayOutput,
  imageOutput,
  isImageValue,
  type ArrayInputSpec,
  type InputValue,
  type OutputValue,
} from "./feature-io.js";
import { imageInputBlob, imageInputSpec, type ImageInputSpec } from "./image-input.js";
import { prepareKnn } from "./knn.js";
import type { BlobLayout, LayerImpls, Tensor } from "./layer-runner.js";
import { MAX_NETWORK_NESTING, prepareNetwork } from "./prepare-network.js";

/** A value flowing between pipeline stages: what callers give, or what a stage computed. */
export type FeatureValue = InputValue | OutputValue;

/** The blobs of every network run, keyed by the network's path (`model`, `model/pipeline/models[1]`). */
export type BlobTrace = Map<string, ReadonlyMap<string, Tensor>>;

/** A prepared model: reads its input features from `features`, adds its outputs. */
export interface Stage {
  readonly run: (features: Map<string, FeatureValue>, trace: BlobTrace | undefined) => void;
}

/**
 * Prepares a model of any supported kind.
 *
 * @param model - the model
 * @param path - where it is, for errors (`model`, `model/pipeline/models[0]`)
 * @param impls - layer implementations
 * @param depth - pipeline nesting so far
 * @returns the stage
 * @throws {@link QuantizeError} `unsupported-model` naming the stage for model
 *   kinds the executor does not run; `unsupported-layer` from the layers
 */
export function prepareStage(model: Model, path: string, impls: LayerImpls, depth = 0): Stage {
  if (depth > MAX_NETWORK_NESTING) throw new QuantizeError("unsupported-model", `pipelines nested more than ${MAX_NETWORK_NESTING} deep`, { path });
  const type = model.Type;
  switch (type.case) {
    case "neuralNetwork":
    case "neuralNetworkRegressor":
      return prepareNeuralNetwork(model, type.value, `${path}/${type.case}`, impls, undefined);
    case "neuralNetworkClassifier": {
      const labels = type.value.ClassLabels;
      if (labels.case === undefined) throw new QuantizeError("unsupported-model", "neuralNetworkClassifier has no class labels", { path });
      return prepareNeuralNetwork(model, type.value, `${path}/${type.case}`, impls, {
        labels: labels.value.vector,
        probabilityBlob: type.value.labelProbabilityLayerName,
      });
    }
    case "pipeline":
    case "pipelineClassifier":
    case "pipelineRegressor": {
      const pipeline = type.case === "pipeline" ? type.value : type.value.pipeline;
      const base = type.case === "pipeline" ? `${path}/pipeline` : `${path}/${type.case}/pipeline`;
      const stages = (pipeline?.models ?? []).map((m, i) => prepareStage(m, `${base}/models[${i}]`, impls, depth + 1));
      return { run: (features, trace) => stages.forEach((s) => s.run(features, trace)) };
    }
    case "kNearestNeighborsClassifier":
      return prepareKnnStage(model, type.value, `${path}/${type.case}`);
    default:
      throw new QuantizeError("unsupported-model", `model kind "${type.case ?? "none"}" is not supported by the executor`, { path });
  }
}

/** What the three neural-network model kinds share. */
type NetworkLike = Pick<NeuralNetwork, "layers" | "preprocessing" | "arrayInputShapeMapping" | "imageInputShapeMapping">;

interface ClassifierInfo {
  readonly labels: readonly (string | bigint)[];
  /** The blob holding the probabilities; empty: the last layer's first output. */
  readonly probabilityBlob: string;
}

type OutputPlan = (blobs: ReadonlyMap<string, Tensor>) => OutputValue;

function descriptionOf(model: Model, path: string): NonNullable<Model["description"]> {
  const d = model.description;
  if (d === undefined) throw new QuantizeError("unsupported-model", "the model has no description (no input or output features)", { path });
  return d;
}

function needBlob(blobs: ReadonlyMap<string, Tensor>, name: string, path: string): Tensor {
  const blob = blobs.get(name);
  if (blob === undefined) throw new QuantizeError("unsupported-model", `no layer computes the blob '${name}'`, { path });
  return blob;
}

function prepareNeuralNetwork(model: Model, network: NetworkLike, path: string, impls: LayerImpls, classifier: ClassifierInfo | undefined): Stage {
  const description = descriptionOf(model, path);
  const layout: BlobLayout =
    network.arrayInputShapeMapping === NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING ||
    network.imageInputShapeMapping === NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING
      ? "exact"
      : "rank5";
  const imageCount = description.input.filter((f) => f.type?.Type.case === "imageType").length;
  const inputs: (ArrayInputSpec | ImageInputSpec)[] = description.input.map((f) => {
    const t = f.type?.Type;
    if (f.type !== undefined && t?.case === "multiArrayType") return arrayInputSpec(f.name, f.type, t.value);
    if (f.type !== undefined && t?.case === "imageType") return imageInputSpec(f.name, f.type, t.value, network, imageCount, path);
    throw new QuantizeError("unsupported-model", `input '${f.name}' is of type ${t?.case ?? "none"}; a neural network takes multiArray and image inputs`, {
      path,
    });
  });
  const prepared = prepareNetwork(network, layout, path, impls);
  const outputs = description.output.map((f): [string, OutputPlan] => [f.name, outputPlan(f, description, network, layout, classifier, path)]);

  return {
    run: (features, trace) => {
      const blobs = new Map<string, Tensor>();
      for (const spec of inputs) {
        const value = features.get(spec.name);
        if (value !== undefined && !isInputValue(value)) {
          throw new QuantizeError(
            "invalid-input",
            `input '${spec.name}' is a ${describe(value)}, the network takes a ${spec.kind === "array" ? "multiArray" : "image"}`,
          );
        }
        blobs.set(spec.name, spec.kind === "array" ? arrayInputBlob(spec, value, layout) : imageInputBlob(spec, value));
      }
      trace?.set(path, blobs);
      prepared.run(blobs);
      for (const [name, plan] of outputs) features.set(name, plan(blobs));
    },
  };
}

function isInputValue(value: FeatureValue): value is InputValue {
  return value instanceof Float32Array || (typeof value === "object" && !(value instanceof Map) && ("shape" in value || isImageValue(value as InputValue)));
}

function describe(value: FeatureValue): string {
  return typeof value === "string" ? "string" : typeof value === "bigint" ? "int64" : value instanceof Map ? "dictionary" : "value of another kind";
}

/** How one output feature is read from the blobs after the run. */
function outputPlan(
  feature: FeatureDescription,
  description: NonNullable<Model["description"]>,
  network: NetworkLike,
  layout: BlobLayout,
  classifier: ClassifierInfo | undefined,
  path: string,
): OutputPlan {
  const t = feature.type?.Type;
  if (classifier !== undefined && (feature.name === description.predictedFeatureName || feature.name === description.predictedProbabilitiesName)) {
    const lastOutput = network.layers.at(-1)?.output[0];
    const blobName = classifier.probabilityBlob !== "" ? classifier.probabilityBlob : lastOutput;
    if (blobName === undefined) throw new QuantizeError("unsupported-model", "a classifier without layers has no probabilities", { path });
    const labels = classifier.labels;
    const probabilities = (blobs: ReadonlyMap<string, Tensor>): Float32Array => {
      const p = needBlob(blobs, blobName, path).data;
      if (p.length !== labels.length) {
        throw new QuantizeError("unsupported-model", `the probability blob '${blobName}' has ${p.length} values for ${labels.length} class labels`, { path });
      }
      return p;
    };
    if (feature.name === description.predictedFeatureName) {
      return (blobs) => {
        const p = probabilities(blobs);
        let best = 0;
        for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
        return labels[best] as string | bigint;
      };
    }
    return (blobs) => {
      const p = probabilities(blobs);
      const map = new Map<string | bigint, number>();
      labels.forEach((label, i) => map.set(label, p[i] as number));
      return map as ReadonlyMap<string, number> | ReadonlyMap<bigint, number>;
    };
  }
  if (t?.case === "multiArrayType") {
    const rank = t.value.shape.length;
    return (blobs) => arrayOutput(needBlob(blobs, feature.name, path), rank, layout);
  }
  if (t?.case === "imageType") return (blobs) => imageOutput(needBlob(blobs, feature.name, path));
  throw new QuantizeError(
    "unsupported-model",
    `output '${feature.name}' is of type ${t?.case ?? "none"}; a neural network gives multiArray and image outputs`,
    { path },
  );
}

function prepareKnnStage(model: Model, params: Extract<Model["Type"], { case: "kNearestNeighborsClassifier" }>["value"], path: string): Stage {
  const description = descriptionOf(model, path);
  const knn = prepareKnn(params, path);
  const input = description.input[0];
  if (input === undefined || description.input.length !== 1) {
    throw new QuantizeError("unsupported-model", `kNearestNeighborsClassifier needs exactly one input, it has ${description.input.length}`, { path });
  }
  return {
    run: (features) => {
      const value = features.get(input.name);
      if (value === undefined) throw new QuantizeError("invalid-input", `input '${input.name}' is missing (a vector of ${knn.dimensions} values)`);
      const data = value instanceof Float32Array ? value : typeof value === "object" && !(value instanceof Map) && "shape" in value ? value.data : undefined;
      if (data === undefined || data.length !== knn.dimensions) {
        throw new QuantizeError("invalid-input", `input '${input.name}' must be a multiArray of ${knn.dimensions} values`);
      }
      const vector = data instanceof BigInt64Array ? Array.from(data, Number) : data;
      const { label, probabilities } = knn.classify(vector);
      for (const f of description.output) {
        if (f.name === description.predictedFeatureName) features.set(f.name, label);
        else if (f.name === description.predictedProbabilitiesName) {
          features.set(f.name, probabilities as ReadonlyMap<string, number> | ReadonlyMap<bigint, number>);
        }
      }
    },
  };
}

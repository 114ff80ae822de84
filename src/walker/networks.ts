/**
 * Where the neural networks of a model are: in the model itself, inside pipelines
 * (all three kinds, recursively), and inside branch and loop layers.
 *
 * @packageDocumentation
 */
import { MAX_NESTING_DEPTH } from "../codec/decode-model.js";
import type { Model, NeuralNetwork, NeuralNetworkLayer } from "../codec/model-types.js";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import { NESTED_NETWORKS } from "./layer-table.js";

/**
 * Models and networks nested in one another (pipelines, branch and loop bodies)
 * that the walks follow: each level is several protobuf messages, so no decoded
 * model comes near it; a hand-built model that contains itself stops here instead
 * of overflowing the stack.
 */
const MAX_NETWORK_NESTING = MAX_NESTING_DEPTH;

function assertNesting(depth: number, path: string): void {
  if (depth > MAX_NETWORK_NESTING) {
    // The path of a hundred levels would fill a screen: its ends say where.
    const where = path.length <= 160 ? path : `${path.slice(0, 80)} … ${path.slice(-60)}`;
    throw new QuantizeError("unsupported-model", `models and networks nest more than ${MAX_NETWORK_NESTING} deep here; does a network contain itself?`, {
      path: where,
    });
  }
}

/** The model kinds that are a neural network (they share the layer list). */
export const NETWORK_MODEL_KINDS = ["neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor"] as const;

/** A model that is a neural network. */
export type NetworkModelKind = (typeof NETWORK_MODEL_KINDS)[number];
/** Any of the three network messages; all have `layers`. */
export type AnyNetwork = Extract<Model["Type"], { case: NetworkModelKind }>["value"];

/** Whether a model's type is one of the neural-network kinds. */
export function isNetworkModel(model: Model): model is Model & { Type: { case: NetworkModelKind; value: AnyNetwork } } {
  return (NETWORK_MODEL_KINDS as readonly (string | undefined)[]).includes(model.Type.case);
}

/**
 * The models directly inside a pipeline model, with their paths, or undefined when
 * `model` is not a pipeline.
 */
export function pipelineModels(model: Model): { readonly models: Model[]; readonly path: string } | undefined {
  switch (model.Type.case) {
    case "pipeline":
      return { models: model.Type.value.models, path: "pipeline.models" };
    case "pipelineClassifier":
      return { models: model.Type.value.pipeline?.models ?? [], path: "pipelineClassifier.pipeline.models" };
    case "pipelineRegressor":
      return { models: model.Type.value.pipeline?.models ?? [], path: "pipelineRegressor.pipeline.models" };
    default:
      return undefined;
  }
}

/**
 * Maps every model that is a neural network, at the top or inside pipelines at any
 * depth, copying the containers above a replaced model; `model` is unchanged.
 *
 * @param model - the model
 * @param fn - maps one network model (and its path) to itself or a replacement
 * @param path - the path of `model`, for messages
 * @returns the model with the replacements, or `model` itself when none
 * @throws {@link QuantizeError} `unsupported-model` when pipelines nest deeper
 *   than a decoded model can (a pipeline containing itself)
 */
export function mapNetworkModels(model: Model, fn: (model: Model, path: string) => Model, path = "model"): Model {
  return mapNested(model, fn, path, 1);
}

function mapNested(model: Model, fn: (model: Model, path: string) => Model, path: string, depth: number): Model {
  assertNesting(depth, path);
  if (isNetworkModel(model)) return fn(model, path);
  const inner = pipelineModels(model);
  if (inner === undefined) return model;
  let changed = false;
  const models = inner.models.map((sub, i) => {
    const out = mapNested(sub, fn, `${path}/${inner.path}[${i}]`, depth + 1);
    changed ||= out !== sub;
    return out;
  });
  if (!changed) return model;
  return withPipelineModels(model, models);
}

function withPipelineModels(model: Model, models: Model[]): Model {
  const type = model.Type;
  switch (type.case) {
    case "pipeline":
      return { ...model, Type: { case: type.case, value: { ...type.value, models } } };
    case "pipelineClassifier":
    case "pipelineRegressor": {
      const pipeline = type.value.pipeline;
      if (pipeline === undefined) return model;
      const value = { ...type.value, pipeline: { ...pipeline, models } };
      return { ...model, Type: { case: type.case, value } as Model["Type"] };
    }
    default:
      return model;
  }
}

/** A network nested in a layer (branch or loop body), with its field name. */
export interface NestedNetwork {
  readonly field: string;
  readonly network: NeuralNetwork;
}

/**
 * The networks a layer holds (branch: ifBranch, elseBranch; loop:
 * conditionNetwork, bodyNetwork), unset ones left out.
 */
export function nestedNetworks(layer: NeuralNetworkLayer): NestedNetwork[] {
  const kind = layer.layer.case;
  if (kind !== "branch" && kind !== "loop") return [];
  const params = layer.layer.value as unknown as Record<string, NeuralNetwork | undefined>;
  return NESTED_NETWORKS[kind].flatMap((field) => {
    const network = params[field];
    return network === undefined ? [] : [{ field, network }];
  });
}

/** A copy of a branch or loop layer with one nested network replaced. */
export function withNestedNetwork(layer: NeuralNetworkLayer, field: string, network: NeuralNetwork): NeuralNetworkLayer {
  return { ...layer, layer: { ...layer.layer, value: { ...layer.layer.value, [field]: network } } as NeuralNetworkLayer["layer"] };
}

/** One layer found by {@link allLayers}. */
export interface LayerLocation {
  /** e.g. `model/neuralNetwork/layers[2] "branch"/ifBranch/layers[0] "fc"`. */
  readonly path: string;
  /** The path of the network holding the layer. */
  readonly networkPath: string;
  /** The layer itself (not a copy). */
  readonly layer: NeuralNetworkLayer;
}

/**
 * Every layer of every network of `model`, nested ones included, in file order.
 *
 * @param model - the model
 * @returns the layers with their paths
 * @throws {@link QuantizeError} `unsupported-model` when networks nest deeper than
 *   a decoded model can (a branch whose body contains the branch itself)
 */
export function allLayers(model: Model): LayerLocation[] {
  const out: LayerLocation[] = [];
  forEachLayer(model, (layer, networkPath, index) => {
    out.push({ path: layerPath(networkPath, index, layer), networkPath, layer });
  });
  return out;
}

/**
 * Calls `visit` for every layer {@link allLayers} lists, in the same order, with
 * the path of its network and its index there instead of its own path: building a
 * path per layer is most of a walk over a model of many layers, and most walks need
 * the paths of a few layers only (see {@link layerPath}).
 *
 * @param model - the model
 * @param visit - called once per layer
 * @throws {@link QuantizeError} `unsupported-model` when networks nest deeper than
 *   a decoded model can (a branch whose body contains the branch itself)
 */
export function forEachLayer(model: Model, visit: (layer: NeuralNetworkLayer, networkPath: string, index: number) => void): void {
  const visitNetwork = (network: { layers: NeuralNetworkLayer[] }, networkPath: string, depth: number): void => {
    assertNesting(depth, networkPath);
    const { layers } = network;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i] as NeuralNetworkLayer;
      visit(layer, networkPath, i);
      const nested = nestedNetworks(layer);
      if (nested.length === 0) continue;
      const path = layerPath(networkPath, i, layer);
      for (const { field, network: body } of nested) visitNetwork(body, `${path}/${field}`, depth + 1);
    }
  };
  mapNetworkModels(model, (sub, path) => {
    if (isNetworkModel(sub)) visitNetwork(sub.Type.value, `${path}/${sub.Type.case}`, 1);
    return sub;
  });
}

/** The path of a layer in messages: network path, index and name. */
export function layerPath(networkPath: string, index: number, layer: NeuralNetworkLayer): string {
  // Models built by hand may name a layer with anything; quoting must not throw (JSON.stringify(1n) does).
  const name: unknown = layer.name;
  return `${networkPath}/layers[${index}] ${typeof name === "string" ? JSON.stringify(name) : describeValue(name)}`;
}

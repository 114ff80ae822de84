/**
 * Shared by the tests of the testing kit, quantizeWeights and the selectors:
 * storage inspection, network walks, fused copies of models.
 */
import { create } from "@bufbuild/protobuf";
import type { Model, NeuralNetwork, NeuralNetworkLayer, WeightParams } from "../../src/codec/model-types.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { LoadConstantNDLayerParamsSchema, NeuralNetworkLayerSchema, NeuralNetworkSchema, WeightParamsSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { fuseLayers } from "../../src/walker/fuse.js";
import { product } from "../support/product.js";
import { walkLayers } from "../walker/helpers.js";

/** The storages a WeightParams has data in. */
export function storagesUsed(wp: WeightParams): string[] {
  return [
    wp.floatValue.length > 0 && "floatValue",
    wp.float16Value.length > 0 && "float16Value",
    wp.rawValue.length > 0 && "rawValue",
    wp.int8RawValue.length > 0 && "int8RawValue",
  ].filter((x): x is string => x !== false);
}

type AnyNetwork = { layers: NeuralNetworkLayer[] };

/** The networks a layer holds (branch, loop), with their field names. */
export function nestedOf(layer: NeuralNetworkLayer): { field: string; network: NeuralNetwork }[] {
  const l = layer.layer;
  const out: { field: string; network: NeuralNetwork }[] = [];
  if (l.case === "branch") {
    if (l.value.ifBranch !== undefined) out.push({ field: "ifBranch", network: l.value.ifBranch });
    if (l.value.elseBranch !== undefined) out.push({ field: "elseBranch", network: l.value.elseBranch });
  } else if (l.case === "loop") {
    if (l.value.conditionNetwork !== undefined) out.push({ field: "conditionNetwork", network: l.value.conditionNetwork });
    if (l.value.bodyNetwork !== undefined) out.push({ field: "bodyNetwork", network: l.value.bodyNetwork });
  }
  return out;
}

/** The (sub)models of a model that are networks, with their top-level network, in file order. */
export function networkModels(model: Model): Model[] {
  const t = model.Type;
  switch (t.case) {
    case "neuralNetwork":
    case "neuralNetworkClassifier":
    case "neuralNetworkRegressor":
      return [model];
    case "pipeline":
      return t.value.models.flatMap(networkModels);
    case "pipelineClassifier":
    case "pipelineRegressor":
      return (t.value.pipeline?.models ?? []).flatMap(networkModels);
    default:
      return [];
  }
}

/** Every (sub)model, containers included, in file order (a container before its members). */
export function allModels(model: Model): Model[] {
  const t = model.Type;
  const inner =
    t.case === "pipeline" ? t.value.models : t.case === "pipelineClassifier" || t.case === "pipelineRegressor" ? (t.value.pipeline?.models ?? []) : [];
  return [model, ...inner.flatMap(allModels)];
}

/** The network of a network model. */
export function networkOf(model: Model): AnyNetwork {
  const t = model.Type;
  if (t.case === "neuralNetwork" || t.case === "neuralNetworkClassifier" || t.case === "neuralNetworkRegressor") return t.value;
  throw new Error(`not a network model: ${String(t.case)}`);
}

/** Every network of a model, nested ones included, in file order. */
export function allNetworks(model: Model): AnyNetwork[] {
  const out: AnyNetwork[] = [];
  const visit = (network: AnyNetwork): void => {
    out.push(network);
    for (const layer of network.layers) for (const nested of nestedOf(layer)) visit(nested.network);
  };
  for (const m of networkModels(model)) visit(networkOf(m));
  return out;
}

/** Whether the selector selects a layer; quantizeWeights enters only selected branch and loop layers. */
export type Selects = (layer: NeuralNetworkLayer) => boolean;

const selectsAll: Selects = () => true;

/**
 * Every network's layers fused as quantizeWeights fuses them (nested networks
 * too, but not those of a branch or loop layer `selects` refuses: quantizeWeights
 * leaves it whole), for comparing an n-bit output with its input layer by layer.
 */
export function fusedLayersOf(layers: readonly NeuralNetworkLayer[], selects: Selects = selectsAll): NeuralNetworkLayer[] {
  return fuseLayers(layers).map((layer) => {
    const l = layer.layer;
    if ((l.case === "branch" || l.case === "loop") && selects(layer)) {
      let value: Record<string, unknown> = { ...l.value };
      for (const { field, network } of nestedOf(layer)) value = { ...value, [field]: { ...network, layers: fusedLayersOf(network.layers, selects) } };
      return { ...layer, layer: { case: l.case, value } as NeuralNetworkLayer["layer"] };
    }
    return layer;
  });
}

/**
 * Pairs of layers at the same place in two models of the same structure (same
 * pipelines, same layer counts per network), nested layers included, with a path
 * for messages and the branch/loop layers (of `a`) holding the pair, outermost first.
 * With `fuse`, `a`'s networks are fused first (as quantizeWeights does below 16 bits),
 * those inside branch and loop layers only where `selects` selects the layer.
 */
export function pairLayers(
  a: Model,
  b: Model,
  fuse: boolean,
  selects: Selects = selectsAll,
): [NeuralNetworkLayer, NeuralNetworkLayer, string, NeuralNetworkLayer[]][] {
  const out: [NeuralNetworkLayer, NeuralNetworkLayer, string, NeuralNetworkLayer[]][] = [];
  const visit = (x: readonly NeuralNetworkLayer[], y: readonly NeuralNetworkLayer[], path: string, holders: NeuralNetworkLayer[]): void => {
    expect(y.length).toBe(x.length);
    x.forEach((lx, i) => {
      const ly = y[i] as NeuralNetworkLayer;
      const here = `${path}/${i}`;
      out.push([lx, ly, here, holders]);
      const nx = nestedOf(lx);
      const ny = nestedOf(ly);
      expect(ny.map((n) => n.field)).toEqual(nx.map((n) => n.field));
      nx.forEach((n, k) => visit(n.network.layers, (ny[k] as { network: NeuralNetwork }).network.layers, `${here}/${n.field}`, [...holders, lx]));
    });
  };
  const ma = networkModels(a);
  const mb = networkModels(b);
  expect(mb.length).toBe(ma.length);
  ma.forEach((m, i) => {
    const layers = networkOf(m).layers;
    visit(fuse ? fusedLayersOf(layers, selects) : layers, networkOf(mb[i] as Model).layers, `model${i}`, []);
  });
  return out;
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * Every layer with its path in the documented message format, in file order, a
 * nested network's layers right after the layer holding them:
 * `model/neuralNetwork/layers[0] "conv"`, `model/pipeline.models[1]/neuralNetwork/...`,
 * `.../layers[2] "loop"/bodyNetwork/layers[0] "x"`.
 */
export function layerPaths(model: Model): { path: string; layer: NeuralNetworkLayer }[] {
  return walkLayers(model).map(({ path, layer }) => ({ path, layer }));
}

/** The channel of value `k` of a tensor of `shape` along `axis` (a rank-1 tensor is one channel). */
export function channelOf(k: number, shape: readonly number[], axis: 0 | 1): number {
  if (shape.length < 2) return 0;
  const inner = product(shape.slice(axis + 1));
  return Math.floor(k / inner) % (shape[axis] as number);
}

/**
 * A model of one loadConstantND layer holding `values` (float32) of `shape`: a
 * carrier for single tensors through the model API and the codec.
 */
export function carrierModel(values: Float32Array | WeightParams, shape: readonly number[]): Model {
  const data = values instanceof Float32Array ? { ...create(WeightParamsSchema), floatValue: values } : values;
  const value = { ...create(LoadConstantNDLayerParamsSchema, { shape: shape.map(BigInt) }), data };
  const layer = { ...create(NeuralNetworkLayerSchema, { name: "carrier", input: ["in"], output: ["out"] }), layer: { case: "loadConstantND" as const, value } };
  const network = { ...create(NeuralNetworkSchema), layers: [layer] };
  return { ...(create(ModelSchema, { specificationVersion: 4 }) as unknown as Model), Type: { case: "neuralNetwork", value: network } } as Model;
}

/** The WeightParams of a {@link carrierModel} (after any operation). */
export function carried(model: Model): WeightParams {
  const t = model.Type;
  if (t.case !== "neuralNetwork") throw new Error("not a carrier model");
  const layer = t.value.layers[0];
  if (layer?.layer.case !== "loadConstantND" || layer.layer.value.data === undefined) throw new Error("not a carrier model");
  return layer.layer.value.data;
}

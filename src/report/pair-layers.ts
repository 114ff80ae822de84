/**
 * Which layer of an original model each layer of a quantized model came from.
 * quantizeWeights fuses batchnorm, scale and bias layers into the layer before
 * them, so a quantized network with fewer layers than its original is matched
 * against the original fused the same way ({@link fuseLayers}); layers are then
 * matched by position and checked by name and kind.
 *
 * @packageDocumentation
 */
import type { Model, NeuralNetwork, NeuralNetworkLayer } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import { fuseLayers, modelBlobsKept, nestedBlobsKept } from "../walker/fuse.js";
import { isNetworkModel, layerPath, nestedNetworks, pipelineModels } from "../walker/networks.js";

/** When to fuse the original's layers before matching. */
export type FuseMatching = "auto" | "never";

/** A layer of the quantized model and the original layer it is compared against. */
export interface LayerPair {
  /** The path of the network holding the layer in the quantized model, e.g. `model/neuralNetwork`. */
  readonly networkPath: string;
  /** The layer's index in that network: with the network path, its path (see {@link layerPath}). */
  readonly index: number;
  /** The original layer, after fusion when the network was fused. */
  readonly original: NeuralNetworkLayer;
  /** The quantized layer. */
  readonly quantized: NeuralNetworkLayer;
  /** Whether `original` is the result of fusing layers (its weights are the fused float weights). */
  readonly fused: boolean;
  /**
   * The layer of the original model, before fusion, that `original` was fused from
   * (it keeps its name): its weights are stored as the original stores them. The
   * same as `original` when not `fused`.
   */
  readonly unfused: NeuralNetworkLayer;
}

/**
 * Pairs every layer of every network of `quantized` (pipelines and branch/loop
 * bodies included, in file order) with its layer in `original`, and hands each
 * pair to `visit` as it is found (a model of a million layers needs no list of
 * them).
 *
 * @param original - the model before quantization
 * @param quantized - the model after
 * @param fuse - `auto`: fuse a network of `original` when the quantized network
 *   has fewer layers; `never`: match the layers as they are
 * @param visit - called with each pair, in file order (a branch or loop layer, then its bodies)
 * @throws {@link QuantizeError} `models-differ` naming the first place the models
 *   do not correspond: model kinds, pipeline lengths, a layer's name or kind, a
 *   network's layer count, a nested body present in one model only
 */
export function pairLayers(original: Model, quantized: Model, fuse: FuseMatching, visit: (pair: LayerPair) => void): void {
  pairModels(original, quantized, "model", fuse, visit);
}

function mismatch(path: string, message: string): QuantizeError {
  return new QuantizeError("models-differ", `the models do not correspond: ${message}`, { path });
}

function pairModels(original: Model, quantized: Model, path: string, fuse: FuseMatching, visit: (pair: LayerPair) => void): void {
  const kind = (m: Model): string => m.Type.case ?? "model without a type";
  if (original.Type.case !== quantized.Type.case) {
    throw mismatch(path, `the original is a ${kind(original)}, the quantized model a ${kind(quantized)}`);
  }
  if (isNetworkModel(original) && isNetworkModel(quantized)) {
    pairNetwork(original.Type.value.layers, quantized.Type.value.layers, `${path}/${original.Type.case}`, fuse, visit, modelBlobsKept(original));
    return;
  }
  const inner = pipelineModels(original);
  const innerQuantized = pipelineModels(quantized);
  if (inner === undefined || innerQuantized === undefined) return; // neither holds a network
  if (inner.models.length !== innerQuantized.models.length) {
    throw mismatch(`${path}/${inner.path}`, `the original pipeline holds ${inner.models.length} models, the quantized one ${innerQuantized.models.length}`);
  }
  inner.models.forEach((sub, i) => {
    pairModels(sub, innerQuantized.models[i] as Model, `${path}/${inner.path}[${i}]`, fuse, visit);
  });
}

const named = (layer: NeuralNetworkLayer): string => `${JSON.stringify(layer.name)} (${layer.layer.case ?? "no kind"})`;

/**
 * For each layer fusion made, the original layer it was fused from: fusion keeps
 * the first layer's name and place, so the layers that are no longer there are
 * matched by name, in order.
 */
function fusedSources(originalLayers: readonly NeuralNetworkLayer[], candidates: readonly NeuralNetworkLayer[]): Map<NeuralNetworkLayer, NeuralNetworkLayer> {
  const kept = new Set(candidates);
  const gone = new Map<string, NeuralNetworkLayer[]>();
  for (const layer of originalLayers) {
    if (kept.has(layer)) continue;
    const list = gone.get(layer.name);
    if (list === undefined) gone.set(layer.name, [layer]);
    else list.push(layer);
  }
  const sources = new Map<NeuralNetworkLayer, NeuralNetworkLayer>();
  const original = new Set(originalLayers);
  for (const layer of candidates) {
    if (original.has(layer)) continue;
    const source = gone.get(layer.name)?.shift();
    if (source !== undefined) sources.set(layer, source);
  }
  return sources;
}

function pairNetwork(
  originalLayers: readonly NeuralNetworkLayer[],
  quantizedLayers: readonly NeuralNetworkLayer[],
  networkPath: string,
  fuse: FuseMatching,
  visit: (pair: LayerPair) => void,
  keep: ReadonlySet<string>,
): void {
  // Fusion only removes layers: a network with as many layers as its original was not fused.
  const fusing = fuse === "auto" && quantizedLayers.length < originalLayers.length;
  // Fused as quantizeWeights fuses: the blobs read outside the network survive.
  const candidates = fusing ? fuseLayers(originalLayers, { keep }) : originalLayers;
  const keptIn = nestedBlobsKept(candidates, keep);
  const unchanged = fusing ? new Set(originalLayers) : undefined;
  const sources = fusing ? fusedSources(originalLayers, candidates) : undefined;
  const shared = Math.min(candidates.length, quantizedLayers.length);
  for (let i = 0; i < shared; i++) {
    const a = candidates[i] as NeuralNetworkLayer;
    const b = quantizedLayers[i] as NeuralNetworkLayer;
    if (a.name !== b.name || a.layer.case !== b.layer.case) {
      throw mismatch(`${networkPath}/layers[${i}]`, `the original${fusing ? " (after fusion)" : ""} has ${named(a)}, the quantized model ${named(b)}`);
    }
  }
  if (candidates.length !== quantizedLayers.length) {
    const counts = `the original has ${originalLayers.length} layers${fusing ? ` (${candidates.length} after fusion)` : ""}, the quantized network ${quantizedLayers.length}`;
    const extra =
      candidates.length > quantizedLayers.length
        ? `original ${named(candidates[shared] as NeuralNetworkLayer)}`
        : `quantized ${named(quantizedLayers[shared] as NeuralNetworkLayer)}`;
    throw mismatch(`${networkPath}/layers[${shared}]`, `${counts}; the first unmatched layer is the ${extra}`);
  }
  quantizedLayers.forEach((layer, i) => {
    const originalLayer = candidates[i] as NeuralNetworkLayer;
    const fused = unchanged !== undefined && !unchanged.has(originalLayer);
    const unfused = fused ? (sources?.get(originalLayer) ?? originalLayer) : originalLayer;
    visit({ networkPath, index: i, original: originalLayer, quantized: layer, fused, unfused });
    const originalBodies = nestedNetworks(originalLayer);
    const quantizedNested = nestedNetworks(layer);
    if (originalBodies.length === 0 && quantizedNested.length === 0) return;
    const path = layerPath(networkPath, i, layer);
    const originalNested = new Map(originalBodies.map((n) => [n.field, n.network]));
    if (originalNested.size !== quantizedNested.length || quantizedNested.some((n) => !originalNested.has(n.field))) {
      const fields = (list: readonly string[]): string => (list.length === 0 ? "none" : list.join(", "));
      throw mismatch(
        path,
        `nested networks differ: the original has ${fields([...originalNested.keys()])}, the quantized model ${fields(quantizedNested.map((n) => n.field))}`,
      );
    }
    for (const { field, network } of quantizedNested) {
      const body = originalNested.get(field) as NeuralNetwork;
      pairNetwork(body.layers, network.layers, `${path}/${field}`, fuse, visit, keptIn(body));
    }
  });
}

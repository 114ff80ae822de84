/**
 * Which layer of an original model each layer of a quantized model came from.
 * quantizeWeights fuses batchnorm, scale and bias layers into the layer before
 * them, so a quantized network with fewer layers than its original is matched
 * against the original fused the same way ({@link fuseLayers}); layers are then
 * matched by position and checked by name and kind.
 *
 * @packageDocumentation
 */
import type { Model, NeuralNetworkLayer } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import { fuseLayers } from "../walker/fuse.js";
import { isNetworkModel, layerPath, nestedNetworks, pipelineModels } from "../walker/networks.js";

/** When to fuse the original's layers before matching. */
export type FuseMatching = "auto" | "never";

/** A layer of the quantized model and the original layer it is compared against. */
export interface LayerPair {
  /** The layer's path in the quantized model, e.g. `model/neuralNetwork/layers[2] "conv2"`. */
  readonly path: string;
  /** The path of the network holding the layer. */
  readonly networkPath: string;
  /** The original layer, after fusion when the network was fused. */
  readonly original: NeuralNetworkLayer;
  /** The quantized layer. */
  readonly quantized: NeuralNetworkLayer;
  /** Whether `original` is the result of fusing layers (its weights are the fused float weights). */
  readonly fused: boolean;
}

/**
 * Pairs every layer of every network of `quantized` (pipelines and branch/loop
 * bodies included, in file order) with its layer in `original`.
 *
 * @param original - the model before quantization
 * @param quantized - the model after
 * @param fuse - `auto`: fuse a network of `original` when the quantized network
 *   has fewer layers; `never`: match the layers as they are
 * @returns the pairs, in file order (a branch or loop layer, then its bodies)
 * @throws {@link QuantizeError} `invalid-option` naming the first place the models
 *   do not correspond: model kinds, pipeline lengths, a layer's name or kind, a
 *   network's layer count, a nested body present in one model only
 */
export function pairLayers(original: Model, quantized: Model, fuse: FuseMatching): LayerPair[] {
  const pairs: LayerPair[] = [];
  pairModels(original, quantized, "model", fuse, pairs);
  return pairs;
}

function mismatch(path: string, message: string): QuantizeError {
  return new QuantizeError("invalid-option", `the models do not correspond: ${message}`, { path });
}

function pairModels(original: Model, quantized: Model, path: string, fuse: FuseMatching, out: LayerPair[]): void {
  const kind = (m: Model): string => m.Type.case ?? "model without a type";
  if (original.Type.case !== quantized.Type.case) {
    throw mismatch(path, `the original is a ${kind(original)}, the quantized model a ${kind(quantized)}`);
  }
  if (isNetworkModel(original) && isNetworkModel(quantized)) {
    pairNetwork(original.Type.value.layers, quantized.Type.value.layers, `${path}/${original.Type.case}`, fuse, out);
    return;
  }
  const inner = pipelineModels(original);
  const innerQuantized = pipelineModels(quantized);
  if (inner === undefined || innerQuantized === undefined) return; // neither holds a network
  if (inner.models.length !== innerQuantized.models.length) {
    throw mismatch(`${path}/${inner.path}`,
      `the original pipeline holds ${inner.models.length} models, the quantized one ${innerQuantized.models.length}`);
  }
  inner.models.forEach((sub, i) => {
    pairModels(sub, innerQuantized.models[i] as Model, `${path}/${inner.path}[${i}]`, fuse, out);
  });
}

const named = (layer: NeuralNetworkLayer): string => `${JSON.stringify(layer.name)} (${layer.layer.case ?? "no kind"})`;

function pairNetwork(
  originalLayers: readonly NeuralNetworkLayer[],
  quantizedLayers: readonly NeuralNetworkLayer[],
  networkPath: string,
  fuse: FuseMatching,
  out: LayerPair[],
): void {
  // Fusion only removes layers: a network with as many layers as its original was not fused.
  const fusing = fuse === "auto" && quantizedLayers.length < originalLayers.length;
  const candidates = fusing ? fuseLayers(originalLayers) : originalLayers;
  const unchanged = new Set(originalLayers);
  const shared = Math.min(candidates.length, quantizedLayers.length);
  for (let i = 0; i < shared; i++) {
    const a = candidates[i] as NeuralNetworkLayer;
    const b = quantizedLayers[i] as NeuralNetworkLayer;
    if (a.name !== b.name || a.layer.case !== b.layer.case) {
      throw mismatch(`${networkPath}/layers[${i}]`,
        `the original${fusing ? " (after fusion)" : ""} has ${named(a)}, the quantized model ${named(b)}`);
    }
  }
  if (candidates.length !== quantizedLayers.length) {
    const counts = `the original has ${originalLayers.length} layers${fusing ? ` (${candidates.length} after fusion)` : ""}, the quantized network ${quantizedLayers.length}`;
    const extra = candidates.length > quantizedLayers.length
      ? `original ${named(candidates[shared] as NeuralNetworkLayer)}`
      : `quantized ${named(quantizedLayers[shared] as NeuralNetworkLayer)}`;
    throw mismatch(`${networkPath}/layers[${shared}]`, `${counts}; the first unmatched layer is the ${extra}`);
  }
  quantizedLayers.forEach((layer, i) => {
    const originalLayer = candidates[i] as NeuralNetworkLayer;
    const path = layerPath(networkPath, i, layer);
    out.push({ path, networkPath, original: originalLayer, quantized: layer, fused: !unchanged.has(originalLayer) });
    const originalNested = new Map(nestedNetworks(originalLayer).map((n) => [n.field, n.network]));
    const quantizedNested = nestedNetworks(layer);
    if (originalNested.size !== quantizedNested.length || quantizedNested.some((n) => !originalNested.has(n.field))) {
      const fields = (list: readonly string[]): string => (list.length === 0 ? "none" : list.join(", "));
      throw mismatch(path, `nested networks differ: the original has ${fields([...originalNested.keys()])}, the quantized model ${fields(quantizedNested.map((n) => n.field))}`);
    }
    for (const { field, network } of quantizedNested) {
      pairNetwork((originalNested.get(field) as { layers: NeuralNetworkLayer[] }).layers, network.layers, `${path}/${field}`, fuse, out);
    }
  });
}

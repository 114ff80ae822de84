/**
 * A summary of what a model holds and how its weights are stored.
 *
 * @packageDocumentation
 */
import type { Model } from "./codec/model-types.js";
import { storedByteLength, weightStorage, type StorageKind } from "./codec/weight-storage.js";
import { forEachLayer, isNetworkModel, layerPath, mapNetworkModels, nestedNetworks } from "./walker/networks.js";
import { layerWeights } from "./walker/weights.js";

/** One WeightParams in a {@link ModelSummary}. */
export interface WeightSummary {
  /** Path of the layer, e.g. `model/neuralNetwork/layers[0] "fc1"`. */
  readonly layerPath: string;
  /** The layer's name. */
  readonly layer: string;
  /** The layer kind (the case of its `layer` oneof). */
  readonly kind: string;
  /** The field inside the layer, e.g. `weights`. */
  readonly field: string;
  /** The shape the layer declares. */
  readonly shape: readonly number[];
  /** Number of values (the product of `shape`). */
  readonly count: number;
  /** Storage kind. */
  readonly storage: StorageKind;
  /** Bits per value for `linear` and `lut` storage. */
  readonly nbits?: number;
  /** Bytes in the file: payload plus quantization parameters. */
  readonly bytes: number;
  /** Whether quantizeWeights would change this field (the reference quantizes it). */
  readonly quantizable: boolean;
}

/** One network in a {@link ModelSummary}. */
export interface NetworkSummary {
  /** e.g. `model/pipeline.models[0]/neuralNetworkClassifier`. */
  readonly path: string;
  /** Number of layers, nested branch and loop bodies not included. */
  readonly layers: number;
}

/** What {@link inspectModel} reports. */
export interface ModelSummary {
  /** The model's type: the case of `Model.Type` (`neuralNetwork`, `pipeline`, …), or `none`. */
  readonly modelType: string;
  /** `Model.specificationVersion`. */
  readonly specificationVersion: number;
  /** Every neural network, pipelines and nested bodies included. */
  readonly networks: readonly NetworkSummary[];
  /** Every WeightParams of every layer with weights. */
  readonly weights: readonly WeightSummary[];
  /** Sums over `weights`. */
  readonly totals: {
    /** Number of WeightParams. */
    readonly tensors: number;
    /** Number of weight values, whatever their storage. */
    readonly values: number;
    /** Bytes the weights take in the file (payload and quantization parameters). */
    readonly bytes: number;
    /** Bytes per storage kind. */
    readonly bytesByStorage: Readonly<Partial<Record<StorageKind, number>>>;
  };
}

/**
 * Lists the networks, layers and weights of a model with their shapes and storage.
 *
 * @param model - the model
 * @returns the summary
 * @throws {@link QuantizeError} `invalid-weights` when a WeightParams uses two storages
 * @example
 * ```ts
 * const { totals } = inspectModel(decodeModel(bytes));
 * console.log(`${totals.tensors} tensors, ${totals.bytes} bytes`);
 * ```
 */
export function inspectModel(model: Model): ModelSummary {
  const networks: NetworkSummary[] = [];
  mapNetworkModels(model, (sub, path) => {
    if (isNetworkModel(sub)) networks.push({ path: `${path}/${sub.Type.case}`, layers: sub.Type.value.layers.length });
    return sub;
  });
  const weights: WeightSummary[] = [];
  forEachLayer(model, (layer, networkPath, index) => {
    const nested = nestedNetworks(layer);
    const refs = layerWeights(layer);
    // Most layers of a deep network have neither: their paths are never built.
    if (nested.length === 0 && refs.length === 0) return;
    const path = layerPath(networkPath, index, layer);
    for (const { field, network } of nested) networks.push({ path: `${path}/${field}`, layers: network.layers.length });
    for (const ref of refs) {
      const fieldPath = `${path}/${ref.field}`;
      const storage = weightStorage(ref.weightParams, fieldPath);
      weights.push({
        layerPath: path,
        layer: layer.name,
        kind: layer.layer.case ?? "none",
        field: ref.field,
        shape: ref.shape,
        count: ref.shape.reduce((a, b) => a * b, 1),
        storage: storage.kind,
        ...(storage.kind === "linear" || storage.kind === "lut" ? { nbits: storage.nbits } : {}),
        bytes: storedByteLength(ref.weightParams),
        quantizable: ref.quantized,
      });
    }
  });
  const bytesByStorage: Partial<Record<StorageKind, number>> = {};
  for (const w of weights) bytesByStorage[w.storage] = (bytesByStorage[w.storage] ?? 0) + w.bytes;
  return {
    modelType: model.Type.case ?? "none",
    specificationVersion: model.specificationVersion,
    networks,
    weights,
    totals: {
      tensors: weights.length,
      values: weights.reduce((a, w) => a + w.count, 0),
      bytes: weights.reduce((a, w) => a + w.bytes, 0),
      bytesByStorage,
    },
  };
}

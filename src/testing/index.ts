/**
 * `coreml-quantize/testing`: fast-check arbitraries of weights, layers, networks,
 * models (and models the executor runs) and selector options, for property tests
 * of custom lookup-table functions and selector subclasses (and of this
 * library). fast-check is an optional peer dependency needed only by this entry
 * point.
 *
 * @example
 * ```ts
 * import * as fc from "fast-check";
 * import { quantizeWeights, QuantizedLayerSelector } from "coreml-quantize";
 * import { model } from "coreml-quantize/testing";
 *
 * fc.assert(fc.property(model(), (m) => {
 *   quantizeWeights(m, { nbits: 4, mode: "custom_lut", lutFunction: myLut });
 * }), { seed: 42 });
 * ```
 *
 * @packageDocumentation
 */
export { weightTensor, type WeightTensor, type WeightTensorConstraints } from "./weight-tensor.js";
export {
  weightParams,
  GENERATED_STORAGES,
  type GeneratedStorage,
  type GeneratedWeightParams,
  type WeightParamsConstraints,
} from "./weight-params.js";
export { layer, GENERATED_LAYER_KINDS, type GeneratedLayerKind, type LayerConstraints } from "./layer.js";
export { network, type NetworkConstraints } from "./network.js";
export { model, GENERATED_MODEL_KINDS, type GeneratedModelKind, type ModelConstraints } from "./model.js";
export {
  runnableNetworkModel,
  RUNNABLE_FOLLOWER_KINDS,
  RUNNABLE_PRODUCER_KINDS,
  type RunnableFollowerKind,
  type RunnableNetworkModelConstraints,
  type RunnableProducerKind,
} from "./runnable-network-model.js";
export { advancedSelectorOptions, type AdvancedSelectorOptionsConstraints } from "./advanced-selector-options.js";
export {
  matrixMultiplySelectorOptions,
  type MatrixMultiplySelectorOptionsConstraints,
} from "./matrix-multiply-selector-options.js";
export { EDGE_VALUES } from "./internal/float-values.js";
export type { FloatStorage } from "./internal/messages.js";

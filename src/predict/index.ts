/**
 * The executor: runs Core ML neural-network models in plain TypeScript (no Node
 * APIs), to compare a compressed model's predictions with the original's.
 *
 * @packageDocumentation
 */
export { prepareModel, predict } from "./predict.js";
export type { PrepareModelOptions, PreparedModel, PredictionWithBlobs } from "./predict.js";
export type {
  ArrayOutput,
  ArrayValue,
  ImageValue,
  InputValue,
  OutputValue,
  PredictInputs,
  PredictOutputs,
} from "./feature-io.js";
export { encodeNpy, parseNpy } from "./npy.js";
export type { NpyArray, NpyDataOf, NpyDtype } from "./npy.js";
export type {
  BlobLayout,
  LayerContext,
  LayerImpl,
  LayerImpls,
  PreparedLayer,
  PreparedNetwork,
  Tensor,
} from "./layer-runner.js";
export { LAYER_IMPLS } from "./layers/index.js";
export { compareModels } from "./compare-models.js";
export type {
  ArrayComparison,
  CompareModelsOptions,
  ComparedLayer,
  DictionaryComparison,
  LabelComparison,
  LabelDisagreement,
  LayerComparison,
  LayerRef,
  MeanVariance,
  MismatchedLayer,
  ModelComparison,
  OutputComparison,
  RemovedLayer,
  SampleMetrics,
} from "./compare-models.js";
export { COREMLTOOLS_NOISE_FLOOR, MEANINGFUL_CEILING_DB } from "./compare-metrics.js";
export { MAX_SEQUENCE_LENGTH, randomInputs } from "./random-inputs.js";
export type { RandomInputsOptions } from "./random-inputs.js";

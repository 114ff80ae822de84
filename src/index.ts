/**
 * coreml-quantize: compress the weights of Core ML neural-network models.
 *
 * @packageDocumentation
 */
export { decodeModel, MAX_NESTING_DEPTH, type ModelBytes, type DecodeOptions } from "./codec/decode-model.js";
export { MAX_MESSAGES, MAX_REPEATED_SCALARS } from "./codec/check-framing.js";
export { encodeModel, encodeModelChunks, type EncodedChunks } from "./codec/encode-model.js";
export { packIndices, unpackIndices, packedByteLength } from "./codec/bit-pack.js";
export { encodeFloat16, decodeFloat16, FLOAT16_MAX } from "./codec/float16.js";
export {
  readWeights,
  readQuantized,
  weightStorage,
  storedByteLength,
  withFloat32,
  withFloat16,
  withLinear,
  withLut,
  withInt8,
  type WeightStorage,
  type StorageKind,
  type QuantizedParts,
  type ReadWeightsOptions,
} from "./codec/weight-storage.js";
export type { ChannelLayout } from "./quantizer/channel-layout.js";
export type {
  Model,
  Pipeline,
  NeuralNetwork,
  NeuralNetworkClassifier,
  NeuralNetworkRegressor,
  NeuralNetworkLayer,
  LayerKind,
  WeightParams,
  QuantizationParams,
  WithTypedWeights,
  MessageWithTypedWeights,
} from "./codec/model-types.js";
export { QuantizeError, isQuantizeError, type ErrorCode, type QuantizeErrorOptions } from "./errors.js";
export {
  quantizeWeights,
  dequantizeWeights,
  activateInt8Int8MatrixMultiplications,
  type QuantizeOptions,
  type DequantizeOptions,
  type Int8MatmulOptions,
  type QuantizationMode,
  type Progress,
  type QuantizeCommonOptions,
  type HalfPrecisionOptions,
  type NbitOptions,
  type CustomLutOptions,
  type AutoOptions,
  type TensorDecision,
  type NbitDecision,
  type Float16Decision,
  type Float32Decision,
  type TensorLeft,
  type Float16Overflow,
} from "./quantize/quantize-weights.js";
export {
  QuantizedLayerSelector,
  AdvancedQuantizedLayerSelector,
  MatrixMultiplyLayerSelector,
  QUANTIZABLE_LAYER_TYPES,
  type LayerSelector,
  type QuantizableLayerType,
  type AdvancedSelectorOptions,
  type MatrixMultiplySelectorOptions,
} from "./selectors.js";
export type { LutFunction } from "./quantizer/custom-lut.js";
export type { QuantizedLayerKind, NestingLayerKind } from "./walker/layer-table.js";
export type { TensorMode, TensorContext, TensorResult } from "./quantize/quantize-tensor.js";
export { inspectModel, type ModelSummary, type NetworkSummary, type WeightSummary } from "./inspect-model.js";
export type { LayerParams } from "./walker/layer-table.js";
export { validateWeights } from "./validate-model.js";
export {
  weightReport,
  type WeightReport,
  type WeightReportOptions,
  type TensorReport,
  type StoredTensor,
  type ReportTotals,
} from "./report/weight-report.js";
export { tensorError, type TensorError } from "./measure/tensor-error.js";
export { formatReport, reportJson } from "./report/format-report.js";
export type { FuseMatching } from "./report/pair-layers.js";
export type { AutoMode } from "./quantize/auto-bits.js";
export {
  prepareModel,
  predict,
  parseNpy,
  encodeNpy,
  compareModels,
  formatComparison,
  comparisonJson,
  randomInputs,
  LAYER_IMPLS,
  COREMLTOOLS_NOISE_FLOOR,
  MEANINGFUL_CEILING_DB,
  MAX_SEQUENCE_LENGTH,
  type PrepareModelOptions,
  type PreparedModel,
  type PredictionWithBlobs,
  type ArrayOutput,
  type ArrayValue,
  type ImageValue,
  type InputValue,
  type OutputValue,
  type PredictInputs,
  type PredictOutputs,
  type NpyArray,
  type NpyDataOf,
  type NpyDtype,
  type BlobLayout,
  type LayerContext,
  type LayerImpl,
  type LayerImpls,
  type PreparedLayer,
  type PreparedNetwork,
  type Tensor,
  type ArrayComparison,
  type CompareModelsOptions,
  type ComparedLayer,
  type DictionaryComparison,
  type LabelComparison,
  type LabelDisagreement,
  type LayerComparison,
  type LayerRef,
  type MeanVariance,
  type MismatchedLayer,
  type ModelComparison,
  type OutputComparison,
  type RemovedLayer,
  type SampleMetrics,
  type RandomInputsOptions,
} from "./predict/index.js";

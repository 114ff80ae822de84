/**
 * coreml-quantize: compress the weights of Core ML models: neural networks
 * (`.mlmodel`) as coremltools' quantization_utils does, ML Programs
 * (`.mlpackage`) as coremltools.optimize.coreml does.
 *
 * @packageDocumentation
 */
export { decodeModel, MAX_NESTING_DEPTH, type ModelBytes, type DecodeOptions } from "./codec/decode-model.js";
export { MAX_MESSAGES, MAX_REPEATED_SCALARS } from "./codec/check-framing.js";
export { encodeModel, encodeModelChunks, type EncodedChunks } from "./codec/encode-model.js";
export { packIndices, unpackIndices, packedByteLength } from "./codec/bit-pack.js";
export { encodeFloat16, decodeFloat16, FLOAT16_MAX } from "./codec/float16.js";
export { readWeights, readQuantized, type QuantizedParts, type ReadWeightsOptions } from "./walker/read-weights.js";
export {
  weightStorage,
  storedByteLength,
  withFloat32,
  withFloat16,
  withLinear,
  withLut,
  withInt8,
  type WeightStorage,
  type StorageKind,
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
export { comparisonJson, formatComparison } from "./report/format-comparison.js";
export type { FuseMatching } from "./report/pair-layers.js";
export type { AutoMode } from "./quantize/auto-bits.js";
export {
  prepareModel,
  predict,
  parseNpy,
  encodeNpy,
  compareModels,
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
export {
  decodeMlPackage,
  encodeMlPackage,
  packageProgram,
  MANIFEST_PATH,
  decodeWeightBin,
  encodeWeightBin,
  readZipArchive,
  writeZipArchive,
  decodeMlPackageZip,
  encodeMlPackageZip,
  MAX_ZIP_ENTRIES,
  MAX_ZIP_ENTRY_BYTES,
  walkProgram,
  MAX_BLOCK_NESTING,
  inspectProgram,
  linearQuantizeWeights,
  palettizeWeights,
  pruneWeights,
  decompressWeights,
  linearQuantizerConfigFromJson,
  palettizerConfigFromJson,
  prunerConfigFromJson,
  parseConfigJson,
  programReport,
  isWeightInput,
  chooseProgramConfig,
  applyProgramAutoPlan,
  PROGRAM_AUTO_MODES,
  DEFAULT_PROGRAM_AUTO_MODES,
  DEFAULT_PROGRAM_TARGET_SNR_DB,
  type ProgramAutoMode,
  type ProgramAutoOptions,
  type ProgramAutoPlan,
  type ProgramAutoWeight,
  type ProgramConfigFile,
  type ProgramConfigJson,
  type PalettizerOpConfigJson,
  type LinearOpConfigJson,
  type MlPackage,
  type PackageFiles,
  type PackageManifest,
  type ManifestItem,
  type WeightBin,
  type WeightBlob,
  type BlobContents,
  type BlobDataType,
  type BlobDataTypeInfo,
  type BlobElementKind,
  BLOB_DATA_TYPES,
  blobOffsets,
  type ZipWriteOptions,
  type ProgramWalk,
  type ProgramConstant,
  type WeightInput,
  type ConsumerInput,
  type ConstantStorage,
  type OpLocation,
  type ProgramSummary,
  type FunctionSummary,
  type ConstantTotals,
  type CompressionOptions,
  type SkippedWeight,
  type CompressionConfig,
  type LinearQuantizerConfig,
  type PalettizerConfig,
  type PrunerConfig,
  type MagnitudePrunerConfig,
  type ThresholdPrunerConfig,
  type LinearQuantizeResult,
  type PalettizeResult,
  type PruneResult,
  type DecompressResult,
  type ProgramReport,
  type ProgramWeightReport,
  type ProgramWeightStorage,
  type ProgramReportTotals,
} from "./mlprogram/index.js";
export type { CompressionResult } from "./mlprogram/compression-pass.js";
export { BLOB_DATA_TYPE_NAMES } from "./mlprogram/blob-data-types.js";
export {
  LINEAR_MODES,
  LINEAR_DTYPES,
  LINEAR_DTYPE_NAMES,
  type LinearDtypeInfo,
  LINEAR_GRANULARITIES,
  type ResolvedLinearQuantizerConfig,
  type LinearMode,
  type LinearDtype,
  type LinearGranularity,
} from "./mlprogram/compression-config.js";
export {
  PALETTIZE_MODES,
  PALETTIZE_NBITS,
  PALETTIZE_GRANULARITIES,
  type ResolvedPalettizerConfig,
  type PalettizeMode,
  type PalettizeGranularity,
} from "./mlprogram/palettize-config.js";
export type { ResolvedPrunerConfig, ResolvedMagnitudePrunerConfig, ResolvedThresholdPrunerConfig } from "./mlprogram/prune-config.js";
export {
  compressPackage,
  packageCompression,
  packageNbits,
  type CompressionFunction,
  type PackageMode,
  type PackageCompressionRequest,
  type PackageFlagsRequest,
  type PackageCompression,
} from "./mlprogram/compress-package.js";
export { formatProgramSummary } from "./report/format-program-summary.js";
export { formatProgramReport, programReportJson } from "./report/format-program-report.js";

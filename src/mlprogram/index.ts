/**
 * ML Programs (`.mlpackage`): the package as data (manifest, model, weight.bin),
 * zip archives of packages for the browser, and the walker over a program's
 * constants. Nothing here needs Node; the file-system helpers are in
 * `coreml-quantize/node`.
 *
 * @packageDocumentation
 */
export {
  BLOB_DATA_TYPES,
  blobDataTypeOfCode,
  blobByteLength,
  blobPaddingBits,
  isSubByte,
  type BlobDataType,
  type BlobDataTypeInfo,
  type BlobElementKind,
} from "./blob-data-types.js";
export {
  decodeWeightBin,
  encodeWeightBin,
  blobOffsets,
  blobElements,
  blobElementCount,
  blobsByOffset,
  BLOB_ALIGNMENT,
  BLOB_SENTINEL,
  WEIGHT_BIN_VERSION,
  WEIGHT_BIN_NAME,
  type WeightBin,
  type WeightBlob,
  type BlobContents,
  type BlobElements,
} from "./weight-bin.js";
export { packSubByte, unpackSubByte } from "./sub-byte.js";
export { MIL_DATA_TYPES, milDataType, type MilDataTypeInfo } from "./mil-data-types.js";
export {
  decodeMlPackage,
  encodeMlPackage,
  packageProgram,
  MANIFEST_PATH,
  type MlPackage,
  type PackageFiles,
  type PackageManifest,
  type ManifestItem,
} from "./ml-package.js";
export {
  readZipArchive,
  writeZipArchive,
  decodeMlPackageZip,
  encodeMlPackageZip,
  crc32,
  MAX_ZIP_ENTRIES,
  MAX_ZIP_ENTRY_BYTES,
  type ZipWriteOptions,
} from "./zip-archive.js";
export {
  walkProgram,
  MAX_BLOCK_NESTING,
  type ProgramWalk,
  type ProgramConstant,
  type WeightInput,
  type ConsumerInput,
  type ConstantStorage,
  type OpLocation,
} from "./walk-program.js";
export { inspectProgram, type ProgramSummary, type FunctionSummary, type ConstantTotals } from "./inspect-program.js";
export { linearQuantizeWeights, type CompressionOptions, type LinearQuantizeResult, type SkippedWeight } from "./linear-quantize.js";
export {
  linearQuantizerConfigFromJson,
  type CompressionConfig,
  type LinearQuantizerConfig,
} from "./compression-config.js";
export { pruneWeights, type PruneResult } from "./prune.js";
export { prunerConfigFromJson, type PrunerConfig, type MagnitudePrunerConfig, type ThresholdPrunerConfig } from "./prune-config.js";
export { palettizeWeights, type PalettizeResult } from "./palettize.js";
export { palettizerConfigFromJson, type PalettizerConfig } from "./palettize-config.js";
export {
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
} from "./auto-config.js";
export {
  programReport,
  isWeightInput,
  type ProgramReport,
  type ProgramWeightReport,
  type ProgramWeightStorage,
  type ProgramReportTotals,
} from "./report-program.js";
export { decompressWeights, type DecompressResult } from "./decompress.js";
export {
  evaluateConstexpr,
  blockValues,
  constantTensor,
  isConstexprOp,
  type TensorData,
  type ParameterValues,
} from "./evaluate-constexpr.js";
export { parseConfigJson, configFieldValue } from "./config-json.js";
export {
  compressPackage,
  packageCompression,
  packageNbits,
  type CompressionFunction,
  type PackageMode,
  type PackageCompressionRequest,
  type PackageFlagsRequest,
  type PackageCompression,
} from "./compress-package.js";

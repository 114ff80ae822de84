/**
 * Node-only helpers: `coreml-quantize/node`.
 *
 * @packageDocumentation
 */
export { readModelFile, readModelBytes, writeModelFile, writeFileAtomic, writeFileAtomicAsync } from "./model-files.js";
export { MAX_MODEL_BYTES, cannotStartModel } from "./model-file-limits.js";
export { stageFile, commitFiles, type StagedFile, type FileContents } from "./staged-file.js";
export { resolveOutputTarget, fileIdentity, isSameFile, type OutputTarget } from "./output-target.js";
export { removeTemporaries, onTemporaryRegistered, liveTemporaries } from "./temporary-files.js";
export { quantizeWeightsParallel, type ParallelQuantizeOptions } from "./quantize-weights-parallel.js";
export { loadSamples, MAX_SAMPLES, MAX_SAMPLE_BYTES, MAX_JSON_BYTES } from "./sample-data.js";
export { decodeImage, MAX_IMAGE_PIXELS, IMAGE_EXTENSIONS, type ImageSize } from "./decode-image.js";

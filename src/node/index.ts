/**
 * Node-only helpers: `coreml-quantize/node`.
 *
 * @packageDocumentation
 */
export { readModelFile, readModelBytes, writeModelFile } from "./model-files.js";
export { MAX_MODEL_BYTES } from "./model-file-limits.js";
export { quantizeWeightsParallel, type ParallelQuantizeOptions } from "./quantize-weights-parallel.js";
export { loadSamples, MAX_SAMPLES, MAX_SAMPLE_BYTES, MAX_JSON_BYTES } from "./sample-data.js";
export { decodeImage, MAX_IMAGE_PIXELS, IMAGE_EXTENSIONS, type ImageSize } from "./decode-image.js";
export { readMlPackage, writeMlPackage, checkPackageDestination, MAX_PACKAGE_FILES, MAX_PACKAGE_FILE_BYTES } from "./mlpackage-files.js";

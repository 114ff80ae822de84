/**
 * Node-only helpers: `coreml-quantize/node`.
 *
 * @packageDocumentation
 */
export { readModelFile, writeModelFile, writeFileAtomic, writeFileAtomicAsync } from "./model-files.js";
export { quantizeWeightsParallel, type ParallelQuantizeOptions } from "./quantize-weights-parallel.js";

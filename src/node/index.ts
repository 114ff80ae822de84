/**
 * Node-only helpers: `coreml-quantize/node`.
 *
 * @packageDocumentation
 */
export { readModelFile, writeModelFile, writeFileAtomic } from "./model-files.js";

/**
 * Pure quantization math on typed arrays: no model types, no I/O.
 *
 * @packageDocumentation
 */

export { channelLayout, layoutSize, type ChannelLayout } from "./channel-layout.js";
export { channelRange, type ChannelRange } from "./channel-range.js";
export { customLut, type LutFunction } from "./custom-lut.js";
export { dequantizeLinear, dequantizeLut } from "./dequantize.js";
export { quantizeInt8, type Int8Quantized } from "./int8.js";
export {
  DEFAULT_EXACT_BUDGET,
  DEFAULT_MAX_LLOYD_ITERATIONS,
  kmeansLut,
  type KmeansOptions,
} from "./kmeans-lut.js";
export { quantizeLinearLut } from "./linear-lut.js";
export { quantizeLinearSymmetric } from "./linear-symmetric.js";
export { quantizeLinear, SCALE_EPSILON, type LinearQuantized } from "./linear.js";
export type { LutQuantized } from "./lut-quantized.js";
export { MAX_NBITS, type QuantizerOptions } from "./quantizer-options.js";
export { roundHalfEven, roundHalfEvenNonNegative } from "./round-half-even.js";
export { squaredError } from "./squared-error.js";

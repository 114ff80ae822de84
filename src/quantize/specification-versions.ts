/**
 * The Core ML specification versions this library's operations require: a model
 * changed by one is raised to at least this version (never lowered), as
 * coremltools does, so that older Core ML releases refuse it instead of misreading it.
 *
 * @packageDocumentation
 */

/** Half-precision (float16) weights: specification version 2 (iOS 11.2, macOS 10.13.2). */
export const HALF_PRECISION_WEIGHTS_VERSION = 2;

/** n-bit linear and lookup-table weights, and dequantized float32 ones: version 3 (iOS 12, macOS 10.14). */
export const QUANTIZED_WEIGHTS_VERSION = 3;

/** int8 weights with `int8DynamicQuantize` (int8 x int8 products): version 5 (iOS 14, macOS 11). */
export const INT8_PRODUCTS_VERSION = 5;

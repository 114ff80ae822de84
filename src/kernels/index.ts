/**
 * The kernels this runtime uses: WebAssembly SIMD where available, JavaScript
 * otherwise (see run-kernels.ts).
 *
 * @packageDocumentation
 */
import { jsKernels } from "./js-kernels.js";
import type { RunKernels } from "./run-kernels.js";
import { createWasmKernels } from "./wasm-kernels.js";

export {
  ERROR_SUM_LANES,
  HALF_ENCODE_LIMIT_BITS,
  type ConvWindow2d,
  type DepthwiseConv2d,
  type DilatedConvWindow2d,
  type Matmul,
  type MatmulStart,
  type RunKernels,
} from "./run-kernels.js";
export { jsKernels } from "./js-kernels.js";
export { createWasmKernels } from "./wasm-kernels.js";

// Instantiated on first use and kept: compiled code and one page of scratch
// memory, which no result depends on.
let selected: RunKernels | undefined;

/**
 * The fastest kernels this runtime supports.
 *
 * @returns the SIMD kernels, or the JavaScript ones where WebAssembly SIMD is missing
 */
export function runKernels(): RunKernels {
  return (selected ??= createWasmKernels() ?? jsKernels);
}

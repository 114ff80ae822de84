/**
 * The kernels in WebAssembly SIMD (src/kernels/kernels.wat, built into
 * src/gen/kernels_wasm.ts). Tensors go through the module's memory a block at a
 * time: one copy in, the SIMD loops over each channel run of the block, one copy
 * out. The blocks stay in the second-level cache, and the SIMD loops are several
 * times faster than the JavaScript ones.
 *
 * @packageDocumentation
 */
import { KERNELS_WASM } from "../gen/kernels_wasm.js";
import { jsKernels } from "./js-kernels.js";
import type { RunKernels, RunLayout } from "./run-kernels.js";
import { wasmProducts, type ProductExports } from "./wasm-products.js";

/** Values per block. */
const BLOCK = 16_384;
// The module's four pages of memory: three 64 KB areas and the results area.
const AREA_A = 0;
const AREA_B = 65_536;
const AREA_C = 131_072;
const INFO = 196_608;
/**
 * Channel runs shorter than this go to the JavaScript kernels: a call into the
 * module per few values would cost more than the SIMD loops save.
 */
const MIN_RUN = 64;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  range(p: number, n: number, out: number): void;
  indices(p: number, n: number, q: number, offset: number, factor: number, divide: number): void;
  dequantizeLinear(q: number, n: number, out: number, scale: number, bias: number): void;
  errorSums(x: number, y: number, n: number, parity: number, sums: number): void;
  encodeHalves(p: number, n: number, out: number, info: number): void;
  decodeHalves(h: number, n: number, out: number): void;
}

/**
 * Instantiates the SIMD kernels, or returns undefined where WebAssembly or its SIMD
 * instructions are missing. Synchronous: the module is about 2 KB, below every
 * browser's limit for compiling on the main thread.
 */
export function createWasmKernels(): RunKernels | undefined {
  let module: WebAssembly.Module;
  let exports: KernelExports;
  try {
    const bytes = Uint8Array.from(atob(KERNELS_WASM), (c) => c.charCodeAt(0));
    module = new WebAssembly.Module(bytes);
    exports = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
  } catch {
    return undefined;
  }
  // The matrix product and the depthwise convolution run on a second instance,
  // made on first use: its memory grows with the blocks it is given, where this
  // one's stays at four pages.
  let products: Pick<RunKernels, "matmul" | "depthwiseConv2d"> | undefined;
  const productKernels = (): Pick<RunKernels, "matmul" | "depthwiseConv2d"> =>
    (products ??= wasmProducts(new WebAssembly.Instance(module, {}).exports as unknown as ProductExports));
  // The memory never grows, so these views stay valid.
  const buffer = exports.memory.buffer;
  const f32 = new Float32Array(buffer);
  const u32 = new Uint32Array(buffer);
  const u16 = new Uint16Array(buffer);
  const u8 = new Uint8Array(buffer);
  const f64 = new Float64Array(buffer);

  /**
   * Calls `visit(start, end, channel)` for each channel run inside the block
   * `[blockStart, blockEnd)`, a run cut where the block ends.
   */
  const runsOfBlock = (layout: RunLayout, blockStart: number, blockEnd: number, visit: (start: number, end: number, channel: number) => void): void => {
    for (let k = blockStart; k < blockEnd; ) {
      const run = Math.floor(k / layout.inner);
      const end = Math.min(blockEnd, (run + 1) * layout.inner);
      visit(k, end, run % layout.channels);
      k = end;
    }
  };

  const withSums = (sums: Float64Array, body: () => void): void => {
    f64.set(sums, INFO / 8);
    body();
    sums.set(f64.subarray(INFO / 8, INFO / 8 + sums.length));
  };

  return {
    name: "wasm-simd",

    channelRanges(values, layout, min, max) {
      if (layout.inner < MIN_RUN) return jsKernels.channelRanges(values, layout, min, max);
      min.fill(Infinity);
      max.fill(-Infinity);
      let finite = true;
      const i = INFO / 4;
      for (let s = 0; s < values.length; s += BLOCK) {
        const e = Math.min(s + BLOCK, values.length);
        f32.set(values.subarray(s, e), AREA_A / 4);
        runsOfBlock(layout, s, e, (start, end, c) => {
          exports.range(AREA_A + 4 * (start - s), end - start, INFO);
          finite &&= (f32[i + 8] as number) + (f32[i + 9] as number) + (f32[i + 10] as number) + (f32[i + 11] as number) === 0;
          let lo = Math.min(f32[i] as number, f32[i + 1] as number, f32[i + 2] as number, f32[i + 3] as number);
          let hi = Math.max(f32[i + 4] as number, f32[i + 5] as number, f32[i + 6] as number, f32[i + 7] as number);
          // Lanes lose the order of equal extremes, which matters only for the sign
          // of a zero: take the run's first zero, as the JavaScript kernel does.
          if (lo === 0) lo = firstZero(values, start, end);
          if (hi === 0) hi = firstZero(values, start, end);
          if (lo < (min[c] as number)) min[c] = lo;
          if (hi > (max[c] as number)) max[c] = hi;
        });
      }
      return finite;
    },

    linearIndices(values, layout, offset, factor, divide, out) {
      if (layout.inner < MIN_RUN) {
        jsKernels.linearIndices(values, layout, offset, factor, divide, out);
        return;
      }
      for (let s = 0; s < values.length; s += BLOCK) {
        const e = Math.min(s + BLOCK, values.length);
        f32.set(values.subarray(s, e), AREA_A / 4);
        runsOfBlock(layout, s, e, (start, end, c) => {
          exports.indices(AREA_A + 4 * (start - s), end - start, AREA_C + start - s, offset[c] as number, factor[c] as number, divide ? 1 : 0);
        });
        out.set(u8.subarray(AREA_C, AREA_C + e - s), s);
      }
    },

    dequantizeLinear(indices, layout, scale, bias, out) {
      if (layout.inner < MIN_RUN) {
        jsKernels.dequantizeLinear(indices, layout, scale, bias, out);
        return;
      }
      for (let s = 0; s < indices.length; s += BLOCK) {
        const e = Math.min(s + BLOCK, indices.length);
        u8.set(indices.subarray(s, e), AREA_C);
        runsOfBlock(layout, s, e, (start, end, c) => {
          exports.dequantizeLinear(AREA_C + start - s, end - start, AREA_B + 4 * (start - s), scale[c] as number, bias[c] as number);
        });
        out.set(f32.subarray(AREA_B / 4, AREA_B / 4 + e - s), s);
      }
    },

    linearErrorSums(original, indices, layout, scale, bias, sums) {
      if (layout.inner < MIN_RUN) {
        jsKernels.linearErrorSums(original, indices, layout, scale, bias, sums);
        return;
      }
      withSums(sums, () => {
        for (let s = 0; s < original.length; s += BLOCK) {
          const e = Math.min(s + BLOCK, original.length);
          f32.set(original.subarray(s, e), AREA_A / 4);
          u8.set(indices.subarray(s, e), AREA_C);
          runsOfBlock(layout, s, e, (start, end, c) => {
            exports.dequantizeLinear(AREA_C + start - s, end - start, AREA_B + 4 * (start - s), scale[c] as number, bias[c] as number);
          });
          exports.errorSums(AREA_A, AREA_B, e - s, s & 1, INFO);
        }
      });
    },

    errorSums(original, start, end, reconstructed, offset, sums) {
      withSums(sums, () => {
        for (let s = start; s < end; s += BLOCK) {
          const e = Math.min(s + BLOCK, end);
          f32.set(original.subarray(s, e), AREA_A / 4);
          f32.set(reconstructed.subarray(s - start + offset, e - start + offset), AREA_B / 4);
          exports.errorSums(AREA_A, AREA_B, e - s, s & 1, INFO);
        }
      });
    },

    float16ErrorSums(original, halves, start, end, sums) {
      withSums(sums, () => {
        for (let s = start; s < end; s += BLOCK) {
          const e = Math.min(s + BLOCK, end);
          f32.set(original.subarray(s, e), AREA_A / 4);
          u16.set(halves.subarray(s, e), AREA_C / 2);
          exports.decodeHalves(AREA_C, e - s, AREA_B);
          exports.errorSums(AREA_A, AREA_B, e - s, s & 1, INFO);
        }
      });
    },

    encodeHalves(bits, start, end, halves) {
      let peak = 0;
      const i = INFO / 4;
      for (let s = start; s < end; s += BLOCK) {
        const e = Math.min(s + BLOCK, end);
        u32.set(bits.subarray(s, e), AREA_A / 4);
        // The kernel reads whole vectors: zeros after the run keep its maximum exact.
        u32.fill(0, AREA_A / 4 + e - s, AREA_A / 4 + ((e - s + 3) & ~3));
        exports.encodeHalves(AREA_A, e - s, AREA_C, INFO);
        halves.set(u16.subarray(AREA_C / 2, AREA_C / 2 + e - s), s);
        peak = Math.max(peak, u32[i] as number, u32[i + 1] as number, u32[i + 2] as number, u32[i + 3] as number);
      }
      return peak;
    },

    decodeHalves(halves, start, end, bits) {
      for (let s = start; s < end; s += BLOCK) {
        const e = Math.min(s + BLOCK, end);
        u16.set(halves.subarray(s, e), AREA_C / 2);
        exports.decodeHalves(AREA_C, e - s, AREA_B);
        bits.set(u32.subarray(AREA_B / 4, AREA_B / 4 + e - s), s);
      }
    },

    matmul(product) {
      productKernels().matmul(product);
    },

    depthwiseConv2d(conv) {
      productKernels().depthwiseConv2d(conv);
    },
  };
}

/** The first zero of `values[start..end)`, with its sign (the run is known to hold one). */
function firstZero(values: Float32Array, start: number, end: number): number {
  let k = start;
  while (k < end - 1 && values[k] !== 0) k++;
  return values[k] as number;
}

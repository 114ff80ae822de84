/**
 * The kernels in WebAssembly SIMD (src/kernels/kernels.wat, built into
 * src/gen/kernels_wasm.ts). Each call copies a run of at most 4096 values into the
 * module's memory, runs the kernel and copies the result out: the copies stay in
 * the first-level cache, and the SIMD loops are several times faster than the
 * JavaScript ones.
 *
 * @packageDocumentation
 */
import { KERNELS_WASM } from "../gen/kernels_wasm.js";
import type { RunKernels } from "./run-kernels.js";

/** Values per kernel call. */
const RUN = 4096;
// The module's one page of memory: three 16 KB areas and the sums.
const AREA_A = 0;
const AREA_B = 16_384;
const AREA_C = 32_768;
const INFO = 49_152;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  range(p: number, n: number, out: number): void;
  indices(p: number, n: number, q: number, a: number, inverse: number, divide: number): void;
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
  let exports: KernelExports;
  try {
    const bytes = Uint8Array.from(atob(KERNELS_WASM), (c) => c.charCodeAt(0));
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelExports;
  } catch {
    return undefined;
  }
  // The memory never grows, so these views stay valid.
  const buffer = exports.memory.buffer;
  const f32 = new Float32Array(buffer);
  const u32 = new Uint32Array(buffer);
  const u16 = new Uint16Array(buffer);
  const u8 = new Uint8Array(buffer);
  const f64 = new Float64Array(buffer);

  const withSums = (sums: Float64Array, body: () => void): void => {
    f64.set(sums, INFO / 8);
    body();
    sums.set(f64.subarray(INFO / 8, INFO / 8 + sums.length));
  };

  return {
    name: "wasm-simd",

    range(values, start, end, extremes) {
      let lo = Infinity;
      let hi = -Infinity;
      let finite = true;
      for (let s = start; s < end; s += RUN) {
        const e = Math.min(s + RUN, end);
        f32.set(values.subarray(s, e), AREA_A / 4);
        exports.range(AREA_A, e - s, INFO);
        const i = INFO / 4;
        finite &&= (f32[i + 8] as number) + (f32[i + 9] as number) + (f32[i + 10] as number) + (f32[i + 11] as number) === 0;
        lo = Math.min(lo, f32[i] as number, f32[i + 1] as number, f32[i + 2] as number, f32[i + 3] as number);
        hi = Math.max(hi, f32[i + 4] as number, f32[i + 5] as number, f32[i + 6] as number, f32[i + 7] as number);
      }
      // Lanes lose the order of equal extremes, which matters only for the sign of
      // a zero: take the run's first zero, as the JavaScript kernel does.
      if (lo === 0) lo = firstZero(values, start, end);
      if (hi === 0) hi = firstZero(values, start, end);
      extremes[0] = lo;
      extremes[1] = hi;
      return finite;
    },

    indices(values, start, end, a, inverse, divide, out) {
      for (let s = start; s < end; s += RUN) {
        const e = Math.min(s + RUN, end);
        f32.set(values.subarray(s, e), AREA_A / 4);
        exports.indices(AREA_A, e - s, AREA_C, a, inverse, divide ? 1 : 0);
        out.set(u8.subarray(AREA_C, AREA_C + e - s), s);
      }
    },

    dequantizeLinear(indices, start, end, scale, bias, out) {
      for (let s = start; s < end; s += RUN) {
        const e = Math.min(s + RUN, end);
        u8.set(indices.subarray(s, e), AREA_C);
        exports.dequantizeLinear(AREA_C, e - s, AREA_B, scale, bias);
        out.set(f32.subarray(AREA_B / 4, AREA_B / 4 + e - s), s);
      }
    },

    errorSums(original, start, end, reconstructed, offset, sums) {
      withSums(sums, () => {
        for (let s = start; s < end; s += RUN) {
          const e = Math.min(s + RUN, end);
          f32.set(original.subarray(s, e), AREA_A / 4);
          f32.set(reconstructed.subarray(s - start + offset, e - start + offset), AREA_B / 4);
          exports.errorSums(AREA_A, AREA_B, e - s, s & 1, INFO);
        }
      });
    },

    linearErrorSums(original, indices, start, end, scale, bias, sums) {
      withSums(sums, () => {
        for (let s = start; s < end; s += RUN) {
          const e = Math.min(s + RUN, end);
          f32.set(original.subarray(s, e), AREA_A / 4);
          u8.set(indices.subarray(s, e), AREA_C);
          exports.dequantizeLinear(AREA_C, e - s, AREA_B, scale, bias);
          exports.errorSums(AREA_A, AREA_B, e - s, s & 1, INFO);
        }
      });
    },

    float16ErrorSums(original, halves, start, end, sums) {
      withSums(sums, () => {
        for (let s = start; s < end; s += RUN) {
          const e = Math.min(s + RUN, end);
          f32.set(original.subarray(s, e), AREA_A / 4);
          u16.set(halves.subarray(s, e), AREA_C / 2);
          exports.decodeHalves(AREA_C, e - s, AREA_B);
          exports.errorSums(AREA_A, AREA_B, e - s, s & 1, INFO);
        }
      });
    },

    encodeHalves(bits, start, end, halves) {
      let peak = 0;
      for (let s = start; s < end; s += RUN) {
        const e = Math.min(s + RUN, end);
        u32.set(bits.subarray(s, e), AREA_A / 4);
        // The kernel reads whole vectors: zeros after the run keep its maximum exact.
        u32.fill(0, AREA_A / 4 + e - s, AREA_A / 4 + ((e - s + 3) & ~3));
        exports.encodeHalves(AREA_A, e - s, AREA_C, INFO);
        halves.set(u16.subarray(AREA_C / 2, AREA_C / 2 + e - s), s);
        const i = INFO / 4;
        peak = Math.max(peak, u32[i] as number, u32[i + 1] as number, u32[i + 2] as number, u32[i + 3] as number);
      }
      return peak;
    },

    decodeHalves(halves, start, end, bits) {
      for (let s = start; s < end; s += RUN) {
        const e = Math.min(s + RUN, end);
        u16.set(halves.subarray(s, e), AREA_C / 2);
        exports.decodeHalves(AREA_C, e - s, AREA_B);
        bits.set(u32.subarray(AREA_B / 4, AREA_B / 4 + e - s), s);
      }
    },
  };
}

/** The first zero of `values[start..end)`, with its sign (the run is known to hold one). */
function firstZero(values: Float32Array, start: number, end: number): number {
  let k = start;
  while (k < end - 1 && values[k] !== 0) k++;
  return values[k] as number;
}

/**
 * The kernels in plain JavaScript: the fallback where WebAssembly SIMD is missing,
 * and the reference the SIMD kernels are tested against, bit for bit.
 *
 * @packageDocumentation
 */
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "./half-bits.js";
import { jsDepthwiseConv2d } from "./js-depthwise.js";
import { jsMatmul } from "./js-matmul.js";
import { ROUNDING_SHIFT, type RunKernels } from "./run-kernels.js";

/** Values decoded at a time where a reconstruction is compared run by run. */
const SCRATCH = 4096;

/** The JavaScript kernels. */
export const jsKernels: RunKernels = {
  name: "js",

  channelRanges(values, layout, min, max) {
    const { outer, channels, inner } = layout;
    min.fill(Infinity);
    max.fill(-Infinity);
    let finite = true;
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, k += inner) finite = widenRange(values, k, k + inner, c, min, max) && finite;
    }
    return finite;
  },

  linearIndices(values, layout, offset, factor, divide, out) {
    const { outer, channels, inner } = layout;
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, k += inner) {
        if (divide) divideRun(values, k, k + inner, offset[c] as number, factor[c] as number, out);
        else multiplyRun(values, k, k + inner, offset[c] as number, factor[c] as number, out);
      }
    }
  },

  dequantizeLinear(indices, layout, scale, bias, out) {
    const { outer, channels, inner } = layout;
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, k += inner) dequantizeRun(indices, k, k + inner, scale[c] as number, bias[c] as number, out);
    }
  },

  linearErrorSums(original, indices, layout, scale, bias, sums) {
    const { outer, channels, inner } = layout;
    // Each run dequantized into a small buffer, then compared.
    const run = new Float32Array(Math.min(inner, SCRATCH));
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, k += inner) {
        for (let s = k; s < k + inner; s += SCRATCH) {
          const e = Math.min(s + SCRATCH, k + inner);
          dequantizeRun(indices.subarray(s, e), 0, e - s, scale[c] as number, bias[c] as number, run);
          addErrorSums(original, s, e, run, 0, sums);
        }
      }
    }
  },

  errorSums(original, start, end, reconstructed, offset, sums) {
    addErrorSums(original, start, end, reconstructed, offset, sums);
  },

  float16ErrorSums(original, halves, start, end, sums) {
    const run = new Float32Array(Math.min(end - start, SCRATCH));
    const runBits = new Uint32Array(run.buffer);
    for (let s = start; s < end; s += SCRATCH) {
      const e = Math.min(s + SCRATCH, end);
      for (let k = s; k < e; k++) runBits[k - s] = float16BitsToFloat32Bits(halves[k] as number);
      addErrorSums(original, s, e, run, 0, sums);
    }
  },

  encodeHalves(bits, start, end, halves) {
    let peak = 0;
    for (let k = start; k < end; k++) {
      const x = bits[k] as number;
      const magnitude = x & 0x7fffffff;
      peak = Math.max(peak, magnitude);
      const sign = (x >>> 16) & 0x8000;
      if ((magnitude - 0x38800000) >>> 0 < 0x0f000000) {
        // Normal halves: add 0xfff plus the lowest kept bit, then drop 13 bits; a
        // carry moves into the exponent, up to infinity.
        halves[k] = sign | ((magnitude - 0x38000000 + 0xfff + ((magnitude >>> 13) & 1)) >>> 13);
      } else if (magnitude < 0x38800000) {
        // Subnormal halves and zeros.
        halves[k] = float32BitsToFloat16Bits(x);
      } else {
        halves[k] = sign;
      }
    }
    return peak;
  },

  decodeHalves(halves, start, end, bits) {
    for (let k = start; k < end; k++) bits[k] = float16BitsToFloat32Bits(halves[k] as number);
  },

  matmul: jsMatmul,
  depthwiseConv2d: jsDepthwiseConv2d,
};

/**
 * Widens `min[c]` and `max[c]` over `values[start..end)`; false when the run holds
 * NaN or an infinity. Small functions per run: V8 optimizes them from complete type
 * feedback after a few runs, where a whole-tensor loop nest is compiled mid-loop and
 * thrown away when it first leaves its inner loop (measured: first tensors 2-4x slower).
 */
function widenRange(values: Float32Array, start: number, end: number, c: number, min: Float64Array, max: Float64Array): boolean {
  let lo = min[c] as number;
  let hi = max[c] as number;
  // v - v is NaN for NaN and ±Infinity, 0 otherwise: one sum tests them all.
  let check = 0;
  for (let k = start; k < end; k++) {
    const v = values[k] as number;
    check += v - v;
    // Strict comparisons keep the first of equal extremes.
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  min[c] = lo;
  max[c] = hi;
  return check === 0;
}

function multiplyRun(values: Float32Array, start: number, end: number, offset: number, factor: number, out: Uint8Array): void {
  for (let k = start; k < end; k++) out[k] = ((values[k] as number) - offset) * factor + ROUNDING_SHIFT - ROUNDING_SHIFT;
}

function divideRun(values: Float32Array, start: number, end: number, offset: number, factor: number, out: Uint8Array): void {
  for (let k = start; k < end; k++) out[k] = ((values[k] as number) - offset) / factor + ROUNDING_SHIFT - ROUNDING_SHIFT;
}

function dequantizeRun(indices: Uint8Array, start: number, end: number, scale: number, bias: number, out: Float32Array): void {
  for (let k = start; k < end; k++) out[k] = (indices[k] as number) * scale + bias;
}

/**
 * The error sums of positions `[start, end)`: the first value goes to lane
 * `start & 1`, then pairs fill lanes 0 and 1, and an odd one out lane 0, in the
 * order the SIMD kernel adds them.
 */
function addErrorSums(original: Float32Array, start: number, end: number, reconstructed: Float32Array, offset: number, sums: Float64Array): void {
  // reconstructed[k + shift] pairs with original[k].
  const shift = offset - start;
  let k = start;
  if ((start & 1) === 1 && k < end) {
    addOne(original[k] as number, reconstructed[k + shift] as number, sums, 1);
    k++;
  }
  let signal0 = sums[0] as number;
  let signal1 = sums[1] as number;
  let noise0 = sums[2] as number;
  let noise1 = sums[3] as number;
  let peak0 = sums[4] as number;
  let peak1 = sums[5] as number;
  let worst0 = sums[6] as number;
  let worst1 = sums[7] as number;
  let dot0 = sums[8] as number;
  let dot1 = sums[9] as number;
  let energy0 = sums[10] as number;
  let energy1 = sums[11] as number;
  let check0 = sums[12] as number;
  let check1 = sums[13] as number;
  for (; k + 1 < end; k += 2) {
    const x0 = original[k] as number;
    const x1 = original[k + 1] as number;
    const y0 = reconstructed[k + shift] as number;
    const y1 = reconstructed[k + 1 + shift] as number;
    const d0 = y0 - x0;
    const d1 = y1 - x1;
    signal0 += x0 * x0;
    signal1 += x1 * x1;
    noise0 += d0 * d0;
    noise1 += d1 * d1;
    peak0 = largerOf(peak0, Math.abs(x0));
    peak1 = largerOf(peak1, Math.abs(x1));
    worst0 = largerOf(worst0, Math.abs(d0));
    worst1 = largerOf(worst1, Math.abs(d1));
    dot0 += x0 * y0;
    dot1 += x1 * y1;
    energy0 += y0 * y0;
    energy1 += y1 * y1;
    check0 += d0 - d0;
    check1 += d1 - d1;
  }
  sums.set([signal0, signal1, noise0, noise1, peak0, peak1, worst0, worst1, dot0, dot1, energy0, energy1, check0, check1]);
  if (k < end) addOne(original[k] as number, reconstructed[k + shift] as number, sums, 0);
}

function addOne(x: number, y: number, sums: Float64Array, lane: 0 | 1): void {
  const d = y - x;
  sums[lane] = (sums[lane] as number) + x * x;
  sums[2 + lane] = (sums[2 + lane] as number) + d * d;
  sums[4 + lane] = largerOf(sums[4 + lane] as number, Math.abs(x));
  sums[6 + lane] = largerOf(sums[6 + lane] as number, Math.abs(d));
  sums[8 + lane] = (sums[8 + lane] as number) + x * y;
  sums[10 + lane] = (sums[10 + lane] as number) + y * y;
  sums[12 + lane] = (sums[12 + lane] as number) + (d - d);
}

/**
 * `b` if `a < b`, else `a`: the SIMD kernels' one-instruction maximum (`pmax`).
 * Unlike Math.max it ignores a NaN `b`; NaN shows in the check lanes instead.
 */
function largerOf(a: number, b: number): number {
  return a < b ? b : a;
}

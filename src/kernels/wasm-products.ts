/**
 * The matrix product and the depthwise convolution in WebAssembly SIMD (the
 * `matmul` and `depthwise` functions of src/kernels/kernels.wat), on an instance
 * of their own whose memory grows to the largest blocks asked of it.
 *
 * The product's operands go through that memory a block at a
 * time: a block of b (about 512 KB, so it stays in the second-level cache while
 * every row of a passes over it), blocks of a's rows, and the block of c they
 * accumulate into, copied out when its last block of k is done. Copies are
 * O(m·k + k·n + m·n) for O(m·n·k) arithmetic. The convolution takes a few
 * planes at a time: copied in whole, padded plane by plane inside the module,
 * copied out whole.
 *
 * @packageDocumentation
 */
import { jsDepthwiseConv2d } from "./js-depthwise.js";
import { jsMatmul } from "./js-matmul.js";
import type { DepthwiseConv2d, Matmul, RunKernels } from "./run-kernels.js";

/** The exports of the kernels module these use. */
export interface ProductExports {
  readonly memory: WebAssembly.Memory;
  matmul(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, bias: number, mode: number): void;
  depthwise(
    input: number,
    channels: number,
    h: number,
    w: number,
    out: number,
    mult: number,
    oh: number,
    ow: number,
    weights: number,
    bias: number,
    hasBias: number,
    kh: number,
    kw: number,
    sy: number,
    sx: number,
    dy: number,
    dx: number,
    padT: number,
    padL: number,
    scratch: number,
    ph: number,
    pw: number,
  ): void;
}

/** Products of fewer multiply-adds than this stay in JavaScript: the copies and the call would cost more. */
const SMALL_PRODUCT = 4096;
/** Columns of b (and c) per block when n is larger than {@link WIDE}. */
const COLUMN_BLOCK = 256;
/** Up to this many columns, a product takes all of b's columns in one block. */
const WIDE = 1024;
/** Rows of a at or below which b is streamed (each value used by so few rows that caching it gains nothing). */
const FEW_ROWS = 8;
/** Values of b per block: 512 KB, for the cache; 2 MB when b is streamed. */
const B_BLOCK = 131_072;
const B_BLOCK_STREAMED = 524_288;
/** Values of a per block (256 KB). */
const A_BLOCK = 65_536;
/** Values of c held at once (4 MB). */
const C_BLOCK = 1_048_576;
/** Input and output values of the depthwise planes copied in at once, about (2 MB). */
const PLANE_VALUES = 524_288;
/** Where each sum starts, as the module's `$mode` (0 continues from c, for blocks of k after the first). */
const MODE = { rows: 1, columns: 2, none: 3 } as const;

const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/**
 * The product and the convolution over a module instance's memory.
 *
 * @param exports - a fresh instance of the kernels module, for these alone
 * @returns the product and the convolution, as in {@link RunKernels}
 */
export function wasmProducts(exports: ProductExports): Pick<RunKernels, "matmul" | "depthwiseConv2d"> {
  let f32 = new Float32Array(exports.memory.buffer);
  /** Grows the memory to hold `values` float32 values; growing detaches the old view. */
  const reserve = (values: number): void => {
    const missing = values * 4 - exports.memory.buffer.byteLength;
    if (missing > 0) {
      exports.memory.grow(Math.ceil(missing / 65_536));
      f32 = new Float32Array(exports.memory.buffer);
    }
  };

  /** Copies a `rows` x `cols` block into the module's memory at `to`, rows `cols` apart. */
  const copyIn = (src: Float32Array, from: number, stride: number, rows: number, cols: number, to: number): void => {
    if (stride === cols) {
      f32.set(src.subarray(from, from + rows * cols), to);
    } else if (cols >= 16) {
      for (let r = 0; r < rows; r++) f32.set(src.subarray(from + r * stride, from + r * stride + cols), to + r * cols);
    } else {
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) f32[to + r * cols + q] = src[from + r * stride + q] as number;
      }
    }
  };

  /** Copies a `rows` x `cols` block out of the module's memory at `from` (rows `ldc` apart). */
  const copyOut = (from: number, ldc: number, rows: number, cols: number, dst: Float32Array, to: number, stride: number): void => {
    if (cols >= 16) {
      for (let r = 0; r < rows; r++) dst.set(f32.subarray(from + r * ldc, from + r * ldc + cols), to + r * stride);
    } else {
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) dst[to + r * stride + q] = f32[from + r * ldc + q] as number;
      }
    }
  };

  const matmul = (p: Matmul): void => {
    const { m, n, k, start } = p;
    if (m === 0 || n === 0) return;
    if (m * n * k < SMALL_PRODUCT) {
      jsMatmul(p);
      return;
    }
    const streamed = m <= FEW_ROWS;
    const nc = n <= WIDE || streamed ? n : COLUMN_BLOCK;
    const ldc = roundUp(nc, 8);
    const kc = Math.min(k, Math.max(8, Math.floor((streamed ? B_BLOCK_STREAMED : B_BLOCK) / nc)));
    const mb = Math.min(m, Math.max(4, Math.floor(A_BLOCK / kc) & ~3));
    const ms = Math.min(m, Math.max(mb, Math.floor(C_BLOCK / ldc / mb) * mb));
    // Layout, in values, 16-value (64-byte) aligned: start values, a block, b block (+ 8 of slack), c block.
    const biasAt = 0;
    const aAt = roundUp(Math.max(ms, ldc) + 8, 16);
    const bAt = aAt + roundUp(mb * kc, 16);
    const cAt = bAt + roundUp(kc * nc + 8, 16);
    reserve(cAt + ms * ldc);
    const mode = MODE[start.along];
    for (let i0s = 0; i0s < m; i0s += ms) {
      const rowsS = Math.min(ms, m - i0s);
      if (start.along === "rows") f32.set(start.values.subarray(start.offset + i0s, start.offset + i0s + rowsS), biasAt);
      for (let j0 = 0; j0 < n; j0 += nc) {
        const cols = Math.min(nc, n - j0);
        if (start.along === "columns") f32.set(start.values.subarray(start.offset + j0, start.offset + j0 + cols), biasAt);
        for (let k0 = 0; k0 < k; k0 += kc) {
          const depth = Math.min(kc, k - k0);
          copyIn(p.b, p.bOffset + k0 * p.bStride + j0, p.bStride, depth, cols, bAt);
          for (let i0 = 0; i0 < rowsS; i0 += mb) {
            const rows = Math.min(mb, rowsS - i0);
            copyIn(p.a, p.aOffset + (i0s + i0) * p.aStride + k0, p.aStride, rows, depth, aAt);
            exports.matmul(
              rows,
              cols,
              depth,
              aAt * 4,
              depth,
              bAt * 4,
              cols,
              (cAt + i0 * ldc) * 4,
              ldc,
              (biasAt + (start.along === "rows" ? i0 : 0)) * 4,
              k0 === 0 ? mode : 0,
            );
          }
        }
        copyOut(cAt, ldc, rowsS, cols, p.c, p.cOffset + i0s * p.cStride + j0, p.cStride);
      }
    }
  };

  const depthwiseConv2d = (d: DepthwiseConv2d): void => {
    const { channels, multiplier, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, kernelHeight: KH, kernelWidth: KW } = d;
    const { strideY: SY, strideX: SX, dilationY: DY, dilationX: DX, padTop, padLeft } = d;
    // The padded plane covers every tap of every lane, the last vector of a row included.
    const ph = (OH - 1) * SY + (KH - 1) * DY + 1;
    const pw = roundUp(OW, 4) * SX + (KW - 1) * DX + 8;
    const outPlanes = channels * multiplier;
    if (channels * multiplier * OH * OW * KH * KW < SMALL_PRODUCT || ph <= padTop || pw <= padLeft) {
      jsDepthwiseConv2d(d);
      return;
    }
    const taps = KH * KW;
    const chunk = Math.max(1, Math.min(channels, Math.floor(PLANE_VALUES / (H * W + multiplier * OH * OW))));
    // Layout, in values: weights, bias, the padded plane, input planes, output planes (+ 4 for the last row's extra lanes).
    const weightsAt = 0;
    const biasAt = roundUp(outPlanes * taps, 16);
    const scratchAt = biasAt + roundUp(outPlanes, 16);
    const inAt = scratchAt + roundUp(ph * pw, 16);
    const outAt = inAt + roundUp(chunk * H * W, 16);
    reserve(outAt + chunk * multiplier * OH * OW + 4);
    f32.set(d.weights.subarray(0, outPlanes * taps), weightsAt);
    if (d.bias !== undefined) f32.set(d.bias.subarray(0, outPlanes), biasAt);
    for (let c0 = 0; c0 < channels; c0 += chunk) {
      const count = Math.min(chunk, channels - c0);
      f32.set(d.input.subarray(d.inOffset + c0 * H * W, d.inOffset + (c0 + count) * H * W), inAt);
      exports.depthwise(
        inAt * 4,
        count,
        H,
        W,
        outAt * 4,
        multiplier,
        OH,
        OW,
        (weightsAt + c0 * multiplier * taps) * 4,
        (biasAt + c0 * multiplier) * 4,
        d.bias === undefined ? 0 : 1,
        KH,
        KW,
        SY,
        SX,
        DY,
        DX,
        padTop,
        padLeft,
        scratchAt * 4,
        ph,
        pw,
      );
      const values = count * multiplier * OH * OW;
      d.output.set(f32.subarray(outAt, outAt + values), d.outOffset + c0 * multiplier * OH * OW);
    }
  };

  return { matmul, depthwiseConv2d };
}

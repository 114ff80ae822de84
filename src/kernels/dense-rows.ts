/**
 * A dense layer over rows, `out[r, o] = bias[o] + sum_i weights[o, i] * x[r, i]`,
 * as one matrix product with the weights as its left operand: they are read in
 * their stored `[outSize, inSize]` order, so no transposed copy is kept beside
 * them, and each row's vector becomes a column of the right operand.
 *
 * @packageDocumentation
 */
import type { MatmulStart, RunKernels } from "./run-kernels.js";

/** A dense product's operands. */
export interface DenseRows {
  /** `[outSize, inSize]`, row-major. */
  readonly weights: Float32Array;
  readonly outSize: number;
  readonly inSize: number;
  /** Added first to each output, `[outSize]`; undefined for none. */
  readonly bias: Float32Array | undefined;
  /** `rows` vectors of `inSize` values, one after the other, from `xOffset`. */
  readonly x: Float32Array;
  readonly xOffset: number;
  readonly rows: number;
  /** Receives `rows` vectors of `outSize` values from `outOffset`. */
  readonly out: Float32Array;
  readonly outOffset: number;
}

/**
 * Computes a dense product: each output is the bias (or zero), then each
 * `weights[o, i] * x[r, i]` added in the order of i, in float32 (the order of
 * {@link RunKernels.matmul}, so the result is the same with either kernels).
 *
 * @param kernels - the kernels to multiply with
 * @param d - the operands
 */
export function denseRows(kernels: RunKernels, d: DenseRows): void {
  const { weights, outSize, inSize, rows } = d;
  const start: MatmulStart = d.bias === undefined ? { along: "none" } : { along: "rows", values: d.bias, offset: 0 };
  const product = { m: outSize, k: inSize, a: weights, aOffset: 0, aStride: inSize, start };
  if (rows === 1) {
    kernels.matmul({ ...product, n: 1, b: d.x, bOffset: d.xOffset, bStride: 1, c: d.out, cOffset: d.outOffset, cStride: 1 });
    return;
  }
  // Several rows: they become the columns of the right operand, and the product's rows are transposed back.
  const columns = new Float32Array(inSize * rows);
  for (let r = 0; r < rows; r++) {
    for (let i = 0, from = d.xOffset + r * inSize; i < inSize; i++) columns[i * rows + r] = d.x[from + i] as number;
  }
  const result = new Float32Array(outSize * rows);
  kernels.matmul({ ...product, n: rows, b: columns, bOffset: 0, bStride: rows, c: result, cOffset: 0, cStride: rows });
  for (let r = 0; r < rows; r++) {
    for (let o = 0, to = d.outOffset + r * outSize; o < outSize; o++) d.out[to + o] = result[o * rows + r] as number;
  }
}

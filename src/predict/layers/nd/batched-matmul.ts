/**
 * batchedMatmul: a batch of matrix products over the last two axes, either of
 * two inputs (batch axes broadcast, optional transposes) or of one input and
 * the layer's weight matrix (plus an optional bias). The products are the
 * kernels' (float32: the bias or zero, then each term added in the order of the
 * inner index).
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../../errors.js";
import { denseRows } from "../../../kernels/dense-rows.js";
import { runKernels } from "../../../kernels/index.js";
import type { LayerContext, LayerImpls, Tensor } from "../../layer-runner.js";
import { decodedWeights, sizeOf } from "../../tensor.js";
import { broadcastShape, broadcastStrides, forEachBroadcastPair } from "../broadcast.js";
import { checkCount, formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";

/**
 * y = a x b for two inputs. Rank-1 operands are promoted as the proto says: a
 * `(D)` first operand is `(1, D)`, a `(D)` second operand is `(D, 1)`, and the
 * output keeps rank max(2, rank a, rank b).
 */
function matmulTwo(context: LayerContext, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const as = a.shape.length === 1 ? [1, a.shape[0] as number] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0] as number, 1] : [...b.shape];
  if (as.length < 2 || bs.length < 2)
    throw inputShapeError(context, `batchedMatmul: operands ${formatShape(a.shape)} and ${formatShape(b.shape)} need rank 1 or more`);
  const [ar, ac] = as.slice(-2) as [number, number];
  const [br, bc] = bs.slice(-2) as [number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const kb = transposeB ? bc : br;
  const n = transposeB ? br : bc;
  if (k !== kb) {
    throw inputShapeError(
      context,
      `batchedMatmul: inner dimensions differ: ${formatShape(a.shape)}${transposeA ? "ᵀ" : ""} x ${formatShape(b.shape)}${transposeB ? "ᵀ" : ""}`,
    );
  }
  const batchA = as.slice(0, -2);
  const batchB = bs.slice(0, -2);
  const batch = broadcastShape(batchA, batchB);
  if (batch === undefined) throw inputShapeError(context, `batchedMatmul: batch axes of ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
  const strideA = broadcastStrides(batchA, batch);
  const strideB = broadcastStrides(batchB, batch);
  const out = new Float32Array(sizeOf(batch) * m * n);
  const kernels = runKernels();
  // Transposed operands are copied upright once (each matrix of the batch), so the product reads rows.
  const x = transposeA ? transposeMatrices(a.data, ar, ac) : a.data;
  const y = transposeB ? transposeMatrices(b.data, br, bc) : b.data;
  // With k = 0 every output is the empty sum, zero.
  if (k > 0) {
    forEachBroadcastPair(batch, strideA, strideB, (t, offA, offB) => {
      kernels.matmul({
        m,
        n,
        k,
        a: x,
        aOffset: offA * m * k,
        aStride: k,
        b: y,
        bOffset: offB * k * n,
        bStride: n,
        c: out,
        cOffset: t * m * n,
        cStride: n,
        start: { along: "none" },
      });
    });
  }
  const rank = Math.max(2, a.shape.length, b.shape.length);
  const shape = [...batch, m, n];
  while (shape.length < rank) shape.unshift(1);
  return { shape, data: out };
}

/** Each `rows` x `cols` matrix of `data` transposed, in a new array. */
function transposeMatrices(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  const size = rows * cols;
  for (let base = 0; base < data.length; base += size) {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) out[base + j * rows + i] = data[base + i * cols + j] as number;
    }
  }
  return out;
}

/** The batchedMatmul layer kind. */
export const BATCHED_MATMUL_LAYERS: LayerImpls = {
  batchedMatmul: {
    prepare: (params, layer, context) => {
      checkCount(context, "batchedMatmul", layer.input, 1, 2);
      if (params.int8DynamicQuantize) throw unsupportedOption(context, "batchedMatmul with int8DynamicQuantize is not supported");
      if (layer.input.length === 2) {
        if (params.hasBias)
          throw unsupportedOption(context, "batchedMatmul with two inputs and hasBias is not supported (the proto allows a bias with one input only)");
        return ([a, b]) => [matmulTwo(context, a as Tensor, b as Tensor, params.transposeA, params.transposeB)];
      }
      const x1 = Number(params.weightMatrixFirstDimension);
      const x2 = Number(params.weightMatrixSecondDimension);
      const weights = decodedWeights(layer, context.path);
      // The matrix is [X1, X2] stored column-major: row j of the stored values is column j.
      const w = weights.get("weights");
      if (w === undefined || w.length !== x1 * x2 || x1 === 0 || x2 === 0) {
        throw new QuantizeError("invalid-weights", `batchedMatmul weights hold ${w?.length ?? 0} values for [X1=${x1}, X2=${x2}]`, {
          path: `${context.path}/weights`,
        });
      }
      const bias = params.hasBias ? weights.get("bias") : undefined;
      if (params.hasBias && bias?.length !== x2) {
        throw new QuantizeError("invalid-weights", `batchedMatmul bias holds ${bias?.length ?? 0} values, expected X2=${x2}`, { path: `${context.path}/bias` });
      }
      return ([a]) => {
        const input = a as Tensor;
        if (input.shape.at(-1) !== x1) throw inputShapeError(context, `batchedMatmul: the last axis of ${formatShape(input.shape)} is not X1=${x1}`);
        const rows = input.data.length / x1;
        const out = new Float32Array(rows * x2);
        // The stored matrix, read row by row, is [X2, X1]: the weights of a dense layer from X1 to X2 values.
        if (rows > 0) denseRows(runKernels(), { weights: w, outSize: x2, inSize: x1, bias, x: input.data, xOffset: 0, rows, out, outOffset: 0 });
        return [{ shape: [...input.shape.slice(0, -1), x2], data: out }];
      };
    },
  },
};

/**
 * NumPy-style broadcasting: shapes aligned on their trailing axes, each pair of
 * sizes equal or one of them 1. The classic multi-input layers (add, multiply,
 * average, max, min: in a rank-5 network exactly the proto's `[1, 1, 1]`,
 * `[C, 1, 1]`, `[1, H, W]` and `[C, H, W]` against `[C, H, W]`), the N-D
 * `*Broadcastable`, comparison and logical layers, the broadcastTo layers and
 * the batch axes of batchedMatmul all broadcast this way.
 *
 * @packageDocumentation
 */
import type { LayerContext, Tensor } from "../layer-runner.js";
import { sizeOf, stridesOf } from "../tensor.js";
import { formatShape, inputShapeError } from "./layer-errors.js";
import { stridedCopy } from "./strided-copy.js";

/**
 * The shape two shapes broadcast to: aligned on the right, each pair of
 * dimensions equal or one of them 1.
 *
 * @param a - a shape
 * @param b - another shape
 * @returns the shape (of the larger rank), or undefined when they do not broadcast
 */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * The shape every input of a classic multi-input layer broadcasts to.
 *
 * @param context - the layer's context, for errors
 * @param kind - the layer kind, for errors
 * @param shapes - the input shapes
 * @returns the common shape (the longest rank; per axis the size that is not 1)
 * @throws {@link QuantizeError} `invalid-input` when two sizes of an axis differ and neither is 1
 */
export function broadcastInputShapes(context: LayerContext, kind: string, shapes: readonly (readonly number[])[]): number[] {
  let out: number[] | undefined = [];
  for (const shape of shapes) {
    out = broadcastShape(out, shape);
    if (out === undefined) {
      throw inputShapeError(context, `${kind} cannot broadcast inputs of shapes ${shapes.map(formatShape).join(" and ")}`);
    }
  }
  return out;
}

/**
 * Strides of `shape` seen from the broadcast shape `outShape`: 0 along the axes
 * `shape` lacks or has of size 1.
 *
 * @param shape - a shape that broadcasts to `outShape`
 * @param outShape - the broadcast shape
 * @returns one stride per axis of `outShape`
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : (own[j] as number);
  });
}

/**
 * `data` (of `shape`) repeated to `outShape`; the data itself when the shapes match.
 *
 * @param data - the values
 * @param shape - their shape, broadcastable to `outShape`
 * @param outShape - from {@link broadcastShape} or {@link broadcastInputShapes}
 * @returns values of `outShape` (never to be written: possibly `data`)
 */
export function broadcastTo(data: Float32Array, shape: readonly number[], outShape: readonly number[]): Float32Array {
  const offset = outShape.length - shape.length;
  // Same values in the same order: only leading 1s were added.
  if (offset >= 0 && outShape.every((d, i) => (i < offset ? d === 1 : d === shape[i - offset]))) return data;
  return stridedCopy(data, outShape, broadcastStrides(shape, outShape));
}

/**
 * Walks the indices of `shape` in row-major order (an odometer), following two
 * operands through their strides.
 *
 * @param shape - the axes walked
 * @param stridesA - the first operand's stride along each axis (0 where it broadcasts)
 * @param stridesB - the second operand's
 * @param visit - called with each flat index of `shape` and the operands' offsets there
 */
export function forEachBroadcastPair(
  shape: readonly number[],
  stridesA: readonly number[],
  stridesB: readonly number[],
  visit: (index: number, offsetA: number, offsetB: number) => void,
): void {
  const count = sizeOf(shape);
  const counter = new Array<number>(shape.length).fill(0);
  let offA = 0;
  let offB = 0;
  for (let t = 0; t < count; t++) {
    visit(t, offA, offB);
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (shape[d] as number)) {
        counter[d] = c;
        offA += stridesA[d] as number;
        offB += stridesB[d] as number;
        break;
      }
      counter[d] = 0;
      offA -= (c - 1) * (stridesA[d] as number);
      offB -= (c - 1) * (stridesB[d] as number);
    }
  }
}

/**
 * Applies `op` elementwise over two broadcast tensors. The output is walked
 * row by row (the last axis), each operand advancing by 0 or 1 along it.
 *
 * @param context - the layer, for errors
 * @param kind - the layer kind, for errors
 * @param a - first operand
 * @param b - second operand
 * @param op - the scalar operation
 * @returns a new tensor of the broadcast shape
 * @throws {@link QuantizeError} `invalid-input` when the shapes do not broadcast
 */
export function broadcastBinary(context: LayerContext, kind: string, a: Tensor, b: Tensor, op: (x: number, y: number) => number): Tensor {
  const shape = broadcastShape(a.shape, b.shape);
  if (shape === undefined) {
    throw inputShapeError(context, `${kind}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
  }
  const out = new Float32Array(sizeOf(shape));
  const x = a.data;
  const y = b.data;
  if (out.length === 0) return { shape, data: out };
  if (x.length === out.length && y.length === out.length) {
    for (let i = 0; i < out.length; i++) out[i] = op(x[i] as number, y[i] as number);
    return { shape, data: out };
  }
  const rank = shape.length;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const inner = rank === 0 ? 1 : (shape[rank - 1] as number);
  const ia = rank === 0 ? 0 : (sa[rank - 1] as number);
  const ib = rank === 0 ? 0 : (sb[rank - 1] as number);
  forEachBroadcastPair(shape.slice(0, -1), sa, sb, (row, offA, offB) => {
    const o = row * inner;
    for (let k = 0, pa = offA, pb = offB; k < inner; k++, pa += ia, pb += ib) out[o + k] = op(x[pa] as number, y[pb] as number);
  });
  return { shape, data: out };
}

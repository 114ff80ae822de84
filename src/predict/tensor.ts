/**
 * Small tensor helpers shared by the executor's layers, and the one place that
 * turns a layer's weights (any storage) into float32 arrays.
 *
 * @packageDocumentation
 */
import type { NeuralNetworkLayer } from "../codec/model-types.js";
import { readWeights } from "../walker/read-weights.js";
import { layerWeights } from "../walker/weights.js";
import type { Tensor } from "./layer-runner.js";

/** The number of values of a shape (1 for rank 0). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Row-major strides of a shape: how far one step along each axis moves in the data. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i] as number;
  }
  return strides;
}

/**
 * A tensor of `shape`, over `data` when given (its length must be the shape's
 * size), else zeros.
 */
export function tensor(shape: readonly number[], data?: Float32Array): Tensor {
  const size = sizeOf(shape);
  if (data !== undefined && data.length !== size) {
    throw new RangeError(`tensor: ${data.length} values for shape [${shape.join(", ")}] (${size})`);
  }
  return { shape: [...shape], data: data ?? new Float32Array(size) };
}

/**
 * Every weight field of a layer decoded to float32, keyed by its field path
 * (`weights`, `bias`, `weightParams[1].inputGateWeightMatrix`, …): float16,
 * n-bit linear, lookup-table and int8 storages are dequantized here, once, when
 * the layer is prepared.
 *
 * @param layer - the layer
 * @param path - where the layer is, for errors
 * @returns the decoded weights; fields absent from the layer are absent here
 */
export function decodedWeights(layer: NeuralNetworkLayer, path: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const ref of layerWeights(layer)) {
    out.set(ref.field, readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis, path: `${path}/${ref.field}` }));
  }
  return out;
}

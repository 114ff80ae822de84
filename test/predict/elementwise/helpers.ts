/**
 * Shared by the elementwise layer tests, on ../support.ts: layers built from
 * protobuf init objects and passed through the real codec, a seeded source of
 * values, naive rank-5 index arithmetic for the oracles, and a closeness check.
 */
import type { NeuralNetworkLayer } from "../../../src/codec/model-types.js";
import type { BlobLayout, LayerContext, PreparedLayer, Tensor } from "../../../src/predict/layer-runner.js";
import { ELEMENTWISE_LAYERS } from "../../../src/predict/layers/elementwise/index.js";
import { buildLayer as buildOneLayer, layerContext, mulberry32, prepareLayer, type LayerInit as FullLayerInit } from "../support.js";

/** The path every test layer reports in errors. */
export const LAYER_PATH = 'model/neuralNetwork/layers[0] "under_test"';

/** A layer kind and its parameters, as a protobuf init object. */
export type LayerInit = NonNullable<FullLayerInit["layer"]>;

/** One layer built in a one-layer network and decoded, as the executor sees it. */
export const buildLayer = (layer: LayerInit, inputs = ["x"], outputs = ["y"]): NeuralNetworkLayer =>
  buildOneLayer({ name: "under_test", input: inputs, output: outputs, layer });

/** A context with no nested networks. */
export const contextOf = (layout: BlobLayout = "rank5"): LayerContext => layerContext(LAYER_PATH, layout);

/** Prepares a built layer with the elementwise implementation of its kind. */
export const prepare = (layer: NeuralNetworkLayer, layout: BlobLayout = "rank5"): PreparedLayer => prepareLayer(ELEMENTWISE_LAYERS, layer, contextOf(layout));

/** Builds, prepares and runs one layer. */
export function runLayer(layer: LayerInit, inputs: readonly Tensor[], options: { outputs?: string[]; layout?: BlobLayout } = {}): readonly Tensor[] {
  const names = inputs.map((_, i) => (i === 0 ? "x" : `x${i}`));
  return prepare(buildLayer(layer, names, options.outputs ?? ["y"]), options.layout)(inputs, new Map());
}

/** Runs a one-output layer. */
export function runOne(layer: LayerInit, inputs: readonly Tensor[], layout?: BlobLayout): Tensor {
  const [out] = runLayer(layer, inputs, layout === undefined ? {} : { layout });
  if (out === undefined) throw new Error("no output");
  return out;
}

/** A deterministic generator of floats in [lo, hi) (mulberry32). */
export function seeded(seed: number): (lo?: number, hi?: number) => number {
  const next = mulberry32(seed);
  return (lo = -1, hi = 1) => lo + (hi - lo) * next();
}

/** A tensor of `shape` with seeded values in [lo, hi). */
export function randomTensor(shape: readonly number[], seed: number, lo = -2, hi = 2): Tensor {
  const next = seeded(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape: [...shape], data: Float32Array.from({ length: size }, () => next(lo, hi)) };
}

/** The row-major flat index of `index` in `shape`. */
export function flatIndex(shape: readonly number[], index: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * (shape[i] as number) + (index[i] as number);
  return flat;
}

/** Every index of a shape, in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return;
  const index = shape.map(() => 0);
  for (let k = 0; k < size; k++) {
    yield [...index];
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++(index[a] as number) < (shape[a] as number)) break;
      index[a] = 0;
    }
  }
}

/** A value of `t` at a multi-index. */
export function at(t: Tensor, index: readonly number[]): number {
  return t.data[flatIndex(t.shape, index)] as number;
}

/** A tensor of `shape` whose value at each index is `f(index)`, rounded to float32. */
export function fromFunction(shape: readonly number[], f: (index: number[]) => number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let k = 0;
  for (const index of indices(shape)) data[k++] = f(index);
  return { shape: [...shape], data };
}

/**
 * Expects `actual` to have `expected`'s shape and values within `tol` relative
 * to the larger of the value and 1 (the layers compute in float64 and store float32).
 */
export function expectClose(actual: Tensor, expected: Tensor, tol = 1e-6): void {
  expect([...actual.shape]).toEqual([...expected.shape]);
  expect(actual.data).toBeInstanceOf(Float32Array);
  expect(actual.data.length).toBe(expected.data.length);
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i] as number;
    const a = actual.data[i] as number;
    if (Number.isNaN(e)) {
      expect(a).toBeNaN();
      continue;
    }
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) {
      throw new Error(`value ${i} (of ${expected.data.length}): ${a}, expected ${e}`);
    }
  }
}

/** Float32 weights for a WeightParams init. */
export const weights = (values: readonly number[]): { floatValue: number[] } => ({ floatValue: [...values] });

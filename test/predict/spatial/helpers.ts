/**
 * Shared by the spatial layer tests: a pinned-seed random source, a runner for
 * one prepared layer, and the comparison the prediction cases use (SNR in dB);
 * built on ../support.ts.
 */
import type { BlobLayout, LayerContext, Tensor } from "../../../src/predict/layer-runner.js";
import { SPATIAL_LAYERS } from "../../../src/predict/layers/spatial/index.js";
import { buildLayer, layerContext, mulberry32, prepareLayer, snrDb, type LayerInit } from "../support.js";

export { buildLayer, snrDb, type LayerInit } from "../support.js";

/** Seed of every random draw in these tests (pinned: failures reproduce). */
export const SEED = 0x5eed;

/** A small deterministic generator (mulberry32) of floats in [0, 1). */
export const rng = (seed: number = SEED): (() => number) => mulberry32(seed);

/** An integer in [lo, hi], from `r`. */
export const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** `n` values in [lo, hi), from `r`. */
export const values = (r: () => number, n: number, lo = -1, hi = 1): number[] => Array.from({ length: n }, () => lo + (hi - lo) * r());

/** A tensor of `shape` with values from `r` in [lo, hi). */
export function randomTensor(r: () => number, shape: readonly number[], lo = -1, hi = 1): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape: [...shape], data: Float32Array.from(values(r, size, lo, hi)) };
}

/** The context a layer gets, at a recognisable path. */
export const context = (layout: BlobLayout = "rank5"): LayerContext => layerContext(`model/neuralNetwork/layers[0] "under_test"`, layout);

/** Prepares `init` with the spatial table and returns a function running it. */
export function prepare(init: LayerInit, layout: BlobLayout = "rank5"): (...inputs: Tensor[]) => Tensor[] {
  const layer = buildLayer({ name: "under_test", input: ["x"], output: ["y"], ...init });
  const run = prepareLayer(SPATIAL_LAYERS, layer, context(layout));
  return (...inputs) => [...run(inputs, new Map())];
}

/** Asserts `actual` has `shape` and matches `expected` (row-major) to 100 dB. */
export function expectTensor(actual: Tensor | undefined, shape: readonly number[], expected: ArrayLike<number>): void {
  expect(actual).toBeDefined();
  const t = actual as Tensor;
  expect([...t.shape]).toEqual([...shape]);
  expect(t.data).toBeInstanceOf(Float32Array);
  expect(t.data.length).toBe(expected.length);
  expect(snrDb(t.data, expected)).toBeGreaterThanOrEqual(100);
}

/** WeightParams init of float32 values. */
export const weights = (v: readonly number[]): { floatValue: number[] } => ({ floatValue: [...v] });

/** A BorderAmounts init: `[[top, bottom], [left, right]]`. */
export function borderAmounts(
  top: number,
  bottom: number,
  left: number,
  right: number,
): {
  borderAmounts: { startEdgeSize: bigint; endEdgeSize: bigint }[];
} {
  return {
    borderAmounts: [
      { startEdgeSize: BigInt(top), endEdgeSize: BigInt(bottom) },
      { startEdgeSize: BigInt(left), endEdgeSize: BigInt(right) },
    ],
  };
}

/** Row-major flat index of `[n, c, y, x]` in a `[N, C, H, W]` array. */
export const at4 =
  (C: number, H: number, W: number) =>
  (n: number, c: number, y: number, x: number): number =>
    ((n * C + c) * H + y) * W + x;

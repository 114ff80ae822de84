/**
 * Shared by the recurrent-layer tests, on ../support.ts: preparing a layer with
 * RECURRENT_LAYERS, rank-5 blobs, random vectors and matrices, and the
 * comparison helpers.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { NeuralNetworkLayer } from "../../../src/codec/model-types.js";
import type { ActivationParamsSchema } from "../../../src/gen/NeuralNetwork_pb.js";
import type { PreparedLayer, Tensor } from "../../../src/predict/layer-runner.js";
import { RECURRENT_LAYERS } from "../../../src/predict/layers/recurrent/index.js";
import { layerContext, prepareLayer } from "../support.js";
import type { ActName, Mat, Vec } from "./oracle.js";

export { buildLayer, mulberry32 as prng, snrDb, type LayerInit } from "../support.js";

export const TEST_PATH = 'model/neuralNetwork/layers[0] "rnn"';

/** Prepares a recurrent layer the way the framework does. */
export const prepare = (layer: NeuralNetworkLayer, path = TEST_PATH): PreparedLayer => prepareLayer(RECURRENT_LAYERS, layer, layerContext(path));

/** Runs a prepared layer on blobs (no blob map needed). */
export const run = (prepared: PreparedLayer, inputs: readonly Tensor[]): readonly Tensor[] => prepared(inputs, new Map());

/** float32 values uniform in [-scale, scale). */
export const randomVec = (rand: () => number, n: number, scale = 1): Vec => Array.from({ length: n }, () => Math.fround((rand() * 2 - 1) * scale));

/** A rows x cols matrix of float32 values. */
export const randomMat = (rand: () => number, rows: number, cols: number, scale = 1): Mat => Array.from({ length: rows }, () => randomVec(rand, cols, scale));

/** WeightParams init of a matrix (row-major) or vector. */
export const wp = (values: Mat | Vec): { floatValue: number[] } => ({ floatValue: (values as (number | number[])[]).flat() });

/** ActivationParams init of a recurrent activation (an empty message, as coremltools writes it). */
export function activationInit(name: ActName): MessageInitShape<typeof ActivationParamsSchema> {
  switch (name) {
    case "linear":
      return { NonlinearityType: { case: "linear", value: {} } };
    case "sigmoid":
      return { NonlinearityType: { case: "sigmoid", value: {} } };
    case "tanh":
      return { NonlinearityType: { case: "tanh", value: {} } };
    case "relu":
      return { NonlinearityType: { case: "ReLU", value: {} } };
    case "scaledTanh":
      return { NonlinearityType: { case: "scaledTanh", value: {} } };
    case "sigmoidHard":
      return { NonlinearityType: { case: "sigmoidHard", value: {} } };
  }
}

/** A `[seq, batch, c, 1, 1]` blob from `xs[t][b]` vectors. */
export function sequenceBlob(xs: Vec[][], c: number): Tensor {
  const seq = xs.length;
  const batch = xs[0]?.length ?? 1;
  return { shape: [seq, batch, c, 1, 1], data: Float32Array.from(xs.flat(2)) };
}

/** A `[1, batch, c, 1, 1]` state blob from one vector per sequence of the batch. */
export const stateBlob = (states: Vec[], c: number): Tensor => ({ shape: [1, states.length, c, 1, 1], data: Float32Array.from(states.flat()) });

/** Largest |a - e| / max(1, |e|) over two equally long arrays (Infinity when the lengths differ). */
export function maxRelErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const err = Math.abs((actual[i] as number) - e) / Math.max(1, Math.abs(e));
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

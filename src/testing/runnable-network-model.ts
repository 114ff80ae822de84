/**
 * The runnableNetworkModel arbitrary: neural-network models the executor runs,
 * built of the layer chains fusion folds and of neighbours it must leave alone.
 *
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import type { Model, NeuralNetworkLayer } from "../codec/model-types.js";
import { FLOAT16_MAX } from "../codec/float16.js";
import { ArrayFeatureType_ArrayDataType } from "../gen/FeatureTypes_pb.js";
import { ModelSchema } from "../gen/Model_pb.js";
import { NeuralNetworkLayerSchema, NeuralNetworkSchema } from "../gen/NeuralNetwork_pb.js";
import type { FloatStorage } from "./internal/messages.js";
import { typed } from "./internal/messages.js";
import {
  blocksArbitrary,
  type BlockDraft,
  type ChwShape,
  type RunnableFollowerKind,
  type RunnableOptions,
  type RunnableProducerKind,
} from "./internal/runnable-blocks.js";
import { MAX_SIZE_CONSTRAINT, bool, integerIn, ordered, positive, subsetOf, text } from "./internal/validate.js";

export type { RunnableFollowerKind, RunnableProducerKind } from "./internal/runnable-blocks.js";

/** Every {@link RunnableProducerKind}. */
export const RUNNABLE_PRODUCER_KINDS: readonly RunnableProducerKind[] = ["convolution", "innerProduct"];
/** Every {@link RunnableFollowerKind}. */
export const RUNNABLE_FOLLOWER_KINDS: readonly RunnableFollowerKind[] = ["batchnorm", "scale", "bias", "activation"];

/** Most blocks a runnable network may have: each block is up to `maxFollowers + 2` layers. */
const MAX_BLOCKS = 16;
/** Largest height or width of the input: convolutions cost `C^2 * H * W * 9` per layer. */
const MAX_SPATIAL = 32;
/** Largest channel count: an innerProduct after a convolution holds `C^2 * H * W` weights. */
const MAX_RUNNABLE_CHANNELS = 64;

/** Constraints of {@link runnableNetworkModel}. */
export interface RunnableNetworkModelConstraints {
  /** Kinds of the first layer of each block. @defaultValue ["convolution", "innerProduct"] */
  readonly producers?: readonly RunnableProducerKind[];
  /** Kinds of the layers after a block's first. @defaultValue ["batchnorm", "scale", "bias", "activation"] */
  readonly followers?: readonly RunnableFollowerKind[];
  /** Fewest blocks. @defaultValue 1 */
  readonly minBlocks?: number;
  /** Most blocks. @defaultValue 3, or `minBlocks` when larger */
  readonly maxBlocks?: number;
  /** Most layers after a block's first (an add joining a fan-out not counted). @defaultValue 3 */
  readonly maxFollowers?: number;
  /** Largest channel count of any blob. @defaultValue 6 */
  readonly maxChannels?: number;
  /** Largest height and width of the input (a deconvolution may grow them). @defaultValue 5 */
  readonly maxSpatial?: number;
  /** Storages of the weights, chosen per WeightParams. @defaultValue ["float32", "float16"] */
  readonly storages?: readonly FloatStorage[];
  /**
   * Largest magnitude of a weight (at most 65504 when float16 is a storage).
   * Small values keep deep chains of products finite. @defaultValue 4
   */
  readonly maxMagnitude?: number;
  /** Mix edge values within `maxMagnitude` (±0, subnormals, ±1) and constant tensors into the weights. @defaultValue true */
  readonly edgeValues?: boolean;
  /**
   * Mix in layers next to a producer or batchnorm that must not fold: a
   * deconvolution producer, a batchnorm computing its statistics
   * (`computeMeanVar`, with or without `instanceNormalization`), scale and bias
   * parameters of shape `[1, H, W]` or `[C, H, W]`, and a producer whose blob is
   * also read by an add layer ending its block (a fan-out). Without them every
   * pattern generated is one fusion folds (or an activation between).
   * @defaultValue true
   */
  readonly nonFusable?: boolean;
  /** Prefix of layer names (`layer0`, `layer1`, ...). @defaultValue "layer" */
  readonly namePrefix?: string;
  /** The input feature (a float32 multiArray `[C, H, W]`, or `[C]` when H = W = 1). @defaultValue "input" */
  readonly input?: string;
  /** The output feature (a float32 multiArray `[C, H, W]`). @defaultValue "output" */
  readonly output?: string;
}

/**
 * Neural-network models (type `neuralNetwork`, specification version 4) that
 * the executor (`prepareModel`, `predict`, `randomInputs`) runs: a description
 * with one multiArray input and one multiArray output of the shapes the layers
 * give, and a chain of blocks whose shapes agree. Each block is a convolution
 * (plain, grouped, depthwise; valid or same padding, stride 1 or 2) or an
 * innerProduct, followed by batchnorm, scale, bias (parameters of shape `[1]`,
 * `[C]` or `[C, 1, 1]`, scale with or without its bias) and activation layers
 * in any order: every pattern `fuseLayers` folds (convolution + batchnorm /
 * scale / bias, innerProduct + scale / bias, batchnorm + scale, and chains of
 * them), the producer with or without a bias, batchnorm epsilon 0 (read as
 * 1e-5), 1e-5 or 1e-3. Some output channel counts equal the output's `H * W`,
 * so that a `[1, H, W]` parameter has exactly C values. With `nonFusable`,
 * neighbours that must not fold are mixed in (see
 * {@link RunnableNetworkModelConstraints.nonFusable}).
 *
 * Every model passes `validateWeights`, encodes and decodes, and predicts
 * without error on `randomInputs(model, n, seed)`.
 *
 * @param constraints - kinds, sizes, storages, value mix, names
 * @returns an arbitrary of models
 * @throws RangeError (when called) for constraints out of range or out of order;
 *   TypeError for a constraint of the wrong type
 * @example
 * ```ts
 * import * as fc from "fast-check";
 * import { dequantizeWeights, predict, quantizeWeights, randomInputs } from "coreml-quantize";
 * import { runnableNetworkModel } from "coreml-quantize/testing";
 *
 * fc.assert(fc.property(runnableNetworkModel(), (m) => {
 *   const q = quantizeWeights(m, { nbits: 6 });
 *   const [inputs] = randomInputs(q, 1, 7);
 *   return sameOutputs(predict(q, inputs), predict(dequantizeWeights(q), inputs));
 * }), { seed: 42 });
 * ```
 */
export function runnableNetworkModel(constraints: RunnableNetworkModelConstraints = {}): fc.Arbitrary<Model> {
  const name = "runnableNetworkModel";
  const storages = subsetOf(name, "storages", constraints.storages ?? ["float32", "float16"], ["float32", "float16"]);
  const minBlocks = integerIn(name, "minBlocks", constraints.minBlocks ?? 1, 1, MAX_BLOCKS);
  const maxBlocks = integerIn(name, "maxBlocks", constraints.maxBlocks ?? Math.max(3, minBlocks), 1, MAX_BLOCKS);
  ordered(name, "minBlocks", minBlocks, "maxBlocks", maxBlocks);
  const maxMagnitude = positive(name, "maxMagnitude", constraints.maxMagnitude ?? 4);
  if (!Number.isFinite(maxMagnitude)) throw new RangeError(`${name}: maxMagnitude must be finite, got ${String(maxMagnitude)}`);
  if (storages.includes("float16") && maxMagnitude > FLOAT16_MAX) {
    throw new RangeError(`${name}: maxMagnitude must be at most ${FLOAT16_MAX} (the largest float16) when float16 is a storage, got ${String(maxMagnitude)}`);
  }
  const options: RunnableOptions = {
    producers: subsetOf(name, "producers", constraints.producers ?? RUNNABLE_PRODUCER_KINDS, RUNNABLE_PRODUCER_KINDS),
    followers: subsetOf(name, "followers", constraints.followers ?? RUNNABLE_FOLLOWER_KINDS, RUNNABLE_FOLLOWER_KINDS),
    minBlocks,
    maxBlocks,
    maxFollowers: integerIn(name, "maxFollowers", constraints.maxFollowers ?? 3, 0, MAX_SIZE_CONSTRAINT),
    maxChannels: integerIn(name, "maxChannels", constraints.maxChannels ?? 6, 1, MAX_RUNNABLE_CHANNELS),
    maxSpatial: integerIn(name, "maxSpatial", constraints.maxSpatial ?? 5, 1, MAX_SPATIAL),
    storages,
    maxMagnitude,
    edgeValues: bool(name, "edgeValues", constraints.edgeValues ?? true),
    nonFusable: bool(name, "nonFusable", constraints.nonFusable ?? true),
  };
  const prefix = text(name, "namePrefix", constraints.namePrefix ?? "layer");
  const input = text(name, "input", constraints.input ?? "input");
  const output = text(name, "output", constraints.output ?? "output");

  const dims = fc.record({
    c: fc.integer({ min: 1, max: options.maxChannels }),
    h: fc.integer({ min: 1, max: options.maxSpatial }),
    w: fc.integer({ min: 1, max: options.maxSpatial }),
    rank1: fc.boolean(),
  });
  return fc
    .tuple(dims, fc.integer({ min: minBlocks, max: maxBlocks }))
    .chain(([x, count]) => blocksArbitrary(options, count, x).map((blocks) => ({ x, blocks })))
    .map(({ x, blocks }) => assemble(x, x.rank1 && x.h === 1 && x.w === 1, blocks, { prefix, input, output }));
}

/** The model of `blocks` reading a `[C, H, W]` input (declared `[C]` when `rank1`). */
function assemble(x: ChwShape, rank1: boolean, blocks: readonly BlockDraft[], names: { prefix: string; input: string; output: string }): Model {
  const drafts = blocks.flatMap((block) => block.layers.map((draft, i) => ({ draft, producer: i === 0 })));
  const blobOf = (i: number): string => (i === drafts.length - 1 ? names.output : `${names.prefix}${i}_out`);
  let previous = names.input;
  let producer = names.input;
  const layers = drafts.map(({ draft, producer: isProducer }, i): NeuralNetworkLayer => {
    const inputs = draft.reads.map((r) => (r === "previous" ? previous : producer));
    previous = blobOf(i);
    if (isProducer) producer = previous;
    return { ...typed(create(NeuralNetworkLayerSchema, { name: `${names.prefix}${i}`, input: inputs, output: [previous] })), layer: draft.layer };
  });
  const last = (blocks.at(-1) as BlockDraft).output;
  const feature = (name: string, shape: readonly number[]) => ({
    name,
    type: { Type: { case: "multiArrayType" as const, value: { shape: shape.map(BigInt), dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } },
  });
  const shell = typed(
    create(ModelSchema, {
      specificationVersion: 4,
      description: {
        input: [feature(names.input, rank1 ? [x.c] : [x.c, x.h, x.w])],
        output: [feature(names.output, [last.c, last.h, last.w])],
      },
    }),
  );
  return { ...shell, Type: { case: "neuralNetwork", value: { ...typed(create(NeuralNetworkSchema)), layers } } };
}

/**
 * The network arbitrary: small neural networks of every weighted layer kind.
 *
 * @packageDocumentation
 */
import type * as fc from "fast-check";
import type { NeuralNetwork } from "../codec/model-types.js";
import { buildOptions } from "./internal/build-options.js";
import { networkArbitrary } from "./internal/build-network.js";
import type { GENERATED_LAYER_KINDS, GeneratedLayerKind } from "./internal/layer-kinds.js";
import { text } from "./internal/validate.js";

/** Constraints of {@link network}. */
export interface NetworkConstraints {
  /** Layer kinds to generate; at least one must not be branch or loop. @defaultValue every {@link GENERATED_LAYER_KINDS} entry */
  readonly kinds?: readonly GeneratedLayerKind[];
  /** Storages of the weights, chosen per WeightParams. @defaultValue ["float32", "float16"] */
  readonly storages?: readonly ("float32" | "float16")[];
  /**
   * Largest size of any dimension: channel counts, input sizes, vocabularies. Each
   * network picks one channel count (1 to this) for the output channels of all its
   * layers, so chained layers fit and fuse. @defaultValue 6
   */
  readonly maxChannels?: number;
  /** Deepest nesting of branch and loop layers (0: none). @defaultValue 1 */
  readonly maxDepth?: number;
  /** Fewest layers of each network, nested ones included. @defaultValue 1 */
  readonly minLayers?: number;
  /** Most layers of each network, nested ones included. @defaultValue 4, or `minLayers` when larger */
  readonly maxLayers?: number;
  /**
   * Mix edge values (±0, subnormals, ±65504, ...) and constant and two-valued
   * tensors into the weights. @defaultValue true
   */
  readonly edgeValues?: boolean;
  /**
   * Largest magnitude of a weight. The default keeps every network convertible to
   * half precision. @defaultValue 65504
   */
  readonly maxMagnitude?: number;
  /** Prefix of layer names (`layer0`, `layer1`, ...; nested: `layer2.ifBranch.0`). @defaultValue "layer" */
  readonly namePrefix?: string;
  /** The blob the first layer reads. @defaultValue "input" */
  readonly input?: string;
  /** The blob the last layer writes. @defaultValue "output" */
  readonly output?: string;
}

/**
 * Small neural networks with consistent shapes: every layer's weights hold exactly
 * as many values as the shape its parameters declare, the weights are float32 or
 * float16, and layer i writes the blob layer i + 1 reads, so convolution,
 * innerProduct and batchnorm layers fuse with the batchnorm, scale and bias layers
 * after them as quantizeWeights does; half the layers after one of those kinds are
 * of a kind it absorbs (when `kinds` allows), so fusion is common. Branch and loop
 * layers hold networks of their own, up to `maxDepth`.
 *
 * Kinds: convolution (plain, grouped, depthwise, deconvolution; default or explicit
 * kernel size), innerProduct, batchedMatmul, embedding, embeddingND, batchnorm
 * (sometimes instance normalization, which never fuses), scale, bias, loadConstant,
 * loadConstantND, simpleRecurrent, gru, uniDirectionalLSTM, biDirectionalLSTM,
 * branch, loop.
 *
 * @param constraints - kinds, sizes, storages, value mix
 * @returns an arbitrary of networks
 * @throws RangeError (when called) for constraints out of range or out of order
 * @example
 * ```ts
 * import * as fc from "fast-check";
 * import { network } from "coreml-quantize/testing";
 *
 * fc.assert(fc.property(network({ kinds: ["convolution", "batchnorm"] }), (net) => {
 *   return net.layers.every((layer) => mySelector.doQuantize(layer) === expected(layer));
 * }));
 * ```
 */
export function network(constraints: NetworkConstraints = {}): fc.Arbitrary<NeuralNetwork> {
  const name = "network";
  const options = buildOptions(name, constraints, 4);
  const prefix = text(name, "namePrefix", constraints.namePrefix ?? "layer");
  const input = text(name, "input", constraints.input ?? "input");
  const output = text(name, "output", constraints.output ?? "output");
  return networkArbitrary(options, 0, prefix, input, output);
}

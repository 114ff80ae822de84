/**
 * Layers and networks, built together because branch and loop layers hold networks.
 *
 * @internal
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import type { NeuralNetwork, NeuralNetworkLayer, WeightParams } from "../../codec/model-types.js";
import { NeuralNetworkLayerSchema, NeuralNetworkSchema } from "../../gen/NeuralNetwork_pb.js";
import { floatValues, type ValueOptions } from "./float-values.js";
import { KIND_BUILDERS, NESTING_KINDS, type GeneratedLayerKind } from "./layer-kinds.js";
import { floatWeightParams, typed, type FloatStorage } from "./messages.js";

/** Normalised constraints shared by layer, network and model. */
export interface BuildOptions {
  readonly kinds: readonly GeneratedLayerKind[];
  readonly storages: readonly FloatStorage[];
  readonly maxChannels: number;
  readonly maxDepth: number;
  readonly minLayers: number;
  readonly maxLayers: number;
  readonly values: ValueOptions;
}

/** Names of one layer and of the blobs it reads and writes. */
export interface LayerNames {
  readonly name: string;
  readonly input: string;
  readonly output: string;
}

/**
 * The kinds allowed at nesting `depth`: branch and loop only while `depth < maxDepth`.
 *
 * @param options - the constraints
 * @param depth - how many branch/loop layers hold the network being built
 * @returns the kinds, possibly none
 */
export function kindsAt(options: BuildOptions, depth: number): GeneratedLayerKind[] {
  return options.kinds.filter((k) => depth < options.maxDepth || !NESTING_KINDS.includes(k));
}

function weightsArbitrary(options: BuildOptions): (count: number, nonNegative?: boolean) => fc.Arbitrary<WeightParams> {
  return (count, nonNegative = false) => fc.tuple(fc.constantFrom(...options.storages), floatValues(count, options.values))
    .map(([storage, values]) => floatWeightParams(storage, nonNegative ? values.map(Math.abs) : values));
}

/**
 * One layer of a kind allowed at `depth`, reading `names.input` and writing `names.output`.
 *
 * @param options - the constraints
 * @param depth - nesting depth of the network the layer is in
 * @param channels - the network's channel count (output channels of the layer)
 * @param names - layer and blob names
 * @returns the arbitrary
 */
export function layerArbitrary(options: BuildOptions, depth: number, channels: number, names: LayerNames): fc.Arbitrary<NeuralNetworkLayer> {
  const ctx = {
    channels,
    maxChannels: options.maxChannels,
    weights: weightsArbitrary(options),
    nested: (field: string) => networkArbitrary(options, depth + 1, `${names.name}.${field}.`, `${names.name}.${field}.input`, `${names.name}.${field}.output`),
  };
  const kinds = kindsAt(options, depth);
  // Nesting kinds are rarer: each holds whole networks.
  const choices = kinds.map((kind) => ({ arbitrary: fc.constant(kind), weight: NESTING_KINDS.includes(kind) ? 2 : 3 }));
  return fc.oneof(...choices).chain((kind) => KIND_BUILDERS[kind](ctx)).map((layer): NeuralNetworkLayer => ({
    ...typed(create(NeuralNetworkLayerSchema, { name: names.name, input: [names.input], output: [names.output] })),
    layer,
  }));
}

/**
 * A network of `minLayers..maxLayers` layers chained by blob name (layer i writes
 * what layer i + 1 reads), all with one channel count.
 *
 * @param options - the constraints
 * @param depth - how many branch/loop layers hold this network
 * @param prefix - prefix of layer and blob names
 * @param input - the blob the first layer reads
 * @param output - the blob the last layer writes
 * @returns the arbitrary
 */
export function networkArbitrary(options: BuildOptions, depth: number, prefix: string, input: string, output: string): fc.Arbitrary<NeuralNetwork> {
  return fc.record({
    count: fc.integer({ min: options.minLayers, max: options.maxLayers }),
    channels: fc.integer({ min: 1, max: options.maxChannels }),
  }).chain(({ count, channels }) => {
    const blob = (i: number): string => (i === 0 ? input : i === count ? output : `${prefix}blob${i}`);
    const layers = Array.from({ length: count }, (_, i) =>
      layerArbitrary(options, depth, channels, { name: `${prefix}${i}`, input: blob(i), output: blob(i + 1) }));
    return fc.tuple(...layers);
  }).map((layers): NeuralNetwork => ({ ...typed(create(NeuralNetworkSchema)), layers }));
}

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
import { ABSORBED_KINDS, KIND_BUILDERS, NESTING_KINDS, type GeneratedLayerKind } from "./layer-kinds.js";
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
  return (count, nonNegative = false) =>
    fc
      .tuple(fc.constantFrom(...options.storages), floatValues(count, options.values))
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
  return kindArbitrary(kindsAt(options, depth)).chain((kind) => layerOfKind(options, depth, channels, names, kind));
}

/** One of `kinds`; nesting kinds are rarer: each holds whole networks. */
function kindArbitrary(kinds: readonly GeneratedLayerKind[]): fc.Arbitrary<GeneratedLayerKind> {
  return fc.oneof(...kinds.map((kind) => ({ arbitrary: fc.constant(kind), weight: NESTING_KINDS.includes(kind) ? 2 : 3 })));
}

function layerOfKind(options: BuildOptions, depth: number, channels: number, names: LayerNames, kind: GeneratedLayerKind): fc.Arbitrary<NeuralNetworkLayer> {
  const ctx = {
    channels,
    maxChannels: options.maxChannels,
    weights: weightsArbitrary(options),
    nested: (field: string) => networkArbitrary(options, depth + 1, `${names.name}.${field}.`, `${names.name}.${field}.input`, `${names.name}.${field}.output`),
  };
  return KIND_BUILDERS[kind](ctx).map(
    (layer): NeuralNetworkLayer => ({
      ...typed(create(NeuralNetworkLayerSchema, { name: names.name, input: [names.input], output: [names.output] })),
      layer,
    }),
  );
}

/** How the kind of one layer of a network is drawn: its own, or (`follow`) one the layer before absorbs. */
interface KindStep {
  readonly kind: GeneratedLayerKind;
  readonly follow: boolean;
  readonly pick: number;
}

/**
 * The kinds of a network's layers: each step's own kind, except that a following
 * step after a layer that absorbs kinds allowed here (see {@link ABSORBED_KINDS})
 * takes one of those, so half the layers after a convolution, innerProduct or
 * batchnorm are of a kind it absorbs.
 */
function chainKinds(steps: readonly KindStep[], allowed: readonly GeneratedLayerKind[]): GeneratedLayerKind[] {
  const kinds: GeneratedLayerKind[] = [];
  for (const { kind, follow, pick } of steps) {
    const before = kinds[kinds.length - 1];
    const absorbed = before === undefined ? [] : (ABSORBED_KINDS[before] ?? []).filter((k) => allowed.includes(k));
    kinds.push(follow && absorbed.length > 0 ? (absorbed[pick % absorbed.length] as GeneratedLayerKind) : kind);
  }
  return kinds;
}

/**
 * A network of `minLayers..maxLayers` layers chained by blob name (layer i writes
 * what layer i + 1 reads), all with one channel count; a layer after one that can
 * absorb it is often of a kind it absorbs (see {@link chainKinds}).
 *
 * @param options - the constraints
 * @param depth - how many branch/loop layers hold this network
 * @param prefix - prefix of layer and blob names
 * @param input - the blob the first layer reads
 * @param output - the blob the last layer writes
 * @returns the arbitrary
 */
export function networkArbitrary(options: BuildOptions, depth: number, prefix: string, input: string, output: string): fc.Arbitrary<NeuralNetwork> {
  const allowed = kindsAt(options, depth);
  const step = fc.record({ kind: kindArbitrary(allowed), follow: fc.boolean(), pick: fc.nat() });
  return fc
    .record({
      steps: fc.array(step, { minLength: options.minLayers, maxLength: options.maxLayers }),
      channels: fc.integer({ min: 1, max: options.maxChannels }),
    })
    .chain(({ steps, channels }) => {
      const count = steps.length;
      const blob = (i: number): string => (i === 0 ? input : i === count ? output : `${prefix}blob${i}`);
      const layers = chainKinds(steps, allowed).map((kind, i) =>
        layerOfKind(options, depth, channels, { name: `${prefix}${i}`, input: blob(i), output: blob(i + 1) }, kind),
      );
      return fc.tuple(...layers);
    })
    .map((layers): NeuralNetwork => ({ ...typed(create(NeuralNetworkSchema)), layers }));
}

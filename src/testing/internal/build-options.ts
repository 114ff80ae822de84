/**
 * Normalising and checking the constraints of layer, network and model.
 *
 * @internal
 * @packageDocumentation
 */
import { FLOAT16_MAX } from "../../codec/float16.js";
import type { NetworkConstraints } from "../network.js";
import type { BuildOptions } from "./build-network.js";
import { GENERATED_LAYER_KINDS, NESTING_KINDS } from "./layer-kinds.js";
import type { FloatStorage } from "./messages.js";
import { bool, integerIn, ordered, positive, subsetOf } from "./validate.js";

/** Deepest branch/loop nesting: each level multiplies the size of a network by up to maxLayers * 2. */
export const MAX_DEPTH = 4;
/** Largest channel count: weights grow with its square (LSTMs: 12 * its square). */
export const MAX_CHANNELS = 64;
/** Most layers per network. */
export const MAX_LAYERS = 64;

const FLOAT_STORAGES: readonly FloatStorage[] = ["float32", "float16"];

/**
 * Constraints with defaults applied, checked.
 *
 * @param owner - the arbitrary's name, for messages
 * @param c - the constraints
 * @param defaultMaxLayers - maxLayers when not given
 * @returns the normalised options
 */
export function buildOptions(owner: string, c: NetworkConstraints, defaultMaxLayers: number): BuildOptions {
  const kinds = subsetOf(owner, "kinds", c.kinds ?? GENERATED_LAYER_KINDS, GENERATED_LAYER_KINDS);
  if (kinds.every((k) => NESTING_KINDS.includes(k))) {
    throw new RangeError(`${owner}: kinds must include a kind other than ${NESTING_KINDS.join(" and ")}, for the networks they hold`);
  }
  const minLayers = integerIn(owner, "minLayers", c.minLayers ?? 1, 0, MAX_LAYERS);
  const maxLayers = integerIn(owner, "maxLayers", c.maxLayers ?? Math.max(defaultMaxLayers, minLayers), 0, MAX_LAYERS);
  ordered(owner, "minLayers", minLayers, "maxLayers", maxLayers);
  return {
    kinds,
    storages: subsetOf(owner, "storages", c.storages ?? FLOAT_STORAGES, FLOAT_STORAGES),
    maxChannels: integerIn(owner, "maxChannels", c.maxChannels ?? 6, 1, MAX_CHANNELS),
    maxDepth: integerIn(owner, "maxDepth", c.maxDepth ?? 1, 0, MAX_DEPTH),
    minLayers,
    maxLayers,
    values: {
      edgeValues: bool(owner, "edgeValues", c.edgeValues ?? true),
      finite: true,
      maxMagnitude: positive(owner, "maxMagnitude", c.maxMagnitude ?? FLOAT16_MAX),
    },
  };
}

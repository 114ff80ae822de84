/**
 * The layer arbitrary: one layer of a weighted kind with consistent shapes.
 *
 * @packageDocumentation
 */
import * as fc from "fast-check";
import type { NeuralNetworkLayer } from "../codec/model-types.js";
import { buildOptions } from "./internal/build-options.js";
import { layerArbitrary } from "./internal/build-network.js";
import type { network, NetworkConstraints } from "./network.js";
import { text } from "./internal/validate.js";

export { GENERATED_LAYER_KINDS, type GeneratedLayerKind } from "./internal/layer-kinds.js";

/**
 * Constraints of {@link layer}: those of {@link NetworkConstraints} (`minLayers`
 * and `maxLayers` apply to the networks a branch or loop layer holds; `maxLayers`
 * defaults to 3 here), and the layer's names.
 */
export interface LayerConstraints extends Omit<NetworkConstraints, "namePrefix" | "input" | "output"> {
  /** The layer's name; nested layers are named after it (`layer0.bodyNetwork.1`). @defaultValue "layer0" */
  readonly name?: string;
  /** The blob the layer reads. @defaultValue "input" */
  readonly input?: string;
  /** The blob the layer writes. @defaultValue "output" */
  readonly output?: string;
}

/**
 * One layer of a weighted kind (see {@link network} for the kinds), its weights
 * float32 or float16 and exactly as many as the shape its parameters declare. Its
 * output channel count is drawn from 1 to `maxChannels`.
 *
 * @param constraints - kinds, sizes, storages, value mix, names
 * @returns an arbitrary of layers
 * @throws RangeError (when called) for constraints out of range or out of order
 * @example
 * ```ts
 * import * as fc from "fast-check";
 * import { QuantizedLayerSelector } from "coreml-quantize";
 * import { layer } from "coreml-quantize/testing";
 *
 * class SkipEmbeddings extends QuantizedLayerSelector {
 *   override doQuantize(l: NeuralNetworkLayer, weightParam?: string): boolean {
 *     return super.doQuantize(l, weightParam) && l.layer.case !== "embedding";
 *   }
 * }
 * fc.assert(fc.property(layer(), (l) =>
 *   new SkipEmbeddings().doQuantize(l) === (l.layer.case !== "embedding")));
 * ```
 */
export function layer(constraints: LayerConstraints = {}): fc.Arbitrary<NeuralNetworkLayer> {
  const name = "layer";
  const options = buildOptions(name, constraints, 3);
  const names = {
    name: text(name, "name", constraints.name ?? "layer0"),
    input: text(name, "input", constraints.input ?? "input"),
    output: text(name, "output", constraints.output ?? "output"),
  };
  return fc.integer({ min: 1, max: options.maxChannels }).chain((channels) => layerArbitrary(options, 0, channels, names));
}

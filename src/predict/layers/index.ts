/**
 * Every layer kind the executor runs: the union of the kind tables of each
 * family. A kind absent here is refused as `unsupported-layer` when a model
 * using it is prepared.
 *
 * @packageDocumentation
 */
import type { LayerImpls } from "../layer-runner.js";
import { ELEMENTWISE_LAYERS } from "./elementwise/index.js";
import { ND_LAYERS } from "./nd/index.js";
import { RECURRENT_LAYERS } from "./recurrent/index.js";
import { SPATIAL_LAYERS } from "./spatial/index.js";

/** Layer implementations by kind. The families cover disjoint kinds. */
export const LAYER_IMPLS: LayerImpls = Object.freeze({
  ...SPATIAL_LAYERS,
  ...ELEMENTWISE_LAYERS,
  ...RECURRENT_LAYERS,
  ...ND_LAYERS,
});

/**
 * The executor's N-D layer kinds (EXACT_ARRAY_MAPPING networks) and control flow.
 *
 * @packageDocumentation
 */
import type { LayerImpls } from "../../layer-runner.js";
import { BATCHED_MATMUL_LAYERS } from "./batched-matmul.js";
import { BROADCAST_OP_LAYERS } from "./broadcast-ops.js";
import { CONSTANT_ND_LAYERS } from "./constants-nd.js";
import { CONTROL_FLOW_LAYERS } from "./control-flow.js";
import { REDUCE_ND_LAYERS } from "./reduce-nd.js";
import { SHAPE_LAYERS } from "./shape-ops.js";
import { SOFTMAX_ND_LAYERS } from "./softmax-nd.js";

/** nd layer kinds, keyed by kind. */
export const ND_LAYERS: LayerImpls = {
  ...BATCHED_MATMUL_LAYERS,
  ...BROADCAST_OP_LAYERS,
  ...CONSTANT_ND_LAYERS,
  ...CONTROL_FLOW_LAYERS,
  ...REDUCE_ND_LAYERS,
  ...SHAPE_LAYERS,
  ...SOFTMAX_ND_LAYERS,
};

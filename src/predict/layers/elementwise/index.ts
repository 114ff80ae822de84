/**
 * The executor's elementwise, reduction and shape layer kinds: activations,
 * the classic broadcasting arithmetic, scale and bias, unary functions, reduce,
 * softmax, and the layers that move data (concat, split, slice, flatten, reshape,
 * permute, sequenceRepeat, reorganizeData), plus dot and loadConstant.
 *
 * @packageDocumentation
 */
import type { LayerImpls } from "../../layer-runner.js";
import { activationLayer } from "./activation.js";
import { biasLayer } from "./bias.js";
import { concatLayer } from "./concat.js";
import { dotLayer } from "./dot-product.js";
import { addLayer, averageLayer, maxLayer, minLayer, multiplyLayer } from "./elementwise-binary.js";
import { flattenLayer } from "./flatten.js";
import { loadConstantLayer } from "./load-constant.js";
import { permuteLayer } from "./permute.js";
import { reduceLayer } from "./reduce.js";
import { reorganizeDataLayer } from "./reorganize-data.js";
import { reshapeLayer } from "./reshape.js";
import { scaleLayer } from "./scale.js";
import { sequenceRepeatLayer } from "./sequence-repeat.js";
import { sliceLayer } from "./slice.js";
import { softmaxLayer } from "./softmax.js";
import { splitLayer } from "./split.js";
import { unaryLayer } from "./unary.js";

/** elementwise layer kinds, keyed by kind. */
export const ELEMENTWISE_LAYERS: LayerImpls = {
  activation: activationLayer,
  add: addLayer,
  multiply: multiplyLayer,
  average: averageLayer,
  max: maxLayer,
  min: minLayer,
  scale: scaleLayer,
  bias: biasLayer,
  unary: unaryLayer,
  reduce: reduceLayer,
  softmax: softmaxLayer,
  concat: concatLayer,
  split: splitLayer,
  slice: sliceLayer,
  flatten: flattenLayer,
  reshape: reshapeLayer,
  permute: permuteLayer,
  sequenceRepeat: sequenceRepeatLayer,
  reorganizeData: reorganizeDataLayer,
  dot: dotLayer,
  loadConstant: loadConstantLayer,
};

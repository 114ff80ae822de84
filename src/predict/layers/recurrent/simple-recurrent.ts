/**
 * simpleRecurrent: `h_t = f(clip(W x_t + R h_{t-1} + b))`.
 *
 * @packageDocumentation
 */
import type { LayerImpl } from "../../layer-runner.js";
import { decodedWeights } from "../../tensor.js";
import { prepareOneStateLayer } from "./one-state-layer.js";
import { activateInPlace, clipInPlace, recurrentActivation } from "./recurrent-activation.js";
import { addMatVec, requiredWeight } from "./sequence-blobs.js";

const KIND = "simpleRecurrent";

/**
 * Runs a simpleRecurrent layer. Inputs: the sequence `[Seq, Batch, I, 1, 1]`,
 * then the optional initial output h_in (zeros when absent). Outputs: y (every
 * step `[Seq, Batch, O, 1, 1]` with sequenceOutput, else the last `[1, Batch, O, 1, 1]`),
 * then the final h. With reverseInput the steps run from x_{Seq-1} down to x_0;
 * reverseInput with sequenceOutput is refused (the output order is not specified).
 */
export const simpleRecurrent: LayerImpl<"simpleRecurrent"> = {
  prepare: (params, layer, context) =>
    prepareOneStateLayer(params, layer, context, KIND, ({ inputSize, outputSize: o }) => {
      const { path } = context;
      const f = recurrentActivation(params.activation, `${KIND} activation`, path);
      const weights = decodedWeights(layer, path);
      const w = requiredWeight(weights, "weightMatrix", path);
      const r = requiredWeight(weights, "recursionMatrix", path);
      const bias = params.hasBiasVector ? requiredWeight(weights, "biasVector", path) : new Float32Array(o);
      const pre = new Float64Array(o);
      return (x, xOffset, h, hOffset) => {
        pre.set(bias);
        addMatVec(pre, 0, w, o, inputSize, x, xOffset);
        addMatVec(pre, 0, r, o, o, h, hOffset);
        clipInPlace(pre, 0, o);
        activateInPlace(f, pre, 0, o);
        h.set(pre, hOffset);
      };
    }),
};

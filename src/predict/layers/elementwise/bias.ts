/**
 * The bias layer: `x + bias`, broadcast over `[C, H, W]`.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { chwView } from "../chw-view.js";
import { checkCount } from "../layer-errors.js";
import { channelParameter, expandParameter } from "./channel-parameter.js";

/** The bias layer kind. */
export const biasLayer: LayerImpl<"bias"> = {
  prepare(params, layer, context) {
    checkCount(context, "bias", layer.input, 1);
    const bias = channelParameter(context, "bias", "bias", params.shape, decodedWeights(layer, context.path).get("bias"));
    return (inputs) => {
      const x = inputs[0] as Tensor;
      const view = chwView(x.shape);
      const b = expandParameter(context, "bias", bias, view);
      const chw = view.channels * view.height * view.width;
      const src = x.data;
      const out = new Float32Array(src.length);
      for (let base = 0; base < src.length; base += chw) {
        for (let j = 0; j < chw; j++) out[base + j] = (src[base + j] as number) + (b[j] as number);
      }
      return [tensor(x.shape, out)];
    };
  },
};

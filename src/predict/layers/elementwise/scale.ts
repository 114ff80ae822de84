/**
 * The scale layer: `x * scale (+ bias)`, both broadcast over `[C, H, W]`.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { chwView } from "../chw-view.js";
import { checkCount } from "../layer-errors.js";
import { channelParameter, expandParameter } from "./channel-parameter.js";

/** The scale layer kind. */
export const scaleLayer: LayerImpl<"scale"> = {
  prepare(params, layer, context) {
    checkCount(context, "scale", layer.input, 1);
    const weights = decodedWeights(layer, context.path);
    const scale = channelParameter(context, "scale", "scale", params.shapeScale, weights.get("scale"));
    const bias = params.hasBias ? channelParameter(context, "scale", "bias", params.shapeBias, weights.get("bias")) : undefined;
    return (inputs) => {
      const x = inputs[0] as Tensor;
      const view = chwView(x.shape);
      const s = expandParameter(context, "scale", scale, view);
      const b = bias === undefined ? undefined : expandParameter(context, "scale", bias, view);
      const chw = view.channels * view.height * view.width;
      const src = x.data;
      const out = new Float32Array(src.length);
      for (let base = 0; base < src.length; base += chw) {
        if (b === undefined) {
          for (let j = 0; j < chw; j++) out[base + j] = (src[base + j] as number) * (s[j] as number);
        } else {
          for (let j = 0; j < chw; j++) out[base + j] = (src[base + j] as number) * (s[j] as number) + (b[j] as number);
        }
      }
      return [tensor(x.shape, out)];
    };
  },
};

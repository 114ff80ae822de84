/**
 * The classic flatten layer: `[..., C, H, W]` to `[..., C * H * W, 1, 1]`, in
 * C, H, W order (CHANNEL_FIRST: the data as it is) or H, W, C order
 * (CHANNEL_LAST: the data moved).
 *
 * @packageDocumentation
 */
import { FlattenLayerParams_FlattenOrder as Order } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { chwView, requireRank } from "../chw-view.js";
import { checkCount, unsupportedOption } from "../layer-errors.js";
import { stridedCopy } from "../strided-copy.js";

/** The flatten layer kind. */
export const flattenLayer: LayerImpl<"flatten"> = {
  prepare(params, layer, context) {
    checkCount(context, "flatten", layer.input, 1);
    const mode = params.mode;
    if (mode !== Order.CHANNEL_FIRST && mode !== Order.CHANNEL_LAST) {
      throw unsupportedOption(context, `flatten mode ${mode} is not supported`);
    }
    return (inputs) => {
      const x = inputs[0] as Tensor;
      requireRank(context, "flatten", x.shape, 3);
      const { outer, channels: c, height: h, width: w } = chwView(x.shape);
      const outShape = [...x.shape.slice(0, -3), c * h * w, 1, 1];
      if (mode === Order.CHANNEL_FIRST) return [tensor(outShape, x.data)];
      // Read [outer, H, W, C] through the strides of [outer, C, H, W].
      const data = stridedCopy(x.data, [outer, h, w, c], [c * h * w, w, 1, h * w]);
      return [tensor(outShape, data)];
    };
  },
};

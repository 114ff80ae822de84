/**
 * The reorganizeData layer: blocks of `blockSize x blockSize` values moved
 * between the spatial axes and the channel axis.
 *
 * With `b` the block size and `(dh, dw)` the place in a block, output channel
 * `co` at `(h * b + dh, w * b + dw)` comes from input channel
 * `(dh * b + dw) * C_out + co` for DEPTH_TO_SPACE and `co * b * b + dh * b + dw`
 * for PIXEL_SHUFFLE (the proto's two examples); SPACE_TO_DEPTH is the inverse
 * of DEPTH_TO_SPACE.
 *
 * @packageDocumentation
 */
import { ReorganizeDataLayerParams_ReorganizationType as Mode } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { chwView, requireRank } from "../chw-view.js";
import { checkCount, formatShape, inputShapeError, invalidParameter, unsupportedOption } from "../layer-errors.js";
import { stridedCopy } from "../strided-copy.js";

/** The reorganizeData layer kind. */
export const reorganizeDataLayer: LayerImpl<"reorganizeData"> = {
  prepare(params, layer, context) {
    checkCount(context, "reorganizeData", layer.input, 1);
    const mode = params.mode;
    if (mode !== Mode.SPACE_TO_DEPTH && mode !== Mode.DEPTH_TO_SPACE && mode !== Mode.PIXEL_SHUFFLE) {
      throw unsupportedOption(context, `reorganizeData mode ${mode} is not supported`);
    }
    const b = Number(params.blockSize);
    if (b < 2) throw invalidParameter(context, `reorganizeData blockSize must be greater than 1, got ${b}`);
    return (inputs) => {
      const x = inputs[0] as Tensor;
      requireRank(context, "reorganizeData", x.shape, 3);
      const { outer, channels: c, height: h, width: w } = chwView(x.shape);
      const lead = x.shape.slice(0, -3);
      const chw = c * h * w;
      const hw = h * w;
      if (mode === Mode.SPACE_TO_DEPTH) {
        if (h % b !== 0 || w % b !== 0) {
          throw inputShapeError(context, `reorganizeData blockSize ${b} does not divide H and W of ${formatShape(x.shape)}`);
        }
        const [ho, wo] = [h / b, w / b];
        // Output walk [outer, dh, dw, c, ho, wo], each read at x[c, ho * b + dh, wo * b + dw].
        const data = stridedCopy(x.data, [outer, b, b, c, ho, wo], [chw, w, 1, hw, b * w, b]);
        return [tensor([...lead, c * b * b, ho, wo], data)];
      }
      if (c % (b * b) !== 0) {
        throw inputShapeError(context, `reorganizeData blockSize ${b}: its square does not divide C of ${formatShape(x.shape)}`);
      }
      const co = c / (b * b);
      // Output walk [outer, co, h, dh, w, dw]; the strides of co, dh and dw follow the mode's channel order.
      const [coStride, dhStride, dwStride] = mode === Mode.DEPTH_TO_SPACE ? [hw, b * co * hw, co * hw] : [b * b * hw, b * hw, hw];
      const data = stridedCopy(x.data, [outer, co, h, b, w, b], [chw, coStride, w, dhStride, 1, dwStride]);
      return [tensor([...lead, co, h * b, w * b], data)];
    };
  },
};

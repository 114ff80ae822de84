/**
 * The classic reshape layer, on rank-5 blobs `[Seq, Batch, C, H, W]`.
 * CHANNEL_FIRST keeps the data in order; CHANNEL_LAST reads each step in H, W, C
 * order, refills `[H_out, W_out, C_out]` and permutes that to
 * `[C_out, H_out, W_out]` (the proto's three steps).
 *
 * @packageDocumentation
 */
import { ReshapeLayerParams_ReshapeOrder as Order } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { sizeOf, tensor } from "../../tensor.js";
import { checkCount, formatShape, inputShapeError, invalidParameter, unsupportedOption } from "../layer-errors.js";
import { stridedCopy } from "../strided-copy.js";

/** The reshape layer kind. */
export const reshapeLayer: LayerImpl<"reshape"> = {
  prepare(params, layer, context) {
    checkCount(context, "reshape", layer.input, 1);
    const mode = params.mode;
    if (mode !== Order.CHANNEL_FIRST && mode !== Order.CHANNEL_LAST) {
      throw unsupportedOption(context, `reshape mode ${mode} is not supported`);
    }
    const target = params.targetShape.map(Number);
    if ((target.length !== 3 && target.length !== 4) || target.some((d) => d < 1)) {
      throw invalidParameter(context, `reshape targetShape ${formatShape(target)} must be 3 or 4 positive sizes`);
    }
    // The checks above leave 3 or 4 sizes, and the input's rank is checked below.
    const [c, h, w] = target.slice(-3) as [number, number, number];
    return (inputs) => {
      const x = inputs[0] as Tensor;
      if (x.shape.length !== 5) {
        throw inputShapeError(context, `reshape needs a rank-5 blob [Seq, Batch, C, H, W], got ${formatShape(x.shape)}`);
      }
      const [seq, batch, inC, inH, inW] = x.shape as readonly [number, number, number, number, number];
      // Three sizes keep Seq and Batch; four set Seq (Batch folded into it).
      const outShape = target.length === 3 ? [seq, batch, c, h, w] : [target[0] as number, 1, c, h, w];
      if (sizeOf(outShape) !== x.data.length) {
        throw inputShapeError(context, `reshape cannot make ${formatShape(x.shape)} into ${formatShape(outShape)}`);
      }
      if (mode === Order.CHANNEL_FIRST) return [tensor(outShape, x.data)];
      const steps = seq * batch;
      const inChw = inC * inH * inW;
      // Each step's values in H, W, C order, steps one after another.
      const hwc = stridedCopy(x.data, [steps, inH, inW, inC], [inChw, inW, 1, inH * inW]);
      // The same values read as [steps_out, H_out, W_out, C_out], written as [steps_out, C_out, H_out, W_out].
      const outSteps = (outShape[0] as number) * (outShape[1] as number);
      const data = stridedCopy(hwc, [outSteps, c, h, w], [c * h * w, 1, w * c, c]);
      return [tensor(outShape, data)];
    };
  },
};

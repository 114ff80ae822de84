/**
 * The classic slice layer: `[startIndex, endIndex)` by `stride` along C, H or W;
 * a negative index counts from the end (-1 is the last).
 *
 * @packageDocumentation
 */
import { SliceLayerParams_SliceAxis as SliceAxis } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { stridesOf, tensor } from "../../tensor.js";
import { requireRank } from "../chw-view.js";
import { checkCount, formatShape, inputShapeError, invalidParameter, unsupportedOption } from "../layer-errors.js";
import { stridedCopy } from "../strided-copy.js";

/** Each axis option, as a count from the end of the shape. */
const AXIS_BACK: Readonly<Record<SliceAxis, number>> = {
  [SliceAxis.CHANNEL_AXIS]: 3,
  [SliceAxis.HEIGHT_AXIS]: 2,
  [SliceAxis.WIDTH_AXIS]: 1,
};

/** The slice layer kind. */
export const sliceLayer: LayerImpl<"slice"> = {
  prepare(params, layer, context) {
    checkCount(context, "slice", layer.input, 1);
    const back = AXIS_BACK[params.axis];
    if (back === undefined) throw unsupportedOption(context, `slice axis ${params.axis} is not supported`);
    const step = Number(params.stride);
    if (step < 1) throw invalidParameter(context, `slice stride must be positive, got ${step}`);
    const start = Number(params.startIndex);
    const end = Number(params.endIndex);
    if (end === 0) {
      // The proto reads it as an empty range, coremltools' shape rules as "to the end".
      throw unsupportedOption(context, "slice with endIndex 0 is not supported: its meaning is ambiguous");
    }
    return (inputs) => {
      const x = inputs[0] as Tensor;
      requireRank(context, "slice", x.shape, back);
      const axis = x.shape.length - back;
      const size = x.shape[axis] as number;
      const clamp = (i: number): number => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
      const from = clamp(start);
      const to = clamp(end);
      const count = to > from ? Math.ceil((to - from) / step) : 0;
      if (count === 0) {
        throw inputShapeError(context, `slice [${start}:${end}:${step}] of an axis of ${size} in ${formatShape(x.shape)} is empty`);
      }
      const outShape = x.shape.map((d, i) => (i === axis ? count : d));
      const strides = stridesOf(x.shape);
      const offset = from * (strides[axis] as number);
      strides[axis] = (strides[axis] as number) * step;
      return [tensor(outShape, stridedCopy(x.data, outShape, strides, offset))];
    };
  },
};

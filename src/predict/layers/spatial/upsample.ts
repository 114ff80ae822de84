/**
 * The upsample layer kind: integer scaling of the last two axes, nearest
 * neighbour or bilinear.
 *
 * @packageDocumentation
 */
import { UpsampleLayerParams_InterpolationMode, UpsampleLayerParams_LinearUpsampleMode } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { formatShape, unsupportedOption } from "../layer-errors.js";
import { bilinearSample } from "./bilinear-sample.js";
import { hwPair } from "./layer-fields.js";

const KIND = "upsample";

/** Runs upsample layers. */
export const upsample: LayerImpl<"upsample"> = {
  prepare(params, _layer, context) {
    if (params.fractionalScalingFactor.length > 0) {
      // The output size for a fractional factor is not specified (floor or round of H * factor).
      throw unsupportedOption(context, `${KIND} with fractionalScalingFactor ${formatShape(params.fractionalScalingFactor)} is not supported`);
    }
    const [fy, fx] = hwPair(params.scalingFactor, [1, 1], 1, context, KIND, "scalingFactor");
    const mode = params.mode;
    if (mode !== UpsampleLayerParams_InterpolationMode.NN && mode !== UpsampleLayerParams_InterpolationMode.BILINEAR) {
      throw unsupportedOption(context, `${KIND} with mode ${mode} is not supported`);
    }
    const linearMode = params.linearUpsampleMode;
    const gridOf = GRIDS[linearMode];
    if (gridOf === undefined) throw unsupportedOption(context, `${KIND} with linearUpsampleMode ${linearMode} is not supported`);
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 3, context, KIND);
      const { height: H, width: W } = view;
      const OH = H * fy;
      const OW = W * fx;
      const shape = withChw(x.shape, view.channels, OH, OW);
      const planes = view.outer * view.channels;
      if (mode === UpsampleLayerParams_InterpolationMode.BILINEAR) {
        return [tensor(shape, bilinearSample(x.data, planes, H, W, gridOf(H, OH), gridOf(W, OW)))];
      }
      const out = tensor(shape);
      let o = 0;
      for (let p = 0; p < planes; p++) {
        for (let oy = 0; oy < OH; oy++) {
          const row = p * H * W + Math.floor(oy / fy) * W;
          for (let ox = 0; ox < OW; ox++) out.data[o++] = x.data[row + Math.floor(ox / fx)] as number;
        }
      }
      return [out];
    };
  },
};

/**
 * The input coordinate of each output position along an axis, per linear
 * upsample mode, straight from the proto's formulas (clamped to `[0, Xin-1]` by
 * the sampler).
 */
const GRIDS: Readonly<Record<UpsampleLayerParams_LinearUpsampleMode, (inSize: number, outSize: number) => Float64Array>> = {
  [UpsampleLayerParams_LinearUpsampleMode.DEFAULT]: (inSize, outSize) => spaced(outSize, outSize > 1 ? (inSize - inSize / outSize) / (outSize - 1) : 0, 0),
  [UpsampleLayerParams_LinearUpsampleMode.ALIGN_CORNERS_TRUE]: (inSize, outSize) => spaced(outSize, outSize > 1 ? (inSize - 1) / (outSize - 1) : 0, 0),
  [UpsampleLayerParams_LinearUpsampleMode.ALIGN_CORNERS_FALSE]: (inSize, outSize) => {
    const spacing = inSize / outSize;
    return spaced(outSize, spacing, 0.5 * spacing - 0.5);
  },
};

/** `i * spacing + offset` for i = 0 .. count-1. */
function spaced(count: number, spacing: number, offset: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = i * spacing + offset;
  return out;
}

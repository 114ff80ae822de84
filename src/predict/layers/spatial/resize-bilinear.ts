/**
 * The resizeBilinear layer kind: bilinear resampling of the last two axes to a
 * fixed size, on one of four sampling grids.
 *
 * @packageDocumentation
 */
import { SamplingMode_Method } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { unsupportedOption } from "../layer-errors.js";
import { bilinearSample, linspace } from "./bilinear-sample.js";
import { hwPair } from "./layer-fields.js";

const KIND = "resizeBilinear";

/**
 * The grid points along an axis of input size X for N outputs, per sampling
 * method, as the proto's SamplingMode defines them (the sampler keeps them in
 * `[0, X-1]`).
 */
const GRIDS: Readonly<Record<SamplingMode_Method, (inSize: number, outSize: number) => Float64Array>> = {
  [SamplingMode_Method.STRICT_ALIGN_ENDPOINTS_MODE]: (x, n) => linspace(0, x - 1, n),
  [SamplingMode_Method.ALIGN_ENDPOINTS_MODE]: (x, n) => (n === 1 ? linspace((x - 1) / 2, (x - 1) / 2, 1) : linspace(0, x - 1, n)),
  [SamplingMode_Method.UPSAMPLE_MODE]: (x, n) => linspace(0, x - x / n, n),
  [SamplingMode_Method.ROI_ALIGN_MODE]: (x, n) => {
    const spacing = Math.max(1, x - 1) / n;
    const start = 0.5 * spacing;
    return linspace(start, start + (n - 1) * spacing, n);
  },
};

/** Runs resizeBilinear layers. */
export const resizeBilinear: LayerImpl<"resizeBilinear"> = {
  prepare(params, _layer, context) {
    const [OH, OW] = hwPair(params.targetSize, [1, 1], 1, context, KIND, "targetSize");
    const method = params.mode?.samplingMethod ?? SamplingMode_Method.STRICT_ALIGN_ENDPOINTS_MODE;
    const gridOf = GRIDS[method];
    if (gridOf === undefined) throw unsupportedOption(context, `${KIND} with sampling method ${method} is not supported`);
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 3, context, KIND);
      const data = bilinearSample(x.data, view.outer * view.channels, view.height, view.width, gridOf(view.height, OH), gridOf(view.width, OW));
      return [tensor(withChw(x.shape, view.channels, OH, OW), data)];
    };
  },
};

/**
 * The innerProduct layer kind: a dense layer, `y = W x + b`, over the last axis
 * (ranks 1 to 3) or the flattened last three axes `C*H*W` (ranks 4 and 5), as a
 * matrix product of the kernels (float32: the bias, then each `W[o, i] * x[i]`
 * added in the order of i).
 *
 * @packageDocumentation
 */
import { denseRows } from "../../../kernels/dense-rows.js";
import { runKernels } from "../../../kernels/index.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { weightVector } from "./layer-fields.js";

const KIND = "innerProduct";

/** Runs innerProduct layers. */
export const innerProduct: LayerImpl<"innerProduct"> = {
  prepare(params, layer, context) {
    if (params.int8DynamicQuantize) {
      // How the input is quantized to int8 at run time (its scale) is not specified.
      throw unsupportedOption(context, `${KIND} with int8DynamicQuantize is not supported`);
    }
    const cin = Number(params.inputChannels);
    const cout = Number(params.outputChannels);
    if (cin < 1 || cout < 1) throw unsupportedOption(context, `${KIND} with inputChannels ${cin} and outputChannels ${cout} is not supported`);
    const weights = decodedWeights(layer, context.path);
    const w = weightVector(weights, "weights", cout * cin, context, KIND);
    const bias = params.hasBias ? weightVector(weights, "bias", cout, context, KIND) : undefined;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const shape = x.shape;
      const rank = shape.length;
      // Ranks 4 and 5 flatten [C, H, W] (C, H, W order) and give [.., Cout, 1, 1]; lower ranks use the last axis.
      const flat = rank >= 4 ? 3 : 1;
      let inner = 1;
      for (let i = rank - flat; i < rank; i++) inner *= shape[i] as number;
      if (rank === 0 || inner !== cin) {
        throw inputShapeError(context, `${KIND}: expects ${cin} values per row (inputChannels), got input ${formatShape(shape)}`);
      }
      const outShape = rank >= 4 ? [...shape.slice(0, rank - 3), cout, 1, 1] : [...shape.slice(0, rank - 1), cout];
      const out = tensor(outShape);
      const rows = x.data.length / cin;
      if (rows > 0) {
        denseRows(runKernels(), { weights: w, outSize: cout, inSize: cin, bias, x: x.data, xOffset: 0, rows, out: out.data, outOffset: 0 });
      }
      return [out];
    };
  },
};

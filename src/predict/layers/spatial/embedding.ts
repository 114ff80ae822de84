/**
 * The embedding layer kind: each index (a float holding an integer, on axis -3
 * with the last three axes of size 1) becomes a column of the weight matrix,
 * plus the bias.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { weightVector } from "./layer-fields.js";

const KIND = "embedding";

/** Runs embedding layers. */
export const embedding: LayerImpl<"embedding"> = {
  prepare(params, layer, context) {
    const inputDim = Number(params.inputDim);
    const cout = Number(params.outputChannels);
    if (inputDim < 1 || cout < 1) throw unsupportedOption(context, `${KIND} with inputDim ${inputDim} and outputChannels ${cout} is not supported`);
    const weights = decodedWeights(layer, context.path);
    // [outputChannels, inputDim]: index i selects column i.
    const w = weightVector(weights, "weights", cout * inputDim, context, KIND);
    const bias = params.hasBias ? weightVector(weights, "bias", cout, context, KIND) : undefined;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 3, context, KIND);
      if (view.channels !== 1 || view.height !== 1 || view.width !== 1) {
        throw inputShapeError(context, `${KIND}: expects one index per position (last three axes of size 1), got input ${formatShape(x.shape)}`);
      }
      const out = tensor(withChw(x.shape, cout, 1, 1));
      for (let n = 0; n < view.outer; n++) {
        const index = x.data[n] as number;
        if (!Number.isInteger(index) || index < 0 || index >= inputDim) {
          throw inputShapeError(context, `${KIND}: index ${index} at position ${n} is not an integer in [0, ${inputDim - 1}]`);
        }
        for (let o = 0; o < cout; o++) {
          out.data[n * cout + o] = (w[o * inputDim + index] as number) + (bias === undefined ? 0 : (bias[o] as number));
        }
      }
      return [out];
    };
  },
};

/**
 * The crop layer kind: a window of the last two axes, given by crop amounts (one
 * input) or by the second input's size and an offset (two inputs).
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { borders, hwPair } from "./layer-fields.js";

const KIND = "crop";

/** Runs crop layers. */
export const crop: LayerImpl<"crop"> = {
  prepare(params, layer, context) {
    const inputCount = layer.input.length;
    if (inputCount !== 1 && inputCount !== 2) throw unsupportedOption(context, `${KIND} with ${inputCount} inputs is not supported`);
    const amounts = borders(params.cropAmounts, context, KIND, "cropAmounts");
    const offset = hwPair(params.offset, [0, 0], 0, context, KIND, "offset");
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 3, context, KIND);
      let top: number, left: number, OH: number, OW: number;
      if (inputCount === 2) {
        const ref = inputChwView(inputs[1] as Tensor, 3, context, KIND);
        [top, left, OH, OW] = [offset[0], offset[1], ref.height, ref.width];
      } else {
        [top, left] = [amounts.top, amounts.left];
        OH = view.height - amounts.top - amounts.bottom;
        OW = view.width - amounts.left - amounts.right;
      }
      if (OH < 1 || OW < 1 || top + OH > view.height || left + OW > view.width) {
        throw inputShapeError(context, `${KIND}: a ${OH}x${OW} window at (${top}, ${left}) does not fit input ${formatShape(x.shape)}`);
      }
      const out = tensor(withChw(x.shape, view.channels, OH, OW));
      const planes = view.outer * view.channels;
      for (let p = 0; p < planes; p++) {
        for (let oy = 0; oy < OH; oy++) {
          const from = p * view.height * view.width + (top + oy) * view.width + left;
          out.data.set(x.data.subarray(from, from + OW), (p * OH + oy) * OW);
        }
      }
      return [out];
    };
  },
};

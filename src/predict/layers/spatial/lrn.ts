/**
 * The lrn layer kind: local response normalization across channels,
 * `x / (k + alpha / n * sum of x^2 over the n channels around it)^beta`.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView } from "../chw-view.js";
import { unsupportedOption } from "../layer-errors.js";

const KIND = "lrn";

/** Runs lrn layers. */
export const lrn: LayerImpl<"lrn"> = {
  prepare(params, _layer, context) {
    const size = Number(params.localSize);
    // The window is centred on the channel; where an even window would sit is not specified.
    if (size < 1 || size % 2 === 0) throw unsupportedOption(context, `${KIND} with localSize ${size} (an odd size is needed) is not supported`);
    const half = (size - 1) / 2;
    const k = params.k === 0 ? 1 : params.k;
    const alphaOverN = params.alpha / size;
    const beta = params.beta;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const { outer, channels: C, height, width } = inputChwView(x, 3, context, KIND);
      const plane = height * width;
      const src = x.data;
      const out = tensor(x.shape);
      const squares = new Float64Array(C);
      for (let n = 0; n < outer; n++) {
        const base = n * C * plane;
        for (let p = 0; p < plane; p++) {
          for (let c = 0; c < C; c++) squares[c] = (src[base + c * plane + p] as number) ** 2;
          for (let c = 0; c < C; c++) {
            let sum = 0;
            for (let j = Math.max(0, c - half); j <= Math.min(C - 1, c + half); j++) sum += squares[j] as number;
            const i = base + c * plane + p;
            out.data[i] = (src[i] as number) / (k + alphaOverN * sum) ** beta;
          }
        }
      }
      return [out];
    };
  },
};

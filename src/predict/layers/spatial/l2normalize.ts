/**
 * The l2normalize layer kind: each `[C, H, W]` block divided by the square root of
 * its sum of squares (over all C*H*W values, plus epsilon).
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView } from "../chw-view.js";

const KIND = "l2normalize";
/** The proto's epsilon for an unset or zero field. */
const DEFAULT_EPSILON = 1e-6;

/** Runs l2normalize layers. */
export const l2normalize: LayerImpl<"l2normalize"> = {
  prepare(params, _layer, context) {
    const eps = params.epsilon === 0 ? DEFAULT_EPSILON : params.epsilon;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const { outer, channels, height, width } = inputChwView(x, 3, context, KIND);
      const block = channels * height * width;
      const out = tensor(x.shape);
      for (let n = 0; n < outer; n++) {
        const start = n * block;
        let sum = 0;
        for (let i = start; i < start + block; i++) sum += (x.data[i] as number) ** 2;
        const norm = Math.sqrt(sum + eps);
        for (let i = start; i < start + block; i++) out.data[i] = (x.data[i] as number) / norm;
      }
      return [out];
    };
  },
};

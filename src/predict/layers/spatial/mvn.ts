/**
 * The mvn (mean-variance normalization) layer kind: subtract the mean and, if
 * asked, divide by the standard deviation, per channel plane or over each whole
 * `[C, H, W]` block.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView } from "../chw-view.js";

const KIND = "mvn";
/** The proto's epsilon for an unset or zero field. */
const DEFAULT_EPSILON = 1e-6;

/** Runs mvn layers. */
export const mvn: LayerImpl<"mvn"> = {
  prepare(params, _layer, context) {
    const eps = params.epsilon === 0 ? DEFAULT_EPSILON : params.epsilon;
    const { acrossChannels, normalizeVariance } = params;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const { outer, channels, height, width } = inputChwView(x, 3, context, KIND);
      const span = acrossChannels ? channels * height * width : height * width;
      const groups = acrossChannels ? outer : outer * channels;
      const src = x.data;
      const out = tensor(x.shape);
      for (let g = 0; g < groups; g++) {
        const start = g * span;
        const end = start + span;
        let sum = 0;
        for (let i = start; i < end; i++) sum += src[i] as number;
        const mean = sum / span;
        let scale = 1;
        if (normalizeVariance) {
          // Biased variance, eps inside the root (as batchnorm's computed statistics).
          let sq = 0;
          for (let i = start; i < end; i++) sq += ((src[i] as number) - mean) ** 2;
          scale = 1 / Math.sqrt(sq / span + eps);
        }
        for (let i = start; i < end; i++) out.data[i] = ((src[i] as number) - mean) * scale;
      }
      return [out];
    };
  },
};

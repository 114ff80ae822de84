/**
 * The batchnorm layer kind: per-channel `gamma * (x - mean) / sqrt(variance + eps) + beta`
 * along axis -3, with stored statistics or statistics computed from the input
 * (per instance, or over the whole batch).
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { inputChwView } from "../chw-view.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { weightVector } from "./layer-fields.js";

const KIND = "batchnorm";
/** The proto's epsilon for an unset or zero field. */
const DEFAULT_EPSILON = 1e-5;

/** Runs batchnorm layers. */
export const batchnorm: LayerImpl<"batchnorm"> = {
  prepare(params, layer, context) {
    const channels = Number(params.channels);
    if (channels < 1) throw unsupportedOption(context, `${KIND} with channels ${channels} is not supported`);
    const eps = params.epsilon === 0 ? DEFAULT_EPSILON : params.epsilon;
    const weights = decodedWeights(layer, context.path);
    const gamma = weightVector(weights, "gamma", channels, context, KIND);
    const beta = weightVector(weights, "beta", channels, context, KIND);
    // With stored statistics the layer is an affine map per channel: y = scale * x + shift.
    let scale: Float64Array | undefined;
    let shift: Float64Array | undefined;
    if (!params.computeMeanVar) {
      const mean = weightVector(weights, "mean", channels, context, KIND);
      const variance = weightVector(weights, "variance", channels, context, KIND);
      scale = new Float64Array(channels);
      shift = new Float64Array(channels);
      for (let c = 0; c < channels; c++) {
        const s = (gamma[c] as number) / Math.sqrt((variance[c] as number) + eps);
        scale[c] = s;
        shift[c] = (beta[c] as number) - (mean[c] as number) * s;
      }
    }
    const perInstance = params.instanceNormalization;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 3, context, KIND);
      if (view.channels !== channels) {
        throw inputShapeError(context, `${KIND}: expects ${channels} channels, got input ${formatShape(x.shape)}`);
      }
      const plane = view.height * view.width;
      const { outer } = view;
      const src = x.data;
      const out = tensor(x.shape);
      const dst = out.data;
      const affine = (n: number, c: number, a: number, b: number): void => {
        const base = (n * channels + c) * plane;
        for (let i = base; i < base + plane; i++) dst[i] = a * (src[i] as number) + b;
      };
      for (let c = 0; c < channels; c++) {
        if (scale !== undefined && shift !== undefined) {
          for (let n = 0; n < outer; n++) affine(n, c, scale[c] as number, shift[c] as number);
          continue;
        }
        // Computed statistics: biased variance (divide by the count), eps inside the root.
        const groups = perInstance ? outer : 1;
        const span = perInstance ? 1 : outer;
        for (let g = 0; g < groups; g++) {
          let sum = 0;
          for (let n = g * span; n < (g + 1) * span; n++) {
            const base = (n * channels + c) * plane;
            for (let i = base; i < base + plane; i++) sum += src[i] as number;
          }
          const count = span * plane;
          const mean = sum / count;
          let sq = 0;
          for (let n = g * span; n < (g + 1) * span; n++) {
            const base = (n * channels + c) * plane;
            for (let i = base; i < base + plane; i++) sq += ((src[i] as number) - mean) ** 2;
          }
          const a = (gamma[c] as number) / Math.sqrt(sq / count + eps);
          const b = (beta[c] as number) - mean * a;
          for (let n = g * span; n < (g + 1) * span; n++) affine(n, c, a, b);
        }
      }
      return [out];
    };
  },
};

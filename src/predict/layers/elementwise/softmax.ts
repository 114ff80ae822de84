/**
 * The classic softmax layer: normalised exponentials over the channel axis (-3),
 * separately at every batch and spatial position.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { chwView, requireRank } from "../chw-view.js";
import { checkCount } from "../layer-errors.js";

/** The softmax layer kind. */
export const softmaxLayer: LayerImpl<"softmax"> = {
  prepare(_params, layer, context) {
    checkCount(context, "softmax", layer.input, 1);
    return (inputs) => {
      const x = inputs[0] as Tensor;
      requireRank(context, "softmax", x.shape, 3);
      const { outer, channels: c, height: h, width: w } = chwView(x.shape);
      return [tensor(x.shape, softmaxChannels(x.data, outer, c, h * w))];
    };
  },
};

/**
 * Softmax over `c` of `[outer, c, hw]` data. The largest value of each position
 * is subtracted first so that no exponential overflows; rows of `hw` values are
 * handled together so the data is read in order.
 */
function softmaxChannels(src: Float32Array, outer: number, c: number, hw: number): Float32Array {
  const out = new Float32Array(src.length);
  const peak = new Float64Array(hw);
  const sum = new Float64Array(hw);
  const exps = new Float64Array(c * hw);
  for (let o = 0; o < outer; o++) {
    const base = o * c * hw;
    peak.fill(-Infinity);
    sum.fill(0);
    for (let ch = 0; ch < c; ch++) {
      const row = base + ch * hw;
      for (let q = 0; q < hw; q++) if ((src[row + q] as number) > (peak[q] as number)) peak[q] = src[row + q] as number;
    }
    for (let ch = 0; ch < c; ch++) {
      const row = base + ch * hw;
      for (let q = 0; q < hw; q++) {
        const e = Math.exp((src[row + q] as number) - (peak[q] as number));
        exps[ch * hw + q] = e;
        sum[q] = (sum[q] as number) + e;
      }
    }
    for (let ch = 0; ch < c; ch++) {
      const row = base + ch * hw;
      for (let q = 0; q < hw; q++) out[row + q] = (exps[ch * hw + q] as number) / (sum[q] as number);
    }
  }
  return out;
}

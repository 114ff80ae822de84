/**
 * The classic reduce layer: one operation over the trailing axes C, H, W, HW or
 * CHW; the reduced axes stay, with size 1. LOGSUM is the proto's
 * `sum(ln(x + epsilon))` (epsilon 0 read as 1e-6); ARGMAX gives the first index
 * of the largest value, as a float.
 *
 * @packageDocumentation
 */
import { ReduceLayerParams_ReduceAxis as Axis, ReduceLayerParams_ReduceOperation as Mode } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { requireRank } from "../chw-view.js";
import { checkCount, invalidParameter, unsupportedOption } from "../layer-errors.js";

/** The epsilon of LOGSUM when the field is unset (0). */
const DEFAULT_REDUCE_EPSILON = 1e-6;

/** How many trailing axes each axis option reduces, and how many it skips at the end. */
const AXES: Readonly<Record<Axis, { readonly count: number; readonly skip: number; readonly name: string }>> = {
  [Axis.CHW]: { count: 3, skip: 0, name: "CHW" },
  [Axis.HW]: { count: 2, skip: 0, name: "HW" },
  [Axis.C]: { count: 1, skip: 2, name: "C" },
  [Axis.H]: { count: 1, skip: 1, name: "H" },
  [Axis.W]: { count: 1, skip: 0, name: "W" },
};

/** The reduce layer kind. */
export const reduceLayer: LayerImpl<"reduce"> = {
  prepare(params, layer, context) {
    checkCount(context, "reduce", layer.input, 1);
    const mode = params.mode;
    if (!(mode in Mode)) throw unsupportedOption(context, `reduce mode ${mode} is not supported`);
    const axes = AXES[params.axis];
    if (axes === undefined) throw unsupportedOption(context, `reduce axis ${params.axis} is not supported`);
    if (mode === Mode.ARGMAX && axes.count !== 1) {
      throw invalidParameter(context, `reduce ARGMAX takes axis C, H or W, not ${axes.name}`);
    }
    const epsilon = params.epsilon === 0 ? DEFAULT_REDUCE_EPSILON : params.epsilon;
    return (inputs) => {
      const x = inputs[0] as Tensor;
      const shape = x.shape;
      const rank = shape.length;
      requireRank(context, `reduce over ${axes.name}`, shape, axes.count + axes.skip);
      // The reduced axes are contiguous: the data is [pre, n, post] with n reduced.
      const first = rank - axes.skip - axes.count;
      const last = rank - axes.skip;
      let pre = 1;
      let n = 1;
      let post = 1;
      shape.forEach((d, i) => {
        if (i < first) pre *= d;
        else if (i < last) n *= d;
        else post *= d;
      });
      const outShape = shape.map((d, i) => (i >= first && i < last ? 1 : d));
      return [tensor(outShape, reduceData(x.data, pre, n, post, mode, epsilon))];
    };
  },
};

/**
 * Reduces `[pre, n, post]` data over `n`. Accumulates whole `post` rows at a time,
 * in float64, so the input is read in order.
 */
function reduceData(src: Float32Array, pre: number, n: number, post: number, mode: Mode, epsilon: number): Float32Array {
  const out = new Float32Array(pre * post);
  const acc = new Float64Array(post);
  const best = mode === Mode.ARGMAX ? new Float64Array(post) : acc;
  for (let p = 0; p < pre; p++) {
    const start = p * n * post;
    const seeded = mode === Mode.MAX || mode === Mode.MIN || mode === Mode.ARGMAX;
    if (seeded) {
      // The first row seeds max, min and argmax (index 0).
      // (For max and min, best is acc itself.)
      for (let q = 0; q < post; q++) best[q] = n > 0 ? (src[start + q] as number) : NaN;
      if (mode === Mode.ARGMAX) acc.fill(0);
    } else {
      acc.fill(mode === Mode.PROD ? 1 : 0);
    }
    for (let k = seeded ? 1 : 0; k < n; k++) {
      const row = start + k * post;
      switch (mode) {
        case Mode.SUM:
        case Mode.AVG:
          for (let q = 0; q < post; q++) acc[q] = (acc[q] as number) + (src[row + q] as number);
          break;
        case Mode.PROD:
          for (let q = 0; q < post; q++) acc[q] = (acc[q] as number) * (src[row + q] as number);
          break;
        case Mode.LOGSUM:
          for (let q = 0; q < post; q++) acc[q] = (acc[q] as number) + Math.log((src[row + q] as number) + epsilon);
          break;
        case Mode.SUMSQUARE:
        case Mode.L2:
          for (let q = 0; q < post; q++) acc[q] = (acc[q] as number) + (src[row + q] as number) * (src[row + q] as number);
          break;
        case Mode.L1:
          for (let q = 0; q < post; q++) acc[q] = (acc[q] as number) + Math.abs(src[row + q] as number);
          break;
        case Mode.MAX:
          for (let q = 0; q < post; q++) if ((src[row + q] as number) > (best[q] as number)) best[q] = src[row + q] as number;
          break;
        case Mode.MIN:
          for (let q = 0; q < post; q++) if ((src[row + q] as number) < (best[q] as number)) best[q] = src[row + q] as number;
          break;
        case Mode.ARGMAX:
          // Strictly greater: ties keep the first index.
          for (let q = 0; q < post; q++) {
            if ((src[row + q] as number) > (best[q] as number)) {
              best[q] = src[row + q] as number;
              acc[q] = k;
            }
          }
          break;
      }
    }
    const o = p * post;
    switch (mode) {
      case Mode.AVG:
        for (let q = 0; q < post; q++) out[o + q] = (acc[q] as number) / n;
        break;
      case Mode.L2:
        for (let q = 0; q < post; q++) out[o + q] = Math.sqrt(acc[q] as number);
        break;
      case Mode.MAX:
      case Mode.MIN:
        for (let q = 0; q < post; q++) out[o + q] = best[q] as number;
        break;
      default:
        for (let q = 0; q < post; q++) out[o + q] = acc[q] as number;
    }
  }
  return out;
}

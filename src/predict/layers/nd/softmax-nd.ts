/**
 * softmaxND: softmax along one axis (negative counting from the end).
 *
 * @packageDocumentation
 */
import type { LayerImpls, Tensor } from "../../layer-runner.js";
import { sizeOf } from "../../tensor.js";
import { checkCount, normalizeAxis } from "../layer-errors.js";

/** The softmaxND layer kind. */
export const SOFTMAX_ND_LAYERS: LayerImpls = {
  softmaxND: {
    prepare: (params, layer, context) => {
      checkCount(context, "softmaxND", layer.input, 1);
      return ([x]) => {
        const input = x as Tensor;
        const axis = normalizeAxis(context, "softmaxND", params.axis, input.shape.length);
        const n = input.shape[axis] as number;
        const inner = sizeOf(input.shape.slice(axis + 1));
        const outer = sizeOf(input.shape.slice(0, axis));
        const src = input.data;
        const out = new Float32Array(src.length);
        for (let o = 0; o < outer; o++) {
          for (let q = 0; q < inner; q++) {
            const base = o * n * inner + q;
            // Shift by the maximum so exp does not overflow.
            let max = -Infinity;
            for (let i = 0, at = base; i < n; i++, at += inner) if ((src[at] as number) > max) max = src[at] as number;
            let sum = 0;
            for (let i = 0, at = base; i < n; i++, at += inner) sum += Math.exp((src[at] as number) - max);
            for (let i = 0, at = base; i < n; i++, at += inner) out[at] = Math.exp((src[at] as number) - max) / sum;
          }
        }
        return [{ shape: [...input.shape], data: out }];
      };
    },
  },
};

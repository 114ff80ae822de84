/**
 * The dot layer: the dot product (or cosine similarity) of two vectors lying on
 * the channel axis, `[..., C, 1, 1]` each, giving `[..., 1, 1, 1]`.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { chwView, requireRank } from "../chw-view.js";
import { checkCount, formatShape, inputShapeError } from "../layer-errors.js";

/** The dot layer kind. */
export const dotLayer: LayerImpl<"dot"> = {
  prepare(params, layer, context) {
    checkCount(context, "dot", layer.input, 2);
    const cosine = params.cosineSimilarity;
    return (inputs) => {
      const a = inputs[0] as Tensor;
      const b = inputs[1] as Tensor;
      requireRank(context, "dot", a.shape, 3);
      const { outer, channels: c, height: h, width: w } = chwView(a.shape);
      const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
      if (!same || h !== 1 || w !== 1) {
        throw inputShapeError(context, `dot needs two inputs of one shape [..., C, 1, 1], got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
      }
      const out = new Float32Array(outer);
      for (let o = 0; o < outer; o++) {
        let dot = 0;
        let aa = 0;
        let bb = 0;
        for (let i = o * c; i < (o + 1) * c; i++) {
          const x = a.data[i] as number;
          const y = b.data[i] as number;
          dot += x * y;
          aa += x * x;
          bb += y * y;
        }
        out[o] = cosine ? dot / (Math.sqrt(aa) * Math.sqrt(bb)) : dot;
      }
      return [tensor([...a.shape.slice(0, -3), 1, 1, 1], out)];
    };
  },
};

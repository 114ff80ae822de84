/**
 * The sequenceRepeat layer: the whole sequence (axis -5) repeated
 * `nRepetitions` times (0 read as 1).
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { requireRank } from "../chw-view.js";
import { checkCount } from "../layer-errors.js";

/** The sequenceRepeat layer kind. */
export const sequenceRepeatLayer: LayerImpl<"sequenceRepeat"> = {
  prepare(params, layer, context) {
    checkCount(context, "sequenceRepeat", layer.input, 1);
    const times = Number(params.nRepetitions) || 1;
    return (inputs) => {
      const x = inputs[0] as Tensor;
      requireRank(context, "sequenceRepeat", x.shape, 5);
      const axis = x.shape.length - 5;
      let pre = 1;
      for (let i = 0; i < axis; i++) pre *= x.shape[i] as number;
      const block = x.data.length / pre;
      const out = new Float32Array(x.data.length * times);
      for (let p = 0; p < pre; p++) {
        const from = x.data.subarray(p * block, (p + 1) * block);
        for (let t = 0; t < times; t++) out.set(from, (p * times + t) * block);
      }
      return [
        tensor(
          x.shape.map((d, i) => (i === axis ? d * times : d)),
          out,
        ),
      ];
    };
  },
};

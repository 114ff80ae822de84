/**
 * The classic split layer: the channel axis (-3) cut into `nOutputs` equal parts.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { chwView, requireRank } from "../chw-view.js";
import { checkCount, formatShape, inputShapeError, invalidParameter } from "../layer-errors.js";

/** The split layer kind. */
export const splitLayer: LayerImpl<"split"> = {
  prepare(params, layer, context) {
    checkCount(context, "split", layer.input, 1);
    const parts = layer.output.length;
    const declared = Number(params.nOutputs);
    if (parts === 0 || (declared !== 0 && declared !== parts)) {
      throw invalidParameter(context, `split has nOutputs ${declared} but ${parts} outputs`);
    }
    return (inputs) => {
      const x = inputs[0] as Tensor;
      requireRank(context, "split", x.shape, 3);
      const { outer, channels: c, height: h, width: w } = chwView(x.shape);
      if (c % parts !== 0) {
        throw inputShapeError(context, `split cannot cut ${c} channels of ${formatShape(x.shape)} into ${parts} equal parts`);
      }
      const partC = c / parts;
      const block = partC * h * w;
      const outShape = [...x.shape.slice(0, -3), partC, h, w];
      const outs: Tensor[] = [];
      for (let k = 0; k < parts; k++) {
        const data = new Float32Array(outer * block);
        for (let o = 0; o < outer; o++) {
          const from = (o * parts + k) * block;
          data.set(x.data.subarray(from, from + block), o * block);
        }
        outs.push(tensor(outShape, data));
      }
      return outs;
    };
  },
};

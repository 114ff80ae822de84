/**
 * The classic permute layer: reorders the axes Seq, C, H, W of a rank-5 blob
 * (numbered 0 to 3 in `axis`); Batch stays at axis 1.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { checkCount, formatShape, inputShapeError, invalidParameter } from "../layer-errors.js";
import { transposeData } from "../strided-copy.js";

/** Where the permuted axes 0..3 (Seq, C, H, W) are in a `[Seq, Batch, C, H, W]` blob. */
const BLOB_AXIS = [0, 2, 3, 4] as const;

/** The permute layer kind. */
export const permuteLayer: LayerImpl<"permute"> = {
  prepare(params, layer, context) {
    checkCount(context, "permute", layer.input, 1);
    const axis = params.axis.length === 0 ? [0, 1, 2, 3] : params.axis.map(Number);
    if (axis.length !== 4 || [0, 1, 2, 3].some((a) => !axis.includes(a))) {
      throw invalidParameter(context, `permute axis ${formatShape(axis)} is not a permutation of [0, 1, 2, 3]`);
    }
    // A permutation of 0..3 (checked above): four entries, each a BLOB_AXIS index.
    const [a0, a1, a2, a3] = axis.map((a) => BLOB_AXIS[a]) as [number, number, number, number];
    const perm = [a0, 1, a1, a2, a3];
    return (inputs) => {
      const x = inputs[0] as Tensor;
      if (x.shape.length !== 5) {
        throw inputShapeError(context, `permute needs a rank-5 blob [Seq, Batch, C, H, W], got ${formatShape(x.shape)}`);
      }
      const out = transposeData(x.data, x.shape, perm);
      return [tensor(out.shape, out.data)];
    };
  },
};

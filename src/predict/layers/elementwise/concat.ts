/**
 * The classic concat layer: inputs joined along the channel axis (-3), or along
 * the sequence axis (-5) with `sequenceConcat`.
 *
 * @packageDocumentation
 */
import type { LayerContext, LayerImpl, Tensor } from "../../layer-runner.js";
import { sizeOf, tensor } from "../../tensor.js";
import { requireRank } from "../chw-view.js";
import { checkCount, formatShape, inputShapeError } from "../layer-errors.js";

/** The concat layer kind. */
export const concatLayer: LayerImpl<"concat"> = {
  prepare(params, layer, context) {
    checkCount(context, "concat", layer.input, 1, Infinity);
    const back = params.sequenceConcat ? 5 : 3;
    return (inputs) => [concatAlong(context, inputs, back)];
  },
};

/**
 * Joins tensors of equal rank along axis `-back`; every other axis must match.
 *
 * @param context - the layer's context, for errors
 * @param inputs - one or more tensors
 * @param back - the axis, counted from the end (3: C, 5: Seq)
 * @returns the joined tensor
 * @throws {@link QuantizeError} `invalid-input` when ranks or other axes differ
 */
function concatAlong(context: LayerContext, inputs: readonly Tensor[], back: number): Tensor {
  // checkCount made sure there is at least one input.
  const first = (inputs[0] as Tensor).shape;
  requireRank(context, back === 5 ? "concat along the sequence axis" : "concat", first, back);
  const axis = first.length - back;
  const outShape = [...first];
  outShape[axis] = 0;
  for (const t of inputs) {
    if (t.shape.length !== first.length || t.shape.some((d, i) => i !== axis && d !== first[i])) {
      throw inputShapeError(context, `concat inputs must match except on axis -${back}: ${inputs.map((x) => formatShape(x.shape)).join(", ")}`);
    }
    outShape[axis] = (outShape[axis] as number) + (t.shape[axis] as number);
  }
  let pre = 1;
  for (let i = 0; i < axis; i++) pre *= first[i] as number;
  const out = new Float32Array(sizeOf(outShape));
  // For each leading index, the inputs' blocks one after another.
  let at = 0;
  for (let p = 0; p < pre; p++) {
    for (const t of inputs) {
      const block = t.data.length / pre;
      out.set(t.data.subarray(p * block, (p + 1) * block), at);
      at += block;
    }
  }
  return tensor(outShape, out);
}

/**
 * The classic loadConstant layer: its weights as the rank-5 blob `[1, 1, C, H, W]`.
 *
 * @packageDocumentation
 */
import type { LayerImpl } from "../../layer-runner.js";
import { decodedWeights, sizeOf, tensor } from "../../tensor.js";
import { checkCount, formatShape, invalidParameter, weightCountError } from "../layer-errors.js";

/** The loadConstant layer kind. */
export const loadConstantLayer: LayerImpl<"loadConstant"> = {
  prepare(params, layer, context) {
    checkCount(context, "loadConstant", layer.input, 0);
    const shape = params.shape.map(Number);
    if (shape.length !== 3) throw invalidParameter(context, `loadConstant shape ${formatShape(shape)} must be [C, H, W]`);
    const values = decodedWeights(layer, context.path).get("data");
    const size = sizeOf(shape);
    if (values === undefined || values.length !== size) {
      throw weightCountError(context, "data", values?.length ?? 0, `${size} for shape ${formatShape(shape)}`);
    }
    // A copy: float32 weights are views of the model's bytes. Outputs are never
    // written to, so every run can hand out the same tensor.
    const constant = tensor([1, 1, ...shape], values.slice());
    return () => [constant];
  },
};

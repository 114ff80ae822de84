/**
 * The weights of the scale and bias layers: shaped `[1]`, `[C]`, `[1, H, W]` or
 * `[C, H, W]`, and broadcast over the input's trailing `[C, H, W]` axes.
 *
 * @packageDocumentation
 */
import type { LayerContext } from "../../layer-runner.js";
import { sizeOf } from "../../tensor.js";
import { broadcastTo } from "../broadcast.js";
import type { ChwView } from "../chw-view.js";
import { formatShape, inputShapeError, invalidParameter, weightCountError } from "../layer-errors.js";

/** A decoded weight with its declared shape, as three axes `[C, H, W]`. */
export interface ChannelParameter {
  readonly field: string;
  readonly values: Float32Array;
  /** `[1]` and `[C]` read as `[1, 1, 1]` and `[C, 1, 1]`. */
  readonly shape: readonly [number, number, number];
}

/**
 * Checks a declared weight shape and the weight's value count, once, when the
 * layer is prepared.
 *
 * @param context - the layer's context
 * @param kind - the layer kind, for messages
 * @param field - the weight field, e.g. `shapeScale`'s `scale`
 * @param declared - the declared shape (`shapeScale`, `shapeBias`, `shape`)
 * @param values - the decoded weights (undefined when the field is absent)
 * @returns the parameter
 * @throws {@link QuantizeError} `invalid-option` for a shape of another rank,
 *   `invalid-weights` when the value count is not the shape's size
 */
export function channelParameter(
  context: LayerContext,
  kind: string,
  field: string,
  declared: readonly bigint[],
  values: Float32Array | undefined,
): ChannelParameter {
  const dims = declared.map(Number);
  let shape: [number, number, number];
  if (dims.length === 1) shape = [dims[0] as number, 1, 1];
  else if (dims.length === 3) shape = dims as [number, number, number];
  else throw invalidParameter(context, `${kind} weight "${field}" has shape ${formatShape(dims)}; expected [1], [C], [1, H, W] or [C, H, W]`);
  const size = sizeOf(shape);
  if (values === undefined || values.length !== size) {
    throw weightCountError(context, field, values?.length ?? 0, `${size} for shape ${formatShape(dims)}`);
  }
  return { field, values, shape };
}

/**
 * The parameter repeated to the input's `[C, H, W]`, so that the layer's loop is
 * a plain walk over each batch.
 *
 * @param context - the layer's context
 * @param kind - the layer kind, for messages
 * @param parameter - from {@link channelParameter}
 * @param view - the input's `[C, H, W]` view
 * @returns `C * H * W` values (possibly the weights themselves: read only)
 * @throws {@link QuantizeError} `invalid-input` when an axis of the parameter is neither 1 nor the input's
 */
export function expandParameter(context: LayerContext, kind: string, parameter: ChannelParameter, view: ChwView): Float32Array {
  const target = [view.channels, view.height, view.width];
  if (parameter.shape.some((d, i) => d !== 1 && d !== target[i])) {
    throw inputShapeError(
      context,
      `${kind} weight "${parameter.field}" of shape ${formatShape(parameter.shape)} does not fit an input of [C, H, W] ${formatShape(target)}`,
    );
  }
  return broadcastTo(parameter.values, parameter.shape, target);
}

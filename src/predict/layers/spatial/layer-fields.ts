/**
 * Reading the common parameter shapes of the spatial layers: `[H, W]` pairs with
 * the format's defaults, border amounts, and weight vectors of a required length.
 *
 * @packageDocumentation
 */
import type { BorderAmounts } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerContext } from "../../layer-runner.js";
import { invalidWeights, unsupportedOption } from "../layer-errors.js";

/** Amounts added (or removed) on each side of the `H` and `W` axes. */
export interface Borders {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** No border on any side. */
export const NO_BORDERS: Borders = Object.freeze({ top: 0, bottom: 0, left: 0, right: 0 });

/**
 * A repeated `[H, W]` field: `fallback` when unset (the format's default), both
 * values at least `min`.
 *
 * @param values - the field as decoded
 * @param fallback - the default for an unset field
 * @param min - the smallest valid value
 * @param context - the layer's context, for errors
 * @param kind - the layer kind, for errors
 * @param field - the field name, for errors
 * @returns `[H, W]`
 * @throws {@link QuantizeError} `unsupported-layer` for a length other than 0 or 2, or a value below `min`
 */
export function hwPair(
  values: readonly (bigint | number)[],
  fallback: readonly [number, number],
  min: number,
  context: LayerContext,
  kind: string,
  field: string,
): [number, number] {
  if (values.length === 0) return [fallback[0], fallback[1]];
  const [h, w] = values.map(Number);
  if (values.length !== 2 || h === undefined || w === undefined || !(h >= min) || !(w >= min)) {
    throw unsupportedOption(context, `${kind} with ${field} [${values.join(", ")}] (needs [H, W], each >= ${min}) is not supported`);
  }
  return [h, w];
}

/**
 * A BorderAmounts message as four sides; unset means no border.
 *
 * @param amounts - the message (`[H, W]` edge sizes)
 * @param context - the layer's context, for errors
 * @param kind - the layer kind, for errors
 * @param field - the field name, for errors
 * @returns the four amounts
 * @throws {@link QuantizeError} `unsupported-layer` when borderAmounts has a length other than 0 or 2
 */
export function borders(amounts: BorderAmounts | undefined, context: LayerContext, kind: string, field: string): Borders {
  const edges = amounts?.borderAmounts ?? [];
  if (edges.length === 0) return NO_BORDERS;
  const [h, w] = edges;
  if (edges.length !== 2 || h === undefined || w === undefined) {
    throw unsupportedOption(context, `${kind} with ${edges.length} ${field}.borderAmounts (needs [H, W]) is not supported`);
  }
  return {
    top: Number(h.startEdgeSize),
    bottom: Number(h.endEdgeSize),
    left: Number(w.startEdgeSize),
    right: Number(w.endEdgeSize),
  };
}

/**
 * A decoded weight field that must hold exactly `length` values.
 *
 * @param weights - the layer's decoded weights (from decodedWeights)
 * @param field - the field name
 * @param length - how many values the layer's parameters call for
 * @param context - the layer's context, for errors
 * @param kind - the layer kind, for errors
 * @returns the values
 * @throws {@link QuantizeError} `invalid-weights` when absent or of another length
 */
export function weightVector(weights: ReadonlyMap<string, Float32Array>, field: string, length: number, context: LayerContext, kind: string): Float32Array {
  const values = weights.get(field);
  if (values === undefined || values.length !== length) {
    const got = values === undefined ? "none" : String(values.length);
    throw invalidWeights(context, `${kind}: ${field} needs ${length} values, has ${got}`);
  }
  return values;
}

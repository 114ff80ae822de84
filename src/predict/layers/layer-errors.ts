/**
 * The refusals of every layer family, worded alike: where (the layer path), the
 * layer kind, then what is wrong with which value. Each message starts with the
 * kind; the error's code says whose fault it is.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../errors.js";
import type { LayerContext } from "../layer-runner.js";

/**
 * A layer option this executor does not implement, or a parameter value no
 * implementation could run (a zero stride, an even LRN window).
 *
 * @param context - the layer's context (for its path)
 * @param message - starts with the kind: `slice with endIndex 0 is not supported: ...`
 * @returns the error, to throw (`unsupported-layer`)
 */
export function unsupportedOption(context: LayerContext, message: string): QuantizeError {
  return new QuantizeError("unsupported-layer", message, { path: context.path });
}

/**
 * A parameter the proto forbids (a permutation that is not one, a zero block
 * size), or a wrong input or output count.
 *
 * @param context - the layer's context
 * @param message - starts with the kind and names the field and value
 * @returns the error, to throw (`invalid-option`)
 */
export function invalidParameter(context: LayerContext, message: string): QuantizeError {
  return new QuantizeError("invalid-option", message, { path: context.path });
}

/**
 * Blobs reaching the layer with shapes (or values) it cannot take: they come
 * from the prediction's inputs through the network.
 *
 * @param context - the layer's context
 * @param message - starts with the kind and names the shapes or values
 * @returns the error, to throw (`invalid-input`)
 */
export function inputShapeError(context: LayerContext, message: string): QuantizeError {
  return new QuantizeError("invalid-input", message, { path: context.path });
}

/**
 * A weight field that is missing or does not hold the number of values the
 * layer's parameters call for, reported at the layer's path.
 *
 * @param context - the layer's context
 * @param message - starts with the kind and names the field
 * @returns the error, to throw (`invalid-weights`)
 */
export function invalidWeights(context: LayerContext, message: string): QuantizeError {
  return new QuantizeError("invalid-weights", message, { path: context.path });
}

/**
 * A weight field whose value count does not fit the shape the layer declares,
 * reported at the field's path.
 *
 * @param context - the layer's context
 * @param field - the weight field, e.g. `bias`
 * @param count - how many values it holds
 * @param expected - what the declared shape implies, in words
 * @returns the error, to throw (`invalid-weights`)
 */
export function weightCountError(context: LayerContext, field: string, count: number, expected: string): QuantizeError {
  return new QuantizeError("invalid-weights", `${field} holds ${count} values, expected ${expected}`, {
    path: `${context.path}/${field}`,
  });
}

/**
 * A shape for messages.
 *
 * @param shape - the shape
 * @returns e.g. `[1, 1, 3, 4, 4]`
 */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Refuses a layer whose input or output count the proto does not allow.
 *
 * @param context - the layer's context
 * @param kind - the layer kind, for the message
 * @param names - the layer's `input` (or `output`) names
 * @param min - the least count allowed
 * @param max - the most allowed @defaultValue min
 * @param what - `input` or `output` @defaultValue "input"
 * @throws {@link QuantizeError} `invalid-option`
 */
export function checkCount(context: LayerContext, kind: string, names: readonly string[], min: number, max = min, what: "input" | "output" = "input"): void {
  if (names.length >= min && names.length <= max) return;
  const allowed = min === max ? `${min}` : max === Infinity ? `${min} or more` : `${min} to ${max}`;
  throw invalidParameter(context, `${kind} takes ${allowed} ${what}s, the layer has ${names.length}`);
}

/**
 * An axis of a tensor of rank `rank`, negative values counting from the end.
 *
 * @param context - the layer's context
 * @param kind - the layer kind, for the message
 * @param axis - the layer's axis parameter
 * @param rank - the tensor's rank
 * @returns the axis in [0, rank)
 * @throws {@link QuantizeError} `invalid-input` when outside [-rank, rank)
 */
export function normalizeAxis(context: LayerContext, kind: string, axis: number | bigint, rank: number): number {
  const a = Number(axis);
  const r = a < 0 ? a + rank : a;
  if (!Number.isInteger(r) || r < 0 || r >= rank) throw inputShapeError(context, `${kind}: axis ${a} is outside a rank-${rank} tensor`);
  return r;
}

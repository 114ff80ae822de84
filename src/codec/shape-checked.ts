/**
 * Model objects known to have the shape the generated schema gives them: made by
 * decodeModel, made by this library's operations from such a model, or checked by
 * assertModelShape once. The walk that checks a hand-built object costs about as
 * much as decoding (seconds for a million layers), so it is not repeated on these.
 * A WeakSet: it keeps nothing alive. An object changed by hand after it was marked
 * is not checked again; the library never changes a model it is given, and callers
 * should build a new object rather than change one in place.
 *
 * @packageDocumentation
 */

const SHAPE_CHECKED = new WeakSet<object>();

/**
 * Records that `model` has the schema's shape, and returns it.
 *
 * @param model - a model made by the decoder or by an operation of this library
 * @returns `model`
 */
export function markShapeChecked<T extends object>(model: T): T {
  SHAPE_CHECKED.add(model);
  return model;
}

/**
 * Whether `value` is a model recorded by {@link markShapeChecked}.
 *
 * @param value - anything given as a model
 * @returns true when its shape need not be checked again
 */
export function isShapeChecked(value: unknown): boolean {
  return typeof value === "object" && value !== null && SHAPE_CHECKED.has(value);
}

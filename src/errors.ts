/**
 * The one error type this library throws for bad input, bad options and models it
 * cannot handle.
 *
 * @packageDocumentation
 */

/**
 * What went wrong, as a stable string scripts can switch on.
 *
 * - `invalid-protobuf`: the bytes are not a well-formed Core ML model (truncated,
 *   an impossible tag, lengths beyond the buffer, too deeply nested, a repeated
 *   field of structure beyond `MAX_REPEATED_SCALARS`, more messages than
 *   `MAX_MESSAGES`), or what was given as bytes is not bytes.
 * - `invalid-weights`: a WeightParams is inconsistent (value count does not match
 *   the layer's declared shape, two storages at once, a payload of the wrong size,
 *   int8 values without exactly one scale) or, in a model object built by hand, has
 *   a field of the wrong type.
 * - `unsupported-model`: the model holds no neural network this tool can change, or
 *   the object given as a model is not one (a field of the wrong type, a cycle,
 *   nesting deeper than `MAX_NESTING_DEPTH`).
 * - `invalid-option`: an option is out of range or does not combine with another.
 * - `unsupported-layer`: a selected layer kind has weights this operation cannot handle.
 * - `float16-overflow`: a weight is beyond the largest half-precision value.
 * - `non-finite-weight`: a weight is NaN or infinite where a finite value is needed.
 * - `lut-function`: a user lookup-table function threw or returned something unusable.
 * - `callback`: other code of the caller's threw while we ran it: a selector's
 *   `doQuantize`, `onProgress`, `onTensor`, or a getter on an options object. The
 *   caller's error is the `cause`.
 * - `io`: reading or writing a file failed.
 * - `invalid-input`: a prediction input is unusable: an unknown or missing feature
 *   name, a shape or value type the model does not accept, a malformed `.npy` file.
 */
export type ErrorCode =
  | "invalid-protobuf"
  | "invalid-weights"
  | "unsupported-model"
  | "invalid-option"
  | "unsupported-layer"
  | "float16-overflow"
  | "non-finite-weight"
  | "lut-function"
  | "callback"
  | "io"
  | "invalid-input";

/** Options of {@link QuantizeError}. */
export interface QuantizeErrorOptions {
  /** Where in the model: e.g. `neuralNetwork/layers[3] "conv1"/weights`. */
  readonly path?: string;
  /** The underlying error, when this one wraps another. */
  readonly cause?: unknown;
}

/**
 * Thrown for every refusal: its `code` says what kind, its message says what and
 * where (layer and field), and `path` repeats the where for programs.
 */
export class QuantizeError extends Error {
  override readonly name = "QuantizeError";
  /** What kind of failure, stable across versions. */
  readonly code: ErrorCode;
  /** Where in the model, when the failure belongs to one place. */
  readonly path: string | undefined;

  /**
   * @param code - what kind of failure
   * @param message - what is wrong, naming the offending value
   * @param options - where, and the underlying cause
   */
  constructor(code: ErrorCode, message: string, options: QuantizeErrorOptions = {}) {
    super(options.path === undefined ? message : `${options.path}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

/**
 * Whether `value` is a {@link QuantizeError}, optionally of one code.
 *
 * @param value - anything caught
 * @param code - when given, the error must also have this code
 * @returns true when `value` is a QuantizeError (with `code`, if given)
 */
export function isQuantizeError(value: unknown, code?: ErrorCode): value is QuantizeError {
  return value instanceof QuantizeError && (code === undefined || value.code === code);
}

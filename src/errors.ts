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
 *   a field of the wrong type. In an ML Program package: `weight.bin` is malformed
 *   (truncated, a version other than 2, a blob record without its sentinel, an
 *   unknown element type, bad padding, trailing bytes), or a program value
 *   disagrees with it (a blob offset that is misaligned or names no blob, a blob of
 *   another element type or count than the value's type) or with its own shape.
 * - `unsupported-model`: the model holds no neural network this tool can change, or
 *   the object given as a model is not one (a field of the wrong type, a cycle,
 *   nesting deeper than `MAX_NESTING_DEPTH`); for ML Programs, a package this tool
 *   cannot read (no or a malformed Manifest.json, a manifest naming a missing file
 *   or a path outside the package, a model that is not an ML Program, a value not
 *   a tensor of known dimensions, blocks nested deeper than `MAX_BLOCK_NESTING`), a
 *   zip archive that is not a plain zip of one (damaged, encrypted, zip64, another
 *   compression method), or a command that does not handle ML Programs yet.
 * - `invalid-option`: an option is out of range or does not combine with another
 *   (also: files too many or too large for a zip archive to hold).
 * - `unsupported-layer`: a selected layer kind has weights this operation cannot handle.
 * - `float16-overflow`: a weight is beyond the largest half-precision value.
 * - `non-finite-weight`: a weight is NaN or infinite where a finite value is needed.
 * - `lut-function`: a user lookup-table function threw or returned something unusable.
 * - `callback`: other code of the caller's threw while we ran it: a selector's
 *   `doQuantize`, `onProgress`, `onTensor`, or a getter on an options object. The
 *   caller's error is the `cause`.
 * - `io`: reading or writing a file failed (for a package folder also: not a
 *   folder, too many files in it, or an existing folder that is no package in the
 *   way of one being written).
 * - `invalid-input`: a prediction input is unusable: an unknown or missing feature
 *   name, a shape or value type the model does not accept, a malformed `.npy` file.
 * - `models-differ`: two models given as an original and its quantized version
 *   (`weightReport`, `compareModels`) do not correspond: another model kind,
 *   layer, layer count, weight shape or value count, or another output.
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
  | "invalid-input"
  | "models-differ";

/** Options of {@link QuantizeError}. */
export interface QuantizeErrorOptions {
  /** Where in the model: e.g. `neuralNetwork/layers[3] "conv1"/weights`. */
  readonly path?: string;
  /** The underlying error, when this one wraps another. */
  readonly cause?: unknown;
}

/** Shared by every copy of this module loaded in one process (see QuantizeError's brand). */
const QUANTIZE_ERROR_BRAND: unique symbol = Symbol.for("coreml-quantize.QuantizeError");

/**
 * Thrown for every refusal: its `code` says what kind, its message says what and
 * where (layer and field), and `path` repeats the where for programs.
 */
export class QuantizeError extends Error {
  /** Always `"QuantizeError"`, so logs and `error.name` checks tell it apart. */
  override readonly name = "QuantizeError";
  /**
   * The package's ES module and CommonJS builds each define this class; the brand
   * lets {@link isQuantizeError} recognise an error thrown by either.
   * @internal
   */
  readonly [QUANTIZE_ERROR_BRAND] = true;
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
    super(options.path === undefined ? message : `${options.path}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

/**
 * Whether `value` is a {@link QuantizeError}, optionally of one code. Errors of
 * another copy of this package in the same process (its CommonJS build beside the
 * ES module one, or a second installed version) count too, where `instanceof`
 * would say no.
 *
 * @param value - anything caught
 * @param code - when given, the error must also have this code
 * @returns true when `value` is a QuantizeError (with `code`, if given)
 */
export function isQuantizeError(value: unknown, code?: ErrorCode): value is QuantizeError {
  const branded =
    value instanceof QuantizeError ||
    (value instanceof Error && (value as Partial<Record<typeof QUANTIZE_ERROR_BRAND, unknown>>)[QUANTIZE_ERROR_BRAND] === true);
  return branded && (code === undefined || (value as QuantizeError).code === code);
}

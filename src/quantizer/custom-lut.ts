/**
 * Lookup-table quantization by a caller-supplied function (coremltools' `custom_lut`).
 *
 * @packageDocumentation
 */

import { describeThrown, describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import type { LutQuantized } from "./lut-quantized.js";
import { assertNbits, type QuantizerOptions } from "./quantizer-options.js";

/**
 * A user lookup-table builder: given the bit width and the tensor's values (in tensor
 * order), returns a table of exactly `2^nbits` entries and one integer index in
 * `0..2^nbits - 1` per value. It receives a copy of the values, so it may change them.
 */
export type LutFunction = (
  nbits: number,
  values: Float32Array,
) => {
  /** The `2^nbits` table entries (stored as float32, so finite after that rounding). */
  lut: ArrayLike<number>;
  /** One index into `lut` per value, in tensor order. */
  indices: ArrayLike<number>;
};

/**
 * Quantizes with a caller's {@link LutFunction} and checks what it returns.
 *
 * The table entries are stored as float32 and must stay finite after that rounding.
 * {@link dequantizeLut} is the inverse on the table.
 *
 * @param values - the tensor (not checked: the function decides what it accepts)
 * @param nbits - bits per index, 1..8
 * @param lutFunction - builds the table and the indices
 * @param options - where the tensor lives, for errors
 * @returns the indices and the `2^nbits`-entry table
 * @throws QuantizeError `invalid-option` for a bad `nbits` or a `lutFunction` that is
 *   not a function; `lut-function` when it throws, returns no `lut` / `indices`, a
 *   table of the wrong length or with an entry not finite as float32, the wrong number
 *   of indices, or an index that is not an integer in `0..2^nbits - 1` (the message
 *   names the first offender)
 */
export function customLut(values: Float32Array, nbits: number, lutFunction: LutFunction, options: QuantizerOptions = {}): LutQuantized {
  assertNbits(nbits, options);
  if (typeof lutFunction !== "function") {
    throw new QuantizeError("invalid-option", "custom_lut needs a lut function", options);
  }
  let result: unknown;
  try {
    result = lutFunction(nbits, values.slice());
  } catch (cause) {
    throw new QuantizeError("lut-function", `the lut function threw: ${describe(cause)}`, { ...options, cause });
  }
  if (
    typeof result !== "object" ||
    result === null ||
    !("lut" in result) ||
    !("indices" in result) ||
    !isArrayLike(result.lut) ||
    !isArrayLike(result.indices)
  ) {
    throw new QuantizeError("lut-function", "the lut function must return { lut, indices }, both arrays", options);
  }
  const size = 2 ** nbits;
  const lut = toTable(result.lut, size, options);
  const indices = toIndices(result.indices, values.length, size, options);
  return { indices, lut };
}

function toTable(source: ArrayLike<unknown>, size: number, options: QuantizerOptions): Float32Array {
  if (source.length !== size) {
    throw new QuantizeError("lut-function", `the lookup table has ${source.length} entries; ${size} (2^nbits) are needed`, options);
  }
  const lut = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const entry = source[i];
    const stored = typeof entry === "number" ? Math.fround(entry) : NaN;
    if (stored - stored !== 0) {
      throw new QuantizeError("lut-function", `lookup table entry ${i} is ${describe(entry)}, not a finite float32 number`, options);
    }
    lut[i] = stored;
  }
  return lut;
}

function toIndices(source: ArrayLike<unknown>, count: number, size: number, options: QuantizerOptions): Uint8Array {
  if (source.length !== count) {
    throw new QuantizeError("lut-function", `the lut function returned ${source.length} indices for ${count} values`, options);
  }
  const indices = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const q = source[k];
    if (typeof q !== "number" || !Number.isInteger(q) || q < 0 || q >= size) {
      throw new QuantizeError("lut-function", `index ${k} is ${describe(q)}; indices must be integers from 0 to ${size - 1}`, options);
    }
    indices[k] = q;
  }
  return indices;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  if (typeof value !== "object" || value === null || !("length" in value)) return false;
  const length = value.length;
  return typeof length === "number" && Number.isSafeInteger(length) && length >= 0;
}

/** A user's value or error for a message; never throws (a hostile `toString` cannot escape as a TypeError). */
function describe(value: unknown): string {
  return value instanceof Error ? describeThrown(value) : describeValue(value);
}

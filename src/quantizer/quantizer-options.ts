/**
 * The options every quantizer takes, and the input checks they share.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";

/** The widest index a quantizer produces: indices are stored one per byte at most. */
export const MAX_NBITS = 8;

/**
 * Options common to every function in `quantizer/`.
 *
 * The quantizers are pure math and know nothing of models; the caller passes where
 * the tensor lives so that a refusal names it without a catch-and-rethrow.
 */
export interface QuantizerOptions {
  /**
   * Where the tensor lives in the model, e.g. `neuralNetwork/layers[3] "conv1"/weights`;
   * copied to {@link QuantizeError.path} and prefixed to the message of any error.
   *
   * @defaultValue none: errors carry no path
   */
  readonly path?: string;
}

/**
 * Refuses a bit width the quantizers cannot produce.
 *
 * @param nbits - bits per index
 * @param options - where the tensor lives, for the error
 * @throws QuantizeError `invalid-option` unless `nbits` is an integer in 1..{@link MAX_NBITS}
 */
export function assertNbits(nbits: number, options: QuantizerOptions): void {
  if (!Number.isInteger(nbits) || nbits < 1 || nbits > MAX_NBITS) {
    throw new QuantizeError("invalid-option", `nbits must be an integer from 1 to ${MAX_NBITS}, got ${String(nbits)}`, options);
  }
}

/**
 * Refuses an empty tensor: there is no range or cluster to compute (callers leave
 * empty weights alone before asking).
 *
 * @param length - number of values
 * @param options - where the tensor lives, for the error
 * @throws QuantizeError `invalid-weights` when `length` is 0
 */
export function assertNotEmpty(length: number, options: QuantizerOptions): void {
  if (length === 0) {
    throw new QuantizeError("invalid-weights", "there are no values to quantize", options);
  }
}

/**
 * The error for a NaN or infinite weight, naming its index and value.
 *
 * @param index - position of the first offending value in tensor order
 * @param value - the offending value
 * @param options - where the tensor lives
 * @returns a QuantizeError `non-finite-weight`, to throw
 */
export function nonFiniteWeightError(index: number, value: number, options: QuantizerOptions): QuantizeError {
  return new QuantizeError("non-finite-weight", `value ${String(value)} at index ${index} is not finite; it cannot be quantized`, options);
}

/**
 * Finds the first NaN or infinite value, in tensor order.
 *
 * @param values - the tensor
 * @param options - where the tensor lives, for the error
 * @throws QuantizeError `non-finite-weight` naming the first offending index and value
 */
export function assertFinite(values: Float32Array, options: QuantizerOptions): void {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    // v - v is 0 for finite v and NaN for NaN and ±Infinity: one test for both.
    if (v - v !== 0) throw nonFiniteWeightError(i, v, options);
  }
}

/**
 * Refuses a quantization parameter that float32 storage cannot hold (the model
 * would decode to Infinity and NaN). Only extreme ranges get here: a 1-bit step
 * over [-3.4e38, 3.4e38] is 6.8e38.
 *
 * @param value - the float64 parameter
 * @param what - what it is, for the message (e.g. `the step of channel 3`)
 * @param options - where the tensor lives, for errors
 * @throws QuantizeError `invalid-weights`
 */
export function assertFloat32Finite(value: number, what: string, options: QuantizerOptions): void {
  if (!Number.isFinite(Math.fround(value))) {
    throw new QuantizeError(
      "invalid-weights",
      `${what} would be ${String(value)}, beyond the float32 range: the values span too wide a range to quantize`,
      options,
    );
  }
}

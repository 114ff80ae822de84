/**
 * Constraint checks shared by the arbitraries of `coreml-quantize/testing`: each
 * throws a `RangeError` (or `TypeError`) naming the arbitrary, the constraint and
 * the offending value, at the time the arbitrary is built (not while it runs).
 *
 * @internal
 * @packageDocumentation
 */

/** Largest integer a size constraint may take: beyond it a test would run out of memory long before. */
export const MAX_SIZE_CONSTRAINT = 1 << 20;

/**
 * `value` as an integer in `min..max`, or a `RangeError` naming `owner.name`.
 *
 * @param owner - the arbitrary's name, e.g. `weightTensor`
 * @param name - the constraint's name
 * @param value - the value given
 * @param min - the least allowed value
 * @param max - the largest allowed value
 * @returns `value`
 */
export function integerIn(owner: string, name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${owner}: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks that `min <= max` for a pair of constraints.
 *
 * @param owner - the arbitrary's name
 * @param minName - the name of the lower bound
 * @param min - its value
 * @param maxName - the name of the upper bound
 * @param max - its value
 */
export function ordered(owner: string, minName: string, min: number, maxName: string, max: number): void {
  if (min > max) {
    throw new RangeError(`${owner}: ${minName} (${min}) must not exceed ${maxName} (${max})`);
  }
}

/**
 * `value` when it is a positive number (Infinity allowed), else a `RangeError`.
 *
 * @param owner - the arbitrary's name
 * @param name - the constraint's name
 * @param value - the value given
 * @returns `value`
 */
export function positive(owner: string, name: string, value: number): number {
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new RangeError(`${owner}: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * `value` when it is a boolean, else a `TypeError`.
 *
 * @param owner - the arbitrary's name
 * @param name - the constraint's name
 * @param value - the value given
 * @returns `value`
 */
export function bool(owner: string, name: string, value: boolean): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${owner}: ${name} must be a boolean, got ${String(value)}`);
  }
  return value;
}

/**
 * `values` when it is a non-empty list of members of `allowed` without repeats,
 * else a `RangeError` listing the allowed values.
 *
 * @param owner - the arbitrary's name
 * @param name - the constraint's name
 * @param values - the list given
 * @param allowed - every value the list may hold
 * @returns a copy of `values`
 */
export function subsetOf<T extends string>(owner: string, name: string, values: readonly T[], allowed: readonly T[]): T[] {
  if (!Array.isArray(values) || values.length === 0) {
    throw new RangeError(`${owner}: ${name} must be a non-empty array of ${allowed.join(", ")}`);
  }
  const unknown = values.filter((v) => !allowed.includes(v));
  if (unknown.length > 0) {
    throw new RangeError(
      `${owner}: ${name} has unknown value${unknown.length > 1 ? "s" : ""} ${unknown.map((v) => JSON.stringify(v)).join(", ")}; valid: ${allowed.join(", ")}`,
    );
  }
  if (new Set(values).size !== values.length) {
    throw new RangeError(`${owner}: ${name} lists a value twice: ${values.join(", ")}`);
  }
  return values.slice();
}

/**
 * `value` when it is a string, else a `TypeError`.
 *
 * @param owner - the arbitrary's name
 * @param name - the constraint's name
 * @param value - the value given
 * @returns `value`
 */
export function text(owner: string, name: string, value: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${owner}: ${name} must be a string, got ${String(value)}`);
  }
  return value;
}

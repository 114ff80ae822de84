import { isQuantizeError, type ErrorCode, type QuantizeError } from "../../src/errors.js";

/**
 * Runs `fn` and expects it to throw a QuantizeError of `code` whose message contains
 * every fragment.
 *
 * @returns the error, for further checks
 */
export function expectQuantizeError(fn: () => unknown, code: ErrorCode, ...fragments: string[]): QuantizeError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  if (!isQuantizeError(caught)) throw new Error(`expected a QuantizeError ${code}, got ${String(caught)}`);
  expect(caught.code).toBe(code);
  for (const fragment of fragments) expect(caught.message).toContain(fragment);
  return caught;
}

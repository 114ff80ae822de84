/** An integer typed array (the bits of floats included: compare those as Uint32Array). */
type IntegerArray = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array;

/**
 * Expects two integer typed arrays of one type to hold the same elements. A byte
 * comparison, then the first differing index on failure: jest's toEqual walks a
 * typed array element by element, seconds for the million-element tables of the
 * kernel tests.
 */
export function expectSameElements(actual: IntegerArray, expected: IntegerArray): void {
  expect(actual.constructor.name).toBe(expected.constructor.name);
  expect(actual.length).toBe(expected.length);
  const bytes = (a: IntegerArray): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (bytes(actual).equals(bytes(expected))) return;
  const at = actual.findIndex((value: number, i: number) => value !== expected[i]);
  expect({ index: at, value: actual[at] }).toEqual({ index: at, value: expected[at] });
}

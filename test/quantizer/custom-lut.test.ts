import { isQuantizeError } from "../../src/errors.js";
import { customLut, type LutFunction } from "../../src/quantizer/custom-lut.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

const values = Float32Array.of(0.1, -2, 3, 0.1);

describe("customLut", () => {
  test("passes nbits and the values; returns a float32 table and byte indices", () => {
    const seen: number[] = [];
    const r = customLut(values, 2, (nbits, w) => {
      seen.push(nbits, ...w);
      return { lut: [0, 0.1, -2, 3], indices: [1, 2, 3, 1] };
    });
    expect(seen).toEqual([2, ...values]);
    expect(r.lut).toBeInstanceOf(Float32Array);
    expect(Array.from(r.lut)).toEqual([0, Math.fround(0.1), -2, 3]);
    expect(r.indices).toBeInstanceOf(Uint8Array);
    expect(Array.from(r.indices)).toEqual([1, 2, 3, 1]);
  });

  test("the function gets a copy: changing it leaves the caller's values alone", () => {
    const mine = Float32Array.of(1, 2);
    customLut(mine, 1, (_nbits, w) => {
      w.fill(9);
      return { lut: [1, 2], indices: [0, 1] };
    });
    expect(Array.from(mine)).toEqual([1, 2]);
  });

  test("accepts typed arrays in the result", () => {
    const r = customLut(values, 1, () => ({ lut: Float64Array.of(-1, 1), indices: Int32Array.of(1, 0, 1, 1) }));
    expect(Array.from(r.indices)).toEqual([1, 0, 1, 1]);
  });

  const refusals: [string, LutFunction, string[]][] = [
    ["a table of the wrong length", () => ({ lut: [1, 2, 3], indices: [0, 0, 0, 0] }), ["3 entries", "4 (2^nbits)"]],
    ["too few indices", () => ({ lut: [1, 2, 3, 4], indices: [0, 0, 0] }), ["3 indices for 4 values"]],
    ["an index of 2^nbits", () => ({ lut: [1, 2, 3, 4], indices: [0, 4, 0, 0] }), ["index 1 is 4", "0 to 3"]],
    ["a negative index", () => ({ lut: [1, 2, 3, 4], indices: [0, 0, -1, 0] }), ["index 2 is -1"]],
    ["a fractional index", () => ({ lut: [1, 2, 3, 4], indices: [0.5, 0, 0, 0] }), ["index 0 is 0.5"]],
    ["a NaN index", () => ({ lut: [1, 2, 3, 4], indices: [0, 0, 0, NaN] }), ["index 3 is NaN"]],
    ["a NaN table entry", () => ({ lut: [1, NaN, 3, 4], indices: [0, 0, 0, 0] }), ["entry 1 is NaN"]],
    ["an entry beyond float32", () => ({ lut: [1, 2, 1e39, 4], indices: [0, 0, 0, 0] }), ["entry 2 is 1e+39"]],
    ["no indices", () => ({ lut: [1, 2, 3, 4] }) as unknown as ReturnType<LutFunction>, ["{ lut, indices }"]],
    ["null", () => null as unknown as ReturnType<LutFunction>, ["{ lut, indices }"]],
    ["a table that is not an array", () => ({ lut: 5, indices: [0, 0, 0, 0] }) as unknown as ReturnType<LutFunction>, ["{ lut, indices }"]],
  ];
  test.each(refusals)("refuses %s, saying what is wrong", (_name, fn, fragments) => {
    expectQuantizeError(() => customLut(values, 2, fn, { path: "conv/weights" }), "lut-function", "conv/weights: ", ...fragments);
  });

  test("a throwing function becomes a lut-function error with the cause", () => {
    const boom = new Error("boom");
    let caught: unknown;
    try {
      customLut(values, 2, () => {
        throw boom;
      });
    } catch (error) {
      caught = error;
    }
    expect(isQuantizeError(caught, "lut-function")).toBe(true);
    expect(caught instanceof Error && caught.message).toContain("threw: boom");
    expect(caught instanceof Error && caught.cause).toBe(boom);
  });

  test("refuses a bad nbits and a missing function", () => {
    expectQuantizeError(() => customLut(values, 9, () => ({ lut: [], indices: [] })), "invalid-option", "nbits");
    expectQuantizeError(() => customLut(values, 2, undefined as unknown as LutFunction), "invalid-option", "lut function");
  });
});

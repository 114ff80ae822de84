import { assertFinite, assertNbits, assertNotEmpty, MAX_NBITS, nonFiniteWeightError } from "../../src/quantizer/quantizer-options.js";
import { isQuantizeError } from "../../src/errors.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

describe("assertNbits", () => {
  test("accepts 1 to 8", () => {
    for (let nbits = 1; nbits <= MAX_NBITS; nbits++) expect(() => assertNbits(nbits, {})).not.toThrow();
  });

  test.each([0, 9, 16, -1, 1.5, NaN, Infinity])("refuses %p", (nbits) => {
    expectQuantizeError(() => assertNbits(nbits, { path: "p" }), "invalid-option", "p: nbits must be an integer from 1 to 8", String(nbits));
  });
});

describe("assertNotEmpty", () => {
  test("refuses zero values only", () => {
    expect(() => assertNotEmpty(1, {})).not.toThrow();
    expectQuantizeError(() => assertNotEmpty(0, {}), "invalid-weights", "no values");
  });
});

describe("assertFinite and nonFiniteWeightError", () => {
  test("names the first NaN or infinity", () => {
    expect(() => assertFinite(Float32Array.of(0, -0, 3.4e38, -1e-45), {})).not.toThrow();
    expectQuantizeError(() => assertFinite(Float32Array.of(1, -Infinity, NaN), {}), "non-finite-weight", "index 1", "-Infinity");
  });

  test("the error carries the path", () => {
    const error = nonFiniteWeightError(3, NaN, { path: "fc/bias" });
    expect(isQuantizeError(error, "non-finite-weight")).toBe(true);
    expect(error.path).toBe("fc/bias");
    expect(error.message).toBe("fc/bias: value NaN at index 3 is not finite; it cannot be quantized");
  });
});

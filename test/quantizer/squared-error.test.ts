import { squaredError } from "../../src/quantizer/squared-error.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

describe("squaredError", () => {
  test("hand-computed: (1 - 0)^2 + (3 - 2.5)^2 + 0", () => {
    expect(squaredError(Float32Array.of(0, 2.5, 1), [1, 3], Uint8Array.of(0, 1, 0))).toBe(1.25);
  });

  test("refuses mismatched lengths and indices beyond the table", () => {
    expectQuantizeError(() => squaredError(Float32Array.of(1, 2), [0], Uint8Array.of(0)), "invalid-weights", "1 indices for 2 values");
    expectQuantizeError(() => squaredError(Float32Array.of(1), [0], Uint8Array.of(1)), "invalid-weights", "index 1 at position 0");
  });
});

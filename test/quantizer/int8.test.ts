import fc from "fast-check";
import { quantizeInt8 } from "../../src/quantizer/int8.js";
import { float32Values } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

const f = Math.fround;

describe("quantizeInt8", () => {
  test("hand-computed: m = 2, q = trunc(127 * w / 2), scale = f(2 / 127)", () => {
    // 127 * 1 / 2 = 63.5 -> 63; 127 * 0.5 / 2 = 31.75 -> 31; -2 -> -127; 2 -> 127.
    const r = quantizeInt8(Float32Array.of(-2, 1, 0.5, 2));
    expect(Array.from(r.values)).toEqual([-127, 63, 31, 127]);
    expect(r.scale).toBe(f(2 / 127));
  });

  test("truncates towards zero, not rounding: 126.9 -> 126, -126.9 -> -126", () => {
    // m = 1: 127 * f(0.9992126) = 126.899... and its negative.
    const w = f(0.9992126);
    const r = quantizeInt8(Float32Array.of(1, w, -w, f(0.0078)));
    expect(127 * w).toBeGreaterThan(126.89);
    expect(Array.from(r.values)).toEqual([127, 126, -126, 0]);
  });

  test("the largest magnitude is negative: m = |min|", () => {
    const r = quantizeInt8(Float32Array.of(-4, 2, 1));
    // 127 * 2 / 4 = 63.5 -> 63; 127 / 4 = 31.75 -> 31.
    expect(Array.from(r.values)).toEqual([-127, 63, 31]);
    expect(r.scale).toBe(f(4 / 127));
  });

  test("all zeros: zero values and scale 0, no NaN", () => {
    const r = quantizeInt8(Float32Array.of(0, -0, 0));
    expect(Array.from(r.values)).toEqual([0, 0, 0]);
    expect(r.scale).toBe(0);
  });

  test("|q| <= 127, q is 127 * w / m truncated, and q * scale is within one step of w", () => {
    fc.assert(
      fc.property(float32Values(1, 60, 1e6), (values) => {
        const r = quantizeInt8(values);
        const m = Math.max(...values.map(Math.abs));
        if (m === 0) return;
        for (let k = 0; k < values.length; k++) {
          const q = r.values[k] as number;
          expect(Math.abs(q)).toBeLessThanOrEqual(127);
          expect(q === Math.trunc((127 * (values[k] as number)) / m)).toBe(true);
          // Truncation loses less than one step (m / 127); the float32 scale adds 2^-24
          // relative, or up to 2^-150 absolute when m / 127 is subnormal (times |q| <= 127).
          expect(Math.abs(q * r.scale - (values[k] as number))).toBeLessThan(m / 127 + m * 2 ** -23 + 127 * 2 ** -150);
        }
      }),
    );
  });

  test("refuses non-finite values with the path, and an empty tensor", () => {
    expectQuantizeError(() => quantizeInt8(Float32Array.of(1, Infinity), { path: "fc" }), "non-finite-weight", "fc: ", "index 1", "Infinity");
    expectQuantizeError(() => quantizeInt8(new Float32Array(0)), "invalid-weights");
  });
});

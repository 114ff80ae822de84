import fc from "fast-check";
import { roundHalfEven, roundHalfEvenNonNegative } from "../../src/quantizer/round-half-even.js";
import { propertySeed } from "../support/property-seed.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 2000 });

describe("roundHalfEven", () => {
  test.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [-0.5, -0],
    [-1.5, -2],
    [-2.5, -2],
    [-3.5, -4],
    [0.49999999999999994, 0],
    [-0.49999999999999994, -0],
    [0.4, 0],
    [-0.4, -0],
    [0.6, 1],
    [-0, -0],
    [0, 0],
    [2 ** 51 + 0.5, 2 ** 51],
    [2 ** 51 + 1.5, 2 ** 51 + 2],
    [2 ** 52 + 1, 2 ** 52 + 1],
    [-(2 ** 51) - 0.5, -(2 ** 51)],
    [1e300, 1e300],
    [Infinity, Infinity],
    [-Infinity, -Infinity],
    [5e-324, 0],
    [-5e-324, -0],
  ])("roundHalfEven(%p) is %p (sign of zero included)", (x, expected) => {
    expect(Object.is(roundHalfEven(x), expected)).toBe(true);
  });

  test("NaN stays NaN", () => {
    expect(roundHalfEven(NaN)).toBeNaN();
  });

  test("n + 0.5 goes to the even one of n and n + 1", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), (n) => {
        const even = n % 2 === 0 ? n : n + 1;
        expect(roundHalfEven(n + 0.5) === even).toBe(true); // -0.5 gives -0, which === 0
      }),
    );
  });

  test("is the nearest integer, ties to even, keeping the sign (independent definition)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const r = roundHalfEven(x);
        // Definition by floor and ceil: both candidates are exact, and so are their
        // distances to x for these magnitudes (Sterbenz) or when x is an integer.
        const lower = Math.floor(x);
        const upper = Math.ceil(x);
        const below = x - lower;
        const above = upper - x;
        const expected = below < above ? lower : above < below ? upper : lower % 2 === 0 ? lower : upper;
        expect(r === expected).toBe(true);
        expect(Number.isInteger(r)).toBe(true);
        // numpy keeps the sign: a negative input never gives +0.
        expect(x < 0 || Object.is(x, -0) ? r < 0 || Object.is(r, -0) : r >= 0 && !Object.is(r, -0)).toBe(true);
      }),
    );
  });
});

describe("roundHalfEvenNonNegative", () => {
  test("agrees with roundHalfEven on [0, 2^51), halves and near-halves included", () => {
    const halves = fc.integer({ min: 0, max: 1 << 20 }).map((i) => i + 0.5);
    const nearHalves = halves.chain((h) => fc.constantFrom(h, h - 2 ** -30, h + 2 ** -30));
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true, max: 2 ** 51, maxExcluded: true }), halves, nearHalves), (x) => {
        expect(roundHalfEvenNonNegative(x)).toBe(roundHalfEven(x) + 0); // + 0: -0 and 0 alike
      }),
      { seed: propertySeed(), numRuns: 20_000 },
    );
  });

  test("edge values", () => {
    for (const [x, r] of [
      [0, 0],
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [254.5, 254],
      [255.49999999999997, 255],
      [0.49999999999999994, 0],
      [3.5000000000000004, 4],
      [2 ** 51 - 0.5, 2 ** 51],
      [2 ** 51 - 1.5, 2 ** 51 - 2],
      [2 ** 50 + 0.5, 2 ** 50],
      [Number.MIN_VALUE, 0],
    ] as const) {
      expect(roundHalfEvenNonNegative(x)).toBe(r);
    }
  });
});

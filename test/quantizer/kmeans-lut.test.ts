import fc from "fast-check";
import { propertySeed } from "../support/property-seed.js";
import { dequantizeLut } from "../../src/quantizer/dequantize.js";
import { DEFAULT_EXACT_BUDGET, kmeansLut } from "../../src/quantizer/kmeans-lut.js";
import { squaredError } from "../../src/quantizer/squared-error.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";
import { bruteForceKmeans, float32Values, gaussianValues, kmeansPlusPlusError } from "./helpers.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 200 });

const f = Math.fround;

/** Distinct ascending values and their multiplicities, as the definition of k-means sees them. */
function histogram(values: Float32Array): { xs: number[]; weights: number[] } {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v + 0, (counts.get(v + 0) ?? 0) + 1); // -0 + 0 is +0
  const xs = [...counts.keys()].sort((a, b) => a - b);
  return { xs, weights: xs.map((x) => counts.get(x) ?? 0) };
}

/**
 * A tensor drawn (with repeats) from a pool of at most `distinct` float32 values, 0 or
 * of magnitude 2^-20..100: float64 differences of two such values are exact (their
 * exponents differ by less than 29), which the nearest-entry check below relies on.
 */
function pooledValues(distinct: number, maxLength: number): fc.Arbitrary<Float32Array> {
  const value = fc.float({ noNaN: true, noDefaultInfinity: true, min: -100, max: 100 }).filter((v) => v === 0 || Math.abs(v) >= 2 ** -20);
  return fc
    .uniqueArray(value, { minLength: 1, maxLength: distinct, comparator: (a, b) => a === b })
    .chain((pool) => fc.array(fc.constantFrom(...pool), { minLength: pool.length, maxLength }))
    .map((a) => Float32Array.from(a));
}

/** Checks the LUT invariants: ascending used entries, zero unused ones, nearest-entry indices. */
function expectWellFormed(values: Float32Array, lut: Float32Array, indices: Uint8Array, nbits: number): void {
  expect(lut.length).toBe(2 ** nbits);
  expect(indices.length).toBe(values.length);
  const used = Math.min(2 ** nbits, histogram(values).xs.length);
  for (let c = 1; c < used; c++) expect(lut[c]).toBeGreaterThanOrEqual(lut[c - 1] as number);
  for (let c = used; c < lut.length; c++) expect(Object.is(lut[c], 0)).toBe(true);
  for (let k = 0; k < values.length; k++) {
    const q = indices[k] as number;
    expect(q).toBeLessThan(used);
    const d = Math.abs((lut[q] as number) - (values[k] as number));
    // Nearest used entry, ties to the lower index (float64 midpoints: exact for these magnitudes).
    for (let c = 0; c < used; c++) {
      const e = Math.abs((lut[c] as number) - (values[k] as number));
      expect(c < q ? e > d : e >= d).toBe(true);
    }
  }
}

describe("kmeansLut: at most 2^n distinct values", () => {
  test("hand example: each distinct value is its own entry, ascending, rest 0", () => {
    const values = Float32Array.of(3, -1, 3, 0.5, -1);
    const r = kmeansLut(values, 2);
    expect(Array.from(r.lut)).toEqual([-1, 0.5, 3, 0]);
    expect(Array.from(r.indices)).toEqual([2, 0, 2, 1, 0]);
  });

  test("zero error, zero-filled unused entries, for any such tensor", () => {
    fc.assert(
      fc.property(pooledValues(16, 60), fc.integer({ min: 4, max: 8 }), (values, nbits) => {
        const r = kmeansLut(values, nbits);
        expectWellFormed(values, r.lut, r.indices, nbits);
        expect(squaredError(values, r.lut, r.indices)).toBe(0);
      }),
    );
  });

  test("-0 and +0 are one value", () => {
    const r = kmeansLut(Float32Array.of(0, -0, 1, 0), 1);
    expect(Array.from(r.lut)).toEqual([0, 1]);
    expect(Array.from(r.indices)).toEqual([0, 0, 1, 0]);
  });
});

describe("kmeansLut: optimality", () => {
  test("hand example: {0, 1, 10, 11, 12} at 1 bit is {0, 1} -> 0.5 and {10, 11, 12} -> 11", () => {
    const r = kmeansLut(Float32Array.of(12, 0, 10, 1, 11), 1);
    expect(Array.from(r.lut)).toEqual([0.5, 11]);
    expect(Array.from(r.indices)).toEqual([1, 0, 1, 0, 1]);
    expect(squaredError(Float32Array.of(12, 0, 10, 1, 11), r.lut, r.indices)).toBe(0.5 + 2);
  });

  test("equals the exhaustive minimum over contiguous partitions (m <= 10, k in {2, 4})", () => {
    fc.assert(
      fc.property(pooledValues(10, 40), fc.constantFrom(1, 2), (values, nbits) => {
        const { xs, weights } = histogram(values);
        const k = 2 ** nbits;
        fc.pre(xs.length > k);
        const r = kmeansLut(values, nbits);
        expectWellFormed(values, r.lut, r.indices, nbits);
        const got = squaredError(values, r.lut, r.indices);
        const best = bruteForceKmeans(xs, weights, k);
        // Storing each float64 mean as float32 adds count * (its rounding)^2 <= n * (ulp / 2)^2
        // to the optimum (the cross term vanishes at the mean); it can never go below the
        // optimum, which is the least error of any k centroids.
        const roundingSlack = values.length * (100 * 2 ** -24) ** 2;
        const scale = weights.reduce((a, w, j) => a + w * (xs[j] as number) * (xs[j] as number), 0);
        expect(got).toBeGreaterThanOrEqual(best - 1e-12 * scale);
        expect(got).toBeLessThanOrEqual(best + roundingSlack + 1e-12 * scale);
      }),
      { numRuns: 500 },
    );
  });

  test("never above a k-means++ / Lloyd baseline (the reference's method) on random data", () => {
    fc.assert(
      fc.property(float32Values(20, 300, 10), fc.integer({ min: 1, max: 4 }), fc.nat(), (values, nbits, seed) => {
        const r = kmeansLut(values, nbits);
        const got = squaredError(values, r.lut, r.indices);
        const baseline = kmeansPlusPlusError(values, 2 ** nbits, seed);
        expect(got).toBeLessThanOrEqual(baseline * (1 + 1e-9) + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  test("never above the baseline on clustered data at 4 bits", () => {
    const values = new Float32Array(3000);
    const a = gaussianValues(1000, 0.01, 1);
    const b = gaussianValues(2000, 0.05, 2);
    values.set(a);
    values.set(
      b.map((x) => x + 0.3),
      1000,
    );
    const r = kmeansLut(values, 4);
    const got = squaredError(values, r.lut, r.indices);
    for (const seed of [1, 2, 3]) expect(got).toBeLessThanOrEqual(kmeansPlusPlusError(values, 16, seed));
  });
});

describe("kmeansLut: grouped path (k * m above the budget)", () => {
  const values = gaussianValues(4000, 0.05, 7);
  const nbits = 3;
  const budget = 8 * 40; // 40 runs of about 100 values each for 8 clusters

  test("Lloyd refinement never raises the error of the grouped optimum", () => {
    const grouped = kmeansLut(values, nbits, { exactBudget: budget, maxLloydIterations: 0 });
    const refined = kmeansLut(values, nbits, { exactBudget: budget });
    const exact = kmeansLut(values, nbits);
    const groupedError = squaredError(values, grouped.lut, grouped.indices);
    const refinedError = squaredError(values, refined.lut, refined.indices);
    const exactError = squaredError(values, exact.lut, exact.indices);
    expectWellFormed(values, refined.lut, refined.indices, nbits);
    expect(refinedError).toBeLessThanOrEqual(groupedError);
    expect(exactError).toBeLessThanOrEqual(refinedError * (1 + 1e-12));
  });

  test("holds for random data and budgets", () => {
    fc.assert(
      fc.property(float32Values(30, 400, 10), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 64 }), (data, bits, budget) => {
        const grouped = kmeansLut(data, bits, { exactBudget: budget, maxLloydIterations: 0 });
        const refined = kmeansLut(data, bits, { exactBudget: budget });
        expectWellFormed(data, refined.lut, refined.indices, bits);
        const groupedError = squaredError(data, grouped.lut, grouped.indices);
        expect(squaredError(data, refined.lut, refined.indices)).toBeLessThanOrEqual(groupedError * (1 + 1e-12) + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  test("is deterministic", () => {
    const first = kmeansLut(values, nbits, { exactBudget: budget });
    const second = kmeansLut(values.slice(), nbits, { exactBudget: budget });
    expect(Array.from(second.lut)).toEqual(Array.from(first.lut));
    expect(Array.from(second.indices)).toEqual(Array.from(first.indices));
  });
});

describe("kmeansLut: round trip and scale", () => {
  test("idempotent: quantizing the reconstruction reproduces it", () => {
    fc.assert(
      fc.property(float32Values(1, 200, 1e3), fc.integer({ min: 1, max: 8 }), (values, nbits) => {
        const first = kmeansLut(values, nbits);
        const restored = dequantizeLut(first.indices, first.lut);
        const second = kmeansLut(restored, nbits);
        expect(Array.from(dequantizeLut(second.indices, second.lut))).toEqual(Array.from(restored));
      }),
    );
  });

  test("does not change its input", () => {
    const values = Float32Array.of(5, 1, 4, 2, 3);
    kmeansLut(values, 1);
    expect(Array.from(values)).toEqual([5, 1, 4, 2, 3]);
  });

  // 100,000 values reach every branch a million would (exact at 4 bits, grouped at
  // 8, both grouped under the default budget) in a tenth of the time; the scale run
  // is the benchmark's.
  test("100,000 values with ~100,000 distinct, at 4 bits (exact) and 8 bits (grouped), finish", () => {
    const values = gaussianValues(100_000, 0.05, 11);
    const sorted = values.slice().sort();
    let distinct = 1;
    for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
    expect(distinct).toBeGreaterThan(90_000);
    const exactBudget = 2 ** 24;
    expect(16 * distinct).toBeLessThanOrEqual(exactBudget); // 4 bits: the exact programme
    expect(256 * distinct).toBeGreaterThan(exactBudget); // 8 bits: grouped, then Lloyd
    expect(16 * distinct).toBeGreaterThan(DEFAULT_EXACT_BUDGET); // by default both are grouped
    for (const nbits of [4, 8]) {
      const r = kmeansLut(values, nbits, { exactBudget });
      expect(r.lut.length).toBe(2 ** nbits);
      for (let c = 1; c < r.lut.length; c++) expect(r.lut[c]).toBeGreaterThan(r.lut[c - 1] as number);
      expect(squaredError(values, r.lut, r.indices)).toBeLessThan(squaredError(values, Float32Array.of(0), new Uint8Array(values.length)));
    }
  }, 120_000);
});

describe("kmeansLut: refusals", () => {
  test("non-finite values, naming the first (with the path)", () => {
    expectQuantizeError(
      () => kmeansLut(Float32Array.of(1, 2, NaN, Infinity), 2, { path: "fc/weights" }),
      "non-finite-weight",
      "fc/weights: ",
      "index 2",
      "NaN",
    );
  });

  test("nbits, budget and iteration cap out of range; no values", () => {
    expectQuantizeError(() => kmeansLut(Float32Array.of(1), 9), "invalid-option", "nbits");
    for (const exactBudget of [0, -1, 1.5, Infinity]) {
      expectQuantizeError(() => kmeansLut(Float32Array.of(1), 2, { exactBudget }), "invalid-option", "exactBudget");
    }
    for (const maxLloydIterations of [-1, 0.5]) {
      expectQuantizeError(() => kmeansLut(Float32Array.of(1), 2, { maxLloydIterations }), "invalid-option", "maxLloydIterations");
    }
    expectQuantizeError(() => kmeansLut(new Float32Array(0), 2), "invalid-weights");
  });

  test("float32 entries: the mean of {1, f(1 + 2^-23)} rounds to a float32", () => {
    const values = Float32Array.of(1, f(1 + 2 ** -23), 5, 6, 7);
    const r = kmeansLut(values, 1);
    expect(r.lut[0]).toBe(f(1 + 2 ** -24));
  });
});

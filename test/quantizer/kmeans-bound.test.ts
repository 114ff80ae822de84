/**
 * The lower bound that lets nbits "auto" skip k-means: never above the error of
 * k-means (nor of any k-entry table), and k-means on a prepared tensor is k-means.
 */
import fc from "fast-check";
import { propertySeed } from "../support/property-seed.js";
import { kmeansErrorLowerBound } from "../../src/quantizer/kmeans-bound.js";
import { kmeansLut, kmeansLutOf, prepareKmeans } from "../../src/quantizer/kmeans-lut.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

/** Values with heavy outliers at either end (the case where clusters sit inside one group). */
const tensors = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: fc.double({ min: -0.2, max: 0.2, noNaN: true }) },
      { weight: 1, arbitrary: fc.double({ min: -50, max: 50, noNaN: true }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 0.125, -3) },
    ),
    { minLength: 1, maxLength: 400 },
  )
  .map((xs) => Float32Array.from(xs));

const error = (values: Float32Array, lut: Float32Array, indices: Uint8Array): number => {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += ((values[i] as number) - (lut[indices[i] as number] as number)) ** 2;
  return total;
};

describe("kmeansErrorLowerBound", () => {
  test("is never above the error k-means reaches, at every width", () => {
    fc.assert(
      fc.property(tensors, fc.integer({ min: 1, max: 8 }), (values, nbits) => {
        const input = prepareKmeans(values);
        const q = kmeansLutOf(input, nbits);
        expect(kmeansErrorLowerBound(input, 2 ** nbits)).toBeLessThanOrEqual(error(values, q.lut, q.indices));
      }),
    );
  });

  test("a fixture where a cluster lies inside one group of outliers (once above the error)", () => {
    const values = Float32Array.of(
      0.058,
      -0.0075,
      -0.063,
      0.0102,
      -12.27,
      37.52,
      35.18,
      4.13,
      -0.105,
      0.0499,
      -0.068,
      0.073,
      0.05,
      0.0067,
      -0.028,
      -0.018,
      0.113,
      0.0037,
      -0.073,
      -0.096,
      0.02,
      -0.04,
      0.09,
      -0.11,
      0.031,
      0.077,
      -0.052,
      0.015,
      0.066,
      -0.081,
      0.044,
      -0.009,
    );
    const input = prepareKmeans(values);
    const q = kmeansLutOf(input, 3);
    expect(kmeansErrorLowerBound(input, 8)).toBeLessThanOrEqual(error(values, q.lut, q.indices));
  });

  test("is 0 when there are no more distinct values than clusters", () => {
    expect(kmeansErrorLowerBound(prepareKmeans(Float32Array.of(1, 2, 2, 3)), 4)).toBe(0);
  });
});

describe("kmeansLutOf", () => {
  test("gives kmeansLut's result bit for bit, the input prepared once for several widths", () => {
    fc.assert(
      fc.property(tensors, (values) => {
        const input = prepareKmeans(values);
        for (const nbits of [1, 3, 6]) expect(kmeansLutOf(input, nbits)).toEqual(kmeansLut(values, nbits));
      }),
      { numRuns: 100 },
    );
  });

  test("reports its progress at most MAX_PROGRESS_REPORTS times, rising", () => {
    const values = new Float32Array(50_000).map((_, i) => Math.sin(i * 12.9898));
    const fractions: number[] = [];
    kmeansLut(values, 6, { onProgress: (f) => fractions.push(f) });
    expect(fractions.length).toBeGreaterThan(4);
    expect(fractions.length).toBeLessThanOrEqual(32);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThan(fractions[i - 1] as number);
  });
});

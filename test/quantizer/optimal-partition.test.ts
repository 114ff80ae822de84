import fc from "fast-check";
import { optimalPartition, type PrefixSums } from "../../src/quantizer/optimal-partition.js";
import { bruteForceKmeans } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

function prefixSums(xs: readonly number[], weights: readonly number[]): PrefixSums {
  const m = xs.length;
  const weight = new Float64Array(m + 1);
  const sum = new Float64Array(m + 1);
  const sumSquares = new Float64Array(m + 1);
  for (let j = 0; j < m; j++) {
    weight[j + 1] = (weight[j] as number) + (weights[j] as number);
    sum[j + 1] = (sum[j] as number) + (weights[j] as number) * (xs[j] as number);
    sumSquares[j + 1] = (sumSquares[j] as number) + (weights[j] as number) * (xs[j] as number) * (xs[j] as number);
  }
  return { weight, sum, sumSquares };
}

function partitionCost(xs: readonly number[], weights: readonly number[], bounds: Int32Array): number {
  let total = 0;
  for (let c = 0; c + 1 < bounds.length; c++) {
    let w = 0;
    let s = 0;
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) {
      w += weights[j] as number;
      s += (weights[j] as number) * (xs[j] as number);
    }
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) total += (weights[j] as number) * ((xs[j] as number) - s / w) ** 2;
  }
  return total;
}

/** Sorted distinct points with positive integer weights. */
const points = fc
  .uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 10 })
  .chain((raw) =>
    fc.tuple(
      fc.constant(raw.sort((a, b) => a - b).map((x) => x / 8)),
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: raw.length, maxLength: raw.length }),
    ),
  );

describe("optimalPartition", () => {
  test("hand example: {0, 1, 10, 11} into 2 is {0, 1} {10, 11}", () => {
    expect(Array.from(optimalPartition(prefixSums([0, 1, 10, 11], [1, 1, 1, 1]), 2))).toEqual([0, 2, 4]);
  });

  test("weights matter, and ties go to the earliest split", () => {
    // {0, 1, 2} into 2: {0} {1, 2} and {0, 1} {2} both cost 0.5; the earlier split wins.
    expect(Array.from(optimalPartition(prefixSums([0, 1, 2], [1, 1, 1]), 2))).toEqual([0, 1, 3]);
    // With 2 weighted 100: {0, 1} {2} still costs 0.5, {0} {1, 2} costs 100/101 ≈ 0.99.
    expect(Array.from(optimalPartition(prefixSums([0, 1, 2], [1, 1, 100]), 2))).toEqual([0, 2, 3]);
  });

  test("the partition's cost equals the exhaustive minimum over contiguous partitions", () => {
    fc.assert(
      fc.property(points, fc.integer({ min: 1, max: 10 }), ([xs, weights], kWanted) => {
        const k = Math.min(kWanted, xs.length);
        const bounds = optimalPartition(prefixSums(xs, weights), k);
        expect(bounds.length).toBe(k + 1);
        expect(bounds[0]).toBe(0);
        expect(bounds[k]).toBe(xs.length);
        for (let c = 0; c < k; c++) expect(bounds[c + 1]).toBeGreaterThan(bounds[c] as number);
        const best = bruteForceKmeans(xs, weights, k);
        const scale = weights.reduce((a, w, j) => a + w * (xs[j] as number) * (xs[j] as number), 1);
        expect(Math.abs(partitionCost(xs, weights, bounds) - best)).toBeLessThanOrEqual(1e-12 * scale);
      }),
    );
  });

  test("refuses k outside 1..M", () => {
    expectQuantizeError(() => optimalPartition(prefixSums([1, 2], [1, 1]), 3), "invalid-option", "2 points into 3");
    expectQuantizeError(() => optimalPartition(prefixSums([1, 2], [1, 1]), 0), "invalid-option");
  });
});

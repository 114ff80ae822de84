import fc from "fast-check";
import { clusterMeans, lloydRefine, type SortedDistinct } from "../../src/quantizer/lloyd-refine.js";
import { propertySeed } from "../support/property-seed.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

/** Builds the sorted-distinct structure from distinct ascending values and counts. */
function sortedDistinct(xs: readonly number[], counts: readonly number[], shift = 0): SortedDistinct {
  const m = xs.length;
  const count = new Uint32Array(m + 1);
  const sum = new Float64Array(m + 1);
  for (let j = 0; j < m; j++) {
    count[j + 1] = (count[j] as number) + (counts[j] as number);
    sum[j + 1] = (sum[j] as number) + (counts[j] as number) * ((xs[j] as number) - shift);
  }
  return { values: Float32Array.from(xs), count, sum, shift };
}

function error(data: SortedDistinct, bounds: Int32Array, centroids: Float64Array): number {
  let total = 0;
  for (let c = 0; c < centroids.length; c++) {
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) {
      total += ((data.count[j + 1] as number) - (data.count[j] as number)) * ((data.values[j] as number) - (centroids[c] as number)) ** 2;
    }
  }
  return total;
}

const problem = fc.uniqueArray(fc.integer({ min: -500, max: 500 }), { minLength: 3, maxLength: 40 }).chain((raw) => {
  const xs = raw.sort((a, b) => a - b).map((x) => x / 4);
  return fc
    .tuple(
      fc.constant(xs),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: xs.length, maxLength: xs.length }),
      fc.integer({ min: 2, max: Math.min(6, xs.length) }),
    )
    .chain(([values, counts, k]) =>
      fc.tuple(
        fc.constant(values),
        fc.constant(counts),
        fc
          .uniqueArray(fc.integer({ min: 1, max: values.length - 1 }), { minLength: k - 1, maxLength: k - 1 })
          .map((cuts) => Int32Array.from([0, ...cuts.sort((a, b) => a - b), values.length])),
      ),
    );
});

describe("clusterMeans", () => {
  test("means from the prefix sums, shift added back; an empty cluster keeps its centroid", () => {
    const data = sortedDistinct([1, 2, 6], [1, 3, 2], 2);
    const centroids = Float64Array.of(0, 99, 0);
    clusterMeans(data, Int32Array.of(0, 2, 2, 3), centroids);
    expect(Array.from(centroids)).toEqual([(1 + 3 * 2) / 4, 99, 6]);
  });
});

describe("lloydRefine", () => {
  test("hand example: a bad split of {0, 1, 2, 10} moves to {0, 1, 2} {10}", () => {
    const data = sortedDistinct([0, 1, 2, 10], [1, 1, 1, 1]);
    const bounds = Int32Array.of(0, 1, 4);
    const centroids = new Float64Array(2);
    clusterMeans(data, bounds, centroids);
    const iterations = lloydRefine(data, bounds, centroids, 100);
    expect(Array.from(bounds)).toEqual([0, 3, 4]);
    expect(Array.from(centroids)).toEqual([1, 10]);
    expect(iterations).toBeGreaterThanOrEqual(2);
  });

  test("never raises the error, ends at a fixed point, keeps boundaries ordered", () => {
    fc.assert(
      fc.property(problem, ([xs, counts, start]) => {
        const data = sortedDistinct(xs, counts, xs[xs.length >> 1]);
        const bounds = Int32Array.from(start);
        const centroids = new Float64Array(start.length - 1);
        clusterMeans(data, bounds, centroids);
        const before = error(data, bounds, centroids);
        const iterations = lloydRefine(data, bounds, centroids, 10_000);
        expect(iterations).toBeLessThan(10_000);
        expect(error(data, bounds, centroids)).toBeLessThanOrEqual(before * (1 + 1e-12) + 1e-12);
        for (let c = 0; c + 1 < bounds.length; c++) expect(bounds[c + 1]).toBeGreaterThanOrEqual(bounds[c] as number);
        // Fixed point: every value is in the cluster of its nearest centroid (ties lower).
        for (let c = 0; c < centroids.length; c++) {
          for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) {
            const d = Math.abs((xs[j] as number) - (centroids[c] as number));
            for (let other = 0; other < centroids.length; other++) {
              const e = Math.abs((xs[j] as number) - (centroids[other] as number));
              expect(other < c ? e > d : e >= d).toBe(true); // a tie belongs to the lower cluster
            }
          }
        }
      }),
    );
  });

  test("a cap of 0 changes nothing", () => {
    const data = sortedDistinct([0, 1, 2, 10], [1, 1, 1, 1]);
    const bounds = Int32Array.of(0, 1, 4);
    const centroids = Float64Array.of(0, 13 / 3);
    expect(lloydRefine(data, bounds, centroids, 0)).toBe(0);
    expect(Array.from(bounds)).toEqual([0, 1, 4]);
  });
});

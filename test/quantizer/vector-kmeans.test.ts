import fc from "fast-check";
import { optimalPartition, type PrefixSums } from "../../src/quantizer/optimal-partition.js";
import { VECTOR_KMEANS_RESTARTS, vectorKmeans } from "../../src/quantizer/vector-kmeans.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";
import { propertySeed } from "../support/property-seed.js";
import { gaussianValues } from "./helpers.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 100 });

/** Squared distance from point `i` to centre `c`, summed in component order (as a nearest-centre search must, for ties to be exact). */
function distance(points: Float64Array, i: number, centroids: Float64Array, c: number, dimension: number): number {
  let total = 0;
  for (let t = 0; t < dimension; t++) {
    const e = (points[i * dimension + t] as number) - (centroids[c * dimension + t] as number);
    total += e * e;
  }
  return total;
}

function weightedCost(points: Float64Array, dimension: number, weights: Float64Array | undefined, centroids: Float64Array, labels: Uint32Array): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) total += (weights?.[i] ?? 1) * distance(points, i, centroids, labels[i] as number, dimension);
  return total;
}

interface Problem {
  readonly dimension: number;
  readonly points: Float64Array;
  readonly weights: Float64Array | undefined;
  readonly k: number;
}

/**
 * Points with duplicates likely (components from a small grid, as lattice weights
 * are) or unlikely (float32 values, as weights are, in a moderate range), optional
 * integer weights, and k. (Doubles near the subnormal range are left out: their
 * squared distances underflow to 0, where rounding, not clustering, decides.)
 */
const problems: fc.Arbitrary<Problem> = fc
  .record({
    dimension: fc.integer({ min: 1, max: 4 }),
    count: fc.integer({ min: 1, max: 40 }),
    grid: fc.boolean(),
    weighted: fc.boolean(),
  })
  .chain(({ dimension, count, grid, weighted }) =>
    fc.record({
      dimension: fc.constant(dimension),
      points: fc
        .array(grid ? fc.integer({ min: -3, max: 3 }).map((x) => x / 4) : fc.float({ min: -100, max: 100, noNaN: true }), {
          minLength: count * dimension,
          maxLength: count * dimension,
        })
        .map((xs) => Float64Array.from(xs)),
      weights: weighted
        ? fc.array(fc.integer({ min: 1, max: 9 }), { minLength: count, maxLength: count }).map((ws) => Float64Array.from(ws))
        : fc.constant(undefined),
      k: fc.integer({ min: 1, max: count }),
    }),
  );

function run({ dimension, points, weights, k }: Problem) {
  return vectorKmeans(points, dimension, k, weights === undefined ? {} : { weights });
}

describe("vectorKmeans", () => {
  test("hand example: two tight pairs of 2-vectors are two clusters at their means", () => {
    const points = Float64Array.of(0, 0, 0, 1, 10, 10, 10, 11);
    const { centroids, labels, cost } = vectorKmeans(points, 2, 2);
    expect(labels[0]).toBe(labels[1]);
    expect(labels[2]).toBe(labels[3]);
    expect(labels[0]).not.toBe(labels[2]);
    const low = (labels[0] as number) * 2;
    const high = (labels[2] as number) * 2;
    expect([centroids[low], centroids[low + 1], centroids[high], centroids[high + 1]]).toEqual([0, 0.5, 10, 10.5]);
    expect(cost).toBe(1);
  });

  test("weights count as multiplicities: a weighted point equals its repeats", () => {
    const points = Float64Array.of(0, 0, 1, 1, 5, 5, 9, 9);
    const weights = Float64Array.of(3, 1, 2, 4);
    const repeated = Float64Array.from([0, 0, 0, 0, 0, 0, 1, 1, 5, 5, 5, 5, 9, 9, 9, 9, 9, 9, 9, 9]);
    const weighted = vectorKmeans(points, 2, 2, { weights });
    const plain = vectorKmeans(repeated, 2, 2);
    expect(weighted.cost).toBeCloseTo(plain.cost, 12);
    expect(Array.from(weighted.centroids)).toEqual(Array.from(plain.centroids));
  });

  test("every label names a nearest centre, the lowest index on a tie", () => {
    fc.assert(
      fc.property(problems, (problem) => {
        const { dimension, points, k } = problem;
        const { centroids, labels } = run(problem);
        expect(labels.length).toBe(points.length / dimension);
        expect(centroids.length).toBe(k * dimension);
        // Collected, not asserted one by one: an expect per pair is most of the test's time.
        const wrong: string[] = [];
        for (let i = 0; i < labels.length; i++) {
          const label = labels[i] as number;
          if (label >= k) wrong.push(`point ${i}: label ${label}`);
          const own = distance(points, i, centroids, label, dimension);
          for (let c = 0; c < k; c++) {
            const d = distance(points, i, centroids, c, dimension);
            if (c < label ? !(own < d) : !(own <= d)) wrong.push(`point ${i}: centre ${c} at ${d}, its own ${label} at ${own}`);
          }
        }
        expect(wrong).toEqual([]);
      }),
    );
  });

  test("every centre of a non-empty cluster is its members' weighted mean", () => {
    fc.assert(
      fc.property(problems, (problem) => {
        const { dimension, points, weights, k } = problem;
        const { centroids, labels } = run(problem);
        for (let c = 0; c < k; c++) {
          const sum = new Float64Array(dimension);
          let total = 0;
          let scale = 0;
          for (let i = 0; i < labels.length; i++) {
            if (labels[i] !== c) continue;
            const w = weights?.[i] ?? 1;
            total += w;
            for (let t = 0; t < dimension; t++) {
              sum[t] = (sum[t] as number) + w * (points[i * dimension + t] as number);
              scale = Math.max(scale, Math.abs(points[i * dimension + t] as number));
            }
          }
          if (total === 0) continue;
          // The same mean summed in another order (duplicates merged first): equal up to rounding.
          const error = Math.max(...Array.from(sum, (x, t) => Math.abs((centroids[c * dimension + t] as number) - x / total)));
          expect(error).toBeLessThanOrEqual(1e-12 * scale);
        }
      }),
    );
  });

  test("the cost is the labels' cost, and never above the k-means++ seedings'", () => {
    fc.assert(
      fc.property(problems, (problem) => {
        const { dimension, points, weights } = problem;
        const { centroids, labels, cost, seedingCost } = run(problem);
        const recomputed = weightedCost(points, dimension, weights, centroids, labels);
        expect(Math.abs(cost - recomputed)).toBeLessThanOrEqual(1e-12 * Math.max(1, recomputed));
        // Refinement only lowers the cost; equal costs may round apart by an ulp or so.
        expect(cost).toBeLessThanOrEqual(seedingCost * (1 + 1e-12));
      }),
    );
  });

  test("deterministic, and leaves its arguments alone", () => {
    fc.assert(
      fc.property(problems, fc.integer(), (problem, seed) => {
        const before = Float64Array.from(problem.points);
        const first = vectorKmeans(problem.points, problem.dimension, problem.k, {
          seed,
          ...(problem.weights === undefined ? {} : { weights: problem.weights }),
        });
        const second = vectorKmeans(problem.points, problem.dimension, problem.k, {
          seed,
          ...(problem.weights === undefined ? {} : { weights: problem.weights }),
        });
        expect(second).toEqual(first);
        expect(problem.points).toEqual(before);
      }),
    );
  });

  test("exact when there are no more distinct points than clusters: each point is a centre", () => {
    const distinctPoints = fc
      .integer({ min: 1, max: 4 })
      .chain((dimension) =>
        fc.record({
          dimension: fc.constant(dimension),
          distinct: fc.uniqueArray(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: dimension, maxLength: dimension }), {
            minLength: 1,
            maxLength: 12,
            selector: (v) => v.join(","),
          }),
        }),
      )
      .chain(({ dimension, distinct }) =>
        fc.record({
          dimension: fc.constant(dimension),
          order: fc.array(fc.nat({ max: distinct.length - 1 }), { minLength: distinct.length, maxLength: 60 }),
          distinct: fc.constant(distinct),
          extra: fc.nat({ max: 4 }),
        }),
      );
    fc.assert(
      fc.property(distinctPoints, ({ dimension, distinct, order, extra }) => {
        // Every distinct point at least once, then the drawn repeats.
        const sequence = [...distinct.keys(), ...order];
        const points = Float64Array.from(sequence.flatMap((j) => distinct[j] as number[]));
        const k = Math.min(sequence.length, distinct.length + extra);
        const { centroids, labels, cost } = vectorKmeans(points, dimension, k);
        expect(cost).toBe(0);
        sequence.forEach((j, i) => {
          expect(Array.from(centroids.subarray((labels[i] as number) * dimension, ((labels[i] as number) + 1) * dimension))).toEqual(distinct[j]);
        });
      }),
    );
  });

  test("in one dimension, never below the exact optimum (optimalPartition)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        (values, kWanted) => {
          const points = Float64Array.from(values);
          const distinct = [...new Set(values.map((x) => x + 0))].sort((a, b) => a - b);
          const k = Math.min(kWanted, distinct.length);
          const optimum = optimalCost(distinct, values, k);
          const { cost } = vectorKmeans(points, 1, k);
          expect(cost).toBeGreaterThanOrEqual(optimum - 1e-9 * Math.max(1, optimum));
        },
      ),
    );
  });

  test("in one dimension on Gaussian weights, within 0.5% of the exact optimum", () => {
    for (const [n, k] of [
      [2000, 16],
      [500, 4],
    ] as const) {
      const values = Array.from(gaussianValues(n, 0.05, n + k));
      const distinct = [...new Set(values)].sort((a, b) => a - b);
      const optimum = optimalCost(distinct, values, k);
      const { cost } = vectorKmeans(Float64Array.from(values), 1, k);
      expect(cost).toBeLessThanOrEqual(optimum * 1.005);
    }
  });

  test("refuses what is not a clustering problem", () => {
    const points = Float64Array.of(1, 2, 3, 4);
    expectQuantizeError(() => vectorKmeans(points, 3, 1), "invalid-option", "dimension 3");
    expectQuantizeError(() => vectorKmeans(points, 0, 1), "invalid-option", "dimension");
    expectQuantizeError(() => vectorKmeans(points, 2, 3), "invalid-option", "2 points into 3");
    expectQuantizeError(() => vectorKmeans(points, 2, 0), "invalid-option");
    expectQuantizeError(() => vectorKmeans(new Float64Array(0), 1, 1), "invalid-option");
    expectQuantizeError(() => vectorKmeans(points, 2, 1, { restarts: 0 }), "invalid-option", "restarts");
    expectQuantizeError(() => vectorKmeans(points, 2, 1, { weights: Float64Array.of(1) }), "invalid-option", "1 weights for 2 points");
    expectQuantizeError(() => vectorKmeans(points, 2, 1, { weights: Float64Array.of(1, 0) }), "invalid-option", "weight 1");
    expectQuantizeError(() => vectorKmeans(Float64Array.of(1, Number.NaN), 1, 1), "non-finite-weight", "point 1");
  });

  test("tries the documented number of seedings by default", () => {
    // More seedings can only find a cheaper clustering: the default equals asking for VECTOR_KMEANS_RESTARTS.
    const points = Float64Array.from(gaussianValues(600, 1, 7));
    expect(vectorKmeans(points, 2, 8)).toEqual(vectorKmeans(points, 2, 8, { restarts: VECTOR_KMEANS_RESTARTS }));
  });
});

/** The exact weighted 1-D optimum over the distinct values, from optimalPartition. */
function optimalCost(distinct: readonly number[], values: readonly number[], k: number): number {
  const counts = new Map<number, number>();
  for (const x of values) counts.set(x + 0, (counts.get(x + 0) ?? 0) + 1);
  const m = distinct.length;
  const sums: PrefixSums = { weight: new Float64Array(m + 1), sum: new Float64Array(m + 1), sumSquares: new Float64Array(m + 1) };
  for (let j = 0; j < m; j++) {
    const x = distinct[j] as number;
    const w = counts.get(x) as number;
    sums.weight[j + 1] = (sums.weight[j] as number) + w;
    sums.sum[j + 1] = (sums.sum[j] as number) + w * x;
    sums.sumSquares[j + 1] = (sums.sumSquares[j] as number) + w * x * x;
  }
  const bounds = optimalPartition(sums, k);
  let total = 0;
  for (let c = 0; c < k; c++) {
    let w = 0;
    let s = 0;
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) {
      w += counts.get(distinct[j] as number) as number;
      s += (counts.get(distinct[j] as number) as number) * (distinct[j] as number);
    }
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++)
      total += (counts.get(distinct[j] as number) as number) * ((distinct[j] as number) - s / w) ** 2;
  }
  return total;
}

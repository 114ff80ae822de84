/**
 * palettizeTensor's uniform and k-means loops against per-element oracles, over
 * random shapes, grouping axes and both array types (the golden cases cover only
 * the shapes of their models).
 */
import fc from "fast-check";
import { floatRounding } from "../../src/mlprogram/blockwise-linear.js";
import { palettizeTensor } from "../../src/mlprogram/palettize-tensor.js";
import { roundHalfEven } from "../../src/quantizer/round-half-even.js";
import { propertySeed } from "../support/property-seed.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 200 });

/** A tensor of up to 3 axes, an axis to group along and a group size dividing it; values with repeats, ties and both zeros. */
const tensorCase = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
    axisPick: fc.nat(),
    groupPick: fc.nat(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    float: fc.constantFrom("float16" as const, "float32" as const),
  })
  .map(({ shape, axisPick, groupPick, seed, float }) => {
    const axis = axisPick % shape.length;
    const length = shape[axis] as number;
    const divisors = Array.from({ length }, (_, d) => d + 1).filter((d) => length % d === 0);
    const groupSize = divisors[groupPick % divisors.length] as number;
    const r = floatRounding(float);
    let state = seed;
    const values = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const v = r(((state % 41) - 20) * 0.0625 * (1 + (seed % 5)));
      return v === 0 && state % 2 === 1 ? -0 : v;
    });
    return { shape, axis, groupSize, values, float };
  });

/** Each element's group, in index order (vector size 1). */
function groupsOf(shape: readonly number[], axis: number, groupSize: number): Int32Array {
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const length = shape[axis] as number;
  const count = shape.reduce((a, b) => a * b, 1);
  return Int32Array.from({ length: count }, (_, q) => Math.floor((Math.floor(q / inner) % length) / groupSize));
}

describe("palettizeTensor", () => {
  it("uniform: every index and LUT entry as the per-element formula gives them", () => {
    fc.assert(
      fc.property(tensorCase, fc.constantFrom(1, 2, 4), ({ shape, axis, groupSize, values, float }, nbits) => {
        const r = floatRounding(float);
        const levels = 2 ** nbits;
        const groupOf = groupsOf(shape, axis, groupSize);
        const groups = (shape[axis] as number) / groupSize;
        const lows = Array.from({ length: groups }, () => Number.POSITIVE_INFINITY);
        const highs = Array.from({ length: groups }, () => Number.NEGATIVE_INFINITY);
        values.forEach((v, q) => {
          const g = groupOf[q] as number;
          lows[g] = Math.min(lows[g] as number, v);
          highs[g] = Math.max(highs[g] as number, v);
        });
        const expectedIndices = Array.from(values, (v, q) => {
          const g = groupOf[q] as number;
          const scaled = r(r(r(v - (lows[g] as number)) / r((highs[g] as number) - (lows[g] as number))) * (levels - 1));
          return Number.isNaN(scaled) ? 0 : roundHalfEven(scaled);
        });
        const expectedLut = Array.from({ length: groups * levels }, (_, e) => {
          const g = Math.floor(e / levels);
          const step = r((highs[g] as number) - (lows[g] as number)) / (levels - 1);
          return r((e % levels) * step + (lows[g] as number));
        });
        for (const input of [values, Float32Array.from(values)]) {
          const p = palettizeTensor(input, shape, { mode: "uniform", nbits, axis, groupSize, vector: 1, float });
          if (typeof p === "string") throw new Error(p);
          expect([...p.indices]).toEqual(expectedIndices);
          expect([...p.lut]).toEqual(expectedLut);
        }
      }),
    );
  });

  it("uniform: large groups of continuous values give the per-element formula's indices", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom("float16" as const, "float32" as const),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.double({ min: 1e-6, max: 1e4, noNaN: true }),
        (nbits, groups, float, seed, magnitude) => {
          const r = floatRounding(float);
          const levels = 2 ** nbits;
          const groupSize = 64 * levels + (seed % 5);
          let state = seed;
          // Continuous values, a few repeats and both zeros.
          const values = Float64Array.from({ length: groups * groupSize }, () => {
            state = (state * 1103515245 + 12345) % 2 ** 31;
            if (state % 17 === 0) return state % 2 === 0 ? 0 : -0;
            return r(((state / 2 ** 31) * 2 - 1) * magnitude);
          });
          const shape = [groups * groupSize];
          const extremes = Array.from({ length: groups }, (_, g) => {
            const group = values.subarray(g * groupSize, (g + 1) * groupSize);
            return [group.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY), group.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY)];
          });
          const expected = Array.from(values, (v, q) => {
            const [lo, hi] = extremes[Math.floor(q / groupSize)] as number[];
            const scaled = r(r(r(v - (lo as number)) / r((hi as number) - (lo as number))) * (levels - 1));
            return Number.isNaN(scaled) ? 0 : roundHalfEven(scaled);
          });
          for (const input of [values, Float32Array.from(values)]) {
            const p = palettizeTensor(input, shape, { mode: "uniform", nbits, axis: 0, groupSize, vector: 1, float });
            if (typeof p === "string") throw new Error(p);
            expect([...p.indices]).toEqual(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("k-means: clusters are runs of the sorted values, both zeros together, with the least squared error, centroids their running means", () => {
    fc.assert(
      fc.property(tensorCase, fc.constantFrom(1, 2), ({ shape, axis, groupSize, values, float }, nbits) => {
        const r = floatRounding(float);
        const levels = 2 ** nbits;
        const groupOf = groupsOf(shape, axis, groupSize);
        for (const input of [values, Float32Array.from(values)]) {
          const p = palettizeTensor(input, shape, { mode: "kmeans", nbits, axis, groupSize, vector: 1, float });
          if (typeof p === "string") throw new Error(p);
          for (let g = 0; g < p.groups; g++) {
            const members = [...values.keys()].filter((q) => groupOf[q] === g).map((q) => ({ v: (values[q] as number) + 0, index: p.indices[q] as number }));
            const distinct = [...new Set(members.map(({ v }) => v))].sort((a, b) => a - b);
            const counts = distinct.map((x) => members.filter(({ v }) => v === x).length);
            const clusterOf = new Map(members.map(({ v, index }) => [v, index]));
            // One index per distinct value, ascending with the value, starting at 0 and leaving none out.
            members.forEach(({ v, index }) => expect(index).toBe(clusterOf.get(v)));
            const order = distinct.map((x) => clusterOf.get(x) as number);
            order.forEach((c, j) => expect(c - (j === 0 ? 0 : (order[j - 1] as number))).toBeLessThanOrEqual(1));
            const k = Math.min(levels, distinct.length);
            expect(order[order.length - 1]).toBe(k - 1);
            // Each LUT entry is its cluster's running weighted mean, rounded to the float type.
            const means: number[] = [];
            for (let c = 0; c < k; c++) {
              let mean = 0;
              let total = 0;
              distinct.forEach((x, j) => {
                if (order[j] !== c) return;
                total += counts[j] as number;
                mean += ((x - mean) * (counts[j] as number)) / total;
              });
              means.push(mean);
              expect(p.lut[g * levels + c]).toBe(r(mean));
            }
            // No partition of the distinct values into k runs has a smaller squared error.
            // Squared error of runs from prefix sums of counts, values and squares.
            const prefix = [0, 0, 0];
            const sums = [[0, 0, 0]].concat(
              distinct.map((x, j) => {
                const n = counts[j] as number;
                prefix[0] = (prefix[0] as number) + n;
                prefix[1] = (prefix[1] as number) + n * x;
                prefix[2] = (prefix[2] as number) + n * x * x;
                return [...prefix];
              }),
            );
            const error = (cuts: readonly number[]): number => {
              let sum = 0;
              for (let c = 0; c + 1 < cuts.length; c++) {
                const [n0, s0, q0] = sums[cuts[c] as number] as number[];
                const [n1, s1, q1] = sums[cuts[c + 1] as number] as number[];
                const s = (s1 as number) - (s0 as number);
                sum += (q1 as number) - (q0 as number) - (s * s) / ((n1 as number) - (n0 as number));
              }
              return sum;
            };
            const ours = error([0, ...order.flatMap((c, j) => (j > 0 && c !== order[j - 1] ? [j] : [])), distinct.length]);
            expect(ours).toBeLessThanOrEqual(bestError(distinct.length, k, error) + 1e-9);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});

/** The least error over every way to cut `m` sorted values into `k` non-empty runs (small m only). */
function bestError(m: number, k: number, error: (cuts: readonly number[]) => number): number {
  let best = Number.POSITIVE_INFINITY;
  const cuts = [0];
  const choose = (from: number, left: number): void => {
    if (left === 0) {
      best = Math.min(best, error([...cuts, m]));
      return;
    }
    for (let at = from; at <= m - left; at++) {
      cuts.push(at);
      choose(at + 1, left - 1);
      cuts.pop();
    }
  };
  choose(1, k - 1);
  return best;
}

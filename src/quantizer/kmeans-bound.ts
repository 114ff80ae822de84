/**
 * A cheap lower bound on the least error any k-entry lookup table can reach on a
 * tensor: what lets the `nbits: "auto"` search rule out k-means at a width without
 * running it.
 *
 * Why it is a bound. Cut the sorted values into contiguous groups. In one
 * dimension an optimal k-clustering is k contiguous intervals, so its k - 1
 * boundaries fall inside at most k - 1 groups; every other group lies wholly in one
 * cluster. A cluster's squared error about its mean is at least that of any subset
 * of its values about the subset's own mean. So the optimum is at least the least
 * cost of: runs of whole groups with some groups left out, each run costing the
 * squared error of its values about their mean, where each left-out group and each
 * change of run not after a left-out group takes one of the k - 1 boundaries (a
 * cluster may lie inside one group, a group may hold several boundaries, the end
 * groups may be cut: all are covered). A dynamic programme over the groups finds
 * that least cost exactly. With 2k to 32k groups (cut by mass and by width, as the
 * grouped k-means does, so sparse tails keep groups of their own) it lands 5 dB to
 * under 1 dB from the optimum, for the price of a k-means run on that many values.
 *
 * The optimum only falls as k grows, so a bound above a threshold at k rules out
 * every smaller k too.
 *
 * @packageDocumentation
 */

import { balancedRuns, DEFAULT_EXACT_BUDGET, equalMassRuns, type KmeansInput } from "./kmeans-lut.js";

// Read once: a global lookup in a hot loop is slow where globals are intercepted (jest).
const INFINITY = Number.POSITIVE_INFINITY;

/**
 * Most groups per cluster: more is tighter and slower. On the bench's weights the
 * bound's SNR stood about 5 dB above k-means' with 2, 2.5 dB with 4, and closer still with more.
 */
export const MAX_GROUPS_PER_CLUSTER = 16;

/**
 * What the float64 arithmetic of the programme can be off by, as a part of the
 * values' summed squared spread: each run's cost is a difference of prefix sums
 * (about `4 G ε` of the spread each, `G` groups, `ε` = 2^-53), at most k runs are
 * added, and `4 G k ε` stays below 1e-9 for `G <= 2^13`, `k <= 256` (the most there
 * are). The bound is lowered by ten times that, so rounding cannot lift it above the
 * true optimum
 * (the divide and conquer below relies on the cost's quadrangle inequality, exact in
 * real arithmetic; in float64 a choice between two splits within rounding of each
 * other can go either way, which moves the result by rounding, again covered).
 */
const ROUNDING_SLACK = 1e-8;

/**
 * A number never above the least summed squared error of any clustering of the
 * tensor's values into at most `k` clusters (each value replaced by its cluster's
 * mean); in particular never above {@link kmeansLut}'s error at `2^nbits = k`, which
 * is one such clustering (its float32 centroids and nearest-entry indices only add
 * error). 0 when the values are `k` distinct ones or fewer.
 *
 * The cost is that of a k-means programme over `2 groupsPerCluster k` points (at
 * most the tensor's distinct values): worth it only when that is well below their
 * number (see {@link kmeansBoundPays}).
 *
 * @param input - the tensor, prepared by {@link prepareKmeans}
 * @param k - number of clusters, 2..256
 * @param groupsPerCluster - 1..{@link MAX_GROUPS_PER_CLUSTER}: tighter and slower as it grows
 * @returns the bound, in the units of the values squared, at least 0
 */
export function kmeansErrorLowerBound(input: KmeansInput, k: number, groupsPerCluster = 2): number {
  const { values: xs, count, sum, shift } = input.data;
  const m = xs.length;
  if (m <= k) return 0;
  const runs = Math.min(m - 1, Math.min(groupsPerCluster, MAX_GROUPS_PER_CLUSTER) * k);
  const ends = runs >= m - 1 ? Int32Array.from({ length: m + 1 }, (_, j) => j) : balancedRuns(xs, equalMassRuns(count, runs), runs);
  const groups = ends.length - 1;
  // Prefix sums over the groups: multiplicity, Σ(x - shift), Σ(x - shift)².
  const weight = new Float64Array(groups + 1);
  const sums = new Float64Array(groups + 1);
  const squares = new Float64Array(groups + 1);
  let j = 0;
  let total = 0;
  for (let g = 0; g < groups; g++) {
    for (const end = ends[g + 1] as number; j < end; j++) {
      const d = (xs[j] as number) - shift;
      total += ((count[j + 1] as number) - (count[j] as number)) * d * d;
    }
    weight[g + 1] = count[ends[g + 1] as number] as number;
    sums[g + 1] = sum[ends[g + 1] as number] as number;
    squares[g + 1] = total;
  }
  // Paths over the groups: runs (each costing its squared error) and left-out groups.
  // A left-out group uses a boundary; a run uses one unless it starts the tensor or
  // follows a left-out group (that group's boundary separates them). Layer b holds
  // the least cost with b boundaries used, ending with a run (`run`) or a left-out
  // group (`out`); at most k - 1 boundaries.
  let prevRun = new Float64Array(groups + 1).fill(INFINITY);
  let prevOut = new Float64Array(groups + 1).fill(INFINITY);
  let run = new Float64Array(groups + 1);
  let out = new Float64Array(groups + 1);
  const reach = new Float64Array(groups + 1);
  let best = INFINITY;
  for (let b = 0; b < k; b++) {
    out.fill(INFINITY);
    if (b === 0)
      out[0] = 0; // the start: a run may begin there for free
    else for (let i = 1; i <= groups; i++) out[i] = Math.min(prevRun[i - 1] as number, prevOut[i - 1] as number);
    for (let t = 0; t < groups; t++) reach[t] = Math.min(out[t] as number, prevRun[t] as number);
    run.fill(INFINITY);
    fillLayer(reach, run, weight, sums, squares, 1, groups, 0, groups - 1);
    best = Math.min(best, run[groups] as number, out[groups] as number);
    let swap = prevRun;
    prevRun = run;
    run = swap;
    swap = prevOut;
    prevOut = out;
    out = swap;
  }
  const bound = best - ROUNDING_SLACK * total;
  return bound > 0 ? bound : 0;
}

/** Squared error of the values of groups `t..i-1` about their mean (never below 0). */
function runCost(weight: Float64Array, sums: Float64Array, squares: Float64Array, t: number, i: number): number {
  const w = (weight[i] as number) - (weight[t] as number);
  const s = (sums[i] as number) - (sums[t] as number);
  const cost = (squares[i] as number) - (squares[t] as number) - (s * s) / w;
  return cost > 0 ? cost : 0;
}

/**
 * `cur[i] = min over t in optLo..min(optHi, i - 1) of reach[t] + runCost(t, i)` for
 * `i` in `lo..hi`, by divide and conquer: the squared-error cost satisfies the
 * quadrangle inequality, so the best `t` does not decrease with `i` whatever `reach` is.
 */
function fillLayer(
  reach: Float64Array,
  cur: Float64Array,
  weight: Float64Array,
  sums: Float64Array,
  squares: Float64Array,
  lo: number,
  hi: number,
  optLo: number,
  optHi: number,
): void {
  if (lo > hi) return;
  const i = (lo + hi) >>> 1;
  const last = optHi < i - 1 ? optHi : i - 1;
  let best = INFINITY;
  let bestT = optLo;
  for (let t = optLo; t <= last; t++) {
    const cost = (reach[t] as number) + runCost(weight, sums, squares, t, i);
    if (cost < best) {
      best = cost;
      bestT = t;
    }
  }
  cur[i] = best;
  fillLayer(reach, cur, weight, sums, squares, lo, i - 1, optLo, bestT);
  fillLayer(reach, cur, weight, sums, squares, i + 1, hi, bestT, optHi);
}

/**
 * Whether {@link kmeansErrorLowerBound} with `groupsPerCluster` costs well under
 * k-means itself on this tensor: its programme runs over at most a quarter of the
 * points k-means' does (the distinct values, or `exactBudget / k` runs of them), so
 * k-means, which also gives the answer, is not about as cheap.
 *
 * @param input - the tensor, prepared by {@link prepareKmeans}
 * @param k - number of clusters
 * @param groupsPerCluster - as for the bound
 * @returns true when the bound is worth computing
 */
export function kmeansBoundPays(input: KmeansInput, k: number, groupsPerCluster: number): boolean {
  return 4 * 2 * groupsPerCluster * k <= Math.min(input.data.values.length, DEFAULT_EXACT_BUDGET / k);
}

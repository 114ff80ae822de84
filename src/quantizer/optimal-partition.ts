/**
 * Globally optimal 1-D k-means over sorted weighted points, by dynamic programming.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";

// Read once: a global lookup per call is slow where globals are intercepted (jest vm contexts).
const INFINITY = Number.POSITIVE_INFINITY;

/**
 * Prefix sums over `M` weighted points sorted by position: entry `i` sums points
 * `0..i-1`, so each array has `M + 1` entries and entry 0 is 0. The cost of one
 * cluster over points `t..i-1` is then `S2 - S1² / S0` of the differences, in O(1).
 */
export interface PrefixSums {
  /** Cumulative weight (multiplicity). */
  readonly weight: Float64Array;
  /** Cumulative `weight * x`. */
  readonly sum: Float64Array;
  /** Cumulative `weight * x²`. */
  readonly sumSquares: Float64Array;
}

/**
 * Splits `M` sorted weighted points into `k` contiguous non-empty clusters with the
 * least summed squared distance to the cluster means (the weighted 1-D k-means
 * optimum: in one dimension an optimal clustering is contiguous).
 *
 * Layer `j` of the dynamic programme holds, for every prefix of `i` points, the least
 * cost of covering it with `j` clusters; a layer needs only the previous one, so two
 * cost rows are kept plus each layer's split points for backtracking. The optimal split
 * point is monotone in `i` (the squared-error cost satisfies the quadrangle
 * inequality), so each layer is filled by divide and conquer in O(M log M): O(k M log M)
 * time in all and `4 (k - 2) (M + 1)` bytes of split points. Ties go to the earliest
 * split. Costs come from float64 prefix sums, so "optimal" is up to their rounding;
 * centring the positions near zero keeps that small.
 *
 * @param sums - prefix sums of the points, see {@link PrefixSums}; every point must
 *   have a positive weight
 * @param k - number of clusters, 1..M
 * @param onLayer - called after each layer `j` of the programme (2..k-1), for progress
 * @returns `k + 1` boundaries: cluster `c` is points `bounds[c]..bounds[c + 1] - 1`,
 *   `bounds[0] = 0`, `bounds[k] = M`, strictly increasing
 * @throws QuantizeError `invalid-option` when `k` is not an integer in 1..M
 */
export function optimalPartition(sums: PrefixSums, k: number, onLayer?: (layer: number) => void): Int32Array {
  const { weight, sum, sumSquares } = sums;
  const m = weight.length - 1;
  if (!Number.isInteger(k) || k < 1 || k > m) {
    throw new QuantizeError("invalid-option", `cannot split ${m} points into ${String(k)} non-empty clusters`);
  }
  const bounds = new Int32Array(k + 1);
  bounds[k] = m;
  if (k === 1) return bounds;

  // Layer 1: one cluster over each prefix. Only prefixes that leave at least one point
  // for each later cluster matter: i <= m - (k - j) in layer j.
  let prev = new Float64Array(m + 1).fill(INFINITY);
  let cur = new Float64Array(m + 1).fill(INFINITY);
  for (let i = 1; i <= m - k + 1; i++) {
    const w = weight[i] as number;
    const s = sum[i] as number;
    prev[i] = (sumSquares[i] as number) - (s * s) / w;
  }
  const stride = m + 1;
  const splits = new Int32Array((k - 2) * stride);
  for (let j = 2; j < k; j++) {
    const split = splits.subarray((j - 2) * stride, (j - 1) * stride);
    const hi = m - (k - j);
    fillLayer(prev, cur, split, weight, sum, sumSquares, j, hi, j - 1, hi - 1);
    const swap = prev;
    prev = cur;
    cur = swap;
    onLayer?.(j);
  }

  // Layer k is needed at i = m only: one scan.
  const w0 = weight[m] as number;
  const s0 = sum[m] as number;
  const q0 = sumSquares[m] as number;
  let best = INFINITY;
  let bestT = k - 1;
  for (let t = k - 1; t < m; t++) {
    const w = w0 - (weight[t] as number);
    const s = s0 - (sum[t] as number);
    const cost = (prev[t] as number) + (q0 - (sumSquares[t] as number)) - (s * s) / w;
    if (cost < best) {
      best = cost;
      bestT = t;
    }
  }
  bounds[k - 1] = bestT;
  for (let j = k - 1; j >= 2; j--) {
    bounds[j - 1] = splits[(j - 2) * stride + (bounds[j] as number)] as number;
  }
  return bounds;
}

/**
 * Fills `cur[i]` for `i` in `lo..hi` with `min over t in optLo..min(optHi, i - 1)` of
 * `prev[t] + cost(t, i)`, and `split[i]` with the first minimising `t`: the middle `i`
 * is solved by a scan, then each half recurses on its side of that `t`. Recursion depth
 * is log2 of the row length.
 */
function fillLayer(
  prev: Float64Array,
  cur: Float64Array,
  split: Int32Array,
  weight: Float64Array,
  sum: Float64Array,
  sumSquares: Float64Array,
  lo: number,
  hi: number,
  optLo: number,
  optHi: number,
): void {
  if (lo > hi) return;
  const i = (lo + hi) >>> 1;
  const wi = weight[i] as number;
  const si = sum[i] as number;
  const qi = sumSquares[i] as number;
  const last = optHi < i - 1 ? optHi : i - 1;
  let best = INFINITY;
  let bestT = optLo;
  for (let t = optLo; t <= last; t++) {
    const w = wi - (weight[t] as number);
    const s = si - (sum[t] as number);
    const cost = (prev[t] as number) + (qi - (sumSquares[t] as number)) - (s * s) / w;
    if (cost < best) {
      best = cost;
      bestT = t;
    }
  }
  cur[i] = best;
  split[i] = bestT;
  fillLayer(prev, cur, split, weight, sum, sumSquares, lo, i - 1, optLo, bestT);
  fillLayer(prev, cur, split, weight, sum, sumSquares, i + 1, hi, bestT, optHi);
}

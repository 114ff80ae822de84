/**
 * Deterministic k-means of weighted points in V dimensions: the vector LUTs of
 * palettization (`cluster_dim > 1`), where the reference runs scikit-learn's KMeans.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";

// Read once: a global lookup per call is slow where globals are intercepted (jest vm contexts).
const INFINITY = Number.POSITIVE_INFINITY;

/**
 * k-means++ seedings tried, each refined to a local optimum, the cheapest kept. The
 * reference (scikit-learn, `n_init=1`) tries one, and we must never be worse than it
 * on the golden set: with the single-point moves, 4 seedings left one lattice
 * weight (`mlp_fp32_ios18__pal_kmeans_2b_cluster_dim4` `lat`) 0.9% above the
 * reference and 8 left it 0.7% above for one of the seeds 0 to 3, while 16 met every
 * vector record with at least 0.6% to spare, and that weight for seeds 0 to 6 alike.
 * A restart costs some tens of milliseconds on a weight of 5,000 2-vectors.
 */
export const VECTOR_KMEANS_RESTARTS = 16;

/** Candidates drawn per centre by the greedy k-means++ seeding, as `2 + ln k` (Arthur and Vassilvitskii's suggestion, scikit-learn's too). */
function seedTrials(k: number): number {
  return 2 + Math.floor(Math.log(k));
}

/**
 * Safety cap on Lloyd's iterations per refinement. Lloyd's iterations converge
 * (each strictly lowers the cost until no label changes); the cap only bounds a
 * pathological cycle between ties broken by rounding.
 */
const MAX_LLOYD_ITERATIONS = 300;

/** Safety cap on the rounds of single-point moves then Lloyd's iterations, for the same reason. */
const MAX_REFINE_ROUNDS = 20;

/** A single-point move must lower the cost by this fraction of the point's own term, so rounding cannot make moves cycle. */
const MOVE_MARGIN = 1e-12;

/** How {@link vectorKmeans} runs. */
export interface VectorKmeansOptions {
  /**
   * Each point's multiplicity (a positive finite number), as when the caller has
   * already merged duplicates; `n` entries.
   * @defaultValue every point 1
   */
  readonly weights?: Float64Array;
  /**
   * Seed of the pseudo-random generator drawing the k-means++ seeds (its low 32
   * bits, as an integer).
   * @defaultValue 0
   */
  readonly seed?: number;
  /**
   * k-means++ seedings tried, a positive integer.
   * @defaultValue {@link VECTOR_KMEANS_RESTARTS}
   */
  readonly restarts?: number;
}

/** What {@link vectorKmeans} finds. */
export interface VectorKmeansResult {
  /** `k` centres of `dimension` components, row-major (`k * dimension` values). */
  readonly centroids: Float64Array;
  /** Each point's centre, `0..k-1`; `n` entries. */
  readonly labels: Uint32Array;
  /** The summed weighted squared distance of the points to their centres. */
  readonly cost: number;
  /**
   * The least cost of the k-means++ seedings themselves (each point at its nearest
   * seed); `cost` is never above it. 0 when there are no more distinct points than
   * centres.
   */
  readonly seedingCost: number;
}

/**
 * Clusters `n` weighted points of `dimension` components into `k` clusters with a
 * small summed squared distance to the cluster means (k-means; not the global
 * optimum, which is NP-hard to find, but never worse than the best of the
 * k-means++ seedings tried).
 *
 * Duplicate points are merged first (weights added), so a weight on a lattice of a
 * few distinct vectors clusters those. When there are at most `k` distinct points
 * each is its own centre, exactly (cost 0); the centres left over repeat the first
 * point's (as scikit-learn gives duplicate centres then). Otherwise each of
 * `restarts` greedy k-means++ seedings (`2 + ln k` candidates per centre, the one
 * lowering the cost most kept) is refined by Hartigan's single-point moves (a point
 * changes cluster when that lowers the cost, counting how both means move; these
 * escape local optima of Lloyd's) until none is left, then Lloyd's iterations (an
 * emptied cluster takes the point farthest from its centre), alternately until
 * Lloyd's change nothing; the cheapest result is kept, the first on a tie.
 *
 * On return every label names a nearest centre (the lowest index on a tie) and every
 * centre of a non-empty cluster is its members' weighted mean, computed in float64
 * over the merged points in order of first appearance (safety caps on the
 * iterations aside, which bound cycles that rounding could cause).
 * Deterministic: the same arguments give the same result (the generator is seeded
 * from `seed`, no global randomness). Time: each restart costs some passes over the
 * distinct points, each `k * dimension` per point.
 *
 * @param points - `n * dimension` finite values, point `i` at `i * dimension`
 * @param dimension - components per point (`cluster_dim`), a positive integer; 1
 *   gives ordinary scalar k-means
 * @param k - number of clusters, an integer in 1..n
 * @param options - weights, seed, restarts
 * @returns the centres, labels and costs
 * @throws QuantizeError `invalid-option` when `dimension`, `k`, `restarts` or
 *   the weights are out of range or `points` is not a whole number of points;
 *   `non-finite-weight` when a point has a NaN or infinite component
 * @example
 * ```ts
 * // Eight 2-vectors into four clusters.
 * const { centroids, labels } = vectorKmeans(Float64Array.of(0, 0, 0, 1, 5, 5, 5, 6, 9, 0, 9, 1, -4, 2, -4, 3), 2, 4);
 * ```
 */
export function vectorKmeans(points: Float64Array, dimension: number, k: number, options: VectorKmeansOptions = {}): VectorKmeansResult {
  const n = checkShape(points, dimension, k);
  const restarts = options.restarts ?? VECTOR_KMEANS_RESTARTS;
  if (!Number.isInteger(restarts) || restarts < 1) {
    throw new QuantizeError("invalid-option", `restarts must be a positive integer, got ${String(restarts)}`);
  }
  const weights = options.weights;
  if (weights !== undefined) checkWeights(weights, n);
  const distinct = mergeDuplicates(points, dimension, weights);
  const m = distinct.mass.length;
  const labels = new Uint32Array(n);
  if (m <= k) {
    const centroids = new Float64Array(k * dimension);
    centroids.set(distinct.points);
    for (let c = m; c < k; c++) centroids.copyWithin(c * dimension, 0, dimension);
    // Each point is at its own centre; the search only settles ties of distances that underflow to 0.
    const own = nearestAssignment(distinct, dimension, centroids);
    for (let i = 0; i < n; i++) labels[i] = own.labels[distinct.indexOf[i] as number] as number;
    return { centroids, labels, cost: own.cost, seedingCost: own.cost };
  }
  const random = splitmix32(options.seed ?? 0);
  let best: Clustering | undefined;
  let seedingCost = INFINITY;
  for (let r = 0; r < restarts; r++) {
    const seeds = kmeansPlusPlus(distinct, dimension, k, random);
    const clustering = nearestAssignment(distinct, dimension, seeds);
    seedingCost = Math.min(seedingCost, clustering.cost);
    refine(distinct, dimension, clustering);
    if (best === undefined || clustering.cost < best.cost) best = clustering;
  }
  // restarts >= 1, so best is set.
  const { centroids, labels: distinctLabels, cost } = best as Clustering;
  for (let i = 0; i < n; i++) labels[i] = distinctLabels[distinct.indexOf[i] as number] as number;
  return { centroids, labels, cost, seedingCost };
}

/** Distinct points with their total weights. */
interface WeightedPoints {
  /** `m * dimension` values, in order of first appearance. */
  readonly points: Float64Array;
  /** Total weight of each, `m` entries. */
  readonly mass: Float64Array;
  /** Each input point's distinct point, `n` entries. */
  readonly indexOf: Uint32Array;
}

/** A clustering of the distinct points, updated in place while refined. */
interface Clustering {
  readonly centroids: Float64Array;
  readonly labels: Uint32Array;
  cost: number;
}

function checkShape(points: Float64Array, dimension: number, k: number): number {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new QuantizeError("invalid-option", `dimension must be a positive integer, got ${String(dimension)}`);
  }
  if (points.length === 0 || points.length % dimension !== 0) {
    throw new QuantizeError("invalid-option", `${points.length} values are not a positive whole number of points of dimension ${dimension}`);
  }
  const n = points.length / dimension;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new QuantizeError("invalid-option", `cannot split ${n} points into ${String(k)} clusters; k must be an integer in 1..${n}`);
  }
  for (let j = 0; j < points.length; j++) {
    if (!Number.isFinite(points[j])) {
      throw new QuantizeError("non-finite-weight", `point ${Math.floor(j / dimension)} has a non-finite component ${String(points[j])}`);
    }
  }
  return n;
}

function checkWeights(weights: Float64Array, n: number): void {
  if (weights.length !== n) throw new QuantizeError("invalid-option", `${weights.length} weights for ${n} points; give one per point`);
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    if (!(w > 0 && w < INFINITY)) throw new QuantizeError("invalid-option", `weight ${i} is ${String(w)}; weights must be positive and finite`);
  }
}

/** Merges equal points (`-0` equals `0`), adding their weights. */
function mergeDuplicates(points: Float64Array, dimension: number, weights: Float64Array | undefined): WeightedPoints {
  const n = points.length / dimension;
  const indexOf = new Uint32Array(n);
  const firstOf = new Map<string, number>();
  const firsts: number[] = [];
  const masses: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = points.subarray(i * dimension, (i + 1) * dimension).join(",");
    let d = firstOf.get(key);
    if (d === undefined) {
      d = firsts.length;
      firstOf.set(key, d);
      firsts.push(i);
      masses.push(0);
    }
    indexOf[i] = d;
    masses[d] = (masses[d] as number) + (weights === undefined ? 1 : (weights[i] as number));
  }
  const distinct = new Float64Array(firsts.length * dimension);
  firsts.forEach((i, d) => distinct.set(points.subarray(i * dimension, (i + 1) * dimension), d * dimension));
  return { points: distinct, mass: Float64Array.from(masses), indexOf };
}

/** Squared distance between point `i` of `a` and point `j` of `b`, summed in component order. */
function squaredDistance(a: Float64Array, i: number, b: Float64Array, j: number, dimension: number): number {
  let total = 0;
  const p = i * dimension;
  const q = j * dimension;
  for (let t = 0; t < dimension; t++) {
    const d = (a[p + t] as number) - (b[q + t] as number);
    total += d * d;
  }
  return total;
}

/**
 * Greedy k-means++: the first centre drawn by weight, each next one the best (by
 * the cost it leaves) of a few candidates drawn by weight times squared distance
 * to the nearest centre so far.
 */
function kmeansPlusPlus(data: WeightedPoints, dimension: number, k: number, random: () => number): Float64Array {
  const { points, mass } = data;
  const m = mass.length;
  const centres = new Float64Array(k * dimension);
  const nearest = new Float64Array(m);
  let candidate = new Float64Array(m);
  let bestNearest = new Float64Array(m);
  const trials = seedTrials(k);
  const first = drawIndex(mass, random);
  centres.set(points.subarray(first * dimension, (first + 1) * dimension), 0);
  const potential = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    nearest[i] = squaredDistance(points, i, points, first, dimension);
    potential[i] = (mass[i] as number) * (nearest[i] as number);
  }
  for (let c = 1; c < k; c++) {
    let bestCost = INFINITY;
    let bestIndex = -1;
    for (let t = 0; t < trials; t++) {
      const j = drawIndex(potential, random);
      let cost = 0;
      for (let i = 0; i < m; i++) {
        const d = Math.min(nearest[i] as number, squaredDistance(points, i, points, j, dimension));
        candidate[i] = d;
        cost += (mass[i] as number) * d;
      }
      // The first candidate is taken even at an infinite cost (distances beyond float64's range).
      if (cost < bestCost || bestIndex < 0) {
        bestCost = cost;
        bestIndex = j;
        [bestNearest, candidate] = [candidate, bestNearest];
      }
    }
    centres.set(points.subarray(bestIndex * dimension, (bestIndex + 1) * dimension), c * dimension);
    nearest.set(bestNearest);
    for (let i = 0; i < m; i++) potential[i] = (mass[i] as number) * (nearest[i] as number);
  }
  return centres;
}

/** An index drawn with probability proportional to its (non-negative) weight; the last positive one if rounding overshoots. */
function drawIndex(weights: Float64Array, random: () => number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i] as number;
  const target = random() * total;
  let running = 0;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (w <= 0) continue;
    running += w;
    last = i;
    if (running > target) return i;
  }
  return last;
}

/** Each point at its nearest centre (lowest index on a tie). */
function nearestAssignment(data: WeightedPoints, dimension: number, centroids: Float64Array): Clustering {
  const labels = new Uint32Array(data.mass.length);
  const { cost } = assignNearest(data, dimension, centroids, labels);
  return { centroids, labels, cost };
}

/**
 * Sets each label to its point's nearest centre (lowest index on a tie), the
 * distances summed as {@link squaredDistance} sums them, written out here because
 * this loop is most of the time spent.
 *
 * @returns the cost and whether any label changed
 */
function assignNearest(data: WeightedPoints, dimension: number, centroids: Float64Array, labels: Uint32Array): { cost: number; changed: boolean } {
  const { points, mass } = data;
  const k = centroids.length / dimension;
  let cost = 0;
  let changed = false;
  for (let i = 0; i < mass.length; i++) {
    const p = i * dimension;
    let best = INFINITY;
    let label = 0;
    for (let c = 0, q = 0; c < k; c++, q += dimension) {
      let d = 0;
      for (let t = 0; t < dimension; t++) {
        const e = (points[p + t] as number) - (centroids[q + t] as number);
        d += e * e;
      }
      if (d < best) {
        best = d;
        label = c;
      }
    }
    if (labels[i] !== label) {
      labels[i] = label;
      changed = true;
    }
    cost += (mass[i] as number) * best;
  }
  return { cost, changed };
}

/** Lloyd's iterations then single-point moves, alternately, until neither changes a label. */
function refine(data: WeightedPoints, dimension: number, clustering: Clustering): void {
  clusterMeans(data, dimension, clustering.labels, clustering.centroids);
  for (let round = 0; round < MAX_REFINE_ROUNDS; round++) {
    singlePointMoves(data, dimension, clustering);
    if (!lloyd(data, dimension, clustering)) break;
  }
}

/**
 * Lloyd's iterations from the current labels: centres to the means, points to the
 * nearest centre, until no label changes. Ends with labels nearest and centres the
 * means of their clusters (computed afresh), and `cost` for them.
 */
function lloyd(data: WeightedPoints, dimension: number, clustering: Clustering): boolean {
  const { labels, centroids } = clustering;
  for (let iteration = 0; iteration < MAX_LLOYD_ITERATIONS; iteration++) {
    clusterMeans(data, dimension, labels, centroids);
    const { cost, changed } = assignNearest(data, dimension, centroids, labels);
    clustering.cost = cost;
    if (!changed) return iteration > 0;
  }
  return true;
}

/**
 * Sets the centres of non-empty clusters to their weighted means. An empty cluster
 * takes the point contributing most to the cost (moved to it, its old cluster's
 * mean recomputed), which lowers the cost; when every point sits on its centre it
 * stays empty, its centre where it was.
 */
function clusterMeans(data: WeightedPoints, dimension: number, labels: Uint32Array, centroids: Float64Array): void {
  const { points, mass } = data;
  const k = centroids.length / dimension;
  for (;;) {
    const sums = new Float64Array(k * dimension);
    const totals = new Float64Array(k);
    for (let i = 0; i < mass.length; i++) {
      const c = labels[i] as number;
      const w = mass[i] as number;
      totals[c] = (totals[c] as number) + w;
      for (let t = 0; t < dimension; t++) sums[c * dimension + t] = (sums[c * dimension + t] as number) + w * (points[i * dimension + t] as number);
    }
    for (let c = 0; c < k; c++) {
      const total = totals[c] as number;
      if (total === 0) continue;
      for (let t = 0; t < dimension; t++) centroids[c * dimension + t] = (sums[c * dimension + t] as number) / total;
    }
    const empty = totals.indexOf(0);
    if (empty < 0) return;
    // The farthest point not alone in its cluster (there are more distinct points than clusters, so one exists).
    let far = -1;
    let farCost = -1;
    const size = new Uint32Array(k);
    for (let i = 0; i < mass.length; i++) size[labels[i] as number] = (size[labels[i] as number] as number) + 1;
    for (let i = 0; i < mass.length; i++) {
      const c = labels[i] as number;
      if ((size[c] as number) < 2) continue;
      const cost = (mass[i] as number) * squaredDistance(points, i, centroids, c, dimension);
      if (cost > farCost) {
        farCost = cost;
        far = i;
      }
    }
    // Only a point off its centre gains by moving (distances of distinct points can underflow to 0):
    // then it is strictly nearest its new centre, so that cluster stays filled and the cost falls.
    if (farCost <= 0) return;
    labels[far] = empty;
  }
}

/**
 * Hartigan's single-point moves, pass after pass over the points until a pass moves
 * none: a point leaves its cluster `a` for `b` when
 * `W_b w / (W_b + w) |x - c_b|² < W_a w / (W_a - w) |x - c_a|²` (the exact change of
 * cost with both means moving), both means updated at once. A point alone in its
 * cluster stays.
 *
 * A point's comparison with `b` depends only on the two clusters, so a point whose
 * own cluster has not changed since it was last examined is compared only with the
 * clusters that have (Hartigan and Wong's live sets, kept as time stamps): the same
 * moves as full passes, for a fraction of the distances once few points move.
 *
 * @returns whether a point moved
 */
function singlePointMoves(data: WeightedPoints, dimension: number, clustering: Clustering): boolean {
  const { points, mass } = data;
  const { labels, centroids } = clustering;
  const m = mass.length;
  const k = centroids.length / dimension;
  const sums = new Float64Array(k * dimension);
  const totals = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    const c = labels[i] as number;
    totals[c] = (totals[c] as number) + (mass[i] as number);
    for (let t = 0; t < dimension; t++)
      sums[c * dimension + t] = (sums[c * dimension + t] as number) + (mass[i] as number) * (points[i * dimension + t] as number);
  }
  // Stamps: the step at which each cluster last changed, and each point was last examined (-1: never).
  const changedAt = new Float64Array(k);
  const examinedAt = new Float64Array(m).fill(-1);
  let step = 0;
  let movedAny = false;
  for (let moved = true; moved; ) {
    moved = false;
    for (let i = 0; i < m; i++, step++) {
      const a = labels[i] as number;
      const since = examinedAt[i] as number;
      const everyCluster = (changedAt[a] as number) > since;
      examinedAt[i] = step;
      const w = mass[i] as number;
      const totalA = totals[a] as number;
      const rest = totalA - w;
      if (rest <= 0) continue;
      const leave = ((totalA * w) / rest) * squaredDistance(points, i, centroids, a, dimension);
      let bestJoin = leave * (1 - MOVE_MARGIN);
      let target = -1;
      for (let b = 0; b < k; b++) {
        if (b === a || (!everyCluster && (changedAt[b] as number) <= since)) continue;
        const totalB = totals[b] as number;
        const join = ((totalB * w) / (totalB + w)) * squaredDistance(points, i, centroids, b, dimension);
        if (join < bestJoin) {
          bestJoin = join;
          target = b;
        }
      }
      if (target < 0) continue;
      moved = true;
      labels[i] = target;
      totals[a] = rest;
      totals[target] = (totals[target] as number) + w;
      changedAt[a] = step;
      changedAt[target] = step;
      // Examined again next pass: in its new cluster every comparison has changed.
      examinedAt[i] = step - 1;
      for (let t = 0; t < dimension; t++) {
        const x = (points[i * dimension + t] as number) * w;
        sums[a * dimension + t] = (sums[a * dimension + t] as number) - x;
        sums[target * dimension + t] = (sums[target * dimension + t] as number) + x;
        centroids[a * dimension + t] = (sums[a * dimension + t] as number) / rest;
        centroids[target * dimension + t] = (sums[target * dimension + t] as number) / (totals[target] as number);
      }
    }
    movedAny ||= moved;
  }
  return movedAny;
}

/** A small seeded generator of uniform numbers in [0, 1) (splitmix32). */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return ((z ^ (z >>> 15)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic k-means lookup-table quantization (coremltools' `kmeans_lut`, done
 * better): the table's centroids minimise the summed squared error exactly whenever
 * that is affordable, and nearly otherwise.
 *
 * Method. The values are sorted and collapsed to `m` distinct values with their
 * multiplicities; float64 prefix sums of weight, `w x` and `w x²` make the cost of one
 * cluster over any run of distinct values O(1). With `k = 2^nbits`:
 *
 * - `m <= k`: every distinct value is its own centroid (error 0).
 * - `k m <= exactBudget`: globally optimal 1-D k-means by dynamic programming over the
 *   distinct values ({@link optimalPartition}, O(k m log m)); the result is optimal.
 * - otherwise: the distinct values are grouped into contiguous runs: `max(k,
 *   floor(exactBudget / 2k))` runs of nearly equal total multiplicity, each further cut
 *   where the value crosses a multiple of (max - min) / runs, so sparse tails keep
 *   their own runs (at most twice as many runs in all); the optimal partition of those
 *   runs (treated as weighted points at their means) is found by the same programme,
 *   and Lloyd's iterations on the full data refine it until no cluster changes
 *   ({@link lloydRefine}, O(k log m) each). The result is optimal among clusterings
 *   that do not split a run, then improved; never worse than that.
 *
 * Unlike the reference (scikit-learn k-means++, randomised, a local optimum), the
 * result is deterministic, and on the exact path its error is never above the
 * reference's (nor any other clustering's), up to float rounding. Memory: a sorted
 * float32 copy of the values, about 16 bytes per distinct value (32 on the exact path,
 * where `m <= exactBudget / k`), and at most `4 exactBudget` bytes of split points.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";
import { lloydRefine, clusterMeans, type SortedDistinct } from "./lloyd-refine.js";
import type { LutQuantized } from "./lut-quantized.js";
import { sortFloat32 } from "./sort-float32.js";

// Read once: a global lookup in a hot loop is slow where globals are intercepted (jest).
const INFINITY = Number.POSITIVE_INFINITY;
import { optimalPartition, type PrefixSums } from "./optimal-partition.js";
import { assertFinite, assertNbits, assertNotEmpty, type QuantizerOptions } from "./quantizer-options.js";

/**
 * Default cap on `k * m` for the exact programme: 2^20 keeps its split points within
 * 4 MiB and a 1M-weight tensor near 0.3 s. Measured on 1M-value tensors, the grouped
 * programme plus Lloyd refinement matched the exact optimum at 4 bits to 7 digits
 * and came within 0.15% of the 2^24 budget's result at 8 bits, at a fifth of the time.
 */
export const DEFAULT_EXACT_BUDGET = 2 ** 20;

/**
 * Default cap on Lloyd's iterations: a safety net against slow creeping convergence
 * (an iteration costs O(k log m), so even the cap is a fraction of a second at 8 bits;
 * from the grouped optimum it typically converges in tens of iterations).
 */
export const DEFAULT_MAX_LLOYD_ITERATIONS = 10_000;

/** Largest tensor the multiplicity prefix sums (Uint32Array) can count. */
const MAX_VALUES = 2 ** 32 - 1;

/** Options of {@link kmeansLut}. */
export interface KmeansOptions extends QuantizerOptions {
  /**
   * Largest `k * m` (clusters times distinct values) solved exactly; above it the
   * distinct values are grouped into `floor(exactBudget / k)` runs first (at least `k`).
   * Time and split-point memory of the programme grow linearly with it.
   *
   * @defaultValue {@link DEFAULT_EXACT_BUDGET} (2^20)
   */
  readonly exactBudget?: number;
  /**
   * Most Lloyd iterations after the grouped programme; 0 keeps the grouped optimum.
   *
   * @defaultValue {@link DEFAULT_MAX_LLOYD_ITERATIONS} (10 000)
   */
  readonly maxLloydIterations?: number;
  /**
   * Called as the work advances with the part done, in (0, 1): at most
   * {@link MAX_PROGRESS_REPORTS} times per call, so it may be slow-ish (a progress
   * bar, a cancellation check that throws). What it throws propagates.
   *
   * @defaultValue none
   */
  readonly onProgress?: (fraction: number) => void;
}

/** Most {@link KmeansOptions.onProgress} calls per k-means run: a bar needs no more. */
export const MAX_PROGRESS_REPORTS = 32;

/**
 * A tensor's values sorted and collapsed to distinct values with prefix sums: the
 * part of {@link kmeansLut} that does not depend on the bit width, made once and
 * reused by runs at several widths (the `nbits: "auto"` search).
 */
export interface KmeansInput {
  /** The tensor, in tensor order. */
  readonly values: Float32Array;
  /** Its sorted distinct values and prefix sums; read, never written. */
  readonly data: SortedDistinct;
}

/**
 * Checks a tensor and prepares it for {@link kmeansLutOf}.
 *
 * @param values - the tensor, finite; kept by reference, not copied
 * @param options - where the tensor lives, for errors
 * @returns the prepared input
 * @throws QuantizeError `invalid-weights` when there are no values (or more than
 *   2^32 - 1); `non-finite-weight` naming the first NaN or infinite value
 */
export function prepareKmeans(values: Float32Array, options: QuantizerOptions = {}): KmeansInput {
  const n = values.length;
  assertNotEmpty(n, options);
  if (n > MAX_VALUES) {
    throw new QuantizeError("invalid-weights", `${n} values are more than k-means can count (${MAX_VALUES})`, options);
  }
  assertFinite(values, options);
  return { values, data: sortedDistinct(values) };
}

/**
 * Builds a `2^nbits`-entry k-means lookup table for the whole tensor and the index of
 * each value's nearest entry (see the module documentation for the method and its
 * guarantee).
 *
 * The table holds the centroids ascending, as float32 (each the float32 nearest to its
 * cluster's float64 mean); when there are fewer than `2^nbits` distinct values the
 * unused entries at the end are 0. Each value gets the index of its nearest stored
 * centroid (ties to the lower index), found by binary search over the midpoints between
 * consecutive used entries, so unused entries are never chosen. Deterministic.
 * {@link dequantizeLut} is the inverse on the table; {@link squaredError} measures the
 * result.
 *
 * @param values - the tensor, finite
 * @param nbits - bits per index, 1..8
 * @param options - budget, iteration cap, and where the tensor lives for errors
 * @returns the indices in tensor order and the table
 * @throws QuantizeError `invalid-option` for a bad `nbits`, `exactBudget` or
 *   `maxLloydIterations`; `invalid-weights` when there are no values (or more than
 *   2^32 - 1); `non-finite-weight` naming the first NaN or infinite value
 * @example
 * ```ts
 * const { lut, indices } = kmeansLut(weights, 4);
 * const restored = dequantizeLut(indices, lut);
 * ```
 */
export function kmeansLut(values: Float32Array, nbits: number, options: KmeansOptions = {}): LutQuantized {
  assertNbits(nbits, options);
  resolveOptions(options);
  return kmeansLutOf(prepareKmeans(values, options), nbits, options);
}

/**
 * {@link kmeansLut} of a tensor prepared by {@link prepareKmeans}: the same result,
 * bit for bit, without sorting the values again.
 *
 * @param input - the prepared tensor
 * @param nbits - bits per index, 1..8
 * @param options - budget, iteration cap, progress, and where the tensor lives for errors
 * @returns the indices in tensor order and the table
 * @throws QuantizeError `invalid-option` for a bad `nbits`, `exactBudget` or
 *   `maxLloydIterations`
 */
export function kmeansLutOf(input: KmeansInput, nbits: number, options: KmeansOptions = {}): LutQuantized {
  assertNbits(nbits, options);
  const { exactBudget, maxLloydIterations } = resolveOptions(options);
  const { values, data } = input;
  const k = 2 ** nbits;
  const xs = data.values;
  const m = xs.length;
  const lut = new Float32Array(k);
  if (m <= k) {
    lut.set(xs);
    return { indices: nearestIndices(values, lut, m), lut };
  }
  const report = progressReporter(options.onProgress);

  let bounds: Int32Array;
  const centroids = new Float64Array(k);
  // The programme's layers are most of the work: they take the bar to 90%.
  const onLayer = report === undefined ? undefined : (layer: number): void => report((0.9 * layer) / k);
  if (k * m <= exactBudget) {
    bounds = optimalPartition(distinctSums(data), k, onLayer);
  } else {
    // Half the budget for equal-mass runs, half for equal-width ones (see balancedRuns).
    const runs = Math.max(k, Math.floor(exactBudget / k / 2));
    const runEnds = balancedRuns(xs, equalMassRuns(data.count, runs), runs);
    const runBounds = optimalPartition(runSums(data, runEnds), k, onLayer);
    bounds = new Int32Array(k + 1);
    for (let c = 0; c <= k; c++) bounds[c] = runEnds[runBounds[c] as number] as number;
    clusterMeans(data, bounds, centroids);
    lloydRefine(data, bounds, centroids, maxLloydIterations);
  }
  report?.(0.95);
  storeCentroids(data, bounds, centroids, lut);
  return { indices: nearestIndices(values, lut, k), lut };
}

/**
 * `onProgress` called only when the fraction has grown by 1 / MAX_PROGRESS_REPORTS
 * since the last call (so at most that many calls), or undefined without one.
 */
function progressReporter(onProgress: ((fraction: number) => void) | undefined): ((fraction: number) => void) | undefined {
  if (onProgress === undefined) return undefined;
  let last = 0;
  return (fraction) => {
    if (fraction - last < 1 / MAX_PROGRESS_REPORTS) return;
    last = fraction;
    onProgress(fraction);
  };
}

function resolveOptions(options: KmeansOptions): Required<Pick<KmeansOptions, "exactBudget" | "maxLloydIterations">> {
  const exactBudget = options.exactBudget ?? DEFAULT_EXACT_BUDGET;
  const maxLloydIterations = options.maxLloydIterations ?? DEFAULT_MAX_LLOYD_ITERATIONS;
  if (!Number.isSafeInteger(exactBudget) || exactBudget < 1) {
    throw new QuantizeError("invalid-option", `exactBudget must be a positive integer, got ${String(exactBudget)}`, options);
  }
  if (!Number.isSafeInteger(maxLloydIterations) || maxLloydIterations < 0) {
    throw new QuantizeError("invalid-option", `maxLloydIterations must be a non-negative integer, got ${String(maxLloydIterations)}`, options);
  }
  return { exactBudget, maxLloydIterations };
}

/**
 * Sorts a copy of the values and collapses it, in place, to the distinct values with
 * cumulative multiplicities and centred cumulative sums.
 */
function sortedDistinct(values: Float32Array): SortedDistinct {
  const sorted = sortFloat32(values);
  const n = sorted.length;
  let m = 0;
  for (let j = 0; j < n; j++) {
    if (j === 0 || sorted[j] !== sorted[j - 1]) m++;
  }
  const count = new Uint32Array(m + 1);
  const sum = new Float64Array(m + 1);
  // Centre on the median: sums of x - shift stay small, so prefix differences lose
  // fewer bits to cancellation.
  const shift = sorted[n >>> 1] as number;
  let d = 0;
  let last = NaN;
  let total = 0;
  for (let j = 0; j < n; j++) {
    const v = sorted[j] as number;
    // -0 === 0: the two zeros are one distinct value, stored as +0 (-0 + 0 is +0).
    if (v !== last) {
      count[d] = j;
      sum[d] = total;
      sorted[d++] = v + 0;
      last = v;
    }
    total += v - shift;
  }
  count[m] = n;
  sum[m] = total;
  return { values: m === n ? sorted : sorted.slice(0, m), count, sum, shift };
}

/** Prefix sums over the distinct values, for the exact programme. */
function distinctSums(data: SortedDistinct): PrefixSums {
  const { values: xs, count, sum, shift } = data;
  const m = xs.length;
  const sumSquares = new Float64Array(m + 1);
  let total = 0;
  for (let j = 0; j < m; j++) {
    const d = (xs[j] as number) - shift;
    total += ((count[j + 1] as number) - (count[j] as number)) * d * d;
    sumSquares[j + 1] = total;
  }
  return { weight: Float64Array.from(count), sum, sumSquares };
}

/**
 * Cuts the distinct values into `runs` contiguous non-empty runs of nearly equal total
 * multiplicity (requires `runs < m`); returns the `runs + 1` boundaries.
 *
 * @internal
 */
export function equalMassRuns(count: Uint32Array, runs: number): Int32Array {
  const m = count.length - 1;
  const total = count[m] as number;
  const ends = new Int32Array(runs + 1);
  ends[runs] = m;
  let p = 0;
  for (let r = 1; r < runs; r++) {
    const target = (total * r) / runs;
    while (p < m && (count[p] as number) < target) p++;
    // A heavy value can cover several targets: keep every run non-empty and leave one
    // value at least for each later run, so there are exactly `runs` runs.
    const lowest = (ends[r - 1] as number) + 1;
    const highest = m - (runs - r);
    ends[r] = p < lowest ? lowest : p > highest ? highest : p;
  }
  return ends;
}

/**
 * Refines equal-mass run boundaries with equal-width ones: a run also ends where the
 * value range crosses a multiple of (max - min) / runs. Equal mass alone leaves the
 * sparse tails in a few wide runs, where k-means wants centroids of their own (on
 * real weights with outliers that tripled the error); the width cuts keep them.
 * At most `2 * runs` runs.
 *
 * @internal
 */
export function balancedRuns(xs: Float32Array, massEnds: Int32Array, runs: number): Int32Array {
  const m = xs.length;
  const low = xs[0] as number;
  const width = ((xs[m - 1] as number) - low) / runs;
  const ends: number[] = [0];
  let next = 1; // next equal-mass boundary to merge in
  let bucket = 0;
  for (let j = 1; j < m; j++) {
    const b = Math.min(runs - 1, Math.floor(((xs[j] as number) - low) / width));
    const massCut = massEnds[next] === j;
    if (massCut) next++;
    if (massCut || b !== bucket) ends.push(j);
    bucket = b;
  }
  ends.push(m);
  return Int32Array.from(ends);
}

/**
 * Prefix sums over runs treated as weighted points at their means: the squared error
 * inside a run does not depend on the partition, so it is left out.
 */
function runSums(data: SortedDistinct, ends: Int32Array): PrefixSums {
  const runs = ends.length - 1;
  const weight = new Float64Array(runs + 1);
  const sum = new Float64Array(runs + 1);
  const sumSquares = new Float64Array(runs + 1);
  for (let r = 0; r < runs; r++) {
    const w = data.count[ends[r + 1] as number] as number;
    const s = data.sum[ends[r + 1] as number] as number;
    const runWeight = w - (weight[r] as number);
    const runSum = s - (sum[r] as number);
    weight[r + 1] = w;
    sum[r + 1] = s;
    sumSquares[r + 1] = (sumSquares[r] as number) + (runSum * runSum) / runWeight;
  }
  return { weight, sum, sumSquares };
}

/**
 * Writes each cluster's mean, summed directly (relative to its first value) rather
 * than from prefix differences so small clusters keep every bit, as float32 into
 * `lut`; an empty cluster (Lloyd can leave one) keeps `centroids[c]`. Rounding cannot
 * reorder means, but the table is sorted anyway since the index search relies on it.
 */
function storeCentroids(data: SortedDistinct, bounds: Int32Array, centroids: Float64Array, lut: Float32Array): void {
  const { values: xs, count } = data;
  const k = lut.length;
  for (let c = 0; c < k; c++) {
    const a = bounds[c] as number;
    const b = bounds[c + 1] as number;
    if (b === a) {
      lut[c] = centroids[c] as number;
      continue;
    }
    const x0 = xs[a] as number;
    let offset = 0;
    for (let j = a + 1; j < b; j++) offset += ((count[j + 1] as number) - (count[j] as number)) * ((xs[j] as number) - x0);
    lut[c] = x0 + offset / ((count[b] as number) - (count[a] as number));
  }
  lut.sort();
}

/**
 * Index of each value's nearest entry among `lut[0..used-1]` (ascending), ties to the
 * lower index: the number of midpoints between consecutive entries strictly below the
 * value, by binary search, moved to the first of equal entries (rounding to float32 can
 * make two means equal). The midpoints are float64, so a value closer than one float64
 * ulp to a midpoint may go either way — a difference far below float32 precision.
 */
function nearestIndices(values: Float32Array, lut: Float32Array, used: number): Uint8Array {
  const n = values.length;
  const indices = new Uint8Array(n);
  // Midpoints between consecutive centroids, padded with +Infinity to a power of two
  // so the search below takes the same fixed steps for every value, without branches
  // (a branching binary search mispredicts on random weights).
  let size = 1;
  while (size < used) size *= 2;
  const mids = new Float64Array(size).fill(INFINITY);
  for (let c = 0; c + 1 < used; c++) mids[c] = 0.5 * ((lut[c] as number) + (lut[c + 1] as number));
  const firstEqual = new Uint8Array(used);
  for (let c = 1; c < used; c++) firstEqual[c] = lut[c] === lut[c - 1] ? (firstEqual[c - 1] as number) : c;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    // lo = how many midpoints lie below v: the index of the nearest centroid.
    let lo = 0;
    for (let step = size >>> 1; step > 0; step >>>= 1) lo += Number((mids[lo + step - 1] as number) < v) * step;
    indices[i] = firstEqual[lo] as number;
  }
  return indices;
}

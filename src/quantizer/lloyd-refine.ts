/**
 * Lloyd's k-means iterations on sorted 1-D data with prefix sums.
 *
 * @packageDocumentation
 */

/**
 * Sorted distinct values with the prefix sums Lloyd's iterations need.
 */
export interface SortedDistinct {
  /** The distinct values, strictly ascending. */
  readonly values: Float32Array;
  /** `count[j]` = how many input values are below `values[j]`; `m + 1` entries. */
  readonly count: Uint32Array;
  /** `sum[j]` = sum of `(x - shift)` over those input values; `m + 1` entries. */
  readonly sum: Float64Array;
  /** Subtracted from every value before summing, to keep the sums small and exact-ish. */
  readonly shift: number;
}

/**
 * Refines a 1-D clustering of sorted data with Lloyd's iterations until no cluster
 * changes (or `maxIterations` is reached), in place.
 *
 * Each iteration assigns every value to its nearest centroid (the boundaries are the
 * midpoints between consecutive centroids, found by binary search; a value on a
 * midpoint goes to the lower cluster), then moves each centroid to its cluster's mean
 * from the prefix sums: O(k log m) per iteration whatever the data size. Neither step
 * can raise the summed squared error, so the result is never worse than the start. A
 * cluster left empty keeps its centroid (which stays between its neighbours' means).
 *
 * @param data - the sorted distinct values and prefix sums
 * @param bounds - `k + 1` cluster boundaries over `data.values` (cluster `c` is
 *   `bounds[c]..bounds[c + 1] - 1`); updated in place
 * @param centroids - `k` ascending centroids, the means of those clusters; updated in
 *   place
 * @param maxIterations - safety cap on the number of iterations
 * @returns the number of iterations run (the last one changing nothing, unless the cap
 *   was reached)
 */
export function lloydRefine(data: SortedDistinct, bounds: Int32Array, centroids: Float64Array, maxIterations: number): number {
  const xs = data.values;
  const m = xs.length;
  const k = centroids.length;
  const next = new Int32Array(k + 1);
  next[k] = m;
  let iteration = 0;
  while (iteration < maxIterations) {
    iteration++;
    let changed = false;
    for (let c = 1; c < k; c++) {
      const mid = 0.5 * ((centroids[c - 1] as number) + (centroids[c] as number));
      // First value above the midpoint, searched right of the previous boundary so the
      // boundaries stay ordered even if rounding disorders two centroids.
      let lo = next[c - 1] as number;
      let hi = m;
      while (lo < hi) {
        const probe = (lo + hi) >>> 1;
        if ((xs[probe] as number) <= mid) lo = probe + 1;
        else hi = probe;
      }
      next[c] = lo;
      if (lo !== bounds[c]) changed = true;
    }
    if (!changed) break;
    bounds.set(next);
    clusterMeans(data, bounds, centroids);
  }
  return iteration;
}

/**
 * Sets each centroid to the mean of its cluster, from the prefix sums; an empty
 * cluster keeps its centroid.
 *
 * @param data - the sorted distinct values and prefix sums
 * @param bounds - `k + 1` cluster boundaries over `data.values`
 * @param centroids - receives the `k` means
 */
export function clusterMeans(data: SortedDistinct, bounds: Int32Array, centroids: Float64Array): void {
  const { count, sum, shift } = data;
  for (let c = 0; c < centroids.length; c++) {
    const a = bounds[c] as number;
    const b = bounds[c + 1] as number;
    const w = (count[b] as number) - (count[a] as number);
    if (w > 0) centroids[c] = shift + ((sum[b] as number) - (sum[a] as number)) / w;
  }
}

/**
 * Palettization of one tensor as the reference computes it (`palettize_weights`'
 * `blockwise_compress`, MLPROGRAM.md section 10): the tensor split into groups
 * along one axis, one LUT per group, `uniform` and `unique` modes, scalar or
 * vector (`cluster_dim`) entries, every operation in the weight's float type.
 *
 * @packageDocumentation
 */
import { ROUNDING_SHIFT } from "../kernels/run-kernels.js";
import { optimalPartition } from "../quantizer/optimal-partition.js";
import { sortFloat32 } from "../quantizer/sort-float32.js";
import { roundToFloat, type ArithmeticFloat } from "./blockwise-linear.js";
import { castFloat64 } from "./cast-float64.js";
import type { FloatElements } from "./float32-const-view.js";
import { palettizeVectors } from "./palettize-vectors.js";

/**
 * The LUT modes computed here: `kmeans` for scalar LUTs by an optimal 1-D k-means
 * (the reference's own for large float16 groups; elsewhere its error is never above
 * scikit-learn's), for vector LUTs by {@link palettizeVectors}.
 */
export type ExactPalettizeMode = "uniform" | "unique" | "kmeans";

/** The index widths `unique` picks from, smallest first. */
const UNIQUE_NBITS = [1, 2, 3, 4, 6, 8] as const;

/** How one tensor is palettized. */
export interface PalettizeTensorOptions {
  /** `uniform` or `unique`. */
  readonly mode: ExactPalettizeMode;
  /** Index bits for `uniform` and `kmeans`; ignored by `unique`, which picks its own. */
  readonly nbits: number;
  /** The axis the groups are taken along. */
  readonly axis: number;
  /** Entries of that axis per group; divides the axis and is a multiple of `vector`. */
  readonly groupSize: number;
  /** Entries of a LUT vector, consecutive along `axis`. */
  readonly vector: number;
  /** The float type every operation is rounded to. */
  readonly float: ArithmeticFloat;
}

/** A palettized tensor. */
export interface PalettizedTensor {
  /** Index bits. */
  readonly nbits: number;
  /** One index per vector (at most 8 bits), row-major over the weight's shape with `axis` divided by the vector size. */
  readonly indices: Uint8Array;
  /** The indices' shape. */
  readonly indicesShape: readonly number[];
  /** Groups along `axis`. */
  readonly groups: number;
  /** The LUTs, `[group][entry][vector component]` row-major: groups * 2^nbits * vector values. */
  readonly lut: Float64Array;
}

/**
 * Palettizes a tensor, or says why it cannot (more than 256 distinct values in a
 * group for `unique`).
 *
 * @param values - the elements, row-major, of the weight's float type
 * @param shape - the dimensions
 * @param options - mode, bits, grouping, vector size, float type
 * @returns the palettized tensor, or the reason as a string
 */
export function palettizeTensor(values: FloatElements, shape: readonly number[], options: PalettizeTensorOptions): PalettizedTensor | string {
  const { axis, groupSize, vector } = options;
  const axisLength = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const groups = axisLength / groupSize;
  const rows = axisLength / vector;
  const indicesShape = shape.map((size, k) => (k === axis ? rows : size));
  const count = outer * rows * inner;
  const indices = new Uint8Array(count);
  // Index position q = (o * rows + r) * inner + i reads the vector starting at
  // (o * axisLength + r * vector) * inner + i, in group floor(r * vector / groupSize):
  // the loops below walk that layout in index order, with no per-index tables.
  if (options.mode === "uniform") {
    const nbits = options.nbits;
    const levels = 2 ** nbits;
    const float = options.float;
    const top = levels - 1;
    const lows = new Float64Array(groups).fill(Number.POSITIVE_INFINITY);
    const highs = new Float64Array(groups).fill(Number.NEGATIVE_INFINITY);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < rows; r++) {
        const g = Math.floor((r * vector) / groupSize);
        const start = (o * axisLength + r * vector) * inner;
        let mn = lows[g] as number;
        let mx = highs[g] as number;
        for (let i = 0; i < inner; i++) {
          const v = values[start + i] as number;
          mn = Math.min(mn, v);
          mx = Math.max(mx, v);
        }
        lows[g] = mn;
        highs[g] = mx;
      }
    }
    const ranges = new Float64Array(groups);
    for (let g = 0; g < groups; g++) ranges[g] = roundToFloat(float, (highs[g] as number) - (lows[g] as number));
    for (let o = 0, q = 0; o < outer; o++) {
      for (let r = 0; r < rows; r++) {
        const g = Math.floor((r * vector) / groupSize);
        const start = (o * axisLength + r * vector) * inner;
        const mn = lows[g] as number;
        const range = ranges[g] as number;
        if (float === "float32") uniformRowFloat32(values, start, inner, mn, range, top, indices, q);
        else uniformRow(float, values, start, inner, mn, range, top, indices, q);
        q += inner;
      }
    }
    const lut = new Float64Array(groups * levels);
    for (let g = 0; g < groups; g++) {
      const mn = lows[g] as number;
      const step = (ranges[g] as number) / (levels - 1);
      for (let k = 0; k < levels; k++) lut[g * levels + k] = castFloat64(float, k * step + mn);
    }
    return { nbits, indices, indicesShape, groups, lut };
  }
  if (options.mode === "kmeans" && vector > 1) return palettizeVectors(values, shape, options);
  if (options.mode === "kmeans") {
    const nbits = options.nbits;
    const levels = 2 ** nbits;
    const lut = new Float64Array(groups * levels);
    const float = options.float;
    // Each group's elements gathered in index order, then clustered.
    const members = count / groups;
    const groupValues = Array.from({ length: groups }, () => new Float64Array(members));
    const filled = new Int32Array(groups);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < rows; r++) {
        const g = Math.floor((r * vector) / groupSize);
        const start = (o * axisLength + r * vector) * inner;
        const into = groupValues[g] as Float64Array;
        into.set(values.subarray(start, start + inner), filled[g] as number);
        filled[g] = (filled[g] as number) + inner;
      }
    }
    const clusters = groupValues.map((group) => optimalClusters(group, levels));
    clusters.forEach(({ centroids }, g) => {
      centroids.forEach((c, k) => {
        lut[g * levels + k] = castFloat64(float, c);
      });
    });
    filled.fill(0);
    for (let o = 0, q = 0; o < outer; o++) {
      for (let r = 0; r < rows; r++, q += inner) {
        const g = Math.floor((r * vector) / groupSize);
        const clusterOf = (clusters[g] as Clusters).clusterOf;
        indices.set(clusterOf.subarray(filled[g] as number, (filled[g] as number) + inner), q);
        filled[g] = (filled[g] as number) + inner;
      }
    }
    return { nbits, indices, indicesShape, groups, lut };
  }
  // Each index position's group and the offset of its vector's first element.
  const groupOf = new Int32Array(count);
  const start = new Int32Array(count);
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < inner; i++, p++) {
        groupOf[p] = Math.floor((r * vector) / groupSize);
        start[p] = (o * axisLength + r * vector) * inner + i;
      }
    }
  }
  const vectorAt = (q: number): number[] => Array.from({ length: vector }, (_, t) => values[(start[q] as number) + t * inner] as number);
  const members: number[][] = Array.from({ length: groups }, () => []);
  for (let q = 0; q < count; q++) members[groupOf[q] as number]?.push(q);
  const tables = members.map((qs) => {
    const distinct = new Map<string, number[]>();
    for (const q of qs) {
      const v = vectorAt(q);
      distinct.set(v.map((x) => (x === 0 ? 0 : x)).join(","), v);
    }
    return [...distinct.entries()].sort(([, a], [, b]) => compareVectors(a, b));
  });
  const most = Math.max(...tables.map((table) => table.length));
  const nbits = UNIQUE_NBITS.find((n) => most <= 2 ** n);
  if (nbits === undefined) return `${most} distinct values in a group, more than 8-bit indices can tell apart`;
  const levels = 2 ** nbits;
  const lut = new Float64Array(groups * levels * vector);
  members.forEach((qs, g) => {
    const table = tables[g] ?? [];
    const position = new Map(table.map(([key], k) => [key, k]));
    table.forEach(([, v], k) => {
      for (let t = 0; t < vector; t++) lut[(g * levels + k) * vector + t] = v[t] as number;
    });
    for (const q of qs)
      indices[q] =
        position.get(
          vectorAt(q)
            .map((x) => (x === 0 ? 0 : x))
            .join(","),
        ) ?? 0;
  });
  return { nbits, indices, indicesShape, groups, lut };
}

/**
 * Uniform LUT indices of `count` consecutive values from `start`, into `indices` from
 * `q`: `fl(fl(fl(v - mn) / range) * top)` rounded half to even by ROUNDING_SHIFT (the
 * quotient lies in [0, top], as fl(v - mn) <= fl(mx - mn)); NaN (a group of equal
 * values: 0 / 0) is stored as 0 (ToUint8).
 */
function uniformRow(
  float: ArithmeticFloat,
  values: FloatElements,
  start: number,
  count: number,
  mn: number,
  range: number,
  top: number,
  indices: Uint8Array,
  q: number,
): void {
  for (let i = 0; i < count; i++) {
    const ratio = roundToFloat(float, roundToFloat(float, (values[start + i] as number) - mn) / range);
    indices[q + i] = roundToFloat(float, ratio * top) + ROUNDING_SHIFT - ROUNDING_SHIFT;
  }
}

/** {@link uniformRow} for float32 weights: the same arithmetic, with nothing in the loop but it (twice as fast). */
function uniformRowFloat32(values: FloatElements, start: number, count: number, mn: number, range: number, top: number, indices: Uint8Array, q: number): void {
  const shift = ROUNDING_SHIFT;
  for (let i = 0; i < count; i++) indices[q + i] = Math.fround(Math.fround(Math.fround((values[start + i] as number) - mn) / range) * top) + shift - shift;
}

/**
 * A tensor repeated along every axis where `to` is larger (numpy broadcasting of size-1 axes).
 *
 * @param values - the tensor, row-major
 * @param from - its dimensions
 * @param to - the dimensions to repeat it to (each equal, or `from`'s is 1)
 * @returns the repeated tensor, row-major
 */
export function broadcastTensor(values: Float64Array, from: readonly number[], to: readonly number[]): Float64Array {
  const total = to.reduce((a, b) => a * b, 1);
  const out = new Float64Array(total);
  for (let index = 0; index < total; index++) {
    let rest = index;
    let source = 0;
    let stride = 1;
    for (let k = to.length - 1; k >= 0; k--) {
      const size = to[k] as number;
      const position = rest % size;
      rest = Math.floor(rest / size);
      if ((from[k] as number) > 1) source += position * stride;
      stride *= from[k] as number;
    }
    out[index] = values[source] as number;
  }
  return out;
}

function compareVectors(a: readonly number[], b: readonly number[]): number {
  for (let t = 0; t < a.length; t++) {
    const d = (a[t] as number) - (b[t] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** A group clustered: centroids ascending, and each element's cluster in the group's order. */
interface Clusters {
  readonly centroids: Float64Array;
  readonly clusterOf: Uint8Array;
}

/** A group's distinct values ascending (-0 merged into +0) and how often each occurs. */
interface DistinctValues {
  readonly distinct: Float64Array;
  readonly counts: Float64Array;
}

/**
 * Optimal weighted 1-D k-means over a group's distinct values, as coremltools'
 * kmeans1d: k = min(distinct, levels), clusters numbered by ascending value, each
 * centroid the running weighted mean of its sorted members in float64.
 */
function optimalClusters(group: Float64Array, levels: number): Clusters {
  const { distinct, counts } = distinctValues(group);
  const m = distinct.length;
  const k = Math.min(m, levels);
  let bounds: Int32Array;
  if (k === m) bounds = Int32Array.from({ length: m + 1 }, (_, i) => i);
  else {
    // Centred on the median distinct value, so prefix differences keep their bits.
    const shift = distinct[m >>> 1] as number;
    const weight = new Float64Array(m + 1);
    const sum = new Float64Array(m + 1);
    const sumSquares = new Float64Array(m + 1);
    for (let j = 0; j < m; j++) {
      const w = counts[j] as number;
      const d = (distinct[j] as number) - shift;
      weight[j + 1] = (weight[j] as number) + w;
      sum[j + 1] = (sum[j] as number) + w * d;
      sumSquares[j + 1] = (sumSquares[j] as number) + w * d * d;
    }
    bounds = optimalPartition({ weight, sum, sumSquares }, k);
  }
  const centroids = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let mean = 0;
    let total = 0;
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) {
      const w = counts[j] as number;
      total += w;
      mean += (((distinct[j] as number) - mean) * w) / total;
    }
    centroids[c] = mean;
  }
  return { centroids, clusterOf: clusterIndices(group, distinct, bounds) };
}

/**
 * Each element's cluster: by binary search over the values where clusters start (an
 * element's cluster is how many clusters after the first start at or below it), or,
 * when there is a NaN, which has no place in that order, by a map of the distinct values.
 */
function clusterIndices(group: Float64Array, distinct: Float64Array, bounds: Int32Array): Uint8Array {
  const k = bounds.length - 1;
  if (distinct.some(Number.isNaN)) {
    const clusterOfValue = new Map<number, number>();
    for (let c = 0; c < k; c++) for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) clusterOfValue.set(distinct[j] as number, c);
    return Uint8Array.from(group, (v) => clusterOfValue.get(v + 0) as number);
  }
  const starts = new Float64Array(Math.max(0, k - 1));
  for (let c = 1; c < k; c++) starts[c - 1] = distinct[bounds[c] as number] as number;
  const clusterOf = new Uint8Array(group.length);
  for (let e = 0; e < group.length; e++) {
    const v = group[e] as number;
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    clusterOf[e] = lo;
  }
  return clusterOf;
}

/**
 * A group's distinct values and counts: float32 values (all of float16 and float32
 * weights, and small integers) by the linear-time radix sort, anything else
 * (NaN included, whose order the comparison sort below leaves to insertion order)
 * by a map and a comparison sort, in the same order either way.
 */
function distinctValues(group: Float64Array): DistinctValues {
  const n = group.length;
  const narrow = new Float32Array(n);
  let exact = true;
  for (let e = 0; e < n; e++) {
    const v = group[e] as number;
    narrow[e] = v;
    if (narrow[e] !== v) {
      exact = false;
      break;
    }
  }
  if (!exact) return distinctValuesByMap(group);
  const sorted = sortFloat32(narrow);
  let m = 0;
  for (let j = 0; j < n; j++) if (j === 0 || sorted[j] !== sorted[j - 1]) m++;
  const distinct = new Float64Array(m);
  const counts = new Float64Array(m);
  // -0 === 0: the two zeros are one distinct value, stored as +0 (-0 + 0 is +0).
  for (let j = 0, d = -1; j < n; j++) {
    if (j === 0 || sorted[j] !== sorted[j - 1]) distinct[++d] = (sorted[j] as number) + 0;
    counts[d] = (counts[d] as number) + 1;
  }
  return { distinct, counts };
}

function distinctValuesByMap(group: Float64Array): DistinctValues {
  const counts = new Map<number, number>();
  for (const v of group) counts.set(v + 0, (counts.get(v + 0) ?? 0) + 1);
  const distinct = Float64Array.from([...counts.keys()].sort((a, b) => a - b));
  return { distinct, counts: Float64Array.from(distinct, (x) => counts.get(x) as number) };
}

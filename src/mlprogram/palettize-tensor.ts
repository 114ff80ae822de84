/**
 * Palettization of one tensor as the reference computes it (`palettize_weights`'
 * `blockwise_compress`, MLPROGRAM.md section 10): the tensor split into groups
 * along one axis, one LUT per group, `uniform` and `unique` modes, scalar or
 * vector (`cluster_dim`) entries, every operation in the weight's float type.
 *
 * @packageDocumentation
 */
import { optimalPartition } from "../quantizer/optimal-partition.js";
import { roundHalfEven } from "../quantizer/round-half-even.js";
import { floatRounding, type WeightFloat } from "./blockwise-linear.js";

/**
 * The LUT modes computed here: `kmeans` only for scalar LUTs, by an optimal 1-D
 * k-means (the reference's own for large float16 groups; elsewhere its error is
 * never above scikit-learn's).
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
  readonly float: WeightFloat;
}

/** A palettized tensor. */
export interface PalettizedTensor {
  /** Index bits. */
  readonly nbits: number;
  /** One index per vector, row-major over the weight's shape with `axis` divided by the vector size. */
  readonly indices: Int32Array;
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
export function palettizeTensor(values: Float64Array, shape: readonly number[], options: PalettizeTensorOptions): PalettizedTensor | string {
  const { axis, groupSize, vector } = options;
  const axisLength = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const groups = axisLength / groupSize;
  const rows = axisLength / vector;
  const indicesShape = shape.map((size, k) => (k === axis ? rows : size));
  const count = outer * rows * inner;
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
  const indices = new Int32Array(count);
  if (options.mode === "uniform") {
    const nbits = options.nbits;
    const levels = 2 ** nbits;
    const lut = new Float64Array(groups * levels);
    const fl = floatRounding(options.float);
    members.forEach((qs, g) => {
      let mn = Number.POSITIVE_INFINITY;
      let mx = Number.NEGATIVE_INFINITY;
      for (const q of qs) {
        const v = values[start[q] as number] as number;
        mn = Math.min(mn, v);
        mx = Math.max(mx, v);
      }
      const range = fl(mx - mn);
      const step = range / (levels - 1);
      for (const q of qs) {
        const ratio = fl(fl((values[start[q] as number] as number) - mn) / range);
        const scaled = fl(ratio * (levels - 1));
        indices[q] = Number.isNaN(scaled) ? 0 : roundHalfEven(scaled);
      }
      for (let k = 0; k < levels; k++) lut[g * levels + k] = fl(k * step + mn);
    });
    return { nbits, indices, indicesShape, groups, lut };
  }
  if (options.mode === "kmeans") {
    const nbits = options.nbits;
    const levels = 2 ** nbits;
    const lut = new Float64Array(groups * levels);
    const fl = floatRounding(options.float);
    members.forEach((qs, g) => {
      const { centroids, clusterOf } = optimalClusters(
        qs.map((q) => values[start[q] as number] as number),
        levels,
      );
      centroids.forEach((c, k) => {
        lut[g * levels + k] = fl(c);
      });
      qs.forEach((q, j) => {
        indices[q] = clusterOf[j] as number;
      });
    });
    return { nbits, indices, indicesShape, groups, lut };
  }
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

function compareVectors(a: readonly number[], b: readonly number[]): number {
  for (let t = 0; t < a.length; t++) {
    const d = (a[t] as number) - (b[t] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Optimal weighted 1-D k-means over a group's distinct values, as coremltools'
 * kmeans1d: k = min(distinct, levels), clusters numbered by ascending value, each
 * centroid the running weighted mean of its sorted members in float64.
 */
function optimalClusters(group: readonly number[], levels: number): { readonly centroids: number[]; readonly clusterOf: Int32Array } {
  const counts = new Map<number, number>();
  for (const v of group) counts.set(v + 0, (counts.get(v + 0) ?? 0) + 1);
  const distinct = [...counts.keys()].sort((a, b) => a - b);
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
    distinct.forEach((x, j) => {
      const w = counts.get(x) as number;
      const d = x - shift;
      weight[j + 1] = (weight[j] as number) + w;
      sum[j + 1] = (sum[j] as number) + w * d;
      sumSquares[j + 1] = (sumSquares[j] as number) + w * d * d;
    });
    bounds = optimalPartition({ weight, sum, sumSquares }, k);
  }
  const centroids: number[] = [];
  const clusterOfValue = new Map<number, number>();
  for (let c = 0; c < k; c++) {
    let mean = 0;
    let total = 0;
    for (let j = bounds[c] as number; j < (bounds[c + 1] as number); j++) {
      const x = distinct[j] as number;
      const w = counts.get(x) as number;
      total += w;
      mean += ((x - mean) * w) / total;
      clusterOfValue.set(x, c);
    }
    centroids.push(mean);
  }
  return { centroids, clusterOf: Int32Array.from(group, (v) => clusterOfValue.get(v + 0) as number) };
}

/**
 * Vector k-means palettization of one tensor (`cluster_dim > 1`, where the
 * reference runs scikit-learn's KMeans; MLPROGRAM.md section 10).
 *
 * @packageDocumentation
 */
import { vectorKmeans } from "../quantizer/vector-kmeans.js";
import { castFloat64 } from "./cast-float64.js";
import type { FloatElements } from "./float32-const-view.js";
import type { PalettizedTensor, PalettizeTensorOptions } from "./palettize-tensor.js";

/**
 * Palettizes a tensor's vectors by k-means, one LUT per group: a group's vectors
 * in section 10's order (vector row, then the other axes row-major) clustered into
 * min(vectors, 2^nbits) centres by {@link vectorKmeans}, the centres cast to the
 * float type (unused entries 0), each index the label of its vector.
 *
 * @param values - the elements, row-major, of the weight's float type
 * @param shape - the dimensions
 * @param options - bits, grouping, vector size (`vector` > 1), float type; `mode` is `kmeans`
 * @returns the palettized tensor: LUTs `[group][entry][vector component]`
 */
export function palettizeVectors(values: FloatElements, shape: readonly number[], options: PalettizeTensorOptions): PalettizedTensor {
  const { axis, groupSize, vector, nbits, float } = options;
  const axisLength = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const groups = axisLength / groupSize;
  const rows = axisLength / vector;
  const rowsPerGroup = groupSize / vector;
  const levels = 2 ** nbits;
  const indices = new Uint8Array(outer * rows * inner);
  const lut = new Float64Array(groups * levels * vector);
  const count = rowsPerGroup * outer * inner;
  const points = new Float64Array(count * vector);
  for (let g = 0; g < groups; g++) {
    // Vector (j, rest) of the group is x[(g * rowsPerGroup + j) * V + t, rest], t = 0..V-1.
    for (let j = 0, p = 0; j < rowsPerGroup; j++) {
      const r = g * rowsPerGroup + j;
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) for (let t = 0; t < vector; t++) points[p++] = values[(o * axisLength + r * vector + t) * inner + i] as number;
    }
    const { centroids, labels } = vectorKmeans(points, vector, Math.min(count, levels));
    centroids.forEach((c, e) => {
      lut[g * levels * vector + e] = castFloat64(float, c);
    });
    for (let j = 0, p = 0; j < rowsPerGroup; j++) {
      const r = g * rowsPerGroup + j;
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) indices[(o * rows + r) * inner + i] = labels[p++] as number;
    }
  }
  return { nbits, indices, indicesShape: shape.map((size, k) => (k === axis ? rows : size)), groups, lut };
}

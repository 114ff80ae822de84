/**
 * The k-nearest-neighbours classifier stage (NearestNeighbors.proto): a linear
 * scan with squared Euclidean distance, then a vote of the k nearest samples.
 *
 * @packageDocumentation
 */
import type { KNearestNeighborsClassifier } from "../gen/NearestNeighbors_pb.js";
import { QuantizeError } from "../errors.js";

/** A kNN classifier ready to classify vectors. */
export interface PreparedKnn {
  /** The vector length the index holds. */
  readonly dimensions: number;
  /**
   * Classifies one vector.
   *
   * @returns the winning label and every label's share of the vote (0 for labels
   *   no neighbour has); for an empty index, the default label and an empty map
   */
  readonly classify: (x: ArrayLike<number>) => { label: string | bigint; probabilities: Map<string | bigint, number> };
}

/**
 * Prepares a kNN classifier.
 *
 * Votes: with uniform weighting each of the k nearest samples counts 1; with
 * inverse-distance weighting it counts 1/distance (squared Euclidean distance,
 * the index's metric), and samples at distance 0 take the whole vote between
 * them. A label's probability is its share of the total. Ties in the vote go to
 * the label of the nearest tied sample. k is `numberOfNeighbors.defaultValue`,
 * capped at the number of samples.
 *
 * @param knn - the classifier's parameters
 * @param path - where, for errors
 * @returns the classifier
 * @throws {@link QuantizeError} `unsupported-model` for a kd-tree index or another
 *   distance (only the linear index and squared Euclidean distance are
 *   implemented), samples of the wrong length, a label count that is not the
 *   sample count, or k below 1
 */
export function prepareKnn(knn: KNearestNeighborsClassifier, path: string): PreparedKnn {
  const index = knn.nearestNeighborsIndex;
  if (index === undefined) throw new QuantizeError("unsupported-model", "kNearestNeighborsClassifier has no nearestNeighborsIndex", { path });
  if (index.IndexType.case !== undefined && index.IndexType.case !== "linearIndex") {
    throw new QuantizeError("unsupported-model", `kNearestNeighborsClassifier index "${index.IndexType.case}" is not supported (linearIndex is)`, { path });
  }
  if (((index.DistanceFunction.case as string | undefined) ?? "squaredEuclideanDistance") !== "squaredEuclideanDistance") {
    throw new QuantizeError("unsupported-model", "kNearestNeighborsClassifier: only the squared Euclidean distance is supported", { path });
  }
  const dimensions = index.numberOfDimensions;
  const count = index.floatSamples.length;
  const samples = new Float32Array(count * dimensions);
  index.floatSamples.forEach((s, i) => {
    if (s.vector.length !== dimensions) {
      throw new QuantizeError("unsupported-model", `kNN sample ${i} has ${s.vector.length} values, not numberOfDimensions ${dimensions}`, { path });
    }
    samples.set(s.vector, i * dimensions);
  });
  const labels: readonly (string | bigint)[] = knn.ClassLabels.case === undefined ? [] : knn.ClassLabels.value.vector;
  if (labels.length !== count) {
    throw new QuantizeError("unsupported-model", `kNN has ${labels.length} class labels for ${count} samples`, { path });
  }
  const defaultLabel = knn.DefaultClassLabel.case === undefined ? (knn.ClassLabels.case === "int64ClassLabels" ? 0n : "") : knn.DefaultClassLabel.value;
  const k = Number(knn.numberOfNeighbors?.defaultValue ?? 1n);
  if (!(k >= 1)) throw new QuantizeError("unsupported-model", `kNN numberOfNeighbors ${k} is below 1`, { path });
  const inverse = knn.WeightingScheme.case === "inverseDistanceWeighting";
  const distinct = [...new Set(labels)];

  return {
    dimensions,
    classify: (x) => {
      if (count === 0) return { label: defaultLabel, probabilities: new Map() };
      const distances = new Float64Array(count);
      for (let s = 0; s < count; s++) {
        let sum = 0;
        for (let d = 0, at = s * dimensions; d < dimensions; d++, at++) {
          const diff = (x[d] as number) - (samples[at] as number);
          sum += diff * diff;
        }
        distances[s] = sum;
      }
      // Nearest first; equal distances keep sample order.
      const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => (distances[a] as number) - (distances[b] as number) || a - b);
      const nearest = order.slice(0, Math.min(k, count));
      const exact = nearest.filter((i) => distances[i] === 0);
      const voters = inverse && exact.length > 0 ? exact : nearest;
      const votes = new Map<string | bigint, number>(distinct.map((l) => [l, 0]));
      let total = 0;
      for (const i of voters) {
        const w = inverse && exact.length === 0 ? 1 / (distances[i] as number) : 1;
        const label = labels[i] as string | bigint;
        votes.set(label, (votes.get(label) as number) + w);
        total += w;
      }
      let best = labels[voters[0] as number] as string | bigint;
      for (const i of voters) {
        const label = labels[i] as string | bigint;
        if ((votes.get(label) as number) > (votes.get(best) as number)) best = label;
      }
      const probabilities = new Map<string | bigint, number>();
      for (const [label, v] of votes) probabilities.set(label, v / total);
      return { label: best, probabilities };
    },
  };
}

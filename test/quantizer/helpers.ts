// Shared by the quantizer tests: arbitraries and independent
// reference implementations (written from the definitions, not from src/).
import fc from "fast-check";

// kmeans-lut.test.ts still imports it from here; new tests import test/support.

/** Finite float32 values in a range that keeps the tests about quantization, not overflow. */
export function finiteFloat32(max = 1e6): fc.Arbitrary<number> {
  return fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-max), max: Math.fround(max) });
}

/** A Float32Array of finite values. */
export function float32Values(minLength: number, maxLength: number, max = 1e6): fc.Arbitrary<Float32Array> {
  return fc.array(finiteFloat32(max), { minLength, maxLength }).map((a) => Float32Array.from(a));
}

/** Deterministic PRNG (mulberry32) for baselines that need randomness. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normally distributed float32 values (Box-Muller), deterministic for a seed. */
export function gaussianValues(n: number, sigma: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = random() || 1e-12;
    out[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/**
 * The least summed squared error of splitting sorted weighted points into exactly `k`
 * non-empty contiguous clusters, each at its float64 mean, by trying every split.
 */
export function bruteForceKmeans(xs: readonly number[], weights: readonly number[], k: number): number {
  const m = xs.length;
  const clusterCost = (a: number, b: number): number => {
    let w = 0;
    let s = 0;
    for (let j = a; j < b; j++) {
      w += weights[j] as number;
      s += (weights[j] as number) * (xs[j] as number);
    }
    const mean = s / w;
    let cost = 0;
    for (let j = a; j < b; j++) cost += (weights[j] as number) * ((xs[j] as number) - mean) ** 2;
    return cost;
  };
  const best = (start: number, clusters: number): number => {
    if (clusters === 1) return clusterCost(start, m);
    let least = Infinity;
    for (let end = start + 1; end <= m - clusters + 1; end++) {
      least = Math.min(least, clusterCost(start, end) + best(end, clusters - 1));
    }
    return least;
  };
  return best(0, k);
}

/**
 * A stand-in for the reference: k-means++ seeding then Lloyd's iterations to
 * convergence, float64 centroids, fixed seed. Returns its summed squared error with
 * float32 centroids, as a stored table would have.
 */
export function kmeansPlusPlusError(values: Float32Array, k: number, seed: number): number {
  const n = values.length;
  const random = mulberry32(seed);
  const centroids = new Float64Array(k);
  centroids[0] = values[Math.floor(random() * n)] as number;
  const nearest = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = ((values[i] as number) - (centroids[c - 1] as number)) ** 2;
      if (d < (nearest[i] as number)) nearest[i] = d;
      total += nearest[i] as number;
    }
    let pick = random() * total;
    let chosen = n - 1;
    for (let i = 0; i < n; i++) {
      pick -= nearest[i] as number;
      if (pick <= 0) {
        chosen = i;
        break;
      }
    }
    centroids[c] = values[chosen] as number;
  }
  const labels = new Int32Array(n);
  for (let iteration = 0; iteration < 1000; iteration++) {
    const sums = new Float64Array(k);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) {
        if (Math.abs((values[i] as number) - (centroids[c] as number)) < Math.abs((values[i] as number) - (centroids[best] as number))) best = c;
      }
      labels[i] = best;
      sums[best] = (sums[best] as number) + (values[i] as number);
      counts[best] = (counts[best] as number) + 1;
    }
    let moved = false;
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      const mean = (sums[c] as number) / (counts[c] as number);
      if (mean !== centroids[c]) moved = true;
      centroids[c] = mean;
    }
    if (!moved) break;
  }
  let error = 0;
  for (let i = 0; i < n; i++) error += (Math.fround(centroids[labels[i] as number] as number) - (values[i] as number)) ** 2;
  return error;
}

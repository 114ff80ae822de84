/**
 * batchnorm, lrn, l2normalize and mvn against their NeuralNetwork.proto
 * formulas, with the README's decisions (biased variance, eps inside the root,
 * centred LRN window) and the proto's defaults for zero fields.
 */
import { expectTensor, int, prepare, randomTensor, rng, values, weights } from "./helpers.js";

/** Mean and biased variance of a list. */
function stats(v: readonly number[]): { mean: number; variance: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length };
}

/** The values of channel c of image n in an [N, C, P] array. */
const channel = (x: Float32Array, C: number, P: number, n: number, c: number): number[] => [...x.subarray((n * C + c) * P, (n * C + c + 1) * P)];

function bnInit(
  C: number,
  p: { gamma: number[]; beta: number[]; mean?: number[]; variance?: number[]; epsilon?: number; computeMeanVar?: boolean; instanceNormalization?: boolean },
) {
  return {
    layer: {
      case: "batchnorm" as const,
      value: {
        channels: BigInt(C),
        gamma: weights(p.gamma),
        beta: weights(p.beta),
        ...(p.mean === undefined ? {} : { mean: weights(p.mean) }),
        ...(p.variance === undefined ? {} : { variance: weights(p.variance) }),
        epsilon: p.epsilon ?? 0,
        computeMeanVar: p.computeMeanVar ?? false,
        instanceNormalization: p.instanceNormalization ?? false,
      },
    },
  };
}

describe("batchnorm", () => {
  test("stored statistics; epsilon 0 means 1e-5", () => {
    const r = rng(701);
    const C = 4,
      N = 3,
      P = 6;
    const gamma = values(r, C),
      beta = values(r, C),
      mean = values(r, C),
      variance = values(r, C, 1e-6, 1e-4);
    for (const epsilon of [0, 1e-3]) {
      const x = randomTensor(r, [N, 1, C, 2, 3]);
      const eps = Math.fround(epsilon) || 1e-5;
      const e: number[] = [];
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++) {
          for (const v of channel(x.data, C, P, n, c))
            e.push(((gamma[c] as number) * (v - (mean[c] as number))) / Math.sqrt((variance[c] as number) + eps) + (beta[c] as number));
        }
      expectTensor(prepare(bnInit(C, { gamma, beta, mean, variance, epsilon }))(x)[0], [N, 1, C, 2, 3], e);
    }
  });

  test("computeMeanVar per instance, and over the whole batch", () => {
    const r = rng(703);
    const C = 3,
      N = 2,
      P = 20;
    const gamma = values(r, C),
      beta = values(r, C);
    const x = randomTensor(r, [N, 1, C, 4, 5], -3, 3);
    for (const instance of [true, false]) {
      const e = new Array<number>(N * C * P);
      for (let c = 0; c < C; c++) {
        const sets = instance ? [[0], [1]] : [[0, 1]];
        for (const set of sets) {
          const s = stats(set.flatMap((n) => channel(x.data, C, P, n, c)));
          for (const n of set) {
            channel(x.data, C, P, n, c).forEach((v, i) => {
              e[(n * C + c) * P + i] = ((gamma[c] as number) * (v - s.mean)) / Math.sqrt(s.variance + 1e-4) + (beta[c] as number);
            });
          }
        }
      }
      const init = bnInit(C, { gamma, beta, epsilon: 1e-4, computeMeanVar: true, instanceNormalization: instance });
      expectTensor(prepare(init)(x)[0], [N, 1, C, 4, 5], e);
    }
  });

  test("refuses missing statistics and a channel mismatch", () => {
    const r = rng(705);
    expect(() => prepare(bnInit(2, { gamma: values(r, 2), beta: values(r, 2) }))).toThrow(expect.objectContaining({ code: "invalid-weights" }) as Error);
    const run = prepare(bnInit(2, { gamma: values(r, 2), beta: values(r, 2), computeMeanVar: true, instanceNormalization: true }));
    expect(() => run(randomTensor(r, [1, 1, 3, 2, 2]))).toThrow(expect.objectContaining({ code: "invalid-input" }) as Error);
  });
});

describe("lrn", () => {
  test("centred window across channels, k 0 -> 1 (pinned seed)", () => {
    const r = rng(711);
    for (let i = 0; i < 12; i++) {
      const n = 2 * int(r, 0, 3) + 1,
        C = int(r, 1, 7),
        P = 6;
      const alpha = r(),
        beta = r() + 0.25,
        k = r() < 0.5 ? 0 : r() + 0.5;
      const x = randomTensor(r, [2, 1, C, 2, 3]);
      const e: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < C; c++)
          for (let p = 0; p < P; p++) {
            let sum = 0;
            for (let j = c - (n - 1) / 2; j <= c + (n - 1) / 2; j++) if (j >= 0 && j < C) sum += (x.data[(b * C + j) * P + p] as number) ** 2;
            const kk = Math.fround(k) || 1;
            e.push((x.data[(b * C + c) * P + p] as number) / (kk + (Math.fround(alpha) / n) * sum) ** Math.fround(beta));
          }
      const [y] = prepare({ layer: { case: "lrn", value: { alpha, beta, k, localSize: BigInt(n) } } })(x);
      expectTensor(y, [2, 1, C, 2, 3], e);
    }
  });

  test("refuses an even localSize", () => {
    expect(() => prepare({ layer: { case: "lrn", value: { alpha: 1, beta: 0.75, localSize: 4n } } })).toThrow(
      expect.objectContaining({ code: "unsupported-layer", message: expect.stringMatching(/lrn with localSize 4/) as string }) as Error,
    );
  });
});

describe("l2normalize", () => {
  test("over all C*H*W of each image; epsilon 0 -> 1e-6", () => {
    const r = rng(721);
    for (const epsilon of [0, 1e-4]) {
      const x = randomTensor(r, [2, 1, 3, 2, 2], -0.01, 0.01);
      const e: number[] = [];
      for (let b = 0; b < 2; b++) {
        const block = [...x.data.subarray(b * 12, (b + 1) * 12)];
        const norm = Math.sqrt(block.reduce((a, v) => a + v * v, 0) + (Math.fround(epsilon) || 1e-6));
        e.push(...block.map((v) => v / norm));
      }
      expectTensor(prepare({ layer: { case: "l2normalize", value: { epsilon } } })(x)[0], [2, 1, 3, 2, 2], e);
    }
  });
});

describe("mvn", () => {
  test("per channel or across channels, with or without the variance; epsilon 0 -> 1e-6", () => {
    const r = rng(731);
    const C = 3,
      P = 6;
    for (const acrossChannels of [false, true]) {
      for (const normalizeVariance of [false, true]) {
        for (const epsilon of [0, 1e-2]) {
          const x = randomTensor(r, [2, 1, C, 2, 3], -2, 2);
          const eps = Math.fround(epsilon) || 1e-6;
          const e: number[] = [];
          const groups = acrossChannels
            ? [0, 1].map((b) => [...x.data.subarray(b * C * P, (b + 1) * C * P)])
            : Array.from({ length: 2 * C }, (_, g) => [...x.data.subarray(g * P, (g + 1) * P)]);
          for (const g of groups) {
            const s = stats(g);
            e.push(...g.map((v) => (normalizeVariance ? (v - s.mean) / Math.sqrt(s.variance + eps) : v - s.mean)));
          }
          const [y] = prepare({ layer: { case: "mvn", value: { acrossChannels, normalizeVariance, epsilon } } })(x);
          expectTensor(y, [2, 1, C, 2, 3], e);
        }
      }
    }
  });
});

/**
 * resizeBilinear against the proto's SamplingMode definitions, written with an
 * explicit numpy-style linspace.
 */
import { expectTensor, int, prepare, randomTensor, rng } from "./helpers.js";

/** numpy.linspace(start, end, n), endpoints included. */
function linspace(start: number, end: number, n: number): number[] {
  return n === 1 ? [start] : Array.from({ length: n }, (_, i) => start + ((end - start) * i) / (n - 1));
}

/** The grid of each method for input size X and N outputs. */
const METHOD: Record<number, (X: number, N: number) => number[]> = {
  0: (X, N) => linspace(0, X - 1, N),
  1: (X, N) => (N === 1 ? [(X - 1) / 2] : linspace(0, X - 1, N)),
  2: (X, N) => linspace(0, X - X / N, N).map((g) => Math.min(X - 1, g)),
  3: (X, N) => {
    const spacing = Math.max(1, X - 1) / N;
    const start = 0.5 * spacing;
    return linspace(start, start + (N - 1) * spacing, N).map((g) => Math.min(X - 1, g));
  },
};

describe("resizeBilinear", () => {
  test("each sampling method on random sizes, up and down (pinned seed)", () => {
    const r = rng(501);
    for (const method of [0, 1, 2, 3]) {
      for (let i = 0; i < 10; i++) {
        const H = int(r, 1, 6),
          W = int(r, 1, 6),
          OH = int(r, 1, 9),
          OW = int(r, 1, 9);
        const x = randomTensor(r, [1, 2, 2, H, W]);
        const gy = (METHOD[method] as (X: number, N: number) => number[])(H, OH);
        const gx = (METHOD[method] as (X: number, N: number) => number[])(W, OW);
        const e: number[] = [];
        for (let p = 0; p < 4; p++) {
          for (const y of gy) {
            for (const xx of gx) {
              const y0 = Math.floor(y),
                x0 = Math.floor(xx),
                y1 = Math.min(y0 + 1, H - 1),
                x1 = Math.min(x0 + 1, W - 1);
              const v = (a: number, b: number): number => x.data[(p * H + a) * W + b] as number;
              const top = v(y0, x0) + (v(y0, x1) - v(y0, x0)) * (xx - x0);
              const bottom = v(y1, x0) + (v(y1, x1) - v(y1, x0)) * (xx - x0);
              e.push(top + (bottom - top) * (y - y0));
            }
          }
        }
        const [y] = prepare({ layer: { case: "resizeBilinear", value: { targetSize: [BigInt(OH), BigInt(OW)], mode: { samplingMethod: method } } } })(x);
        expectTensor(y, [1, 2, 2, OH, OW], e);
      }
    }
  });

  test("defaults: target [1, 1], STRICT_ALIGN_ENDPOINTS (the top-left value)", () => {
    const x = randomTensor(rng(503), [3, 4, 5]);
    const [y] = prepare({ layer: { case: "resizeBilinear", value: {} } }, "exact")(x);
    expectTensor(
      y,
      [3, 1, 1],
      [0, 1, 2].map((c) => x.data[c * 20] as number),
    );
  });
});

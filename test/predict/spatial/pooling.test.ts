/**
 * pooling against an oracle written from NeuralNetwork.proto's
 * PoolingLayerParams, ValidPadding and SamePadding comments: an explicitly
 * zero-padded plane, window by window.
 */
import { isQuantizeError } from "../../../src/errors.js";
import { borderAmounts, expectTensor, int, prepare, randomTensor, rng } from "./helpers.js";

type PoolType = 0 | 1 | 2; // MAX, AVERAGE, L2
type PoolPadding =
  | { kind: "valid"; t: number; b: number; l: number; r: number }
  | { kind: "same"; topLeftHeavy: boolean }
  | { kind: "includeLastPixel"; ph: number; pw: number };

interface PoolCase {
  N: number;
  C: number;
  H: number;
  W: number;
  type: PoolType;
  kh: number;
  kw: number;
  sy: number;
  sx: number;
  padding: PoolPadding;
  exclude: boolean;
}

/** Output size and the padding before and after, per the proto's formulas. */
function axisOf(p: PoolPadding, size: number, k: number, s: number, dim: 0 | 1): { out: number; before: number; after: number } {
  switch (p.kind) {
    case "valid": {
      const [before, after] = dim === 0 ? [p.t, p.b] : [p.l, p.r];
      return { out: Math.floor((size + before + after - k) / s) + 1, before, after };
    }
    case "same": {
      const out = Math.ceil(size / s);
      const total = Math.max(0, (out - 1) * s + k - size);
      const small = Math.floor(total / 2);
      return p.topLeftHeavy ? { out, before: total - small, after: small } : { out, before: small, after: total - small };
    }
    case "includeLastPixel": {
      const pad = dim === 0 ? p.ph : p.pw;
      let out = Math.ceil((size + 2 * pad - k) / s) + 1;
      if ((p.ph > 0 || p.pw > 0) && (out - 1) * s >= size + pad) out -= 1;
      return { out, before: pad, after: pad };
    }
  }
}

/** Pools each plane of a zero-padded copy; the average counts padding unless excluded. */
function poolOracle(c: PoolCase, x: Float32Array): { shape: number[]; data: number[] } {
  const rows = axisOf(c.padding, c.H, c.kh, c.sy, 0);
  const cols = axisOf(c.padding, c.W, c.kw, c.sx, 1);
  const out: number[] = [];
  for (let plane = 0; plane < c.N * c.C; plane++) {
    for (let oy = 0; oy < rows.out; oy++) {
      for (let ox = 0; ox < cols.out; ox++) {
        const inWindow: number[] = [];
        let real = 0;
        for (let ky = 0; ky < c.kh; ky++) {
          for (let kx = 0; kx < c.kw; kx++) {
            const iy = oy * c.sy + ky - rows.before;
            const ix = ox * c.sx + kx - cols.before;
            const inside = iy >= 0 && iy < c.H && ix >= 0 && ix < c.W;
            if (inside) real++;
            inWindow.push(inside ? (x[(plane * c.H + iy) * c.W + ix] as number) : 0);
          }
        }
        const sum = inWindow.reduce((a, b) => a + b, 0);
        out.push(
          c.type === 0 ? Math.max(...inWindow) : c.type === 1 ? sum / (c.exclude ? real : c.kh * c.kw) : Math.sqrt(inWindow.reduce((a, b) => a + b * b, 0)),
        );
      }
    }
  }
  return { shape: [c.C, rows.out, cols.out], data: out };
}

function poolInit(c: PoolCase, globalPooling = false) {
  const p = c.padding;
  return {
    layer: {
      case: "pooling" as const,
      value: {
        type: c.type,
        kernelSize: [BigInt(c.kh), BigInt(c.kw)],
        stride: [BigInt(c.sy), BigInt(c.sx)],
        avgPoolExcludePadding: c.exclude,
        globalPooling,
        PoolingPaddingType:
          p.kind === "valid"
            ? { case: "valid" as const, value: { paddingAmounts: borderAmounts(p.t, p.b, p.l, p.r) } }
            : p.kind === "same"
              ? { case: "same" as const, value: { asymmetryMode: p.topLeftHeavy ? 1 : 0 } }
              : { case: "includeLastPixel" as const, value: { paddingAmounts: [BigInt(p.ph), BigInt(p.pw)] } },
      },
    },
  };
}

describe("pooling", () => {
  test("random MAX / AVERAGE / L2 pools with valid (padded) and same placement match the proto (pinned seed)", () => {
    const r = rng(101);
    for (let i = 0; i < 80; i++) {
      const kh = int(r, 1, 4),
        kw = int(r, 1, 4);
      const padding: PoolPadding =
        r() < 0.5
          ? { kind: "valid", t: int(r, 0, kh - 1), b: int(r, 0, kh - 1), l: int(r, 0, kw - 1), r: int(r, 0, kw - 1) }
          : { kind: "same", topLeftHeavy: r() < 0.5 };
      const c: PoolCase = {
        N: int(r, 1, 2),
        C: int(r, 1, 3),
        H: kh + int(r, 0, 6),
        W: kw + int(r, 0, 6),
        type: int(r, 0, 2) as PoolType,
        kh,
        kw,
        sy: int(r, 1, 3),
        sx: int(r, 1, 3),
        padding,
        exclude: r() < 0.5,
      };
      // Positive inputs: max over padding reads the same whether padding is 0 or ignored.
      const x = randomTensor(r, [c.N, 1, c.C, c.H, c.W], 0.01, 2);
      const [y] = prepare(poolInit(c))(x);
      const e = poolOracle(c, x.data);
      expectTensor(y, [c.N, 1, ...e.shape], e.data);
    }
  });

  test("includeLastPixel where the proto's size leaves no partial window", () => {
    const r = rng(103);
    const cases: Omit<PoolCase, "N" | "C" | "type" | "exclude">[] = [
      { H: 7, W: 5, kh: 2, kw: 2, sy: 2, sx: 2, padding: { kind: "includeLastPixel", ph: 1, pw: 1 } },
      { H: 5, W: 5, kh: 3, kw: 3, sy: 3, sx: 3, padding: { kind: "includeLastPixel", ph: 1, pw: 1 } },
      { H: 7, W: 9, kh: 3, kw: 3, sy: 2, sx: 2, padding: { kind: "includeLastPixel", ph: 0, pw: 0 } },
    ];
    for (const base of cases) {
      for (const type of [0, 1, 2] as const) {
        const c: PoolCase = { ...base, N: 1, C: 2, type, exclude: false };
        const x = randomTensor(r, [1, 1, 2, c.H, c.W], 0.01, 2);
        const e = poolOracle(c, x.data);
        expectTensor(prepare(poolInit(c))(x)[0], [1, 1, ...e.shape], e.data);
      }
    }
  });

  test("refuses includeLastPixel with a partial last window, naming the layer and the option", () => {
    const r = rng(107);
    // H=6, k=3, s=2, pad 1: the proto gives 4 windows, the last one reaching past the padded input.
    const c: PoolCase = { N: 1, C: 1, H: 6, W: 7, type: 1, kh: 3, kw: 3, sy: 2, sx: 2, padding: { kind: "includeLastPixel", ph: 1, pw: 1 }, exclude: false };
    let error: unknown;
    try {
      prepare(poolInit(c))(randomTensor(r, [1, 1, 1, 6, 7]));
    } catch (e) {
      error = e;
    }
    expect(isQuantizeError(error, "unsupported-layer")).toBe(true);
    expect((error as Error).message).toMatch(/^model\/neuralNetwork\/layers\[0\] "under_test": pooling with includeLastPixel and a partial last window/);
  });

  test("global pooling: one value per channel, kernel and stride ignored", () => {
    const r = rng(109);
    for (const type of [0, 1, 2] as const) {
      const c: PoolCase = { N: 2, C: 3, H: 5, W: 4, type, kh: 5, kw: 4, sy: 1, sx: 1, padding: { kind: "valid", t: 0, b: 0, l: 0, r: 0 }, exclude: false };
      const x = randomTensor(r, [2, 1, 3, 5, 4], -2, 2);
      const e = poolOracle(c, x.data);
      const [y] = prepare(poolInit({ ...c, kh: 2, kw: 2, sy: 2, sx: 2 }, true))(x);
      expectTensor(y, [2, 1, 3, 1, 1], e.data);
    }
  });

  test("chosen: max pooling ignores padding, so all-negative windows stay negative", () => {
    const x = { shape: [1, 1, 1, 2, 2], data: Float32Array.from([-1, -2, -3, -4]) };
    const c: PoolCase = { N: 1, C: 1, H: 2, W: 2, type: 0, kh: 2, kw: 2, sy: 1, sx: 1, padding: { kind: "valid", t: 1, b: 0, l: 1, r: 0 }, exclude: false };
    const [y] = prepare(poolInit(c))(x);
    expectTensor(y, [1, 1, 1, 2, 2], [-1, -1, -1, -1]);
  });

  test("exact layout: rank 3 and rank 4 inputs", () => {
    const r = rng(113);
    const c: PoolCase = { N: 1, C: 2, H: 6, W: 6, type: 1, kh: 2, kw: 3, sy: 2, sx: 1, padding: { kind: "same", topLeftHeavy: true }, exclude: true };
    const run = prepare(poolInit(c), "exact");
    const x3 = randomTensor(r, [2, 6, 6]);
    const e3 = poolOracle(c, x3.data);
    expectTensor(run(x3)[0], e3.shape, e3.data);
    const x4 = randomTensor(r, [3, 2, 6, 6]);
    const e4 = poolOracle({ ...c, N: 3 }, x4.data);
    expectTensor(run(x4)[0], [3, ...e4.shape], e4.data);
  });
});

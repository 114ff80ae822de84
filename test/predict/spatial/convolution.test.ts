/**
 * convolution and deconvolution against oracles written from
 * NeuralNetwork.proto's ConvolutionLayerParams, ValidPadding and SamePadding
 * comments: explicit zero padding, then plain nested loops.
 */
import { isQuantizeError } from "../../../src/errors.js";
import { at4, borderAmounts, expectTensor, int, prepare, randomTensor, rng, values, weights } from "./helpers.js";

interface ConvCase {
  N: number;
  Cin: number;
  H: number;
  W: number;
  Cout: number;
  groups: number;
  kh: number;
  kw: number;
  sy: number;
  sx: number;
  dy: number;
  dx: number;
  padding: { kind: "valid"; t: number; b: number; l: number; r: number } | { kind: "same"; topLeftHeavy: boolean };
  hasBias: boolean;
}

/** Output size and padding before the input along one axis, per ValidPadding / SamePadding. */
function axis(size: number, keff: number, s: number, p: ConvCase["padding"], before: number, after: number): { out: number; pad: number } {
  if (p.kind === "valid") return { out: Math.floor((size + before + after - keff) / s) + 1, pad: before };
  const out = Math.ceil(size / s);
  const total = Math.max(0, (out - 1) * s + keff - size);
  if (p.topLeftHeavy) {
    const bottom = Math.floor(total / 2);
    return { out, pad: total - bottom };
  }
  return { out, pad: Math.floor(total / 2) };
}

/** The proto's convolution, one multiply-add at a time over an explicitly zero-padded input. */
function convOracle(c: ConvCase, x: Float32Array, w: readonly number[], bias: readonly number[] | undefined): { shape: number[]; data: number[] } {
  const keffH = (c.kh - 1) * c.dy + 1;
  const keffW = (c.kw - 1) * c.dx + 1;
  const rows = axis(c.H, keffH, c.sy, c.padding, c.padding.kind === "valid" ? c.padding.t : 0, c.padding.kind === "valid" ? c.padding.b : 0);
  const cols = axis(c.W, keffW, c.sx, c.padding, c.padding.kind === "valid" ? c.padding.l : 0, c.padding.kind === "valid" ? c.padding.r : 0);
  const kc = c.Cin / c.groups;
  const perGroup = c.Cout / c.groups;
  const xi = at4(c.Cin, c.H, c.W);
  const padded = (n: number, ch: number, y: number, xx: number): number => {
    const iy = y - rows.pad;
    const ix = xx - cols.pad;
    return iy < 0 || iy >= c.H || ix < 0 || ix >= c.W ? 0 : (x[xi(n, ch, iy, ix)] as number);
  };
  const out: number[] = [];
  for (let n = 0; n < c.N; n++) {
    for (let co = 0; co < c.Cout; co++) {
      const g = Math.floor(co / perGroup);
      for (let oy = 0; oy < rows.out; oy++) {
        for (let ox = 0; ox < cols.out; ox++) {
          let s = bias?.[co] ?? 0;
          for (let ci = 0; ci < kc; ci++) {
            for (let ky = 0; ky < c.kh; ky++) {
              for (let kx = 0; kx < c.kw; kx++) {
                s += (w[((co * kc + ci) * c.kh + ky) * c.kw + kx] as number) * padded(n, g * kc + ci, oy * c.sy + ky * c.dy, ox * c.sx + kx * c.dx);
              }
            }
          }
          out.push(s);
        }
      }
    }
  }
  return { shape: [c.Cout, rows.out, cols.out], data: out };
}

function convInit(c: ConvCase, w: readonly number[], bias: readonly number[] | undefined) {
  return {
    layer: {
      case: "convolution" as const,
      value: {
        outputChannels: BigInt(c.Cout),
        kernelChannels: BigInt(c.Cin / c.groups),
        nGroups: BigInt(c.groups),
        kernelSize: [BigInt(c.kh), BigInt(c.kw)],
        stride: [BigInt(c.sy), BigInt(c.sx)],
        dilationFactor: [BigInt(c.dy), BigInt(c.dx)],
        ConvolutionPaddingType:
          c.padding.kind === "same"
            ? { case: "same" as const, value: { asymmetryMode: c.padding.topLeftHeavy ? 1 : 0 } }
            : { case: "valid" as const, value: { paddingAmounts: borderAmounts(c.padding.t, c.padding.b, c.padding.l, c.padding.r) } },
        hasBias: bias !== undefined,
        weights: weights(w),
        ...(bias === undefined ? {} : { bias: weights(bias) }),
      },
    },
  };
}

function randomConvCase(r: () => number): ConvCase {
  const groups = int(r, 1, 3);
  const Cin = groups * int(r, 1, 3);
  const Cout = groups * int(r, 1, 6);
  const kh = int(r, 1, 4),
    kw = int(r, 1, 4),
    dy = int(r, 1, 2),
    dx = int(r, 1, 2);
  const padding: ConvCase["padding"] =
    r() < 0.5 ? { kind: "valid", t: int(r, 0, 2), b: int(r, 0, 2), l: int(r, 0, 2), r: int(r, 0, 2) } : { kind: "same", topLeftHeavy: r() < 0.5 };
  return {
    N: int(r, 1, 2),
    Cin,
    Cout,
    groups,
    kh,
    kw,
    dy,
    dx,
    sy: int(r, 1, 3),
    sx: int(r, 1, 3),
    padding,
    hasBias: r() < 0.7,
    H: (kh - 1) * dy + int(r, 1, 7),
    W: (kw - 1) * dx + int(r, 1, 9),
  };
}

describe("convolution", () => {
  test("random grouped, strided, dilated, padded convolutions match the proto's formula (pinned seed)", () => {
    const r = rng();
    for (let i = 0; i < 60; i++) {
      const c = randomConvCase(r);
      const w = values(r, c.Cout * (c.Cin / c.groups) * c.kh * c.kw);
      const bias = c.hasBias ? values(r, c.Cout) : undefined;
      // Rank 5 [Seq, Batch, C, H, W]: Seq and Batch both fold into the batch.
      const x = randomTensor(r, [c.N, 1, c.Cin, c.H, c.W]);
      const [y] = prepare(convInit(c, w, bias))(x);
      const expected = convOracle(c, x.data, w, bias);
      expectTensor(y, [c.N, 1, ...expected.shape], expected.data);
    }
  });

  test("images wider than one gathered strip, with strides and same padding (pinned seed)", () => {
    const r = rng(5);
    for (let i = 0; i < 6; i++) {
      const c: ConvCase = {
        ...randomConvCase(r),
        N: 1,
        H: int(r, 20, 45),
        W: int(r, 20, 70),
      };
      const w = values(r, c.Cout * (c.Cin / c.groups) * c.kh * c.kw);
      const bias = c.hasBias ? values(r, c.Cout) : undefined;
      const x = randomTensor(r, [1, 1, c.Cin, c.H, c.W]);
      const [y] = prepare(convInit(c, w, bias))(x);
      const expected = convOracle(c, x.data, w, bias);
      expectTensor(y, [1, 1, ...expected.shape], expected.data);
    }
  });

  test("the format's defaults: kernel 3x3, stride 1, one group, valid without padding", () => {
    const r = rng(7);
    const w = values(r, 2 * 2 * 9);
    const x = randomTensor(r, [1, 1, 2, 5, 6]);
    const [y] = prepare({ layer: { case: "convolution", value: { outputChannels: 2n, kernelChannels: 2n, weights: weights(w) } } })(x);
    const c: ConvCase = {
      N: 1,
      Cin: 2,
      H: 5,
      W: 6,
      Cout: 2,
      groups: 1,
      kh: 3,
      kw: 3,
      sy: 1,
      sx: 1,
      dy: 1,
      dx: 1,
      padding: { kind: "valid", t: 0, b: 0, l: 0, r: 0 },
      hasBias: false,
    };
    const expected = convOracle(c, x.data, w, undefined);
    expectTensor(y, [1, 1, 2, 3, 4], expected.data);
  });

  test("exact layout: a rank-4 [B, C, H, W] and a rank-3 [C, H, W] input keep their rank", () => {
    const r = rng(11);
    const c: ConvCase = {
      N: 3,
      Cin: 4,
      H: 6,
      W: 5,
      Cout: 6,
      groups: 2,
      kh: 3,
      kw: 2,
      sy: 2,
      sx: 1,
      dy: 1,
      dx: 2,
      padding: { kind: "same", topLeftHeavy: true },
      hasBias: true,
    };
    const w = values(r, 6 * 2 * 3 * 2);
    const bias = values(r, 6);
    const run = prepare(convInit(c, w, bias), "exact");
    const x4 = randomTensor(r, [3, 4, 6, 5]);
    const e4 = convOracle(c, x4.data, w, bias);
    expectTensor(run(x4)[0], [3, ...e4.shape], e4.data);
    const x3 = randomTensor(r, [4, 6, 5]);
    const e3 = convOracle({ ...c, N: 1 }, x3.data, w, bias);
    expectTensor(run(x3)[0], e3.shape, e3.data);
  });

  test("weights from a second input (specification 4)", () => {
    const r = rng(13);
    const c: ConvCase = {
      N: 1,
      Cin: 3,
      H: 7,
      W: 7,
      Cout: 6,
      groups: 1,
      kh: 3,
      kw: 3,
      sy: 1,
      sx: 1,
      dy: 1,
      dx: 1,
      padding: { kind: "same", topLeftHeavy: false },
      hasBias: true,
    };
    const w = values(r, 6 * 3 * 9);
    const bias = values(r, 6);
    const init = convInit(c, [], bias);
    const { weights: _unused, ...value } = init.layer.value;
    const run = prepare({ input: ["x", "w"], layer: { case: "convolution", value } }, "exact");
    const x = randomTensor(r, [3, 7, 7]);
    const expected = convOracle(c, x.data, w, bias);
    expectTensor(run(x, { shape: [6, 3, 3, 3], data: Float32Array.from(w) })[0], expected.shape, expected.data);
  });

  test("refuses an input with the wrong channel count, and missing weights", () => {
    const r = rng(17);
    const c: ConvCase = {
      N: 1,
      Cin: 4,
      H: 5,
      W: 5,
      Cout: 2,
      groups: 2,
      kh: 3,
      kw: 3,
      sy: 1,
      sx: 1,
      dy: 1,
      dx: 1,
      padding: { kind: "valid", t: 0, b: 0, l: 0, r: 0 },
      hasBias: false,
    };
    const run = prepare(convInit(c, values(r, 2 * 2 * 9), undefined));
    expect(() => run(randomTensor(r, [1, 1, 3, 5, 5]))).toThrow(expect.objectContaining({ code: "invalid-input" }) as Error);
    expect(() => run(randomTensor(r, [1, 1, 4, 2, 5]))).toThrow(/smaller than the kernel/);
    expect(() => prepare(convInit(c, values(r, 7), undefined))).toThrow(expect.objectContaining({ code: "invalid-weights" }) as Error);
    expect(() => prepare(convInit({ ...c, Cout: 3 }, values(r, 3 * 2 * 9), undefined))).toThrow(/not a multiple of nGroups/);
  });
});

interface DeconvCase {
  Cin: number;
  H: number;
  W: number;
  Cout: number;
  groups: number;
  kh: number;
  kw: number;
  sy: number;
  sx: number;
}

/** The full transposed convolution: every input value spread through the kernel, `stride` apart. */
function deconvFull(c: DeconvCase, x: Float32Array, w: readonly number[]): { FH: number; FW: number; full: number[] } {
  const FH = (c.H - 1) * c.sy + c.kh;
  const FW = (c.W - 1) * c.sx + c.kw;
  const full = new Array<number>(c.Cout * FH * FW).fill(0);
  const kc = c.Cin / c.groups;
  const perGroup = c.Cout / c.groups;
  for (let ci = 0; ci < c.Cin; ci++) {
    const g = Math.floor(ci / kc);
    for (let col = 0; col < perGroup; col++) {
      const co = g * perGroup + col;
      for (let iy = 0; iy < c.H; iy++)
        for (let ix = 0; ix < c.W; ix++) {
          for (let ky = 0; ky < c.kh; ky++)
            for (let kx = 0; kx < c.kw; kx++) {
              const wv = w[((ci * perGroup + col) * c.kh + ky) * c.kw + kx] as number;
              const at = (co * FH + iy * c.sy + ky) * FW + ix * c.sx + kx;
              full[at] = (full[at] as number) + wv * (x[(ci * c.H + iy) * c.W + ix] as number);
            }
        }
    }
  }
  return { FH, FW, full };
}

/** Rows [top, top+OH) and columns [left, left+OW) of the full output (zeros beyond it), plus the bias. */
function cropFull(
  c: DeconvCase,
  f: ReturnType<typeof deconvFull>,
  top: number,
  left: number,
  OH: number,
  OW: number,
  bias: readonly number[] | undefined,
): number[] {
  const out: number[] = [];
  for (let co = 0; co < c.Cout; co++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const fy = oy + top,
          fx = ox + left;
        const v = fy < f.FH && fx < f.FW ? (f.full[(co * f.FH + fy) * f.FW + fx] as number) : 0;
        out.push(v + (bias?.[co] ?? 0));
      }
  return out;
}

function deconvInit(c: DeconvCase, w: readonly number[], bias: readonly number[] | undefined, extra: Record<string, unknown>) {
  return {
    layer: {
      case: "convolution" as const,
      value: {
        isDeconvolution: true,
        outputChannels: BigInt(c.Cout),
        kernelChannels: BigInt(c.Cin),
        nGroups: BigInt(c.groups),
        kernelSize: [BigInt(c.kh), BigInt(c.kw)],
        stride: [BigInt(c.sy), BigInt(c.sx)],
        hasBias: bias !== undefined,
        weights: weights(w),
        ...(bias === undefined ? {} : { bias: weights(bias) }),
        ...extra,
      },
    },
  };
}

describe("deconvolution", () => {
  const randomDeconv = (r: () => number): DeconvCase => {
    const groups = int(r, 1, 2);
    return {
      groups,
      Cin: groups * int(r, 1, 3),
      Cout: groups * int(r, 1, 3),
      H: int(r, 1, 5),
      W: int(r, 1, 5),
      kh: int(r, 1, 4),
      kw: int(r, 1, 4),
      sy: int(r, 1, 3),
      sx: int(r, 1, 3),
    };
  };
  const draw = (r: () => number, c: DeconvCase) => ({
    w: values(r, c.Cin * (c.Cout / c.groups) * c.kh * c.kw),
    bias: r() < 0.7 ? values(r, c.Cout) : undefined,
    x: randomTensor(r, [1, 1, c.Cin, c.H, c.W]),
  });

  test("valid padding amounts crop the full output: H_out = (H-1)*stride + k - (top + bottom)", () => {
    const r = rng(23);
    for (let i = 0; i < 40; i++) {
      const c = randomDeconv(r);
      const { w, bias, x } = draw(r, c);
      const f = deconvFull(c, x.data, w);
      const t = int(r, 0, Math.floor((f.FH - 1) / 2)),
        b = int(r, 0, Math.floor((f.FH - 1) / 2));
      const le = int(r, 0, Math.floor((f.FW - 1) / 2)),
        ri = int(r, 0, Math.floor((f.FW - 1) / 2));
      const [y] = prepare(deconvInit(c, w, bias, { ConvolutionPaddingType: { case: "valid", value: { paddingAmounts: borderAmounts(t, b, le, ri) } } }))(x);
      const OH = f.FH - t - b,
        OW = f.FW - le - ri;
      expectTensor(y, [1, 1, c.Cout, OH, OW], cropFull(c, f, t, le, OH, OW, bias));
    }
  });

  test("outputShape equal to the full output", () => {
    const r = rng(29);
    const c: DeconvCase = { Cin: 3, H: 4, W: 5, Cout: 2, groups: 1, kh: 3, kw: 3, sy: 2, sx: 2 };
    const { w, bias, x } = draw(r, c);
    const f = deconvFull(c, x.data, w);
    const [y] = prepare(deconvInit(c, w, bias, { outputShape: [BigInt(f.FH), BigInt(f.FW)] }))(x);
    expectTensor(y, [1, 1, 2, f.FH, f.FW], cropFull(c, f, 0, 0, f.FH, f.FW, bias));
  });

  test("chosen: a smaller outputShape keeps the top-left of the full output (valid padding)", () => {
    const r = rng(31);
    const c: DeconvCase = { Cin: 2, H: 3, W: 4, Cout: 3, groups: 1, kh: 3, kw: 4, sy: 2, sx: 2 };
    const { w, bias, x } = draw(r, c);
    const f = deconvFull(c, x.data, w);
    const [y] = prepare(deconvInit(c, w, bias, { outputShape: [6n, 9n] }))(x);
    expectTensor(y, [1, 1, 3, 6, 9], cropFull(c, f, 0, 0, 6, 9, bias));
  });

  test("chosen: same padding gives H*stride, dropping rows as the matching forward convolution pads", () => {
    const r = rng(37);
    for (const topLeftHeavy of [false, true]) {
      // k 4, stride 2: full 2H+2, two rows too many: one each side. k 5, stride 2: three too many.
      for (const k of [4, 5, 1]) {
        const c: DeconvCase = { Cin: 2, H: 3, W: 4, Cout: 2, groups: 1, kh: k, kw: k, sy: 2, sx: 2 };
        const { w, bias, x } = draw(r, c);
        const f = deconvFull(c, x.data, w);
        const split = (total: number): number => (topLeftHeavy ? total - Math.floor(total / 2) : Math.floor(total / 2));
        const top = split(Math.max(0, f.FH - 6)),
          left = split(Math.max(0, f.FW - 8));
        const mode = { ConvolutionPaddingType: { case: "same", value: { asymmetryMode: topLeftHeavy ? 1 : 0 } } };
        const [y] = prepare(deconvInit(c, w, bias, mode))(x);
        // With k 1 < stride the full output is shorter: the last rows hold the bias only.
        expectTensor(y, [1, 1, 2, 6, 8], cropFull(c, f, top, left, 6, 8, bias));
      }
    }
  });

  test("refuses an outputShape larger than the full output, and a second input", () => {
    const r = rng(41);
    const c: DeconvCase = { Cin: 2, H: 3, W: 3, Cout: 2, groups: 1, kh: 3, kw: 3, sy: 1, sx: 1 };
    const { w, x } = draw(r, c);
    const run = prepare(deconvInit(c, w, undefined, { outputShape: [6n, 5n] }));
    let error: unknown;
    try {
      run(x);
    } catch (e) {
      error = e;
    }
    expect(isQuantizeError(error, "unsupported-layer")).toBe(true);
    expect((error as Error).message).toMatch(/^model\/neuralNetwork\/layers\[0\] "under_test": convolution \(isDeconvolution\) with outputShape/);
    expect(() => prepare({ input: ["x", "w"], ...deconvInit(c, w, undefined, {}) })).toThrow(/2 inputs/);
  });
});

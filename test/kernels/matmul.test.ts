/**
 * The matrix product: SIMD against JavaScript bit for bit on random shapes
 * (tails of rows and columns, blocks of k, of columns and of rows cut anywhere),
 * offsets and strides; the JavaScript product against the definition (a plain
 * float32 loop); and both against a float64 product within the float32 error
 * bound.
 */
import fc from "fast-check";
import { denseRows } from "../../src/kernels/dense-rows.js";
import { createWasmKernels, jsKernels, type DepthwiseConv2d, type Matmul, type MatmulStart, type RunKernels } from "../../src/kernels/index.js";
import { addMatVec } from "../../src/predict/layers/recurrent/sequence-blobs.js";
import { propertySeed } from "../support/property-seed.js";

const wasm = createWasmKernels() as RunKernels;
const PROPERTY = { seed: propertySeed(), numRuns: 150 } as const;

/** Deterministic values from a seed: mostly uniform in [-1, 1), some exact small integers, zeros of both signs. */
function values(count: number, seed: number, kind: "uniform" | "mixed"): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const u = s / 4294967296;
    if (kind === "uniform") {
      out[i] = u * 2 - 1;
    } else {
      const pick = s & 7;
      out[i] = pick === 0 ? 0 : pick === 1 ? -0 : pick === 2 ? Math.round(u * 16 - 8) : pick === 3 ? (u - 0.5) * 1e-30 : (u - 0.5) * 1e4;
    }
  }
  return out;
}

interface Shape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Extra values at the start of each array and between rows. */
  readonly pad: number;
  readonly along: MatmulStart["along"];
  readonly seed: number;
  readonly kind: "uniform" | "mixed";
}

/** A product of the shape, over arrays with `pad` values before the matrices and between their rows. */
function product(shape: Shape, c: Float32Array): Matmul {
  const { m, n, k, pad, along, seed, kind } = shape;
  const a = values(pad + m * (k + pad), seed, kind);
  const b = values(pad + k * (n + pad), seed + 1, kind);
  const starts = values(pad + Math.max(m, n), seed + 2, kind);
  const start: MatmulStart = along === "none" ? { along } : { along, values: starts, offset: pad };
  return { m, n, k, a, aOffset: pad, aStride: k + pad, b, bOffset: pad, bStride: n + pad, c, cOffset: pad, cStride: n + pad, start };
}

const outputSize = (s: Shape): number => s.pad + s.m * (s.n + s.pad);

/** Both products of a shape, each into its own output (the padding holds a marker that must survive). */
function both(shape: Shape): { simd: Float32Array; js: Float32Array; p: Matmul } {
  const simd = new Float32Array(outputSize(shape)).fill(7.5);
  const js = new Float32Array(outputSize(shape)).fill(7.5);
  wasm.matmul(product(shape, simd));
  const p = product(shape, js);
  jsKernels.matmul(p);
  return { simd, js, p };
}

/** Bit-for-bit equality, any NaN equal to any NaN (the one thing IEEE leaves open). */
function expectSameBits(x: Float32Array, y: Float32Array): void {
  const bx = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const by = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let firstDifference = -1;
  for (let i = 0; i < x.length && firstDifference < 0; i++) {
    if (bx[i] !== by[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) firstDifference = i;
  }
  expect(firstDifference === -1 ? "identical" : `first difference at ${firstDifference}: ${x[firstDifference]} vs ${y[firstDifference]}`).toBe("identical");
}

const startOf = (p: Matmul, i: number, j: number): number =>
  p.start.along === "none" ? 0 : (p.start.values[p.start.offset + (p.start.along === "rows" ? i : j)] as number);

const shapes = (limits: { m: number; n: number; k: number }): fc.Arbitrary<Shape> =>
  fc.record({
    m: fc.integer({ min: 1, max: limits.m }),
    n: fc.integer({ min: 1, max: limits.n }),
    k: fc.integer({ min: 1, max: limits.k }),
    pad: fc.integer({ min: 0, max: 5 }),
    along: fc.constantFrom("none", "rows", "columns"),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
    kind: fc.constantFrom("uniform", "mixed"),
  });

test("this runtime multiplies with WebAssembly SIMD", () => {
  expect(wasm.name).toBe("wasm-simd");
});

describe("SIMD equals JavaScript, bit for bit", () => {
  test("small and medium shapes: every tail of rows (4 at a time) and columns (8 at a time)", () => {
    // k grown where needed so that the SIMD kernels take the product, not the JavaScript shortcut for tiny ones.
    const large = shapes({ m: 40, n: 70, k: 90 }).map((s) => ({ ...s, k: Math.max(s.k, Math.ceil(4096 / (s.m * s.n))) }));
    fc.assert(
      fc.property(large, (shape) => {
        const { simd, js } = both(shape);
        expectSameBits(simd, js);
      }),
      PROPERTY,
    );
  });

  test("k in several blocks, wide and streamed products", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          shapes({ m: 12, n: 600, k: 700 }),
          // At most 8 rows: b streamed in blocks of k of 2 MB / n values.
          fc.record({
            m: fc.integer({ min: 1, max: 8 }),
            n: fc.integer({ min: 1000, max: 2100 }),
            k: fc.integer({ min: 200, max: 600 }),
            pad: fc.integer({ min: 0, max: 3 }),
            along: fc.constantFrom("none", "rows", "columns"),
            seed: fc.nat(),
            kind: fc.constant("uniform"),
          }),
          // More than 1024 columns and more than 8 rows: blocks of 256 columns.
          fc.record({
            m: fc.integer({ min: 9, max: 14 }),
            n: fc.integer({ min: 1025, max: 1300 }),
            k: fc.integer({ min: 1, max: 40 }),
            pad: fc.integer({ min: 0, max: 3 }),
            along: fc.constantFrom("none", "rows", "columns"),
            seed: fc.nat(),
            kind: fc.constant("mixed"),
          }),
        ),
        (shape) => {
          const { simd, js } = both(shape);
          expectSameBits(simd, js);
        },
      ),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("rows in several blocks of c", () => {
    // 1100 rows of 1020 columns (c rows of 1024) over k = 300: blocks of k of 128, blocks of a of 512 rows,
    // c held 1024 rows at a time.
    const shape: Shape = { m: 1100, n: 1020, k: 300, pad: 1, along: "rows", seed: 5, kind: "uniform" };
    const { simd, js } = both(shape);
    expectSameBits(simd, js);
  });

  test("infinities and overflow give the same infinities and NaN positions", () => {
    const shape: Shape = { m: 9, n: 19, k: 40, pad: 0, along: "columns", seed: 9, kind: "mixed" };
    const simd = new Float32Array(outputSize(shape));
    const js = new Float32Array(outputSize(shape));
    const p = product(shape, simd);
    p.a[3] = Infinity;
    p.a[50] = -Infinity;
    p.b[7] = 3e38;
    p.b[100] = -3e38;
    wasm.matmul(p);
    jsKernels.matmul({ ...p, c: js });
    expectSameBits(simd, js);
    expect(js.some((x) => Number.isNaN(x))).toBe(true);
    expect(js.some((x) => x === Infinity || x === -Infinity)).toBe(true);
  });
});

describe("the definition", () => {
  test("JavaScript equals a plain loop: the start, then each product added in order, both rounded to float32", () => {
    fc.assert(
      fc.property(shapes({ m: 9, n: 13, k: 60 }), (shape) => {
        const { js, p } = both(shape);
        const expected = new Float32Array(outputSize(shape)).fill(7.5);
        for (let i = 0; i < p.m; i++) {
          for (let j = 0; j < p.n; j++) {
            let s = startOf(p, i, j);
            for (let t = 0; t < p.k; t++) {
              s = Math.fround(s + Math.fround((p.a[p.aOffset + i * p.aStride + t] as number) * (p.b[p.bOffset + t * p.bStride + j] as number)));
            }
            expected[p.cOffset + i * p.cStride + j] = s;
          }
        }
        expectSameBits(js, expected);
      }),
      PROPERTY,
    );
  });

  test("both are within the float32 error bound of the float64 product", () => {
    fc.assert(
      fc.property(
        shapes({ m: 20, n: 40, k: 800 }).map((s) => ({ ...s, kind: "uniform" as const })),
        (shape) => {
          const { simd, js, p } = both(shape);
          for (let i = 0; i < p.m; i++) {
            for (let j = 0; j < p.n; j++) {
              let exact = startOf(p, i, j);
              let magnitude = Math.abs(exact);
              for (let t = 0; t < p.k; t++) {
                const term = (p.a[p.aOffset + i * p.aStride + t] as number) * (p.b[p.bOffset + t * p.bStride + j] as number);
                exact += term;
                magnitude += Math.abs(term);
              }
              // Each of the k additions and k products rounds once: |error| <= 2k u sum|terms| (u = 2^-24), to first order.
              const bound = 2.01 * p.k * 2 ** -24 * magnitude;
              const o = p.cOffset + i * p.cStride + j;
              expect(Math.abs((js[o] as number) - exact)).toBeLessThanOrEqual(bound);
              expect(simd[o]).toBe(js[o]);
            }
          }
        },
      ),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("values outside c's rows and columns are left alone", () => {
    const shape: Shape = { m: 13, n: 21, k: 300, pad: 3, along: "none", seed: 3, kind: "uniform" };
    for (const out of Object.values(both(shape)).slice(0, 2) as Float32Array[]) {
      for (let i = 0; i < out.length; i++) {
        const inside = i >= shape.pad && (i - shape.pad) % (shape.n + shape.pad) < shape.n;
        if (!inside) expect(out[i]).toBe(7.5);
      }
    }
  });
});

describe("users of the product", () => {
  test("denseRows: one row and several, SIMD equals JavaScript, near the float64 sums", () => {
    fc.assert(
      fc.property(
        fc.record({
          outSize: fc.integer({ min: 1, max: 300 }),
          inSize: fc.integer({ min: 1, max: 300 }),
          rows: fc.integer({ min: 1, max: 12 }),
          hasBias: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ outSize, inSize, rows, hasBias, seed }) => {
          const weights = values(outSize * inSize, seed, "uniform");
          const x = values(2 + rows * inSize, seed + 1, "uniform");
          const bias = hasBias ? values(outSize, seed + 2, "uniform") : undefined;
          const [simd, js] = [new Float32Array(1 + rows * outSize), new Float32Array(1 + rows * outSize)];
          const d = { weights, outSize, inSize, bias, x, xOffset: 2, rows, outOffset: 1 };
          denseRows(wasm, { ...d, out: simd });
          denseRows(jsKernels, { ...d, out: js });
          expectSameBits(simd, js);
          for (let r = 0; r < rows; r++) {
            for (let o = 0; o < outSize; o++) {
              let exact = bias?.[o] ?? 0;
              let magnitude = Math.abs(exact);
              for (let i = 0; i < inSize; i++) {
                const term = (weights[o * inSize + i] as number) * (x[2 + r * inSize + i] as number);
                exact += term;
                magnitude += Math.abs(term);
              }
              expect(Math.abs((js[1 + r * outSize + o] as number) - exact)).toBeLessThanOrEqual(2.01 * inSize * 2 ** -24 * magnitude);
            }
          }
        },
      ),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("addMatVec: small matrices in float64, large ones through the product, both near the float64 sums", () => {
    for (const [rows, cols] of [
      [5, 7],
      [40, 400],
      [2048, 96],
    ] as const) {
      const matrix = values(rows * cols, rows, "uniform");
      const v = Float64Array.from(values(3 + cols, cols, "uniform"));
      const out = Float64Array.from({ length: 1 + rows }, (_, r) => r / 7);
      addMatVec(out, 1, matrix, rows, cols, v, 3);
      for (let r = 0; r < rows; r++) {
        let exact = 0;
        let magnitude = 0;
        for (let c = 0; c < cols; c++) {
          const term = (matrix[r * cols + c] as number) * Math.fround(v[3 + c] as number);
          exact += term;
          magnitude += Math.abs(term);
        }
        // The float32 rounding of the vector adds one rounding per term.
        expect(Math.abs((out[1 + r] as number) - (1 + r) / 7 - exact)).toBeLessThanOrEqual(3.01 * cols * 2 ** -24 * magnitude + 1e-15);
      }
      expect(out[0]).toBe(0);
    }
  });
});

describe("depthwiseConv2d", () => {
  const geometry = fc
    .record({
      channels: fc.integer({ min: 1, max: 6 }),
      multiplier: fc.integer({ min: 1, max: 3 }),
      inHeight: fc.integer({ min: 1, max: 30 }),
      inWidth: fc.integer({ min: 1, max: 30 }),
      kernelHeight: fc.integer({ min: 1, max: 5 }),
      kernelWidth: fc.integer({ min: 1, max: 5 }),
      strideY: fc.integer({ min: 1, max: 3 }),
      strideX: fc.integer({ min: 1, max: 3 }),
      dilationY: fc.integer({ min: 1, max: 2 }),
      dilationX: fc.integer({ min: 1, max: 2 }),
      padTop: fc.nat(4),
      padBottom: fc.nat(4),
      padLeft: fc.nat(4),
      padRight: fc.nat(4),
      hasBias: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
      kind: fc.constantFrom("uniform", "mixed"),
    })
    .map((g) => ({
      ...g,
      outHeight: Math.floor((g.inHeight + g.padTop + g.padBottom - ((g.kernelHeight - 1) * g.dilationY + 1)) / g.strideY) + 1,
      outWidth: Math.floor((g.inWidth + g.padLeft + g.padRight - ((g.kernelWidth - 1) * g.dilationX + 1)) / g.strideX) + 1,
    }))
    .filter((g) => g.outHeight >= 1 && g.outWidth >= 1);

  type Geometry = Omit<DepthwiseConv2d, "input" | "inOffset" | "weights" | "bias" | "output" | "outOffset"> & {
    readonly hasBias: boolean;
    readonly seed: number;
    readonly kind: "uniform" | "mixed";
  };

  /** The convolution of a geometry, inputs from its seed, with one value of padding before the input and the output. */
  const conv = (g: Geometry, output: Float32Array): DepthwiseConv2d => ({
    ...g,
    input: values(1 + g.channels * g.inHeight * g.inWidth, g.seed, g.kind),
    inOffset: 1,
    weights: values(g.channels * g.multiplier * g.kernelHeight * g.kernelWidth, g.seed + 1, g.kind),
    bias: g.hasBias ? values(g.channels * g.multiplier, g.seed + 2, g.kind) : undefined,
    output,
    outOffset: 1,
  });
  const outputOf = (g: Geometry): Float32Array => new Float32Array(2 + g.channels * g.multiplier * g.outHeight * g.outWidth).fill(7.5);

  test("SIMD equals JavaScript, bit for bit, over strides, dilations, padding and multipliers", () => {
    // Channels added where needed so that the SIMD kernel takes the convolution, not the JavaScript shortcut for tiny ones.
    const large = geometry.map((g) => ({
      ...g,
      channels: Math.max(g.channels, Math.ceil(4096 / (g.multiplier * g.outHeight * g.outWidth * g.kernelHeight * g.kernelWidth))),
    }));
    fc.assert(
      fc.property(large, (g) => {
        const [simd, js] = [outputOf(g), outputOf(g)];
        wasm.depthwiseConv2d(conv(g, simd));
        jsKernels.depthwiseConv2d(conv(g, js));
        expectSameBits(simd, js);
        expect([simd[0], simd[simd.length - 1]]).toEqual([7.5, 7.5]);
      }),
      PROPERTY,
    );
  });

  test("equals the matrix product of each channel's weights and its gathered patches (zeros for padding)", () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const js = outputOf(g);
        const d = conv(g, js);
        jsKernels.depthwiseConv2d(d);
        const taps = g.kernelHeight * g.kernelWidth;
        const pixels = g.outHeight * g.outWidth;
        const expected = outputOf(g);
        for (let c = 0; c < g.channels; c++) {
          const patches = new Float32Array(taps * pixels);
          for (let ky = 0; ky < g.kernelHeight; ky++) {
            for (let kx = 0; kx < g.kernelWidth; kx++) {
              for (let oy = 0; oy < g.outHeight; oy++) {
                for (let ox = 0; ox < g.outWidth; ox++) {
                  const iy = oy * g.strideY - g.padTop + ky * g.dilationY;
                  const ix = ox * g.strideX - g.padLeft + kx * g.dilationX;
                  const inside = iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth;
                  patches[(ky * g.kernelWidth + kx) * pixels + oy * g.outWidth + ox] = inside
                    ? (d.input[1 + (c * g.inHeight + iy) * g.inWidth + ix] as number)
                    : 0;
                }
              }
            }
          }
          jsKernels.matmul({
            m: g.multiplier,
            n: pixels,
            k: taps,
            a: d.weights,
            aOffset: c * g.multiplier * taps,
            aStride: taps,
            b: patches,
            bOffset: 0,
            bStride: pixels,
            c: expected,
            cOffset: 1 + c * g.multiplier * pixels,
            cStride: pixels,
            start: d.bias === undefined ? { along: "none" } : { along: "rows", values: d.bias, offset: c * g.multiplier },
          });
        }
        expectSameBits(js, expected);
      }),
      PROPERTY,
    );
  });

  test("many planes, copied in several parts", () => {
    // 20 planes of 200 x 200 in and out: more than the 512K values copied at once.
    const g: Geometry = {
      channels: 20,
      multiplier: 1,
      inHeight: 200,
      inWidth: 200,
      outHeight: 200,
      outWidth: 200,
      kernelHeight: 3,
      kernelWidth: 3,
      strideY: 1,
      strideX: 1,
      dilationY: 1,
      dilationX: 1,
      padTop: 1,
      padLeft: 1,
      hasBias: true,
      seed: 4,
      kind: "uniform",
    };
    const [simd, js] = [outputOf(g), outputOf(g)];
    wasm.depthwiseConv2d(conv(g, simd));
    jsKernels.depthwiseConv2d(conv(g, js));
    expectSameBits(simd, js);
  });
});

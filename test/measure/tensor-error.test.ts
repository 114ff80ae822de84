/**
 * tensorError: hand-computed values, the infinite and degenerate cases, a
 * non-finite table, and properties against the straightforward definitions.
 */
import fc from "fast-check";
import { channelLayout } from "../../src/quantizer/channel-layout.js";
import { dequantizeLinear } from "../../src/quantizer/dequantize.js";
import { decodedTensorError, float16TensorError, linearTensorError, tensorError } from "../../src/measure/tensor-error.js";
import { decodeFloat16, encodeFloat16 } from "../../src/codec/float16.js";
import { float32Values } from "../quantizer/helpers.js";
import { expectDb, straightforward } from "../report/helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

const PROPERTY = { seed: propertySeed(), numRuns: 300 } as const;

describe("tensorError", () => {
  test("hand-computed: x = [3, 4], y = [3, 5]", () => {
    // signal 25, noise 1, peak 16, mean noise 1/2, dot 9 + 20 = 29, |y| = sqrt(34).
    const e = tensorError(Float32Array.of(3, 4), Float32Array.of(3, 5));
    expect(e.count).toBe(2);
    expect(e.nonFinite).toBe(0);
    expect(e.exact).toBe(false);
    expect(e.snrDb).toBeCloseTo(10 * Math.log10(25), 12);
    expect(e.psnrDb).toBeCloseTo(10 * Math.log10(32), 12);
    expect(e.maxAbsError).toBe(1);
    expect(e.cosine).toBeCloseTo(29 / (5 * Math.sqrt(34)), 14);
  });

  test("10x the noise amplitude is 20 dB less", () => {
    const x = Float32Array.of(1, -2, 3, -4);
    const a = tensorError(x, Float32Array.of(1.5, -2, 3, -4));
    const b = tensorError(Float32Array.of(10, -20, 30, -40), Float32Array.of(15, -20, 30, -40));
    const c = tensorError(x, Float32Array.of(6, -2, 3, -4));
    expect(b.snrDb).toBeCloseTo(a.snrDb as number, 10);
    expect((a.snrDb as number) - (c.snrDb as number)).toBeCloseTo(20, 10);
  });

  test("identical values: exact, infinite ratios (null), cosine 1", () => {
    const x = Float32Array.of(0.5, -1, 7);
    expect(tensorError(x, x.slice())).toEqual({
      count: 3,
      nonFinite: 0,
      exact: true,
      snrDb: null,
      psnrDb: null,
      maxAbsError: 0,
      cosine: 1,
    });
  });

  test("zero vectors: both zero is exact with cosine 1; a zero original with noise is -inf (null, not exact), cosine 0", () => {
    expect(tensorError(new Float32Array(3), new Float32Array(3))).toMatchObject({ exact: true, snrDb: null, cosine: 1 });
    expect(tensorError(new Float32Array(2), Float32Array.of(0, 0.5))).toMatchObject({ exact: false, snrDb: null, psnrDb: null, maxAbsError: 0.5, cosine: 0 });
    expect(tensorError(Float32Array.of(1, 2), new Float32Array(2))).toMatchObject({ exact: false, snrDb: 0, cosine: 0 });
    expect(tensorError(new Float32Array(0), new Float32Array(0))).toMatchObject({ count: 0, exact: true, snrDb: null, cosine: 1 });
  });

  test("-0 and +0 are equal values", () => {
    expect(tensorError(Float32Array.of(-0, 1), Float32Array.of(0, 1)).exact).toBe(true);
  });

  // original, reconstruction, nonFinite, exact
  const NON_FINITE: readonly [number, number, number, boolean][] = [
    [Number.NaN, Number.NaN, 1, true],
    [Infinity, Infinity, 1, true],
    [-Infinity, -Infinity, 1, true],
    [Infinity, -Infinity, 1, false],
    [Number.NaN, 1, 1, false],
    [1, Number.NaN, 1, false],
    [Infinity, 65504, 1, false],
    [65504, Infinity, 1, false],
  ];
  test.each(NON_FINITE)("non-finite %p -> %p: %p left out of the sums; exact on its own: %p", (x, y, nonFinite, exact) => {
    const e = tensorError(Float32Array.of(x, 2, 4), Float32Array.of(y, 2, 5));
    expect(e.nonFinite).toBe(nonFinite);
    expect(e.exact).toBe(false); // 4 -> 5 differs anyway
    expect(e.snrDb).toBeCloseTo(10 * Math.log10(20), 12);
    expect(e.maxAbsError).toBe(1);
    expect(tensorError(Float32Array.of(x, 2), Float32Array.of(y, 2)).exact).toBe(exact);
  });

  test("every number is finite or null, so JSON keeps it", () => {
    const e = tensorError(Float32Array.of(Number.NaN, 0), Float32Array.of(Infinity, 1));
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  test("refuses arrays of different lengths", () => {
    expectQuantizeError(() => tensorError(new Float32Array(2), new Float32Array(3)), "invalid-weights", "2 original values with 3");
  });

  test("property: agrees with the straightforward definitions within 0.01 dB", () => {
    fc.assert(
      fc.property(
        float32Values(1, 64),
        fc.array(fc.float({ noNaN: true, min: -1, max: 1, noDefaultInfinity: true }), { minLength: 64, maxLength: 64 }),
        (x, perturbation) => {
          const y = x.map((v, i) => v + (perturbation[i] as number) * Math.abs(v) * 0.1);
          const e = tensorError(x, y);
          const want = straightforward(x, y);
          expectDb(e.snrDb, want.snrDb);
          expectDb(e.psnrDb, want.psnrDb);
          expect(e.maxAbsError).toBe(want.maxAbsError);
          expect(Math.abs(e.cosine - want.cosine)).toBeLessThanOrEqual(1e-12);
        },
      ),
      PROPERTY,
    );
  });

  test("property: PSNR >= SNR, cosine in [-1, 1], exact iff equal", () => {
    fc.assert(
      fc.property(float32Values(1, 64), float32Values(64, 64), (x, noise) => {
        const y = x.map((v, i) => (i % 3 === 0 ? v : (noise[i] as number)));
        const e = tensorError(x, y);
        if (e.snrDb !== null && e.psnrDb !== null) expect(e.psnrDb).toBeGreaterThanOrEqual(e.snrDb - 1e-9);
        expect(e.cosine).toBeGreaterThanOrEqual(-1);
        expect(e.cosine).toBeLessThanOrEqual(1);
        expect(e.exact).toBe(x.every((v, i) => v === y[i]));
        expect(e.exact).toBe(e.maxAbsError === 0);
      }),
      PROPERTY,
    );
  });

  test("property: scaling both by a power of two changes nothing in dB or cosine", () => {
    // Values k/1024 with |k| <= 2^20: scaling by 2^±20 neither overflows nor loses bits.
    const values = fc.array(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), { minLength: 1, maxLength: 64 }).map((a) => Float32Array.from(a, (k) => k / 1024));
    fc.assert(
      fc.property(values, fc.integer({ min: -20, max: 20 }), (x, k) => {
        const y = x.map((v) => Math.fround(v * 1.01 + 0.001));
        const s = 2 ** k;
        const a = tensorError(x, y);
        const b = tensorError(
          x.map((v) => v * s),
          y.map((v) => v * s),
        );
        expect(b.exact).toBe(a.exact);
        if (a.snrDb !== null) expect(b.snrDb).toBeCloseTo(a.snrDb, 9);
        if (a.psnrDb !== null) expect(b.psnrDb).toBeCloseTo(a.psnrDb, 9);
        expect(b.cosine).toBeCloseTo(a.cosine, 12);
      }),
      PROPERTY,
    );
  });

  test("float64 throughout: a million values near float32's limits neither overflow nor lose the noise", () => {
    const n = 1_000_000;
    const x = new Float32Array(n).fill(3e38);
    const y = x.slice();
    y[n - 1] = Math.fround(3e38 * (1 + 2 ** -10));
    const e = tensorError(x, y);
    const big = x[0] as number;
    const noise = ((y[n - 1] as number) - big) ** 2;
    expect(e.snrDb).toBeCloseTo(10 * Math.log10((n * big ** 2) / noise), 6);
    expect(e.cosine).toBeLessThanOrEqual(1);
  });
});

describe("linearTensorError", () => {
  const tensor = fc
    .record({
      outer: fc.integer({ min: 1, max: 3 }),
      channels: fc.integer({ min: 1, max: 4 }),
      inner: fc.integer({ min: 1, max: 5 }),
    })
    .chain((layout) => {
      const count = layout.outer * layout.channels * layout.inner;
      const floats = (n: number) => fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -100, max: 100 }), { minLength: n, maxLength: n });
      return fc.record({
        layout: fc.constant(layout),
        original: floats(count).map((a) => Float32Array.from(a)),
        indices: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: count, maxLength: count }).map((a) => Uint8Array.from(a)),
        scale: floats(layout.channels),
        bias: floats(layout.channels),
      });
    });

  test("property: the same result as tensorError against dequantizeLinear, field for field", () => {
    fc.assert(
      fc.property(tensor, ({ layout, original, indices, scale, bias }) => {
        expect(linearTensorError(original, indices, scale, bias, layout)).toEqual(tensorError(original, dequantizeLinear(indices, scale, bias, layout)));
      }),
      PROPERTY,
    );
  });

  test("non-finite originals take the general path: counted, left out of the sums", () => {
    const layout = channelLayout([2, 2], 0);
    const original = Float32Array.of(NaN, 1, Infinity, 3);
    const indices = Uint8Array.of(0, 1, 2, 3);
    const e = linearTensorError(original, indices, [1, 1], [0, 0], layout);
    expect(e).toEqual(tensorError(original, dequantizeLinear(indices, [1, 1], [0, 0], layout)));
    expect(e.nonFinite).toBe(2);
  });

  test("refuses counts that do not match", () => {
    expectQuantizeError(
      () => linearTensorError(new Float32Array(4), new Uint8Array(3), [1], [0], channelLayout([4], 0)),
      "invalid-weights",
      "4 original values with 3 indices",
    );
    expectQuantizeError(() => linearTensorError(new Float32Array(4), new Uint8Array(4), [1], [0], channelLayout([2, 2], 0)), "invalid-weights", "1 scales");
  });
});

describe("decodedTensorError", () => {
  test("property: the same result as tensorError on the whole reconstruction, across run boundaries", () => {
    const pair = fc
      .integer({ min: 1, max: 10_000 })
      .chain((n) =>
        fc.tuple(
          fc.float32Array({ minLength: n, maxLength: n, noNaN: true, noDefaultInfinity: true }),
          fc.float32Array({ minLength: n, maxLength: n, noNaN: true, noDefaultInfinity: true }),
        ),
      );
    fc.assert(
      fc.property(pair, ([x, y]) => {
        const calls: number[] = [];
        const e = decodedTensorError(x, (start, end, into) => {
          calls.push(end - start);
          into.set(y.subarray(start, end));
        });
        expect(e).toEqual(tensorError(x, y));
        expect(calls.reduce((a, b) => a + b, 0)).toBe(x.length);
        expect(Math.max(...calls)).toBeLessThanOrEqual(4096);
      }),
      { seed: propertySeed(), numRuns: 50 },
    );
  });

  test("non-finite values take the general path", () => {
    const x = Float32Array.of(1, NaN, 3);
    const y = Float32Array.of(1, NaN, Infinity);
    expect(decodedTensorError(x, (start, end, into) => into.set(y.subarray(start, end)))).toEqual(tensorError(x, y));
  });
});

describe("float16TensorError", () => {
  test("property: the same result as tensorError against decodeFloat16, aligned or not", () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 5000, noNaN: true, min: -60000, max: 60000 }), fc.boolean(), (x, shifted) => {
        const encoded = encodeFloat16(x.map((v) => v * 0.999));
        const bytes = shifted ? new Uint8Array(encoded.length + 1).fill(7).subarray(1) : encoded;
        if (shifted) bytes.set(encoded);
        expect(float16TensorError(x, bytes)).toEqual(tensorError(x, decodeFloat16(encoded)));
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });

  test("refuses a byte count that does not match", () => {
    expectQuantizeError(() => float16TensorError(new Float32Array(3), new Uint8Array(5)), "invalid-weights", "3 original values with 5 bytes");
  });
});

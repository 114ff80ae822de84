/**
 * The SIMD kernels against the JavaScript ones, bit for bit, on random runs at
 * random offsets (so every tail length and lane parity occurs), and the
 * JavaScript ones against the definitions they implement.
 */
import fc from "fast-check";
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../../src/codec/float16.js";
import { createWasmKernels, ERROR_SUM_LANES, HALF_ENCODE_LIMIT_BITS, jsKernels, runKernels, type RunKernels } from "../../src/kernels/index.js";
import { roundHalfEven } from "../../src/quantizer/round-half-even.js";

const wasm = createWasmKernels() as RunKernels;
const PROPERTY = { seed: 11, numRuns: 200 } as const;

/** A tensor and a run [start, end) inside it. */
const tensorAndRun = <T>(values: fc.Arbitrary<T[]>) => values.chain((array) => fc.tuple(
  fc.constant(array), fc.nat(array.length), fc.nat(array.length)).map(([a, i, j]) => ({ array: a, start: Math.min(i, j), end: Math.max(i, j) })));

const floats = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 9000 });
const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  const bitsA = new Uint32Array(Float64Array.from(a).buffer);
  const bitsB = new Uint32Array(Float64Array.from(b).buffer);
  expect(bitsB).toEqual(bitsA);
};

test("this runtime has WebAssembly SIMD, and uses it", () => {
  expect(wasm).toBeDefined();
  expect(runKernels().name).toBe("wasm-simd");
});

describe("range", () => {
  test("SIMD equals JavaScript, signs of zero included", () => {
    const withZeros = fc.array(fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0)), { maxLength: 9000 });
    fc.assert(fc.property(tensorAndRun(withZeros), ({ array, start, end }) => {
      const values = Float32Array.from(array);
      const [a, b] = [new Float64Array(2), new Float64Array(2)];
      expect(wasm.range(values, start, end, a)).toBe(jsKernels.range(values, start, end, b));
      if (end > start) sameBits(a, b);
    }), PROPERTY);
  });

  test("reports NaN and infinities anywhere in the run, and only in the run", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 3, 4, 4095, 4096, 5000]) {
        const values = new Float32Array(5001).fill(1);
        values[at] = bad;
        for (const kernels of [wasm, jsKernels]) {
          expect(kernels.range(values, 0, 5001, new Float64Array(2))).toBe(false);
          expect(kernels.range(values, at + 1, 5001, new Float64Array(2))).toBe(true);
        }
      }
    }
  });

  test("the first zero decides the sign", () => {
    const e = new Float64Array(2);
    wasm.range(Float32Array.of(1, -0, 0, 2, 0, 0, 0, 0, 0), 0, 9, e);
    expect(Object.is(e[0], -0)).toBe(true);
    wasm.range(Float32Array.of(-1, 0, -0, -2, -0), 0, 5, e);
    expect(Object.is(e[1], 0)).toBe(true);
  });
});

describe("indices", () => {
  test("SIMD equals JavaScript equals roundHalfEven, multiplying and dividing", () => {
    const grid = fc.record({ a: fc.float({ min: -10, max: 0, noNaN: true }), step: fc.float({ min: Math.fround(1e-3), max: 1, noNaN: true }) });
    fc.assert(fc.property(tensorAndRun(fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { maxLength: 9000 })), grid, fc.boolean(),
      ({ array, start, end }, { a, step }, divide) => {
        const values = Float32Array.from(array, (v) => a + v * 255 * step);
        const inverse = divide ? step : 1 / step;
        const [x, y] = [new Uint8Array(values.length), new Uint8Array(values.length)];
        wasm.indices(values, start, end, a, inverse, divide, x);
        jsKernels.indices(values, start, end, a, inverse, divide, y);
        expect(x).toEqual(y);
        for (let k = start; k < end; k++) {
          const t = divide ? ((values[k] as number) - a) / inverse : ((values[k] as number) - a) * inverse;
          expect(y[k]).toBe(roundHalfEven(t) % 256);
        }
        for (let k = 0; k < start; k++) expect(x[k]).toBe(0);
      }), PROPERTY);
  });

  test("ties go to even", () => {
    const values = Float32Array.of(0.5, 1.5, 2.5, 3.5, 254.5, 0.5);
    const out = new Uint8Array(6);
    wasm.indices(values, 0, 6, 0, 1, false, out);
    expect([...out]).toEqual([0, 2, 2, 4, 254, 0]);
  });
});

describe("dequantizeLinear and the error sums", () => {
  const params = fc.record({ scale: fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }), bias: fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }) });
  const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 9000 });

  test("dequantizeLinear: SIMD equals JavaScript equals float32(q * s + b)", () => {
    fc.assert(fc.property(tensorAndRun(bytes), params, ({ array, start, end }, { scale, bias }) => {
      const indices = Uint8Array.from(array);
      const [x, y] = [new Float32Array(indices.length), new Float32Array(indices.length)];
      wasm.dequantizeLinear(indices, start, end, scale, bias, x);
      jsKernels.dequantizeLinear(indices, start, end, scale, bias, y);
      expect(new Uint32Array(x.buffer)).toEqual(new Uint32Array(y.buffer));
      for (let k = start; k < end; k++) expect(y[k]).toBe(Math.fround((indices[k] as number) * scale + bias));
    }), PROPERTY);
  });

  test("errorSums, linearErrorSums, float16ErrorSums: SIMD equals JavaScript, lane by lane, bit for bit", () => {
    fc.assert(fc.property(tensorAndRun(floats), params, fc.nat(3), ({ array, start, end }, { scale, bias }, offsetShift) => {
      const original = Float32Array.from(array);
      const indices = Uint8Array.from(array, (v, i) => (i * 37 + Math.abs(Math.trunc(v))) & 255);
      const halves = Uint16Array.from(array, (v) => float32BitsToFloat16Bits(new Uint32Array(Float32Array.of(v * 0.9).buffer)[0] as number));
      const reconstructed = new Float32Array(original.length + offsetShift);
      reconstructed.set(original.map((v) => v * 1.01 + 0.5), offsetShift);
      const runs: [string, (k: RunKernels, sums: Float64Array) => void][] = [
        ["errorSums", (k, sums) => k.errorSums(original, start, end, reconstructed, start + offsetShift, sums)],
        ["linearErrorSums", (k, sums) => k.linearErrorSums(original, indices, start, end, scale, bias, sums)],
        ["float16ErrorSums", (k, sums) => k.float16ErrorSums(original, halves, start, end, sums)],
      ];
      for (const [, run] of runs) {
        const seed = Float64Array.from({ length: ERROR_SUM_LANES }, (_, i) => (i >= 12 ? 0 : i % 2 === 0 ? 1.5 : 2.25));
        const [a, b] = [seed.slice(), seed.slice()];
        run(wasm, a);
        run(jsKernels, b);
        sameBits(a, b);
      }
    }), PROPERTY);
  });

  test("sums do not depend on how the tensor is cut into runs", () => {
    fc.assert(fc.property(floats, fc.array(fc.nat(9000), { maxLength: 6 }), (array, cuts) => {
      const x = Float32Array.from(array);
      const y = x.map((v) => v / 3);
      const bounds = [0, ...cuts.map((c) => c % (x.length + 1)).sort((p, q) => p - q), x.length];
      const whole = new Float64Array(ERROR_SUM_LANES);
      const pieces = new Float64Array(ERROR_SUM_LANES);
      wasm.errorSums(x, 0, x.length, y, 0, whole);
      for (let i = 0; i + 1 < bounds.length; i++) wasm.errorSums(x, bounds[i] as number, bounds[i + 1] as number, y, bounds[i] as number, pieces);
      sameBits(whole, pieces);
    }), PROPERTY);
  });

  test("the sums are what they say, lane by position parity", () => {
    const x = Float32Array.of(1, 2, 3, -4, 5);
    const y = Float32Array.of(1, 2.5, 3, -4, 4);
    for (const kernels of [wasm, jsKernels]) {
      const sums = new Float64Array(ERROR_SUM_LANES);
      kernels.errorSums(x, 0, 5, y, 0, sums);
      expect([...sums]).toEqual([1 + 9 + 25, 4 + 16, 0 + 0 + 1, 0.25 + 0, 5, 4, 1, 0.5, 1 + 9 + 20, 5 + 16, 1 + 9 + 16, 6.25 + 16, 0, 0]);
    }
  });

  test("a non-finite value shows in the check lanes", () => {
    for (const kernels of [wasm, jsKernels]) {
      const sums = new Float64Array(ERROR_SUM_LANES);
      kernels.errorSums(Float32Array.of(1, 2, 3), 0, 3, Float32Array.of(1, Infinity, 3), 0, sums);
      expect(Number.isNaN((sums[12] as number) + (sums[13] as number))).toBe(true);
    }
  });
});

describe("half precision", () => {
  const allBits = fc.array(fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0x33000000 - 4, max: 0x33000000 + 4 }), fc.integer({ min: 0x387fff00, max: 0x38800100 }), fc.integer({ min: 0x477fe000, max: 0x47800010 })), { maxLength: 9000 });

  test("encodeHalves: SIMD equals JavaScript equals the scalar conversion below the limit, sign only above", () => {
    fc.assert(fc.property(tensorAndRun(allBits), ({ array, start, end }) => {
      const bits = Uint32Array.from(array);
      const [a, b] = [new Uint16Array(bits.length), new Uint16Array(bits.length)];
      const peakA = wasm.encodeHalves(bits, start, end, a);
      const peakB = jsKernels.encodeHalves(bits, start, end, b);
      expect(a).toEqual(b);
      expect(peakA).toBe(peakB);
      let peak = 0;
      for (let k = start; k < end; k++) {
        const x = bits[k] as number;
        peak = Math.max(peak, x & 0x7fffffff);
        expect(b[k]).toBe((x & 0x7fffffff) < HALF_ENCODE_LIMIT_BITS ? float32BitsToFloat16Bits(x) : (x >>> 16) & 0x8000);
      }
      expect(peakB).toBe(peak);
    }), PROPERTY);
  });

  test("encodeHalves on every float32 exponent and mantissa edge", () => {
    const bits = new Uint32Array(1 << 20);
    for (let i = 0; i < bits.length; i++) bits[i] = (Math.imul(i, 0x9e3779b1) >>> 0) ^ (i << 12);
    const [a, b] = [new Uint16Array(bits.length), new Uint16Array(bits.length)];
    wasm.encodeHalves(bits, 0, bits.length, a);
    jsKernels.encodeHalves(bits, 0, bits.length, b);
    expect(a).toEqual(b);
  });

  test("decodeHalves: SIMD equals JavaScript equals the scalar conversion, on all 65,536 halves", () => {
    const halves = Uint16Array.from({ length: 65_536 }, (_, i) => i);
    const [a, b] = [new Uint32Array(65_536), new Uint32Array(65_536)];
    for (const [start, end] of [[0, 65_536], [1, 65_535], [3, 4100]] as const) {
      a.fill(0);
      b.fill(0);
      wasm.decodeHalves(halves, start, end, a);
      jsKernels.decodeHalves(halves, start, end, b);
      expect(a).toEqual(b);
      expect(b.subarray(start, end)).toEqual(Uint32Array.from({ length: end - start }, (_, i) => float16BitsToFloat32Bits(start + i)));
    }
  });
});

/**
 * The SIMD kernels against the JavaScript ones, bit for bit, on random runs at
 * random offsets (so every tail length and lane parity occurs), and the
 * JavaScript ones against the definitions they implement.
 */
import fc from "fast-check";
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../../src/codec/float16.js";
import { createWasmKernels, ERROR_SUM_LANES, HALF_ENCODE_LIMIT_BITS, jsKernels, runKernels, type RunKernels } from "../../src/kernels/index.js";
import { roundHalfEven } from "../../src/quantizer/round-half-even.js";
import { expectSameElements } from "../support/expect-same-elements.js";
import { propertySeed } from "../support/property-seed.js";

const wasm = createWasmKernels() as RunKernels;
const PROPERTY = { seed: propertySeed(), numRuns: 200 } as const;
/** Whole tensors of up to 105,000 values: fewer runs. */
const TENSORS = { seed: propertySeed(), numRuns: 60 } as const;

/** A tensor and a run [start, end) inside it. */
const tensorAndRun = <T>(values: fc.Arbitrary<T[]>) =>
  values.chain((array) =>
    fc.tuple(fc.constant(array), fc.nat(array.length), fc.nat(array.length)).map(([a, i, j]) => ({ array: a, start: Math.min(i, j), end: Math.max(i, j) })),
  );

const floats = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 9000 });
const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  const bitsA = new Uint32Array(Float64Array.from(a).buffer);
  const bitsB = new Uint32Array(Float64Array.from(b).buffer);
  expectSameElements(bitsB, bitsA);
};

test("this runtime has WebAssembly SIMD, and uses it", () => {
  expect(wasm).toBeDefined();
  expect(runKernels().name).toBe("wasm-simd");
});

/** A tensor of some layout: long runs (SIMD), short ones (JavaScript), and blocks cut mid-run. */
const layoutAndValues = <T>(value: fc.Arbitrary<T>) =>
  fc
    .record({
      outer: fc.integer({ min: 1, max: 3 }),
      channels: fc.integer({ min: 1, max: 5 }),
      inner: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 60, max: 7000 })),
    })
    .chain((layout) =>
      fc.tuple(
        fc.constant(layout),
        fc.array(value, { minLength: layout.outer * layout.channels * layout.inner, maxLength: layout.outer * layout.channels * layout.inner }),
      ),
    );

describe("channelRanges", () => {
  test("SIMD equals JavaScript equals a scan in tensor order, signs of zero included", () => {
    const value = fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0));
    fc.assert(
      fc.property(layoutAndValues(value), ([layout, array]) => {
        const values = Float32Array.from(array);
        const [minA, maxA, minB, maxB] = Array.from({ length: 4 }, () => new Float64Array(layout.channels)) as [
          Float64Array,
          Float64Array,
          Float64Array,
          Float64Array,
        ];
        expect(wasm.channelRanges(values, layout, minA, maxA)).toBe(true);
        expect(jsKernels.channelRanges(values, layout, minB, maxB)).toBe(true);
        sameBits(minA, minB);
        sameBits(maxA, maxB);
        const min = new Float64Array(layout.channels).fill(Infinity);
        const max = new Float64Array(layout.channels).fill(-Infinity);
        values.forEach((v, k) => {
          const c = Math.floor(k / layout.inner) % layout.channels;
          if (v < (min[c] as number)) min[c] = v;
          if (v > (max[c] as number)) max[c] = v;
        });
        sameBits(minB, min);
        sameBits(maxB, max);
      }),
      TENSORS,
    );
  });

  test("reports NaN and infinities wherever they are", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 3, 4, 4095, 16_384, 20_000]) {
        const values = new Float32Array(20_001).fill(1);
        values[at] = bad;
        for (const kernels of [wasm, jsKernels]) {
          expect(kernels.channelRanges(values, { outer: 1, channels: 1, inner: 20_001 }, new Float64Array(1), new Float64Array(1))).toBe(false);
          expect(kernels.channelRanges(values, { outer: 1, channels: 20_001, inner: 1 }, new Float64Array(20_001), new Float64Array(20_001))).toBe(false);
        }
      }
    }
  });

  test("the first zero of a channel decides the sign", () => {
    const layout = { outer: 1, channels: 2, inner: 100 };
    const values = new Float32Array(200).fill(1);
    values.fill(-1, 100);
    values[37] = -0;
    values[90] = 0;
    values[150] = 0;
    values[151] = -0;
    for (const kernels of [wasm, jsKernels]) {
      const [min, max] = [new Float64Array(2), new Float64Array(2)];
      kernels.channelRanges(values, layout, min, max);
      expect(Object.is(min[0], -0)).toBe(true);
      expect(Object.is(max[1], 0)).toBe(true);
    }
  });
});

describe("linearIndices", () => {
  test("SIMD equals JavaScript equals roundHalfEven per channel, multiplying and dividing", () => {
    fc.assert(
      fc.property(layoutAndValues(fc.float({ min: 0, max: 1, noNaN: true })), fc.boolean(), ([layout, array], divide) => {
        const offset = Float64Array.from({ length: layout.channels }, (_, c) => -c * 0.25);
        const step = Float64Array.from({ length: layout.channels }, (_, c) => (c + 1) / 300);
        const values = Float32Array.from(array, (v, k) => {
          const c = Math.floor(k / layout.inner) % layout.channels;
          return (offset[c] as number) + v * 255 * (step[c] as number);
        });
        const factor = divide ? step : step.map((x) => 1 / x);
        const [x, y] = [new Uint8Array(values.length), new Uint8Array(values.length)];
        wasm.linearIndices(values, layout, offset, factor, divide, x);
        jsKernels.linearIndices(values, layout, offset, factor, divide, y);
        expectSameElements(x, y);
        expectSameElements(
          y,
          Uint8Array.from(values, (v, k) => {
            const c = Math.floor(k / layout.inner) % layout.channels;
            const t = divide ? (v - (offset[c] as number)) / (factor[c] as number) : (v - (offset[c] as number)) * (factor[c] as number);
            return roundHalfEven(t) % 256;
          }),
        );
      }),
      TENSORS,
    );
  });

  test("ties go to even; dividing by Infinity gives 0", () => {
    const values = Float32Array.of(0.5, 1.5, 2.5, 3.5, 254.5, 0.5, ...new Float32Array(64).fill(3));
    for (const kernels of [wasm, jsKernels]) {
      const out = new Uint8Array(70);
      kernels.linearIndices(values, { outer: 1, channels: 1, inner: 70 }, [0], [1], false, out);
      expect([...out.subarray(0, 6)]).toEqual([0, 2, 2, 4, 254, 0]);
      kernels.linearIndices(values, { outer: 1, channels: 1, inner: 70 }, [-1], [Infinity], true, out);
      expect(out.every((q) => q === 0)).toBe(true);
    }
  });
});

describe("dequantizeLinear and the error sums", () => {
  const params = fc.record({
    scale: fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
    bias: fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
  });

  test("dequantizeLinear: SIMD equals JavaScript equals float32(q * s[c] + b[c])", () => {
    fc.assert(
      fc.property(layoutAndValues(fc.integer({ min: 0, max: 255 })), params, ([layout, array], { scale, bias }) => {
        const indices = Uint8Array.from(array);
        const scales = Float64Array.from({ length: layout.channels }, (_, c) => Math.fround(scale * (c + 1)));
        const biases = Float64Array.from({ length: layout.channels }, (_, c) => Math.fround(bias - c));
        const [x, y] = [new Float32Array(indices.length), new Float32Array(indices.length)];
        wasm.dequantizeLinear(indices, layout, scales, biases, x);
        jsKernels.dequantizeLinear(indices, layout, scales, biases, y);
        expectSameElements(new Uint32Array(x.buffer), new Uint32Array(y.buffer));
        const expected = Float32Array.from(indices, (q, k) => {
          const c = Math.floor(k / layout.inner) % layout.channels;
          return q * (scales[c] as number) + (biases[c] as number);
        });
        expectSameElements(new Uint32Array(y.buffer), new Uint32Array(expected.buffer));
      }),
      TENSORS,
    );
  });

  test("linearErrorSums: SIMD equals JavaScript, lane by lane, bit for bit, and equals errorSums of the dequantized tensor", () => {
    fc.assert(
      fc.property(layoutAndValues(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 })), params, ([layout, array], { scale, bias }) => {
        const original = Float32Array.from(array);
        const indices = Uint8Array.from(array, (v, i) => (i * 37 + Math.abs(Math.trunc(v))) & 255);
        const scales = Float64Array.from({ length: layout.channels }, (_, c) => Math.fround(scale * (c + 1)));
        const biases = Float64Array.from({ length: layout.channels }, (_, c) => Math.fround(bias - c));
        const [a, b, c] = [new Float64Array(ERROR_SUM_LANES), new Float64Array(ERROR_SUM_LANES), new Float64Array(ERROR_SUM_LANES)];
        wasm.linearErrorSums(original, indices, layout, scales, biases, a);
        jsKernels.linearErrorSums(original, indices, layout, scales, biases, b);
        sameBits(a, b);
        const dequantized = new Float32Array(original.length);
        jsKernels.dequantizeLinear(indices, layout, scales, biases, dequantized);
        jsKernels.errorSums(original, 0, original.length, dequantized, 0, c);
        sameBits(b, c);
      }),
      TENSORS,
    );
  });

  test("errorSums, float16ErrorSums: SIMD equals JavaScript, lane by lane, bit for bit", () => {
    fc.assert(
      fc.property(tensorAndRun(floats), params, fc.nat(3), ({ array, start, end }, { scale: _scale, bias: _bias }, offsetShift) => {
        const original = Float32Array.from(array);
        const halves = Uint16Array.from(array, (v) => float32BitsToFloat16Bits(new Uint32Array(Float32Array.of(v * 0.9).buffer)[0] as number));
        const reconstructed = new Float32Array(original.length + offsetShift);
        reconstructed.set(
          original.map((v) => v * 1.01 + 0.5),
          offsetShift,
        );
        const runs: [string, (k: RunKernels, sums: Float64Array) => void][] = [
          ["errorSums", (k, sums) => k.errorSums(original, start, end, reconstructed, start + offsetShift, sums)],
          ["float16ErrorSums", (k, sums) => k.float16ErrorSums(original, halves, start, end, sums)],
        ];
        for (const [, run] of runs) {
          const seed = Float64Array.from({ length: ERROR_SUM_LANES }, (_, i) => (i >= 12 ? 0 : i % 2 === 0 ? 1.5 : 2.25));
          const [a, b] = [seed.slice(), seed.slice()];
          run(wasm, a);
          run(jsKernels, b);
          sameBits(a, b);
        }
      }),
      PROPERTY,
    );
  });

  test("sums do not depend on how the tensor is cut into runs", () => {
    fc.assert(
      fc.property(floats, fc.array(fc.nat(9000), { maxLength: 6 }), (array, cuts) => {
        const x = Float32Array.from(array);
        const y = x.map((v) => v / 3);
        const bounds = [0, ...cuts.map((c) => c % (x.length + 1)).sort((p, q) => p - q), x.length];
        const whole = new Float64Array(ERROR_SUM_LANES);
        const pieces = new Float64Array(ERROR_SUM_LANES);
        wasm.errorSums(x, 0, x.length, y, 0, whole);
        for (let i = 0; i + 1 < bounds.length; i++) wasm.errorSums(x, bounds[i] as number, bounds[i + 1] as number, y, bounds[i] as number, pieces);
        sameBits(whole, pieces);
      }),
      PROPERTY,
    );
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
  const allBits = fc.array(
    fc.oneof(
      fc.nat({ max: 0xffffffff }),
      fc.integer({ min: 0x33000000 - 4, max: 0x33000000 + 4 }),
      fc.integer({ min: 0x387fff00, max: 0x38800100 }),
      fc.integer({ min: 0x477fe000, max: 0x47800010 }),
    ),
    { maxLength: 9000 },
  );

  test("encodeHalves: SIMD equals JavaScript equals the scalar conversion below the limit, sign only above", () => {
    fc.assert(
      fc.property(tensorAndRun(allBits), ({ array, start, end }) => {
        const bits = Uint32Array.from(array);
        const [a, b] = [new Uint16Array(bits.length), new Uint16Array(bits.length)];
        const peakA = wasm.encodeHalves(bits, start, end, a);
        const peakB = jsKernels.encodeHalves(bits, start, end, b);
        expectSameElements(a, b);
        expect(peakA).toBe(peakB);
        let peak = 0;
        for (let k = start; k < end; k++) {
          const x = bits[k] as number;
          peak = Math.max(peak, x & 0x7fffffff);
          expect(b[k]).toBe((x & 0x7fffffff) < HALF_ENCODE_LIMIT_BITS ? float32BitsToFloat16Bits(x) : (x >>> 16) & 0x8000);
        }
        expect(peakB).toBe(peak);
      }),
      PROPERTY,
    );
  });

  test("encodeHalves on every float32 exponent and mantissa edge", () => {
    const bits = new Uint32Array(1 << 20);
    for (let i = 0; i < bits.length; i++) bits[i] = (Math.imul(i, 0x9e3779b1) >>> 0) ^ (i << 12);
    const [a, b] = [new Uint16Array(bits.length), new Uint16Array(bits.length)];
    wasm.encodeHalves(bits, 0, bits.length, a);
    jsKernels.encodeHalves(bits, 0, bits.length, b);
    expectSameElements(a, b);
  });

  test("decodeHalves: SIMD equals JavaScript equals the scalar conversion, on all 65,536 halves", () => {
    const halves = Uint16Array.from({ length: 65_536 }, (_, i) => i);
    const [a, b] = [new Uint32Array(65_536), new Uint32Array(65_536)];
    for (const [start, end] of [
      [0, 65_536],
      [1, 65_535],
      [3, 4100],
    ] as const) {
      a.fill(0);
      b.fill(0);
      wasm.decodeHalves(halves, start, end, a);
      jsKernels.decodeHalves(halves, start, end, b);
      expectSameElements(a, b);
      expectSameElements(
        b.subarray(start, end),
        Uint32Array.from({ length: end - start }, (_, i) => float16BitsToFloat32Bits(start + i)),
      );
    }
  });
});

import fc from "fast-check";
import { channelLayout, type ChannelLayout } from "../../src/quantizer/channel-layout.js";
import { dequantizeLinear } from "../../src/quantizer/dequantize.js";
import { quantizeLinearSymmetric } from "../../src/quantizer/linear-symmetric.js";
import { finiteFloat32 } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 200 });

const f = Math.fround;

describe("quantizeLinearSymmetric, hand-computed", () => {
  test("8 bits: r = 127, scale = 127 / 127 = 1, bias = -128 * 1, q = round_half_even(w + 128)", () => {
    // -127 -> 1, 0 -> 128, 63.5 -> 191.5 -> 192 (even), 127 -> 255.
    const r = quantizeLinearSymmetric(Float32Array.of(-127, 0, 63.5, 127), 8, channelLayout([4], 0));
    expect(Array.from(r.indices)).toEqual([1, 128, 192, 255]);
    expect(Array.from(r.scale)).toEqual([1]);
    expect(Array.from(r.bias)).toEqual([-128]);
  });

  test("2 bits: scale = r / (2 - 1), bias = -2 * scale", () => {
    // r = 2, scale 2, bias -4: (-2 + 4) / 2 = 1, (1 + 4) / 2 = 2.5 -> 2, (2 + 4) / 2 = 3.
    const r = quantizeLinearSymmetric(Float32Array.of(-2, 1, 2), 2, channelLayout([3], 0));
    expect(Array.from(r.indices)).toEqual([1, 2, 3]);
    expect(Array.from(r.scale)).toEqual([2]);
    expect(Array.from(r.bias)).toEqual([-4]);
  });

  test("divides by the scale, as the reference does, rather than multiplying by 1 / scale", () => {
    // r = 1.625, scale = r / 127, w = 0.8125 = r / 2: exactly 191.5 steps above bias. The
    // float64 division (w - bias) / scale gives 191.49999999999997 -> 191; multiplying by
    // 1 / scale would give 191.5 -> 192.
    const r = quantizeLinearSymmetric(Float32Array.of(1.625, 0.8125), 8, channelLayout([2], 0));
    expect(Array.from(r.indices)).toEqual([255, 191]);
  });

  test("an all-zero channel: scale 0, bias -0, indices 0 (not the zero level 128)", () => {
    const r = quantizeLinearSymmetric(Float32Array.of(0, 0, 1, -1), 8, channelLayout([2, 2], 0));
    expect(Array.from(r.indices)).toEqual([0, 0, 255, 1]);
    expect(r.scale[0]).toBe(0);
    expect(Object.is(r.bias[0], -0)).toBe(true);
    expect(r.scale[1]).toBe(f(1 / 127));
    expect(r.bias[1]).toBe(f(-128 / 127));
  });

  test("axis 1 layout", () => {
    // Shape [2, 2, 1] on axis 1: channel 0 = offsets 0, 2 = {1, -1}; channel 1 = offsets 1, 3 = {4, 2}.
    // Channel 1: r = 4, scale 4 / 127, 2 -> (2 + 128 * 4 / 127) / (4 / 127) = 63.5 + 128 = 191.5.
    const r = quantizeLinearSymmetric(Float32Array.of(1, 4, -1, 2), 8, channelLayout([2, 2, 1], 1));
    expect(r.indices[0]).toBe(255);
    expect(r.indices[2]).toBe(1);
    expect(r.indices[1]).toBe(255);
    expect([191, 192]).toContain(r.indices[3]);
    expect(Array.from(r.scale)).toEqual([f(1 / 127), f(4 / 127)]);
  });
});

describe("quantizeLinearSymmetric, properties", () => {
  const arb = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 8 }))
    .chain(([outer, channels, inner, nbits]) =>
      fc.tuple(
        fc.constant<ChannelLayout>({ outer, channels, inner }),
        fc.constant(nbits),
        fc.array(finiteFloat32(1e4), { minLength: outer * channels * inner, maxLength: outer * channels * inner }).map((a) => Float32Array.from(a)),
      ),
    );

  test("indices in 1..2^n - 1 and within half a step of each value (plus float32 slack)", () => {
    fc.assert(
      fc.property(arb, ([layout, nbits, values]) => {
        const r = quantizeLinearSymmetric(values, nbits, layout);
        const half = 2 ** nbits / 2;
        for (let k = 0; k < values.length; k++) {
          const c = Math.floor(k / layout.inner) % layout.channels;
          const step = r.scale[c] as number;
          const q = r.indices[k] as number;
          if (Math.abs(step) <= 1e-6) {
            expect(q).toBe(0);
            continue;
          }
          expect(q).toBeGreaterThanOrEqual(1);
          expect(q).toBeLessThanOrEqual(2 ** nbits - 1);
          // The stored float32 step differs from the float64 one by at most 2^-24 relative,
          // which q * step can magnify by up to 2^n steps of 2^-24.
          const reconstructed = q * step + (r.bias[c] as number);
          expect(Math.abs(reconstructed - (values[k] as number))).toBeLessThanOrEqual(step * (0.5 + 2 * half * 2 ** -23));
        }
      }),
    );
  });

  test("zero maps to the middle index 2^n / 2", () => {
    fc.assert(
      fc.property(fc.float({ min: f(1e-3), max: 1e4, noNaN: true }), fc.integer({ min: 2, max: 8 }), (r, nbits) => {
        const q = quantizeLinearSymmetric(Float32Array.of(-r, 0, r), nbits, channelLayout([3], 0));
        expect(Array.from(q.indices)).toEqual([1, 2 ** nbits / 2, 2 ** nbits - 1]);
      }),
    );
  });

  test("quantize(dequantize(q)) = q on the grid when ±r are present", () => {
    fc.assert(
      fc.property(fc.float({ min: f(1e-2), max: 100, noNaN: true }), fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 30 }), (r, q) => {
        const scale = r / 127;
        const indices = Uint8Array.from([1, 255, ...q]);
        const values = dequantizeLinear(indices, [f(scale)], [f(-128 * scale)], channelLayout([indices.length], 0));
        const again = quantizeLinearSymmetric(values, 8, channelLayout([indices.length], 0));
        expect(Array.from(again.indices)).toEqual(Array.from(indices));
      }),
    );
  });
});

describe("quantizeLinearSymmetric, refusals", () => {
  test("nbits 1 has no symmetric grid; 0 and 9 are out of range", () => {
    expectQuantizeError(() => quantizeLinearSymmetric(Float32Array.of(1), 1, channelLayout([1], 0)), "invalid-option", "at least 2 bits");
    for (const nbits of [0, 9]) {
      expectQuantizeError(() => quantizeLinearSymmetric(Float32Array.of(1), nbits, channelLayout([1], 0)), "invalid-option", "nbits");
    }
  });

  test("non-finite values, with the path", () => {
    expectQuantizeError(
      () => quantizeLinearSymmetric(Float32Array.of(-Infinity), 8, channelLayout([1], 0), { path: "x" }),
      "non-finite-weight",
      "x: ",
      "index 0",
      "-Infinity",
    );
  });
});

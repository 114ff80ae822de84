import fc from "fast-check";
import { channelLayout, type ChannelLayout } from "../../src/quantizer/channel-layout.js";
import { dequantizeLinear } from "../../src/quantizer/dequantize.js";
import { quantizeLinear } from "../../src/quantizer/linear.js";
import { finiteFloat32 } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 200 });

const f = Math.fround;

/** A layout and values covering it; about half the layouts are axis 1 (outer > 1). */
const layoutAndValues = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }))
  .chain(([outer, channels, inner]) =>
    fc.tuple(
      fc.constant<ChannelLayout>({ outer, channels, inner }),
      fc.array(finiteFloat32(1e4), { minLength: outer * channels * inner, maxLength: outer * channels * inner }).map((a) => Float32Array.from(a)),
    ),
  );

/** Values of channel c, by the layout's definition. */
function channelValues(values: Float32Array, layout: ChannelLayout, c: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < layout.outer; o++) {
    for (let i = 0; i < layout.inner; i++) out.push(values[(o * layout.channels + c) * layout.inner + i] as number);
  }
  return out;
}

describe("quantizeLinear, hand-computed", () => {
  test("one channel: scale = (b - a) / 3 = 1, q = round_half_even(w - a)", () => {
    // a = -1, b = 2, scale = 3 / 3 = 1, inv = 1; w - a = 0, 1.5, 2.5, 3 -> 0, 2, 2, 3.
    const r = quantizeLinear(Float32Array.of(-1, 0.5, 1.5, 2), 2, channelLayout([4], 0));
    expect(Array.from(r.indices)).toEqual([0, 2, 2, 3]);
    expect(Array.from(r.scale)).toEqual([1]);
    expect(Array.from(r.bias)).toEqual([-1]);
  });

  test("two channels on axis 0, the second constant: scale 0, all indices 0, bias = value", () => {
    const r = quantizeLinear(Float32Array.of(-1, 0.5, 1.5, 2, 10, 10, 10, 10), 2, channelLayout([2, 4], 0));
    expect(Array.from(r.indices)).toEqual([0, 2, 2, 3, 0, 0, 0, 0]);
    expect(Array.from(r.scale)).toEqual([1, 0]);
    expect(Array.from(r.bias)).toEqual([-1, 10]);
  });

  test("axis 1 (deconvolution layout [kc, oc, k]): channels interleave", () => {
    // Shape [2, 2, 2] on axis 1. Channel 0 (offsets 0, 1, 4, 5) = {0, 3, 1.5, 2.5}:
    // a = 0, b = 3, scale 1 -> 0, 3, 2 (1.5 to even), 2 (2.5 to even).
    // Channel 1 (offsets 2, 3, 6, 7) = {100, 100.5, 101, 101.5}: scale 0.5, inv 2 -> 0, 1, 2, 3.
    const values = Float32Array.of(0, 3, 100, 100.5, 1.5, 2.5, 101, 101.5);
    const r = quantizeLinear(values, 2, channelLayout([2, 2, 2], 1));
    expect(Array.from(r.indices)).toEqual([0, 3, 0, 1, 2, 2, 2, 3]);
    expect(Array.from(r.scale)).toEqual([1, 0.5]);
    expect(Array.from(r.bias)).toEqual([0, 100]);
  });

  test("multiplies by the float64 inverse, as the reference does, rather than dividing", () => {
    // a = 0, b = f(0.3), scale = b / 7, w = f(0.15) = b / 2: exactly 3.5 steps. (w - a) * (1 /
    // scale) evaluates to 3.5 (-> 4, even); (w - a) / scale would give 3.4999999999999996 (-> 3).
    const r = quantizeLinear(Float32Array.of(0, f(0.3), f(0.15)), 3, channelLayout([3], 0));
    expect(Array.from(r.indices)).toEqual([0, 7, 4]);
  });

  test("scale is the float32 nearest the float64 (b - a) / (2^n - 1); bias is a", () => {
    const r = quantizeLinear(Float32Array.of(f(0.1), f(-0.2), f(0.7)), 8, channelLayout([3], 0));
    expect(r.scale[0]).toBe(f((f(0.7) - f(-0.2)) / 255));
    expect(r.bias[0]).toBe(f(-0.2));
  });

  test("a step of at most 1e-6 maps the channel to index 0 (inv = 0) but keeps the step", () => {
    // b - a = 2e-4 at 8 bits: scale ~ 7.8e-7 <= 1e-6.
    const values = Float32Array.of(1, f(1.0002), f(1.0001));
    const r = quantizeLinear(values, 8, channelLayout([3], 0));
    expect(Array.from(r.indices)).toEqual([0, 0, 0]);
    expect(r.scale[0]).toBe(f((f(1.0002) - 1) / 255));
  });

  test("-0 and +0: the first seen is the minimum (what a scalar min loop does)", () => {
    expect(Object.is(quantizeLinear(Float32Array.of(-0, 0, 1), 1, channelLayout([3], 0)).bias[0], -0)).toBe(true);
    expect(Object.is(quantizeLinear(Float32Array.of(0, -0, 1), 1, channelLayout([3], 0)).bias[0], 0)).toBe(true);
  });
});

describe("quantizeLinear, properties", () => {
  test("indices < 2^n; reconstruction within half a step (plus float32 slack)", () => {
    fc.assert(
      fc.property(layoutAndValues, fc.integer({ min: 1, max: 8 }), ([layout, values], nbits) => {
        const r = quantizeLinear(values, nbits, layout);
        const levels = 2 ** nbits - 1;
        for (let c = 0; c < layout.channels; c++) {
          const slice = channelValues(values, layout, c);
          const a = Math.min(...slice);
          const b = Math.max(...slice);
          const step = (b - a) / levels;
          expect(r.bias[c]).toBe(a);
          expect(r.scale[c]).toBe(f(step));
          for (let o = 0; o < layout.outer; o++) {
            for (let i = 0; i < layout.inner; i++) {
              const k = (o * layout.channels + c) * layout.inner + i;
              const q = r.indices[k] as number;
              expect(q).toBeLessThanOrEqual(levels);
              if (Math.abs(step) <= 1e-6) {
                expect(q).toBe(0);
                continue;
              }
              // Rounding to nearest puts q within 0.5 of (w - a) / step, up to the float64
              // rounding of inv and the product (~1e-13 steps here). Reconstructing with the
              // stored float32 step adds up to q * step * 2^-24 (its relative rounding). The
              // sum is done in float64, so no float32 rounding of the result enters.
              const reconstructed = q * (r.scale[c] as number) + (r.bias[c] as number);
              const slack = step * (1e-9 + levels * 2 ** -24);
              expect(Math.abs(reconstructed - (values[k] as number))).toBeLessThanOrEqual(step / 2 + slack);
            }
          }
        }
      }),
    );
  });

  test("constant channels: scale 0, every index 0, bias = the value", () => {
    fc.assert(
      fc.property(finiteFloat32(), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 8 }), (value, n, nbits) => {
        const r = quantizeLinear(new Float32Array(n).fill(value), nbits, channelLayout([n], 0));
        expect(r.indices.every((q) => q === 0)).toBe(true);
        expect(r.scale[0]).toBe(0);
        expect(r.bias[0]).toBe(value);
      }),
    );
  });

  test("quantize(dequantize(q)) = q on the grid (each channel using 0 and 2^n - 1)", () => {
    // Steps of at least 1e-3 and biases within ±1 keep the float32 rounding of the
    // dequantized values (at most 256 * 2^-24 ≈ 1.5e-5) far below half a step, so the
    // grid survives the round trip exactly.
    const arb = fc
      .tuple(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 6 }),
        fc.constantFrom<0 | 1>(0, 1),
      )
      .chain(([nbits, d0, d1, d2, axis]) => {
        const shape = [d0, d1, d2];
        const layout = channelLayout(shape, axis);
        const n = d0 * d1 * d2;
        const top = 2 ** nbits - 1;
        return fc.tuple(
          fc.constant(nbits),
          fc.constant(layout),
          fc.array(fc.integer({ min: 0, max: top }), { minLength: n, maxLength: n }),
          fc.array(fc.float({ min: f(1e-3), max: 1, noNaN: true }), { minLength: layout.channels, maxLength: layout.channels }),
          fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: layout.channels, maxLength: layout.channels }),
        );
      });
    fc.assert(
      fc.property(arb, ([nbits, layout, q, scale, bias]) => {
        const indices = Uint8Array.from(q);
        // Make every channel hit both ends of the grid.
        for (let c = 0; c < layout.channels; c++) {
          indices[c * layout.inner] = 0;
          indices[c * layout.inner + layout.inner - 1] = 2 ** nbits - 1;
        }
        const values = dequantizeLinear(indices, scale, bias, layout);
        const again = quantizeLinear(values, nbits, layout);
        expect(Array.from(again.indices)).toEqual(Array.from(indices));
        // + 0: a bias of -0 dequantizes to +0 at index 0 (0 * scale + -0 is +0), so the
        // minimum found again is +0 (found by a random seed).
        expect(Array.from(again.bias)).toEqual(bias.map((b) => f(b) + 0));
      }),
    );
  });
});

describe("quantizeLinear, refusals", () => {
  test("nbits outside 1..8", () => {
    for (const nbits of [0, 9, 16, 2.5]) {
      expectQuantizeError(() => quantizeLinear(Float32Array.of(1), nbits, channelLayout([1], 0)), "invalid-option", "nbits");
    }
  });

  test("non-finite values, with the path", () => {
    expectQuantizeError(
      () => quantizeLinear(Float32Array.of(1, 2, NaN), 8, channelLayout([3], 0), { path: "fc/weights" }),
      "non-finite-weight",
      "fc/weights: ",
      "index 2",
      "NaN",
    );
  });

  test("a layout of another size, and an empty tensor", () => {
    expectQuantizeError(() => quantizeLinear(Float32Array.of(1, 2, 3), 8, channelLayout([2, 2], 0)), "invalid-weights");
    expectQuantizeError(() => quantizeLinear(new Float32Array(0), 8, { outer: 1, channels: 1, inner: 0 }), "invalid-weights");
  });
});

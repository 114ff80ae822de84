import fc from "fast-check";
import { channelLayout } from "../../src/quantizer/channel-layout.js";
import { dequantizeLut } from "../../src/quantizer/dequantize.js";
import { quantizeLinearLut } from "../../src/quantizer/linear-lut.js";
import { quantizeLinear } from "../../src/quantizer/linear.js";
import { float32Values } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 200 });

const f = Math.fround;

describe("quantizeLinearLut", () => {
  test("hand-computed: a = -1, b = 2, scale 1 at 2 bits: lut = [-1, 0, 1, 2]", () => {
    const r = quantizeLinearLut(Float32Array.of(-1, 0.5, 1.5, 2), 2);
    expect(Array.from(r.lut)).toEqual([-1, 0, 1, 2]);
    expect(Array.from(r.indices)).toEqual([0, 2, 2, 3]);
  });

  test("entries come from the float64 scale, not the float32-rounded one", () => {
    // a = 0, b = f(0.1), scale = b / 255 in float64. lut[3] = f(3 * scale) =
    // 0.0011764706578105688; with f(scale) it would be 0.001176470541395247.
    const r = quantizeLinearLut(Float32Array.of(0, f(0.1)), 8);
    const scale = f(0.1) / 255;
    expect(r.lut[3]).toBe(0.0011764706578105688);
    expect(r.lut[3]).not.toBe(f(3 * f(scale)));
    for (let i = 0; i < 256; i++) expect(r.lut[i]).toBe(f(i * scale));
  });

  test("indices are those of one-channel linear quantization; the table is its grid", () => {
    fc.assert(
      fc.property(float32Values(1, 40, 1e4), fc.integer({ min: 1, max: 8 }), (values, nbits) => {
        const r = quantizeLinearLut(values, nbits);
        const linear = quantizeLinear(values, nbits, channelLayout([values.length], 0));
        expect(Array.from(r.indices)).toEqual(Array.from(linear.indices));
        expect(r.lut.length).toBe(2 ** nbits);
        // 0 * scale + bias: a bias of -0 gives +0 (+0 + -0 is +0), as the reference's
        // indices * scale + bias does; found by a random seed ([-0, 0] at 1 bit).
        expect(r.lut[0]).toBe(0 * (linear.scale[0] as number) + (linear.bias[0] as number));
        for (let i = 1; i < r.lut.length; i++) expect(r.lut[i]).toBeGreaterThanOrEqual(r.lut[i - 1] as number);
      }),
    );
  });

  test("dequantizeLut reconstructs within half a step (plus float32 rounding of the entry)", () => {
    fc.assert(
      fc.property(float32Values(1, 40, 1e4), fc.integer({ min: 1, max: 8 }), (values, nbits) => {
        const r = quantizeLinearLut(values, nbits);
        const restored = dequantizeLut(r.indices, r.lut);
        const a = Math.min(...values);
        const step = (Math.max(...values) - a) / (2 ** nbits - 1);
        if (step <= 1e-6) return;
        for (let k = 0; k < values.length; k++) {
          // Each entry is rounded once to float32: at most half an ulp of |entry| <= 2e4 here.
          expect(Math.abs((restored[k] as number) - (values[k] as number))).toBeLessThanOrEqual(step / 2 + 2e4 * 2 ** -24 + step * 1e-9);
        }
      }),
    );
  });

  test("refusals: nbits, non-finite values (with path), no values", () => {
    expectQuantizeError(() => quantizeLinearLut(Float32Array.of(1), 0), "invalid-option", "nbits");
    expectQuantizeError(() => quantizeLinearLut(Float32Array.of(1, NaN), 4, { path: "emb/weights" }), "non-finite-weight", "emb/weights: ", "index 1");
    expectQuantizeError(() => quantizeLinearLut(new Float32Array(0), 4), "invalid-weights");
  });
});

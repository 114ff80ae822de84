import fc from "fast-check";
import { channelLayout } from "../../src/quantizer/channel-layout.js";
import { dequantizeLinear, dequantizeLut } from "../../src/quantizer/dequantize.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 200 });

const f = Math.fround;

describe("dequantizeLinear", () => {
  test("hand-computed: w = q * 0.5 - 1", () => {
    const w = dequantizeLinear(Uint8Array.of(0, 1, 2, 3), [0.5], [-1], channelLayout([4], 0));
    expect(Array.from(w)).toEqual([-1, -0.5, 0, 0.5]);
  });

  test("per channel on axis 0 and axis 1", () => {
    // [2, 2] axis 0: rows are channels.
    expect(Array.from(dequantizeLinear(Uint8Array.of(1, 2, 1, 2), [1, 10], [0, 100], channelLayout([2, 2], 0)))).toEqual([1, 2, 110, 120]);
    // [2, 2] axis 1: columns are channels.
    expect(Array.from(dequantizeLinear(Uint8Array.of(1, 2, 1, 2), [1, 10], [0, 100], channelLayout([2, 2], 1)))).toEqual([1, 120, 1, 120]);
  });

  test("a scale and bias of length 1 apply to every channel", () => {
    expect(Array.from(dequantizeLinear(Uint8Array.of(1, 2, 3, 4), [2], [1], channelLayout([2, 2], 0)))).toEqual([3, 5, 7, 9]);
  });

  test("q * scale + bias is computed in float64 and rounded once to float32", () => {
    // 7 * f(0.1) + f(0.2) = 0.9000000357627869 (one rounding); rounding 7 * f(0.1) to float32
    // first would give 0.8999999761581421.
    const w = dequantizeLinear(Uint8Array.of(7), [f(0.1)], [f(0.2)], channelLayout([1], 0));
    expect(w[0]).toBe(0.9000000357627869);
    expect(w[0]).not.toBe(f(f(7 * f(0.1)) + f(0.2)));
  });

  test("matches the formula for every index", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 50 }),
        fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
        fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
        (q, scale, bias) => {
          const w = dequantizeLinear(q, [scale], [bias], channelLayout([q.length], 0));
          q.forEach((v, k) => expect(w[k]).toBe(f(v * scale + bias)));
        },
      ),
    );
  });

  test("refuses scale / bias of neither 1 nor one per channel, and a layout of another size", () => {
    expectQuantizeError(
      () => dequantizeLinear(Uint8Array.of(1, 2, 3), [1, 2], [0], channelLayout([3, 1], 0), { path: "w" }),
      "invalid-weights",
      "w: scale has 2 entries",
      "(3)",
    );
    expectQuantizeError(() => dequantizeLinear(Uint8Array.of(1, 2), [1], [0, 0, 0], channelLayout([2, 1], 0)), "invalid-weights", "bias has 3 entries");
    expectQuantizeError(() => dequantizeLinear(Uint8Array.of(1, 2), [1], [0], channelLayout([3], 0)), "invalid-weights", "3 values");
  });
});

describe("dequantizeLut", () => {
  test("w = lut[q]", () => {
    expect(Array.from(dequantizeLut(Uint8Array.of(2, 0, 1, 2), [10, 20, 30, 40]))).toEqual([30, 10, 20, 30]);
  });

  test("entries are stored as float32", () => {
    expect(dequantizeLut(Uint8Array.of(0), [0.1])[0]).toBe(f(0.1));
  });

  test("refuses an index beyond the table, naming it", () => {
    expectQuantizeError(() => dequantizeLut(Uint8Array.of(0, 4), [1, 2, 3, 4], { path: "w" }), "invalid-weights", "w: index 4 at position 1", "4-entry");
  });
});

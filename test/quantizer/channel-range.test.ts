import fc from "fast-check";
import { channelRange } from "../../src/quantizer/channel-range.js";
import { float32Values } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

describe("channelRange", () => {
  test("per-channel min and max, axis 1 layout", () => {
    // shape [2, 2, 2] on axis 1: channel 0 is offsets 0, 1, 4, 5; channel 1 is 2, 3, 6, 7.
    const values = Float32Array.of(5, -1, 7, 8, 2, 9, -3, 0);
    const { min, max } = channelRange(values, { outer: 2, channels: 2, inner: 2 });
    expect(Array.from(min)).toEqual([-1, -3]);
    expect(Array.from(max)).toEqual([9, 8]);
  });

  test("agrees with Math.min / Math.max per channel", () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }))
      .chain(([outer, channels, inner]) =>
        fc.tuple(fc.constant({ outer, channels, inner }), float32Values(outer * channels * inner, outer * channels * inner)),
      );
    fc.assert(
      fc.property(arb, ([layout, values]) => {
        const { min, max } = channelRange(values, layout);
        for (let c = 0; c < layout.channels; c++) {
          const slice: number[] = [];
          for (let o = 0; o < layout.outer; o++) {
            for (let i = 0; i < layout.inner; i++) {
              slice.push(values[(o * layout.channels + c) * layout.inner + i] as number);
            }
          }
          expect(min[c]).toBe(Math.min(...slice));
          expect(max[c]).toBe(Math.max(...slice));
        }
      }),
    );
  });

  test.each([
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [-Infinity, "-Infinity"],
  ])("refuses %p, naming the first offending index and the value", (bad, text) => {
    const values = Float32Array.of(1, 2, 3, 4, 5, bad, 7, bad);
    expectQuantizeError(
      () => channelRange(values, { outer: 1, channels: 2, inner: 4 }, { path: "conv/weights" }),
      "non-finite-weight",
      "conv/weights: ",
      "index 5",
      text,
    );
  });

  test("the first offending index is in tensor order, not channel order", () => {
    // Channel 0 is offsets 0, 1, 4, 5 on this axis-1 layout: offset 2 (channel 1) comes first.
    const values = Float32Array.of(0, 0, NaN, 0, Infinity, 0, 0, 0);
    expectQuantizeError(() => channelRange(values, { outer: 2, channels: 2, inner: 2 }), "non-finite-weight", "index 2");
  });

  test("refuses an empty tensor and a layout of another size", () => {
    expectQuantizeError(() => channelRange(new Float32Array(0), { outer: 1, channels: 1, inner: 0 }), "invalid-weights", "no values");
    expectQuantizeError(() => channelRange(new Float32Array(5), { outer: 1, channels: 2, inner: 2 }), "invalid-weights", "4 values", "5");
  });
});

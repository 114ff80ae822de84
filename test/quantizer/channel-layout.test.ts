import fc from "fast-check";
import { assertLayoutFits, channelLayout, layoutSize } from "../../src/quantizer/channel-layout.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

describe("channelLayout", () => {
  test.each([
    [[8, 3, 3, 3], 0, { outer: 1, channels: 8, inner: 27 }],
    [[3, 8, 2, 2], 1, { outer: 3, channels: 8, inner: 4 }],
    [[4, 6], 0, { outer: 1, channels: 4, inner: 6 }],
    [[4, 6], 1, { outer: 4, channels: 6, inner: 1 }],
    [[5], 0, { outer: 1, channels: 1, inner: 5 }],
    [[1, 1], 0, { outer: 1, channels: 1, inner: 1 }],
  ] as const)("shape %p axis %p", (shape, axis, expected) => {
    expect(channelLayout(shape, axis)).toEqual(expected);
  });

  test("(o * channels + c) * inner + i is the row-major offset of the element with c on the axis", () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 4 });
    fc.assert(
      fc.property(shapes, fc.constantFrom<0 | 1>(0, 1), (shape, axis) => {
        const { outer, channels, inner } = channelLayout(shape, axis);
        expect(outer * channels * inner).toBe(shape.reduce((a, b) => a * b, 1));
        // Walk every multi-index in row-major order and compare offsets.
        const index = shape.map(() => 0);
        for (let offset = 0; offset < outer * channels * inner; offset++) {
          const o = index.slice(0, axis).reduce((acc, v, d) => acc * (shape[d] as number) + v, 0);
          const c = index[axis] as number;
          const i = index.slice(axis + 1).reduce((acc, v, d) => acc * (shape[axis + 1 + d] as number) + v, 0);
          expect((o * channels + c) * inner + i).toBe(offset);
          for (let d = shape.length - 1; d >= 0; d--) {
            index[d] = (index[d] as number) + 1;
            if ((index[d] as number) < (shape[d] as number)) break;
            index[d] = 0;
          }
        }
      }),
    );
  });

  test.each([
    [[], 0, "at least one dimension"],
    [[0, 3], 0, "dimension 0 of shape [0, 3]"],
    [[2, -1], 0, "dimension 1"],
    [[2.5], 0, "dimension 0"],
    [[Number.NaN], 0, "dimension 0"],
    [[3], 1, "axis 1"],
    [[2 ** 30, 2 ** 30], 0, "too many elements"],
  ] as const)("refuses shape %p axis %p", (shape, axis, fragment) => {
    expectQuantizeError(() => channelLayout(shape, axis), "invalid-option", fragment);
  });

  test("refusals carry the path", () => {
    expectQuantizeError(() => channelLayout([], 0, { path: "layers[0]/weights" }), "invalid-option", "layers[0]/weights: ");
  });
});

describe("layoutSize and assertLayoutFits", () => {
  test("size is outer * channels * inner", () => {
    expect(layoutSize({ outer: 2, channels: 3, inner: 4 })).toBe(24);
  });

  test("a layout covering another count is refused as invalid weights", () => {
    expectQuantizeError(() => assertLayoutFits({ outer: 1, channels: 2, inner: 3 }, 7, {}), "invalid-weights", "6 values", "7");
  });

  test("a malformed layout is refused as an invalid option", () => {
    expectQuantizeError(() => assertLayoutFits({ outer: 1, channels: 0.5, inner: 4 }, 2, {}), "invalid-option", "positive integers");
  });
});

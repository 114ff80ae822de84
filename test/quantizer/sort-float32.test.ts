import fc from "fast-check";
import { sortFloat32 } from "../../src/quantizer/sort-float32.js";
import { propertySeed } from "../support/property-seed.js";

describe("sortFloat32", () => {
  test("sorts like Float32Array.prototype.sort, bit for bit (-0 before +0)", () => {
    fc.assert(
      fc.property(fc.float32Array({ noNaN: true, maxLength: 300 }), (values) => {
        const expected = values.slice().sort();
        const actual = sortFloat32(values);
        expect(new Uint32Array(actual.buffer)).toEqual(new Uint32Array(expected.buffer));
      }),
      { seed: propertySeed(), numRuns: 500 },
    );
  });

  test("leaves its input alone and handles edges", () => {
    const values = Float32Array.of(3, -0, 0, -Infinity, Infinity, -1.5, 1e-45, -1e-45, 65504);
    const copy = values.slice();
    expect(Array.from(sortFloat32(values))).toEqual([-Infinity, -1.5, -1e-45, -0, 0, 1e-45, 3, 65504, Infinity].map(Math.fround));
    expect(Object.is(sortFloat32(values)[3], -0)).toBe(true);
    expect(values).toEqual(copy);
    expect(sortFloat32(new Float32Array(0)).length).toBe(0);
  });

  test("a view at an offset into a larger buffer", () => {
    const backing = new Float32Array(10).map((_, i) => 10 - i);
    expect(Array.from(sortFloat32(backing.subarray(3, 7)))).toEqual([4, 5, 6, 7]);
  });
});

import fc from "fast-check";
import { codeRange, floatRounding, quantizeBlockwise } from "../../src/mlprogram/blockwise-linear.js";
import type { LinearDtype, LinearMode } from "../../src/mlprogram/compression-config.js";
import { propertySeed } from "../support/property-seed.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

describe("codeRange", () => {
  it.each([
    ["int8", "linear", -128, 127],
    ["int8", "linear_symmetric", -127, 127],
    ["uint8", "linear", 0, 255],
    ["uint8", "linear_symmetric", 0, 254],
    ["int4", "linear", -8, 7],
    ["int4", "linear_symmetric", -7, 7],
    ["uint4", "linear", 0, 15],
    ["uint4", "linear_symmetric", 0, 14],
  ] as const)("%s %s: [%d, %d]", (dtype, mode, qmin, qmax) => {
    expect(codeRange(dtype, mode)).toEqual({ qmin, qmax });
  });
});

describe("quantizeBlockwise", () => {
  it("gives a block of zeros scale 0 and codes 0, not the zero point 127 (the reference's NaN cast)", () => {
    const q = quantizeBlockwise(new Float64Array([0, 0, 1, -2]), [2, 2], { mode: "linear_symmetric", dtype: "uint8", blockSizes: [1, 0], float: "float32" });
    expect([...q.scale]).toEqual([0, Math.fround(4 / 254)]);
    expect([...q.data]).toEqual([0, 0, 127 + 64, 127 - 127]);
    expect([...(q.offset ?? [])]).toEqual([127, 127]);
  });

  it("lays blocks out row-major over the block grid", () => {
    const values = new Float64Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const q = quantizeBlockwise(values, [2, 4], { mode: "linear_symmetric", dtype: "int8", blockSizes: [1, 2], float: "float32" });
    expect(q.scaleShape).toEqual([2, 2]);
    expect([...q.scale]).toEqual([2, 4, 6, 8].map((m) => Math.fround(Math.fround(2 * m) / 254)));
    expect(q.offset).toBeUndefined();
  });

  it("rounds every step to float16 for fp16 weights", () => {
    const q = quantizeBlockwise(new Float64Array([0.1, -0.3]), [1, 2], { mode: "linear_symmetric", dtype: "int8", blockSizes: [0, 0], float: "float16" });
    const half = floatRounding("float16");
    expect(q.scale[0]).toBe(half(half(2 * half(0.3)) / 254));
  });

  it("keeps codes in range and within half a step of the weight", () => {
    const dtypes: LinearDtype[] = ["int8", "uint8", "int4", "uint4"];
    const modes: LinearMode[] = ["linear", "linear_symmetric"];
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 64 }),
        fc.constantFrom(...dtypes),
        fc.constantFrom(...modes),
        (floats, dtype, mode) => {
          const values = Float64Array.from(floats, (v) => Math.fround(v));
          const q = quantizeBlockwise(values, [values.length], { mode, dtype, blockSizes: [0], float: "float32" });
          const { qmin, qmax } = codeRange(dtype, mode);
          const scale = q.scale[0] as number;
          const zero = q.offset?.[0] ?? 0;
          q.data.forEach((code, i) => {
            expect(code).toBeGreaterThanOrEqual(qmin);
            expect(code).toBeLessThanOrEqual(qmax);
            if (scale > 0) expect(Math.abs(scale * (code - zero) - (values[i] as number))).toBeLessThanOrEqual(scale * 0.5001 + 1e-6);
          });
        },
      ),
    );
  });
});

import fc from "fast-check";
import { codeRange, floatRounding, quantizeBlockwise } from "../../src/mlprogram/blockwise-linear.js";
import type { LinearDtype, LinearMode } from "../../src/mlprogram/compression-config.js";
import { LINEAR_DTYPES } from "../../src/mlprogram/compression-config.js";
import { roundHalfEven } from "../../src/quantizer/round-half-even.js";
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

  it("gives every element the codes of a per-element oracle, whatever the shape, blocks and array type", () => {
    const dtypes: LinearDtype[] = ["int8", "uint8", "int4", "uint4"];
    const modes: LinearMode[] = ["linear", "linear_symmetric"];
    // Up to 3 axes of 1..4 blocks of 1..3 elements; block size 0 = the whole axis.
    const axis = fc.record({ blocks: fc.integer({ min: 1, max: 4 }), size: fc.integer({ min: 1, max: 3 }), whole: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(axis, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...dtypes),
        fc.constantFrom(...modes),
        fc.constantFrom("float16" as const, "float32" as const),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (axes, dtype, mode, float, seed) => {
          const shape = axes.map(({ blocks, size }) => blocks * size);
          const blockSizes = axes.map(({ size, whole }) => (whole ? 0 : size));
          const r = floatRounding(float);
          const count = shape.reduce((a, b) => a * b, 1);
          // Values with zeros, ties and repeats: small multiples of 1/8, scaled per seed.
          let state = seed;
          const values = Float64Array.from({ length: count }, () => {
            state = (state * 1103515245 + 12345) % 2 ** 31;
            return r(((state % 33) - 16) * 0.125 * (1 + (seed % 7)));
          });
          const options = { mode, dtype, blockSizes, float };
          const expected = perElementOracle(values, shape, options);
          for (const input of [values, Float32Array.from(values)]) {
            const q = quantizeBlockwise(input, shape, options);
            expect([...q.data]).toEqual(expected.data);
            expect([...q.scale]).toEqual(expected.scale);
            expect(q.offset === undefined ? undefined : [...q.offset]).toEqual(expected.offset);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** quantizeBlockwise computed element by element from each element's multi-index, as first written: the oracle of the fast loops. */
function perElementOracle(
  values: Float64Array,
  shape: readonly number[],
  options: { mode: LinearMode; dtype: LinearDtype; blockSizes: readonly number[]; float: "float16" | "float32" },
): { data: number[]; scale: number[]; offset: number[] | undefined } {
  const r = floatRounding(options.float);
  const { qmin, qmax } = codeRange(options.dtype, options.mode);
  const symmetric = options.mode === "linear_symmetric";
  const signed = LINEAR_DTYPES[options.dtype].signed;
  const sizes = shape.map((dim, k) => ((options.blockSizes[k] as number) > 0 ? (options.blockSizes[k] as number) : dim));
  const grid = shape.map((dim, k) => dim / (sizes[k] as number));
  const blockOf = (i: number): number => {
    let rest = i;
    const index = shape.map(() => 0);
    for (let k = shape.length - 1; k >= 0; k--) {
      index[k] = rest % (shape[k] as number);
      rest = Math.floor(rest / (shape[k] as number));
    }
    return index.reduce((block, at, k) => block * (grid[k] as number) + Math.floor(at / (sizes[k] as number)), 0);
  };
  const blockCount = grid.reduce((a, b) => a * b, 1);
  const lows = Array.from({ length: blockCount }, () => Number.POSITIVE_INFINITY);
  const highs = Array.from({ length: blockCount }, () => Number.NEGATIVE_INFINITY);
  values.forEach((v, i) => {
    const b = blockOf(i);
    lows[b] = Math.min(lows[b] as number, v);
    highs[b] = Math.max(highs[b] as number, v);
  });
  const clip = (x: number): number => (Number.isNaN(x) ? 0 : Math.min(qmax, Math.max(qmin, x)));
  const scale: number[] = [];
  const zero: number[] = [];
  for (let b = 0; b < blockCount; b++) {
    const m = Math.max(Math.abs(lows[b] as number), Math.abs(highs[b] as number));
    const lo = symmetric ? -m : Math.min(0, lows[b] as number);
    const hi = symmetric ? m : Math.max(0, highs[b] as number);
    const range = r(hi - lo);
    scale.push(r(range / (qmax - qmin)));
    zero.push(symmetric ? (signed ? 0 : Math.floor(qmax / 2)) : clip(roundHalfEven(r(r(r(qmin * hi) - r(qmax * lo)) / range))));
  }
  const data = Array.from(values, (v, i) => clip(roundHalfEven(r(v / (scale[blockOf(i)] as number))) + (zero[blockOf(i)] as number)) + 0);
  return { data, scale, offset: symmetric && signed ? undefined : zero.map((z) => clip(z) + 0) };
}

/**
 * The N-D layers against naive oracles written here from the proto's formulas:
 * multi-index loops, no strides or odometers. Shapes and values are random, with
 * a pinned seed.
 */
import * as fc from "fast-check";
import { isQuantizeError } from "../../src/errors.js";
import type { LayerContext, Tensor } from "../../src/predict/layer-runner.js";
import { ND_LAYERS } from "../../src/predict/layers/nd/index.js";
import { prepareNetwork } from "../../src/predict/prepare-network.js";
import { buildLayer, prepareLayer, type LayerInit } from "./support.js";
import { propertySeed } from "../support/property-seed.js";

const RUNS = 60;

const context: LayerContext = {
  layout: "exact",
  path: "test",
  prepareNetwork: (network, path) => prepareNetwork(network, "exact", path, ND_LAYERS),
};

/** Runs one layer built from `init` on `inputs`. */
function run(init: LayerInit, inputs: Tensor[], blobs = new Map<string, Tensor>()): readonly Tensor[] {
  return prepareLayer(ND_LAYERS, buildLayer(init), context)(inputs, blobs);
}

const names = (n: number, prefix = "i"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** Multi-index of flat position i in a row-major shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % (shape[d] as number);
    i = Math.floor(i / (shape[d] as number));
  }
  return idx;
}
function ravel(idx: readonly number[], shape: readonly number[]): number {
  let at = 0;
  for (let d = 0; d < shape.length; d++) at = at * (shape[d] as number) + (idx[d] as number);
  return at;
}
const f32 = (n: number): fc.Arbitrary<Float32Array> => fc.float32Array({ minLength: n, maxLength: n, noNaN: true, noDefaultInfinity: true, min: -4, max: 4 });
const shapeArb = (minRank = 1, maxRank = 4): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: minRank, maxLength: maxRank });
const tensorArb = (shape: number[]): fc.Arbitrary<Tensor> => f32(size(shape)).map((data) => ({ shape, data }));
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i] as number)));
};

/** Two shapes that broadcast: b drops leading axes and sets some axes to 1 (or the other way round). */
const broadcastPair = shapeArb().chain((out) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.integer({ min: 0, max: out.length - 1 }),
      fc.boolean(),
    )
    .map(([onesA, onesB, drop, swap]) => {
      const a = out.map((d, i) => (onesA[i] === true ? 1 : d));
      const b = out.map((d, i) => (onesB[i] === true && onesA[i] !== true ? 1 : d)).slice(drop);
      return swap ? [b, a] : [a, b];
    }),
);

/** Naive broadcast: right-aligned, size-1 axes repeat. */
function naiveBroadcast(a: Tensor, b: Tensor, op: (x: number, y: number) => number): Tensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: readonly number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(a.shape);
  const pb = pad(b.shape);
  const shape = pa.map((d, i) => Math.max(d, pb[i] as number));
  const data = new Float32Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    const x = a.data[
      ravel(
        idx.map((v, d) => (pa[d] === 1 ? 0 : v)),
        pa,
      )
    ] as number;
    const y = b.data[
      ravel(
        idx.map((v, d) => (pb[d] === 1 ? 0 : v)),
        pb,
      )
    ] as number;
    data[i] = op(x, y);
  }
  return { shape, data };
}

describe("broadcast layers", () => {
  const ops: [string, (x: number, y: number) => number][] = [
    ["addBroadcastable", (x, y) => x + y],
    ["subtractBroadcastable", (x, y) => x - y],
    ["multiplyBroadcastable", (x, y) => x * y],
    ["maxBroadcastable", Math.max],
    ["minBroadcastable", Math.min],
    ["greaterThan", (x, y) => Number(x > y)],
    ["lessEqual", (x, y) => Number(x <= y)],
    ["equal", (x, y) => Number(x === y)],
    ["logicalXor", (x, y) => Number((x !== 0) !== (y !== 0))],
  ];
  test.each(ops)("%s matches the naive broadcast", (kind, op) => {
    fc.assert(
      fc.property(
        broadcastPair.chain(([sa, sb]) => fc.tuple(tensorArb(sa as number[]), tensorArb(sb as number[]))),
        ([a, b]) => {
          // Round some values so equality and logic see equal operands and zeros.
          const [ra, rb] = [a, b].map((t) => ({ shape: t.shape, data: t.data.map((v) => Math.round(v)) }));
          const [y] = run({ name: "l", input: ["a", "b"], output: ["y"], layer: { case: kind as "addBroadcastable", value: {} } }, [
            ra as Tensor,
            rb as Tensor,
          ]);
          const want = naiveBroadcast(ra as Tensor, rb as Tensor, op);
          expect(y?.shape).toEqual(want.shape);
          close((y as Tensor).data, want.data);
        },
      ),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });

  test("one-input comparisons compare with alpha; shapes that do not broadcast are refused", () => {
    const x: Tensor = { shape: [3], data: Float32Array.of(-1, 2, 5) };
    const [y] = run({ name: "gt", input: ["x"], output: ["y"], layer: { case: "greaterThan", value: { alpha: 2 } } }, [x]);
    expect(Array.from((y as Tensor).data)).toEqual([0, 0, 1]);
    const [z] = run({ name: "lt", input: ["x"], output: ["y"], layer: { case: "lessThan", value: { alpha: 2 } } }, [x]);
    expect(Array.from((z as Tensor).data)).toEqual([1, 0, 0]);
    expect(() =>
      run({ name: "add", input: ["a", "b"], output: ["y"], layer: { case: "addBroadcastable", value: {} } }, [
        { shape: [2, 3], data: new Float32Array(6) },
        { shape: [2], data: new Float32Array(2) },
      ]),
    ).toThrow(/\[2, 3\] and \[2\] do not broadcast/);
  });
});

describe("batchedMatmul", () => {
  /** Naive product of two batches of matrices, batch axes broadcast. */
  function naiveMatmul(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
    const as = a.shape.length === 1 ? [1, a.shape[0] as number] : [...a.shape];
    const bs = b.shape.length === 1 ? [b.shape[0] as number, 1] : [...b.shape];
    const at = (t: Tensor, s: number[], batch: number[], i: number, j: number, tr: boolean): number => {
      const [r, c] = tr ? [j, i] : [i, j];
      const bshape = s.slice(0, -2);
      const bidx = batch.slice(batch.length - bshape.length).map((v, d) => (bshape[d] === 1 ? 0 : v));
      return t.data[ravel([...bidx, r, c], s)] as number;
    };
    const m = ta ? (as.at(-1) as number) : (as.at(-2) as number);
    const k = ta ? (as.at(-2) as number) : (as.at(-1) as number);
    const n = tb ? (bs.at(-2) as number) : (bs.at(-1) as number);
    const batchA = as.slice(0, -2);
    const batchB = bs.slice(0, -2);
    const rank = Math.max(batchA.length, batchB.length);
    const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
    const batch = pad(batchA).map((d, i) => Math.max(d, pad(batchB)[i] as number));
    const out: number[] = [];
    for (let t = 0; t < size(batch); t++) {
      const bidx = unravel(t, batch);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += at(a, as, bidx, i, p, ta) * at(b, bs, bidx, p, j, tb);
          out.push(acc);
        }
      }
    }
    const shape = [...batch, m, n];
    while (shape.length < Math.max(2, a.shape.length, b.shape.length)) shape.unshift(1);
    return { shape, data: Float32Array.from(out) };
  }

  const twoInputs = fc
    .record({
      m: fc.integer({ min: 1, max: 4 }),
      k: fc.integer({ min: 1, max: 4 }),
      n: fc.integer({ min: 1, max: 4 }),
      ta: fc.boolean(),
      tb: fc.boolean(),
      batch: broadcastPair,
      dropA: fc.boolean(),
      dropB: fc.boolean(),
    })
    .chain(({ m, k, n, ta, tb, batch, dropA, dropB }) => {
      const [ba, bb] = batch as [number[], number[]];
      const sa = [...(dropA ? [] : ba), ...(ta ? [k, m] : [m, k])];
      const sb = [...(dropB ? [] : bb), ...(tb ? [n, k] : [k, n])];
      return fc.tuple(tensorArb(sa), tensorArb(sb), fc.constant(ta), fc.constant(tb));
    });

  test("two inputs: broadcast batches, transposes", () => {
    fc.assert(
      fc.property(twoInputs, ([a, b, ta, tb]) => {
        const [y] = run({ name: "mm", input: ["a", "b"], output: ["y"], layer: { case: "batchedMatmul", value: { transposeA: ta, transposeB: tb } } }, [a, b]);
        const want = naiveMatmul(a, b, ta, tb);
        expect(y?.shape).toEqual(want.shape);
        close((y as Tensor).data, want.data, 1e-4);
      }),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });

  test("one input with the weight matrix [X1, X2] stored column-major, and bias", () => {
    fc.assert(
      fc.property(
        fc
          .record({ lead: shapeArb(0, 3), x1: fc.integer({ min: 1, max: 5 }), x2: fc.integer({ min: 1, max: 5 }), bias: fc.boolean() })
          .chain(({ lead, x1, x2, bias }) => fc.tuple(tensorArb([...lead, x1]), f32(x1 * x2), f32(x2), fc.constant(x1), fc.constant(x2), fc.constant(bias))),
        ([a, w, bias, x1, x2, hasBias]) => {
          const [y] = run(
            {
              name: "mm",
              input: ["a"],
              output: ["y"],
              layer: {
                case: "batchedMatmul",
                value: {
                  weightMatrixFirstDimension: BigInt(x1),
                  weightMatrixSecondDimension: BigInt(x2),
                  hasBias,
                  weights: { floatValue: Array.from(w) },
                  ...(hasBias ? { bias: { floatValue: Array.from(bias) } } : {}),
                },
              },
            },
            [a],
          );
          // W[i][j] is at j * X1 + i (column-major).
          const rows = a.data.length / x1;
          const want: number[] = [];
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < x2; j++) {
              let acc = hasBias ? (bias[j] as number) : 0;
              for (let i = 0; i < x1; i++) acc += (a.data[r * x1 + i] as number) * (w[j * x1 + i] as number);
              want.push(acc);
            }
          }
          expect(y?.shape).toEqual([...a.shape.slice(0, -1), x2]);
          close((y as Tensor).data, want, 1e-4);
        },
      ),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });
});

describe("shape layers", () => {
  test("transpose matches y[idx] = x[idx permuted back]", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 5).chain((s) =>
          fc.tuple(
            tensorArb(s),
            fc.shuffledSubarray(
              s.map((_, i) => i),
              { minLength: s.length },
            ),
          ),
        ),
        ([x, axes]) => {
          const [y] = run({ name: "t", input: ["x"], output: ["y"], layer: { case: "transpose", value: { axes: axes.map(BigInt) } } }, [x]);
          const shape = axes.map((a) => x.shape[a] as number);
          expect(y?.shape).toEqual(shape);
          for (let i = 0; i < size(shape); i++) {
            const idx = unravel(i, shape);
            const src = new Array<number>(axes.length);
            axes.forEach((a, d) => (src[a] = idx[d] as number));
            expect((y as Tensor).data[i]).toBe(x.data[ravel(src, x.shape)]);
          }
        },
      ),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });

  test("expandDims and squeeze: the proto's examples", () => {
    const x: Tensor = { shape: [10, 5], data: new Float32Array(50) };
    const expand = (axes: number[]): readonly number[] | undefined =>
      run({ name: "e", input: ["x"], output: ["y"], layer: { case: "expandDims", value: { axes: axes.map(BigInt) } } }, [x])[0]?.shape;
    expect(expand([0, 1])).toEqual([1, 1, 10, 5]);
    expect(expand([0, 2])).toEqual([1, 10, 1, 5]);
    expect(expand([-2, -1])).toEqual([10, 5, 1, 1]);
    const squeeze = (shape: number[], axes: number[], squeezeAll = false): readonly number[] | undefined =>
      run({ name: "s", input: ["x"], output: ["y"], layer: { case: "squeeze", value: { axes: axes.map(BigInt), squeezeAll } } }, [
        { shape, data: new Float32Array(size(shape)) },
      ])[0]?.shape;
    expect(squeeze([1, 1, 10, 5], [0, 1])).toEqual([10, 5]);
    expect(squeeze([1, 10, 5, 1], [0, 3])).toEqual([10, 5]);
    expect(squeeze([10, 5, 1, 1], [-2, -1])).toEqual([10, 5]);
    expect(squeeze([1], [0])).toEqual([1]);
    expect(squeeze([1, 3, 1], [], true)).toEqual([3]);
    expect(() => squeeze([2, 3], [0])).toThrow(/axis 0 of \[2, 3\] is not 1/);
  });

  test("reshapeStatic keeps row-major order and infers one -1", () => {
    const x: Tensor = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i) };
    const [y] = run({ name: "r", input: ["x"], output: ["y"], layer: { case: "reshapeStatic", value: { targetShape: [4n, -1n] } } }, [x]);
    expect(y?.shape).toEqual([4, 6]);
    expect(Array.from((y as Tensor).data)).toEqual(Array.from(x.data));
    expect(() => run({ name: "r", input: ["x"], output: ["y"], layer: { case: "reshapeStatic", value: { targetShape: [5n, 5n] } } }, [x])).toThrow(
      /cannot reshape \[2, 3, 4\]/,
    );
  });

  test("concatND then splitND along any axis gives the parts back; concat matches the naive one", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4)
          .chain((s) =>
            fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 })),
          )
          .chain(([s, axis, sizes]) =>
            fc.tuple(fc.tuple(...sizes.map((d) => tensorArb(s.map((v, i) => (i === axis ? d : v))))), fc.constant(axis), fc.constant(sizes), fc.boolean()),
          ),
        ([parts, axis, sizes, negative]) => {
          const first = parts[0] as Tensor; // sizes has at least two entries, one part each
          const axisParam = BigInt(negative ? axis - first.shape.length : axis);
          const [y] = run({ name: "c", input: names(parts.length), output: ["y"], layer: { case: "concatND", value: { axis: axisParam } } }, parts);
          const shape = [...first.shape];
          shape[axis] = sizes.reduce((a, b) => a + b, 0);
          expect(y?.shape).toEqual(shape);
          for (let i = 0; i < size(shape); i++) {
            const idx = unravel(i, shape);
            let k = 0;
            let at = idx[axis] as number;
            while (at >= (sizes[k] as number)) at -= sizes[k++] as number;
            const part = parts[k] as Tensor;
            const src = [...idx];
            src[axis] = at;
            expect((y as Tensor).data[i]).toBe(part.data[ravel(src, part.shape)]);
          }
          const back = run(
            {
              name: "s",
              input: ["y"],
              output: names(parts.length, "o"),
              layer: { case: "splitND", value: { axis: axisParam, splitSizes: sizes.map(BigInt) } },
            },
            [y as Tensor],
          );
          back.forEach((t, k) => {
            expect(t.shape).toEqual(parts[k]?.shape);
            expect(Array.from(t.data)).toEqual(Array.from((parts[k] as Tensor).data));
          });
        },
      ),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });
});

describe("softmaxND and reductions", () => {
  test("softmaxND along any axis matches exp(x)/sum exp(x)", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4).chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: -s.length, max: s.length - 1 }))),
        ([x, axisParam]) => {
          const [y] = run({ name: "s", input: ["x"], output: ["y"], layer: { case: "softmaxND", value: { axis: BigInt(axisParam) } } }, [x]);
          const axis = axisParam < 0 ? axisParam + x.shape.length : axisParam;
          const want = new Float64Array(x.data.length);
          for (let i = 0; i < want.length; i++) {
            const idx = unravel(i, x.shape);
            let sum = 0;
            for (let j = 0; j < (x.shape[axis] as number); j++) {
              const o = [...idx];
              o[axis] = j;
              sum += Math.exp(x.data[ravel(o, x.shape)] as number);
            }
            want[i] = Math.exp(x.data[i] as number) / sum;
          }
          close((y as Tensor).data, want);
        },
      ),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });

  const reductions: [string, (values: number[]) => number][] = [
    ["reduceSum", (v) => v.reduce((a, b) => a + b, 0)],
    ["reduceMean", (v) => v.reduce((a, b) => a + b, 0) / v.length],
    ["reduceMax", (v) => Math.max(...v)],
    ["reduceMin", (v) => Math.min(...v)],
    ["reduceProd", (v) => v.reduce((a, b) => a * b, 1)],
    ["reduceL2", (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0))],
    ["reduceLogSumExp", (v) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0))],
  ];
  test.each(reductions)("%s over random axes, keepDims or not", (kind, fold) => {
    fc.assert(
      fc.property(
        shapeArb(1, 4).chain((s) =>
          fc.tuple(
            tensorArb(s),
            fc.subarray(
              s.map((_, i) => i),
              { minLength: 1 },
            ),
            fc.boolean(),
            fc.boolean(),
          ),
        ),
        ([x, axes, keepDims, reduceAll]) => {
          const [y] = run(
            {
              name: "r",
              input: ["x"],
              output: ["y"],
              layer: { case: kind as "reduceSum", value: { axes: axes.map((a) => BigInt(a - x.shape.length)), keepDims, reduceAll } },
            },
            [x],
          );
          const reduced = x.shape.map((_, i) => reduceAll || axes.includes(i));
          const kept = x.shape.map((d, i) => (reduced[i] === true ? 1 : d));
          const groups = new Map<number, number[]>();
          for (let i = 0; i < x.data.length; i++) {
            const o = ravel(
              unravel(i, x.shape).map((v, d) => (reduced[d] === true ? 0 : v)),
              kept,
            );
            groups.set(o, [...(groups.get(o) ?? []), x.data[i] as number]);
          }
          const want = Array.from({ length: size(kept) }, (_, o) => fold(groups.get(o) as number[]));
          const shape = keepDims ? kept : x.shape.filter((_, i) => reduced[i] !== true);
          expect(y?.shape).toEqual(shape.length === 0 ? [1] : shape);
          close((y as Tensor).data, want, 1e-4);
        },
      ),
      { seed: propertySeed(), numRuns: RUNS },
    );
  });
});

describe("embeddingND and loadConstantND", () => {
  test("embeddingND looks up column id of [embeddingSize, vocabSize], plus bias", () => {
    const w = Array.from({ length: 12 }, (_, i) => i);
    const [y] = run(
      {
        name: "e",
        input: ["ids"],
        output: ["y"],
        layer: {
          case: "embeddingND",
          value: { vocabSize: 4n, embeddingSize: 3n, hasBias: true, weights: { floatValue: w }, bias: { floatValue: [100, 200, 300] } },
        },
      },
      [{ shape: [2, 1], data: Float32Array.of(2, 0) }],
    );
    expect(y?.shape).toEqual([2, 3]);
    expect(Array.from((y as Tensor).data)).toEqual([102, 206, 310, 100, 204, 308]);
    expect(() =>
      run(
        {
          name: "e",
          input: ["ids"],
          output: ["y"],
          layer: { case: "embeddingND", value: { vocabSize: 4n, embeddingSize: 3n, weights: { floatValue: w } } },
        },
        [{ shape: [1, 1], data: Float32Array.of(4) }],
      ),
    ).toThrow(/index 4 is outside \[0, 4\)/);
  });

  test("loadConstantND gives its data in its shape, a fresh copy each run", () => {
    const layer = buildLayer({ name: "c", output: ["c"], layer: { case: "loadConstantND", value: { shape: [2n, 2n], data: { floatValue: [1, 2, 3, 4] } } } });
    const prepared = prepareLayer(ND_LAYERS, layer, context);
    const [a] = prepared([], new Map());
    (a as Tensor).data[0] = 99;
    const [b] = prepared([], new Map());
    expect(b?.shape).toEqual([2, 2]);
    expect(Array.from((b as Tensor).data)).toEqual([1, 2, 3, 4]);
  });
});

describe("control flow", () => {
  const copy = (from: string, to: string): LayerInit => ({ name: `${from}->${to}`, input: [from], output: [to], layer: { case: "copy", value: {} } });
  const add = (a: string, b: string, to: string): LayerInit => ({
    name: `${a}+${b}`,
    input: [a, b],
    output: [to],
    layer: { case: "addBroadcastable", value: {} },
  });
  const scalar = (v: number): Tensor => ({ shape: [1], data: Float32Array.of(v) });

  test("branch runs ifBranch when |cond| > 1e-6, else elseBranch, over the same blobs", () => {
    const init: LayerInit = {
      name: "b",
      input: ["cond"],
      output: [],
      layer: { case: "branch", value: { ifBranch: { layers: [copy("x", "y")] }, elseBranch: { layers: [add("x", "x", "y")] } } },
    };
    for (const [cond, want] of [
      [1, 3],
      [-2e-6, 3],
      [5e-7, 6],
      [0, 6],
    ] as const) {
      const blobs = new Map([["x", scalar(3)]]);
      run(init, [scalar(cond)], blobs);
      expect(blobs.get("y")?.data[0]).toBe(want);
    }
  });

  test("loop: for, while with a joint bound (condition checked before each body run), input bound, loopBreak", () => {
    const step = [add("acc", "one", "t"), copy("t", "acc")];
    const start = (): Map<string, Tensor> =>
      new Map([
        ["acc", scalar(0)],
        ["one", scalar(1)],
        ["limit", scalar(2.5)],
      ]);
    const loop = (value: object, input: string[] = []): Map<string, Tensor> => {
      const blobs = start();
      run(
        { name: "loop", input, output: [], layer: { case: "loop", value } },
        input.map((n) => blobs.get(n) as Tensor),
        blobs,
      );
      return blobs;
    };
    expect(loop({ maxLoopIterations: 4n, bodyNetwork: { layers: step } }).get("acc")?.data[0]).toBe(4);
    const condition = {
      conditionVar: "go",
      conditionNetwork: { layers: [{ name: "lt", input: ["acc", "limit"], output: ["go"], layer: { case: "lessThan", value: {} } }] },
    };
    // while acc < 2.5: acc += 1 -> 3 iterations; a bound of 2 stops it first.
    expect(loop({ ...condition, bodyNetwork: { layers: step } }).get("acc")?.data[0]).toBe(3);
    expect(loop({ ...condition, maxLoopIterations: 2n, bodyNetwork: { layers: step } }).get("acc")?.data[0]).toBe(2);
    const blobsWithBound = new Map([
      ["acc", scalar(0)],
      ["one", scalar(1)],
      ["n", scalar(5)],
    ]);
    run(
      { name: "loop", input: ["n"], output: [], layer: { case: "loop", value: { maxLoopIterations: 1n, bodyNetwork: { layers: step } } } },
      [blobsWithBound.get("n") as Tensor],
      blobsWithBound,
    );
    expect(blobsWithBound.get("acc")?.data[0]).toBe(5);
    // Break once acc reaches 2 (a branch in the body holding loopBreak).
    const breaking = [
      ...step,
      { name: "ge", input: ["acc"], output: ["stop"], layer: { case: "greaterEqual", value: { alpha: 2 } } },
      {
        name: "br",
        input: ["stop"],
        output: [],
        layer: { case: "branch", value: { ifBranch: { layers: [{ name: "x", layer: { case: "loopBreak", value: {} } }] } } },
      },
    ];
    expect(loop({ maxLoopIterations: 10n, bodyNetwork: { layers: breaking } }).get("acc")?.data[0]).toBe(2);
  });

  test("loopBreak outside a loop is an error naming it", () => {
    let caught: unknown;
    try {
      run({ name: "x", layer: { case: "loopBreak", value: {} } }, []);
    } catch (error) {
      caught = error;
    }
    expect(isQuantizeError(caught, "unsupported-model")).toBe(true);
    expect((caught as Error).message).toMatch(/loopBreak ran outside a loop body/);
  });
});

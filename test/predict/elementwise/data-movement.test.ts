/**
 * The layers that move data without arithmetic: concat, split, slice, flatten,
 * reshape, permute, sequenceRepeat, reorganizeData and loadConstant, each
 * against an oracle that says where every output value comes from.
 */
import fc from "fast-check";
import { isQuantizeError } from "../../../src/errors.js";
import {
  FlattenLayerParams_FlattenOrder as FlattenOrder,
  ReorganizeDataLayerParams_ReorganizationType as Reorganize,
  ReshapeLayerParams_ReshapeOrder as ReshapeOrder,
  SliceLayerParams_SliceAxis as SliceAxis,
} from "../../../src/gen/NeuralNetwork_pb.js";
import type { Tensor } from "../../../src/predict/layer-runner.js";
import { at, expectClose, fromFunction, randomTensor, runLayer, runOne, weights } from "./helpers.js";
import { propertySeed } from "../../support/property-seed.js";

/** The error thrown by `f`, or undefined. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("concat", () => {
  const a = randomTensor([2, 1, 2, 3, 3], 61);
  const b = randomTensor([2, 1, 3, 3, 3], 62);
  const c = randomTensor([2, 1, 1, 3, 3], 63);

  test("along C", () => {
    const y = runOne({ case: "concat", value: {} }, [a, b, c]);
    expectClose(
      y,
      fromFunction([2, 1, 6, 3, 3], ([s, n, ch, h, w]) => {
        const k = ch as number;
        if (k < 2) return at(a, [s, n, k, h, w] as number[]);
        if (k < 5) return at(b, [s, n, k - 2, h, w] as number[]);
        return at(c, [s, n, k - 5, h, w] as number[]);
      }),
      0,
    );
  });

  test("along the sequence with sequenceConcat", () => {
    const p = randomTensor([2, 1, 3, 1, 1], 64);
    const q = randomTensor([3, 1, 3, 1, 1], 65);
    const y = runOne({ case: "concat", value: { sequenceConcat: true } }, [p, q]);
    expectClose(
      y,
      fromFunction([5, 1, 3, 1, 1], ([s, ...rest]) => ((s as number) < 2 ? at(p, [s as number, ...rest]) : at(q, [(s as number) - 2, ...rest]))),
      0,
    );
  });

  test("inputs differing on another axis are refused as invalid input", () => {
    const e = thrown(() => runOne({ case: "concat", value: {} }, [a, randomTensor([2, 1, 2, 3, 4], 66)]));
    expect(isQuantizeError(e, "invalid-input")).toBe(true);
  });
});

describe("split", () => {
  test("C into equal parts", () => {
    const x = randomTensor([2, 1, 6, 2, 3], 67);
    const outs = runLayer({ case: "split", value: { nOutputs: 3n } }, [x], { outputs: ["a", "b", "c"] });
    expect(outs).toHaveLength(3);
    outs.forEach((y, k) => {
      expectClose(
        y,
        fromFunction([2, 1, 2, 2, 3], ([s, n, ch, h, w]) => at(x, [s, n, (ch as number) + 2 * k, h, w] as number[])),
        0,
      );
    });
  });

  test("a C the parts do not divide is refused", () => {
    const e = thrown(() => runLayer({ case: "split", value: { nOutputs: 4n } }, [randomTensor([1, 1, 6, 1, 1], 68)], { outputs: ["a", "b", "c", "d"] }));
    expect(isQuantizeError(e, "invalid-input")).toBe(true);
  });

  test("nOutputs that is not the number of outputs is refused when prepared", () => {
    const e = thrown(() => runLayer({ case: "split", value: { nOutputs: 3n } }, [randomTensor([1, 1, 6, 1, 1], 69)], { outputs: ["a", "b"] }));
    expect(isQuantizeError(e, "invalid-option")).toBe(true);
  });
});

describe("slice", () => {
  const x = randomTensor([2, 1, 6, 5, 7], 71);
  const AXIS_OF = { [SliceAxis.CHANNEL_AXIS]: 2, [SliceAxis.HEIGHT_AXIS]: 3, [SliceAxis.WIDTH_AXIS]: 4 };

  /** Python-style range: start..end by stride, -k meaning N-k. */
  function oracle(axis: SliceAxis, start: number, end: number, stride: number): Tensor {
    const a = AXIS_OF[axis];
    const n = x.shape[a] as number;
    const from = start < 0 ? start + n : start;
    const to = end < 0 ? end + n : end;
    const picked: number[] = [];
    for (let i = from; i < to; i += stride) picked.push(i);
    const shape = x.shape.map((d, k) => (k === a ? picked.length : d));
    return fromFunction(shape, (i) =>
      at(
        x,
        i.map((v, k) => (k === a ? (picked[v] as number) : v)),
      ),
    );
  }

  const CASES: [string, SliceAxis, number, number, number][] = [
    ["C [1:5]", SliceAxis.CHANNEL_AXIS, 1, 5, 1],
    ["H [-4:-1]", SliceAxis.HEIGHT_AXIS, -4, -1, 1],
    ["W [2:7]", SliceAxis.WIDTH_AXIS, 2, 7, 1],
    ["C [1:5:2]", SliceAxis.CHANNEL_AXIS, 1, 5, 2],
    ["W [0:7:3]", SliceAxis.WIDTH_AXIS, 0, 7, 3],
    ["W [-7:-1:4]", SliceAxis.WIDTH_AXIS, -7, -1, 4],
  ];
  test.each(CASES)("%s", (_name, axis, start, end, stride) => {
    const y = runOne({ case: "slice", value: { axis, startIndex: BigInt(start), endIndex: BigInt(end), stride: BigInt(stride) } }, [x]);
    expectClose(y, oracle(axis, start, end, stride), 0);
  });

  test("endIndex 0 is refused as ambiguous", () => {
    const e = thrown(() => runOne({ case: "slice", value: { startIndex: -2n, endIndex: 0n, stride: 1n } }, [x]));
    expect(isQuantizeError(e, "unsupported-layer")).toBe(true);
    expect(String(e)).toContain("slice with endIndex 0 is not supported");
  });

  test("stride 0 is refused", () => {
    const e = thrown(() => runOne({ case: "slice", value: { startIndex: 0n, endIndex: 2n } }, [x]));
    expect(isQuantizeError(e, "invalid-option")).toBe(true);
  });

  test("an empty range is refused", () => {
    const e = thrown(() => runOne({ case: "slice", value: { startIndex: 4n, endIndex: 2n, stride: 1n } }, [x]));
    expect(isQuantizeError(e, "invalid-input")).toBe(true);
  });
});

describe("flatten", () => {
  const x = randomTensor([2, 1, 3, 2, 4], 72);

  test("CHANNEL_FIRST keeps the C, H, W order", () => {
    const y = runOne({ case: "flatten", value: { mode: FlattenOrder.CHANNEL_FIRST } }, [x]);
    expectClose(
      y,
      fromFunction([2, 1, 24, 1, 1], ([s, n, k]) =>
        at(x, [s as number, n as number, Math.floor((k as number) / 8), Math.floor((k as number) / 4) % 2, (k as number) % 4]),
      ),
      0,
    );
  });

  test("CHANNEL_LAST reads in H, W, C order", () => {
    const y = runOne({ case: "flatten", value: { mode: FlattenOrder.CHANNEL_LAST } }, [x]);
    // k = (h * W + w) * C + c
    expectClose(
      y,
      fromFunction([2, 1, 24, 1, 1], ([s, n, k]) =>
        at(x, [s as number, n as number, (k as number) % 3, Math.floor((k as number) / 12), Math.floor((k as number) / 3) % 4]),
      ),
      0,
    );
  });
});

describe("reshape", () => {
  const x = randomTensor([1, 1, 4, 3, 2], 73);

  test("CHANNEL_FIRST: the values in order, new shape", () => {
    const y = runOne({ case: "reshape", value: { targetShape: [2n, 6n, 2n], mode: ReshapeOrder.CHANNEL_FIRST } }, [x]);
    expectClose(y, { shape: [1, 1, 2, 6, 2], data: x.data }, 0);
  });

  test("CHANNEL_LAST: flatten H, W, C; fill [H_out, W_out, C_out]; permute to [C_out, H_out, W_out]", () => {
    const [C, H, W] = [4, 3, 2];
    const [Co, Ho, Wo] = [6, 2, 2];
    const flat: number[] = [];
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) flat.push(at(x, [0, 0, c, h, w]));
    const y = runOne({ case: "reshape", value: { targetShape: [BigInt(Co), BigInt(Ho), BigInt(Wo)], mode: ReshapeOrder.CHANNEL_LAST } }, [x]);
    expectClose(
      y,
      fromFunction([1, 1, Co, Ho, Wo], ([, , c, h, w]) => flat[((h as number) * Wo + (w as number)) * Co + (c as number)] as number),
      0,
    );
  });

  test("four sizes set the sequence length", () => {
    const s = randomTensor([2, 1, 3, 2, 2], 74);
    const y = runOne({ case: "reshape", value: { targetShape: [4n, 3n, 1n, 2n] } }, [s]);
    expectClose(y, { shape: [4, 1, 3, 1, 2], data: s.data }, 0);
  });

  test("CHANNEL_LAST across steps: each output step is filled in H, W, C order", () => {
    const s = randomTensor([2, 1, 2, 1, 3], 75);
    const flat: number[] = [];
    for (let t = 0; t < 2; t++) for (let w = 0; w < 3; w++) for (let c = 0; c < 2; c++) flat.push(at(s, [t, 0, c, 0, w]));
    // Output step t is [H_out = 1, W_out = 2, C_out = 2] in H, W, C order, then permuted.
    const y = runOne({ case: "reshape", value: { targetShape: [3n, 2n, 1n, 2n], mode: ReshapeOrder.CHANNEL_LAST } }, [s]);
    expectClose(
      y,
      fromFunction([3, 1, 2, 1, 2], ([t, , c, , w]) => flat[(t as number) * 4 + (w as number) * 2 + (c as number)] as number),
      0,
    );
  });

  test("a size mismatch is refused", () => {
    const e = thrown(() => runOne({ case: "reshape", value: { targetShape: [5n, 1n, 1n] } }, [x]));
    expect(isQuantizeError(e, "invalid-input")).toBe(true);
  });
});

describe("permute", () => {
  const x = randomTensor([2, 1, 3, 4, 5], 76);
  const blobAxis = [0, 2, 3, 4];

  test.each([[[0, 3, 1, 2]], [[0, 2, 3, 1]], [[3, 1, 2, 0]], [[0, 3, 2, 1]], [[0, 1, 2, 3]]])("axis %j", (axis) => {
    const y = runOne({ case: "permute", value: { axis: axis.map(BigInt) } }, [x]);
    const perm = [blobAxis[axis[0] as number], 1, ...axis.slice(1).map((a) => blobAxis[a])] as number[];
    const shape = perm.map((p) => x.shape[p] as number);
    // Output index o reads the input at i[perm[k]] = o[k].
    expectClose(
      y,
      fromFunction(shape, (o) => {
        const i = new Array<number>(5);
        perm.forEach((p, k) => (i[p] = o[k] as number));
        return at(x, i);
      }),
      0,
    );
  });

  test("an axis list that is not a permutation is refused", () => {
    const e = thrown(() => runOne({ case: "permute", value: { axis: [0n, 1n, 1n, 2n] } }, [x]));
    expect(isQuantizeError(e, "invalid-option")).toBe(true);
  });
});

describe("sequenceRepeat", () => {
  test("repeats the whole sequence", () => {
    const x = randomTensor([2, 1, 3, 1, 1], 77);
    const y = runOne({ case: "sequenceRepeat", value: { nRepetitions: 3n } }, [x]);
    expectClose(
      y,
      fromFunction([6, 1, 3, 1, 1], ([s, ...rest]) => at(x, [(s as number) % 2, ...rest])),
      0,
    );
  });

  test("nRepetitions unset means 1", () => {
    const x = randomTensor([2, 1, 3, 1, 1], 78);
    expectClose(runOne({ case: "sequenceRepeat", value: {} }, [x]), x, 0);
  });
});

describe("reorganizeData", () => {
  // The proto's example: C = 8, H = 1, W = 2 holding 1..16.
  const example = { shape: [1, 1, 8, 1, 2], data: Float32Array.from({ length: 16 }, (_, i) => i + 1) };

  test("DEPTH_TO_SPACE gives the proto's example", () => {
    const y = runOne({ case: "reorganizeData", value: { mode: Reorganize.DEPTH_TO_SPACE, blockSize: 2n } }, [example]);
    expect(y.shape).toEqual([1, 1, 2, 2, 4]);
    expect(Array.from(y.data)).toEqual([1, 5, 2, 6, 9, 13, 10, 14, 3, 7, 4, 8, 11, 15, 12, 16]);
  });

  test("PIXEL_SHUFFLE gives the proto's example", () => {
    const y = runOne({ case: "reorganizeData", value: { mode: Reorganize.PIXEL_SHUFFLE, blockSize: 2n } }, [example]);
    expect(y.shape).toEqual([1, 1, 2, 2, 4]);
    expect(Array.from(y.data)).toEqual([1, 3, 2, 4, 5, 7, 6, 8, 9, 11, 10, 12, 13, 15, 14, 16]);
  });

  test("SPACE_TO_DEPTH is the inverse of the example", () => {
    const spatial = { shape: [1, 1, 2, 2, 4], data: Float32Array.from([1, 5, 2, 6, 9, 13, 10, 14, 3, 7, 4, 8, 11, 15, 12, 16]) };
    const y = runOne({ case: "reorganizeData", value: { mode: Reorganize.SPACE_TO_DEPTH, blockSize: 2n } }, [spatial]);
    expect(y.shape).toEqual([1, 1, 8, 1, 2]);
    expect(Array.from(y.data)).toEqual(Array.from(example.data));
  });

  test("property: SPACE_TO_DEPTH then DEPTH_TO_SPACE is the identity", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        (c, hb, wb, b, outer) => {
          const x = randomTensor([outer, 1, c, hb * b, wb * b], c * 100 + hb * 10 + wb);
          const deep = runOne({ case: "reorganizeData", value: { mode: Reorganize.SPACE_TO_DEPTH, blockSize: BigInt(b) } }, [x]);
          expect(deep.shape).toEqual([outer, 1, c * b * b, hb, wb]);
          const back = runOne({ case: "reorganizeData", value: { mode: Reorganize.DEPTH_TO_SPACE, blockSize: BigInt(b) } }, [deep]);
          expectClose(back, x, 0);
        },
      ),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("blockSize 1 is refused", () => {
    const e = thrown(() => runOne({ case: "reorganizeData", value: { mode: Reorganize.DEPTH_TO_SPACE, blockSize: 1n } }, [example]));
    expect(isQuantizeError(e, "invalid-option")).toBe(true);
  });
});

describe("dot", () => {
  const a = randomTensor([2, 1, 5, 1, 1], 79);
  const b = randomTensor([2, 1, 5, 1, 1], 80);
  const sums = (f: (i: number, s: number) => number): number[] => [0, 1].map((s) => Array.from({ length: 5 }, (_, i) => f(i, s)).reduce((p, q) => p + q, 0));

  test("the dot product over C", () => {
    const y = runOne({ case: "dot", value: {} }, [a, b]);
    const dots = sums((i, s) => at(a, [s, 0, i, 0, 0]) * at(b, [s, 0, i, 0, 0]));
    expectClose(y, { shape: [2, 1, 1, 1, 1], data: Float32Array.from(dots) });
  });

  test("cosine similarity", () => {
    const y = runOne({ case: "dot", value: { cosineSimilarity: true } }, [a, b]);
    const dots = sums((i, s) => at(a, [s, 0, i, 0, 0]) * at(b, [s, 0, i, 0, 0]));
    const na = sums((i, s) => at(a, [s, 0, i, 0, 0]) ** 2);
    const nb = sums((i, s) => at(b, [s, 0, i, 0, 0]) ** 2);
    expectClose(y, { shape: [2, 1, 1, 1, 1], data: Float32Array.from(dots.map((d, s) => d / Math.sqrt((na[s] as number) * (nb[s] as number)))) });
  });

  test("inputs with H or W above 1 are refused", () => {
    const e = thrown(() => runOne({ case: "dot", value: {} }, [randomTensor([1, 1, 2, 2, 1], 81), randomTensor([1, 1, 2, 2, 1], 82)]));
    expect(isQuantizeError(e, "invalid-input")).toBe(true);
  });
});

describe("loadConstant", () => {
  test("outputs its data as [1, 1, C, H, W]", () => {
    const data = Array.from({ length: 12 }, (_, i) => i / 4 - 1);
    const [y] = runLayer({ case: "loadConstant", value: { shape: [3n, 2n, 2n], data: weights(data) } }, []);
    expectClose(y as Tensor, { shape: [1, 1, 3, 2, 2], data: Float32Array.from(data) }, 0);
  });

  test("a data count that does not match the shape is refused as invalid weights", () => {
    const e = thrown(() => runLayer({ case: "loadConstant", value: { shape: [3n, 2n, 2n], data: weights([1, 2]) } }, []));
    expect(isQuantizeError(e, "invalid-weights")).toBe(true);
  });
});

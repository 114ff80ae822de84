/**
 * innerProduct against InnerProductLayerParams' reshaping rules (ranks 1 to 5)
 * and a plain matrix-vector product.
 */
import { encodeFloat16 } from "../../../src/codec/float16.js";
import { expectTensor, int, prepare, randomTensor, rng, values, weights } from "./helpers.js";

/** y[row] = W x[row] + b for each row of `cin` values. */
function dense(x: Float32Array, cin: number, w: readonly number[], bias: readonly number[] | undefined, cout: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < x.length / cin; row++) {
    for (let o = 0; o < cout; o++) {
      let s = bias?.[o] ?? 0;
      for (let i = 0; i < cin; i++) s += (w[o * cin + i] as number) * (x[row * cin + i] as number);
      out.push(s);
    }
  }
  return out;
}

const ipInit = (cin: number, cout: number, w: readonly number[], bias?: readonly number[]) => ({
  layer: {
    case: "innerProduct" as const,
    value: {
      inputChannels: BigInt(cin),
      outputChannels: BigInt(cout),
      hasBias: bias !== undefined,
      weights: weights(w),
      ...(bias === undefined ? {} : { bias: weights(bias) }),
    },
  },
});

describe("innerProduct", () => {
  test("rank 5: [S, B, C, H, W] with C*H*W = inputChannels, flattened C,H,W row-major -> [S, B, Cout, 1, 1]", () => {
    const r = rng(601);
    for (let i = 0; i < 10; i++) {
      const [C, H, W] = [int(r, 1, 3), int(r, 1, 3), int(r, 1, 3)];
      const cin = C * H * W,
        cout = int(r, 1, 6);
      const w = values(r, cout * cin);
      const bias = r() < 0.5 ? values(r, cout) : undefined;
      const x = randomTensor(r, [2, 3, C, H, W]);
      expectTensor(prepare(ipInit(cin, cout, w, bias))(x)[0], [2, 3, cout, 1, 1], dense(x.data, cin, w, bias, cout));
    }
  });

  test("exact layout: ranks 1-3 use the last axis, ranks 4-5 the last three", () => {
    const r = rng(603);
    const cin = 6,
      cout = 4;
    const w = values(r, cout * cin);
    const bias = values(r, cout);
    const run = prepare(ipInit(cin, cout, w, bias), "exact");
    const shapes: [number[], number[]][] = [
      [[6], [4]],
      [
        [3, 6],
        [3, 4],
      ],
      [
        [2, 3, 6],
        [2, 3, 4],
      ],
      [
        [2, 1, 2, 3],
        [2, 4, 1, 1],
      ],
      [
        [2, 2, 3, 2, 1],
        [2, 2, 4, 1, 1],
      ],
    ];
    for (const [inShape, outShape] of shapes) {
      const x = randomTensor(r, inShape);
      expectTensor(run(x)[0], outShape, dense(x.data, cin, w, bias, cout));
    }
    expect(() => run(randomTensor(r, [2, 5]))).toThrow(expect.objectContaining({ code: "invalid-input" }) as Error);
  });

  test("float16 weights are decoded", () => {
    const r = rng(605);
    const w = values(r, 12).map((v) => Math.round(v * 64) / 64);
    const layer = ipInit(3, 4, w);
    const half = { ...layer, layer: { ...layer.layer, value: { ...layer.layer.value, weights: { float16Value: encodeFloat16(Float32Array.from(w)) } } } };
    const x = randomTensor(r, [1, 1, 3, 1, 1]);
    expectTensor(prepare(half)(x)[0], [1, 1, 4, 1, 1], dense(x.data, 3, w, undefined, 4));
  });

  test("refuses int8DynamicQuantize and a weight count that does not match", () => {
    const layer = ipInit(3, 2, values(rng(607), 6));
    expect(() => prepare({ ...layer, layer: { ...layer.layer, value: { ...layer.layer.value, int8DynamicQuantize: true } } })).toThrow(
      expect.objectContaining({ code: "unsupported-layer" }) as Error,
    );
    expect(() => prepare(ipInit(3, 2, values(rng(607), 5)))).toThrow(expect.objectContaining({ code: "invalid-weights" }) as Error);
  });
});

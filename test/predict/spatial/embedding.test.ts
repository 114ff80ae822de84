/**
 * embedding against EmbeddingLayerParams: each index picks column `index` of the
 * [outputChannels, inputDim] matrix, plus the bias, position by position.
 */
import { expectTensor, int, prepare, rng, values, weights } from "./helpers.js";

const embInit = (inputDim: number, cout: number, w: readonly number[], bias?: readonly number[]) => ({
  layer: {
    case: "embedding" as const,
    value: {
      inputDim: BigInt(inputDim),
      outputChannels: BigInt(cout),
      hasBias: bias !== undefined,
      weights: weights(w),
      ...(bias === undefined ? {} : { bias: weights(bias) }),
    },
  },
});

describe("embedding", () => {
  test("a sequence of indices on the Seq axis (rank 5) and a rank-4 input", () => {
    const r = rng(801);
    const inputDim = 10,
      cout = 6;
    const w = values(r, cout * inputDim);
    const bias = values(r, cout);
    for (const withBias of [true, false]) {
      const run = prepare(embInit(inputDim, cout, w, withBias ? bias : undefined));
      const ids = Array.from({ length: 5 }, () => int(r, 0, inputDim - 1));
      const e = ids.flatMap((id) => Array.from({ length: cout }, (_, o) => (w[o * inputDim + id] as number) + (withBias ? (bias[o] as number) : 0)));
      expectTensor(run({ shape: [5, 1, 1, 1, 1], data: Float32Array.from(ids) })[0], [5, 1, cout, 1, 1], e);
      expectTensor(run({ shape: [5, 1, 1, 1], data: Float32Array.from(ids) })[0], [5, cout, 1, 1], e);
    }
  });

  test("refuses indices out of range or not integers, and more than one index per position", () => {
    const run = prepare(embInit(4, 2, values(rng(803), 8)));
    for (const bad of [4, -1, 1.5, NaN]) {
      expect(() => run({ shape: [1, 1, 1, 1, 1], data: Float32Array.from([bad]) })).toThrow(expect.objectContaining({ code: "invalid-input" }) as Error);
    }
    expect(() => run({ shape: [1, 1, 2, 1, 1], data: Float32Array.from([0, 1]) })).toThrow(/one index per position/);
  });
});

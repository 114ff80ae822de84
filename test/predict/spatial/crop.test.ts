/**
 * crop against the proto's slicing formulas (CropLayerParams), one and two inputs.
 */
import { borderAmounts, expectTensor, int, prepare, randomTensor, rng } from "./helpers.js";

/** `x[:, top:top+OH, left:left+OW]` of each plane. */
function slice(x: Float32Array, planes: number, H: number, W: number, top: number, left: number, OH: number, OW: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < planes; p++) for (let y = top; y < top + OH; y++) for (let xx = left; xx < left + OW; xx++) out.push(x[(p * H + y) * W + xx] as number);
  return out;
}

describe("crop", () => {
  test("one input: cropAmounts from each side (pinned seed)", () => {
    const r = rng(301);
    for (let i = 0; i < 20; i++) {
      const H = int(r, 1, 8),
        W = int(r, 1, 8);
      const t = int(r, 0, H - 1),
        b = int(r, 0, H - 1 - t),
        l = int(r, 0, W - 1),
        rr = int(r, 0, W - 1 - l);
      const x = randomTensor(r, [1, 2, 3, H, W]);
      const [y] = prepare({ layer: { case: "crop", value: { cropAmounts: borderAmounts(t, b, l, rr) } } })(x);
      expectTensor(y, [1, 2, 3, H - t - b, W - l - rr], slice(x.data, 6, H, W, t, l, H - t - b, W - l - rr));
    }
  });

  test("two inputs: the reference's H and W at the offset", () => {
    const r = rng(303);
    const x = randomTensor(r, [1, 1, 2, 7, 8]);
    const ref = randomTensor(r, [1, 1, 5, 4, 5]);
    const [y] = prepare({ input: ["x", "ref"], layer: { case: "crop", value: { offset: [2n, 1n] } } })(x, ref);
    expectTensor(y, [1, 1, 2, 4, 5], slice(x.data, 2, 7, 8, 2, 1, 4, 5));
  });

  test("refuses a window outside the input", () => {
    const r = rng(307);
    const run = prepare({ input: ["x", "ref"], layer: { case: "crop", value: { offset: [4n, 0n] } } });
    expect(() => run(randomTensor(r, [1, 1, 2, 7, 8]), randomTensor(r, [1, 1, 2, 4, 5]))).toThrow(expect.objectContaining({ code: "invalid-input" }) as Error);
  });
});

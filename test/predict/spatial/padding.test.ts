/**
 * padding against the proto's own example (PaddingLayerParams) and an oracle
 * that grows the plane row by row and column by column.
 */
import { type LayerInit, borderAmounts, expectTensor, int, prepare, randomTensor, rng } from "./helpers.js";

type Mode = "constant" | "reflection" | "replication";

function padInit(mode: Mode, t: number, b: number, l: number, r: number, value = 0): LayerInit {
  return {
    layer: {
      case: "padding" as const,
      value: {
        PaddingType:
          mode === "constant"
            ? { case: "constant" as const, value: { value } }
            : mode === "reflection"
              ? { case: "reflection" as const, value: {} }
              : { case: "replication" as const, value: {} },
        paddingAmounts: borderAmounts(t, b, l, r),
      },
    },
  };
}

/** Pads a list along its only axis: constant, mirrored without the edge, or the edge repeated. */
function padList<T>(items: T[], before: number, after: number, mode: Mode, fill: T): T[] {
  const n = items.length;
  const head: T[] = [];
  const tail: T[] = [];
  for (let i = 1; i <= before; i++) head.unshift(mode === "constant" ? fill : mode === "reflection" ? (items[i] as T) : (items[0] as T));
  for (let i = 1; i <= after; i++) tail.push(mode === "constant" ? fill : mode === "reflection" ? (items[n - 1 - i] as T) : (items[n - 1] as T));
  return [...head, ...items, ...tail];
}

function padOracle(x: Float32Array, planes: number, H: number, W: number, mode: Mode, t: number, b: number, l: number, r: number, value: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < planes; p++) {
    const rows: number[][] = [];
    for (let y = 0; y < H; y++) rows.push(padList([...x.subarray((p * H + y) * W, (p * H + y + 1) * W)], l, r, mode, value));
    const filler = new Array<number>(W + l + r).fill(value);
    for (const row of padList(rows, t, b, mode, filler)) out.push(...row);
  }
  return out;
}

describe("padding", () => {
  const example = { shape: [1, 3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i + 1) };

  test("the proto's example (top 2, left 2) in each mode", () => {
    expectTensor(
      prepare(padInit("constant", 2, 0, 2, 0), "exact")(example)[0],
      [1, 5, 6],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0, 9, 10, 11, 12],
    );
    expectTensor(
      prepare(padInit("reflection", 2, 0, 2, 0), "exact")(example)[0],
      [1, 5, 6],
      [11, 10, 9, 10, 11, 12, 7, 6, 5, 6, 7, 8, 3, 2, 1, 2, 3, 4, 7, 6, 5, 6, 7, 8, 11, 10, 9, 10, 11, 12],
    );
    expectTensor(
      prepare(padInit("replication", 2, 0, 2, 0), "exact")(example)[0],
      [1, 5, 6],
      [1, 1, 1, 2, 3, 4, 1, 1, 1, 2, 3, 4, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 9, 9, 10, 11, 12],
    );
  });

  test("random amounts in every mode (pinned seed), rank 5 and rank 2", () => {
    const r = rng(201);
    for (let i = 0; i < 40; i++) {
      const mode = (["constant", "reflection", "replication"] as const)[int(r, 0, 2)] as Mode;
      const H = int(r, 1, 6),
        W = int(r, 1, 6);
      const cap = (n: number): number => (mode === "reflection" ? n - 1 : 4);
      const t = int(r, 0, cap(H)),
        b = int(r, 0, cap(H)),
        l = int(r, 0, cap(W)),
        rr = int(r, 0, cap(W));
      const value = r() * 4 - 2;
      const x = randomTensor(r, [2, 1, 3, H, W]);
      const e = padOracle(x.data, 6, H, W, mode, t, b, l, rr, value);
      expectTensor(prepare(padInit(mode, t, b, l, rr, value))(x)[0], [2, 1, 3, H + t + b, W + l + rr], e);
      const x2 = randomTensor(r, [H, W]);
      const e2 = padOracle(x2.data, 1, H, W, mode, t, b, l, rr, value);
      expectTensor(prepare(padInit(mode, t, b, l, rr, value), "exact")(x2)[0], [H + t + b, W + l + rr], e2);
    }
  });

  test("refuses reflection wider than the input, and a missing padding type", () => {
    const x = randomTensor(rng(203), [1, 1, 1, 3, 3]);
    expect(() => prepare(padInit("reflection", 3, 0, 0, 0))(x)).toThrow(expect.objectContaining({ code: "invalid-input" }) as Error);
    expect(() => prepare({ layer: { case: "padding", value: { paddingAmounts: borderAmounts(1, 1, 1, 1) } } })).toThrow(
      expect.objectContaining({ code: "unsupported-layer" }) as Error,
    );
  });
});

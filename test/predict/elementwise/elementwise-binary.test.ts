/**
 * add, multiply, average, max and min against a naive oracle: every output index
 * reads each input at the same index, with 0 on the axes where the input has size 1.
 */
import { isQuantizeError } from "../../../src/errors.js";
import type { Tensor } from "../../../src/predict/layer-runner.js";
import { type LayerInit, at, expectClose, fromFunction, randomTensor, runOne } from "./helpers.js";

type Kind = "add" | "multiply" | "average" | "max" | "min";

const REDUCERS: Record<Kind, (values: number[]) => number> = {
  add: (v) => v.reduce((a, b) => a + b, 0),
  multiply: (v) => v.reduce((a, b) => a * b, 1),
  average: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
};

/** The value of `t` seen from output index `index`, trailing axes aligned. */
function broadcastAt(t: Tensor, index: readonly number[]): number {
  const offset = index.length - t.shape.length;
  return at(
    t,
    t.shape.map((d, a) => (d === 1 ? 0 : (index[a + offset] as number))),
  );
}

function oracle(kind: Kind, inputs: readonly Tensor[]): Tensor {
  const rank = Math.max(...inputs.map((t) => t.shape.length));
  const shape = Array.from({ length: rank }, (_, a) => Math.max(...inputs.map((t) => t.shape[a - (rank - t.shape.length)] ?? 1)));
  return fromFunction(shape, (i) => REDUCERS[kind](inputs.map((t) => broadcastAt(t, i))));
}

const full = randomTensor([1, 1, 3, 4, 5], 1);
const full2 = randomTensor([1, 1, 3, 4, 5], 2);
const full3 = randomTensor([1, 1, 3, 4, 5], 3);
const perChannel = randomTensor([1, 1, 3, 1, 1], 4);
const spatial = randomTensor([1, 1, 1, 4, 5], 5);
const scalar = randomTensor([1, 1, 1, 1, 1], 6);
const seq = randomTensor([2, 1, 3, 4, 5], 7);

const layers: Record<Kind, { case: Kind; value: object }> = {
  add: { case: "add", value: {} },
  multiply: { case: "multiply", value: {} },
  average: { case: "average", value: {} },
  max: { case: "max", value: {} },
  min: { case: "min", value: {} },
};

describe.each(Object.keys(layers) as Kind[])("%s", (kind) => {
  const cases: [string, Tensor[]][] = [
    ["same shapes", [full, full2]],
    ["three inputs", [full, full2, full3]],
    ["[C,H,W] with [C,1,1]", [full, perChannel]],
    ["[C,1,1] first", [perChannel, full]],
    ["[C,H,W] with [1,H,W]", [full, spatial]],
    ["[C,H,W] with [1]", [full, scalar]],
    ["three inputs, mixed forms", [full, perChannel, spatial]],
    ["a sequence with a single-step [C,1,1]", [seq, perChannel]],
  ];
  test.each(cases)("%s", (_name, inputs) => {
    expectClose(runOne(layers[kind] as LayerInit, inputs), oracle(kind, inputs), 1e-6);
  });

  test("N-D inputs of an exact network broadcast on their trailing axes", () => {
    const a = randomTensor([2, 3, 4], 8);
    const b = randomTensor([4], 9);
    const c = randomTensor([3, 1], 10);
    expectClose(runOne(layers[kind] as LayerInit, [a, b, c], "exact"), oracle(kind, [a, b, c]), 1e-6);
  });

  test("shapes that do not broadcast are refused as invalid input", () => {
    let caught: unknown;
    try {
      runOne(layers[kind] as LayerInit, [full, randomTensor([1, 1, 2, 4, 5], 11)]);
    } catch (e) {
      caught = e;
    }
    expect(isQuantizeError(caught, "invalid-input")).toBe(true);
    expect(String(caught)).toContain(`${kind} cannot broadcast inputs of shapes [1, 1, 3, 4, 5] and [1, 1, 2, 4, 5]`);
  });

  test("inputs are left unchanged", () => {
    const before = full.data.slice();
    runOne(layers[kind] as LayerInit, [full, perChannel]);
    expect(full.data).toEqual(before);
  });
});

describe("a single input", () => {
  test("add adds alpha", () => {
    const y = runOne({ case: "add", value: { alpha: 0.625 } }, [full]);
    expectClose(
      y,
      fromFunction(full.shape, (i) => at(full, i) + 0.625),
    );
  });

  test("multiply multiplies by alpha", () => {
    const y = runOne({ case: "multiply", value: { alpha: -1.75 } }, [full]);
    expectClose(
      y,
      fromFunction(full.shape, (i) => at(full, i) * -1.75),
    );
  });

  test.each(["average", "max", "min"] as const)("%s passes it through", (kind) => {
    const y = runOne({ case: kind, value: {} }, [full]);
    expectClose(y, full);
  });
});

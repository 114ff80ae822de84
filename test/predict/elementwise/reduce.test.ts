/**
 * The reduce layer against ReduceLayerParams: every mode over C, H, W, HW and CHW,
 * computed by naive loops over the reduced index set.
 */
import { isQuantizeError } from "../../../src/errors.js";
import { ReduceLayerParams_ReduceAxis as Axis, ReduceLayerParams_ReduceOperation as Mode } from "../../../src/gen/NeuralNetwork_pb.js";
import type { Tensor } from "../../../src/predict/layer-runner.js";
import { at, expectClose, fromFunction, indices, randomTensor, runOne } from "./helpers.js";

/** The axes each option reduces, counted from the end (1 = W). */
const REDUCED: Record<Axis, number[]> = {
  [Axis.CHW]: [3, 2, 1],
  [Axis.HW]: [2, 1],
  [Axis.C]: [3],
  [Axis.H]: [2],
  [Axis.W]: [1],
};

const MODES: Record<Mode, (values: number[], eps: number) => number> = {
  [Mode.SUM]: (v) => v.reduce((a, b) => a + b, 0),
  [Mode.AVG]: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  [Mode.PROD]: (v) => v.reduce((a, b) => a * b, 1),
  [Mode.LOGSUM]: (v, eps) => v.reduce((a, b) => a + Math.log(b + eps), 0),
  [Mode.SUMSQUARE]: (v) => v.reduce((a, b) => a + b * b, 0),
  [Mode.L1]: (v) => v.reduce((a, b) => a + Math.abs(b), 0),
  [Mode.L2]: (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0)),
  [Mode.MAX]: (v) => Math.max(...v),
  [Mode.MIN]: (v) => Math.min(...v),
  [Mode.ARGMAX]: (v) => v.indexOf(Math.max(...v)),
};

function oracle(x: Tensor, mode: Mode, axis: Axis, eps: number): Tensor {
  const rank = x.shape.length;
  const reduced = REDUCED[axis].map((back) => rank - back);
  const outShape = x.shape.map((d, a) => (reduced.includes(a) ? 1 : d));
  const window = x.shape.map((d, a) => (reduced.includes(a) ? d : 1));
  return fromFunction(outShape, (o) => {
    const values: number[] = [];
    // In row-major order over the reduced axes: ARGMAX's index along its one axis.
    for (const k of indices(window))
      values.push(
        at(
          x,
          o.map((v, a) => (reduced.includes(a) ? (k[a] as number) : v)),
        ),
      );
    return MODES[mode](values, eps);
  });
}

const x = randomTensor([2, 1, 3, 4, 5], 41, -2, 2);
const positive = randomTensor([2, 1, 3, 4, 5], 42, 0.5, 1.5);
const AXES = [Axis.C, Axis.H, Axis.W, Axis.HW, Axis.CHW];
const MODE_LIST = Object.keys(MODES).map(Number) as Mode[];

describe("reduce", () => {
  for (const mode of MODE_LIST) {
    for (const axis of mode === Mode.ARGMAX ? [Axis.C, Axis.H, Axis.W] : AXES) {
      test(`${Mode[mode]} over ${Axis[axis]}`, () => {
        // PROD and LOGSUM on values near 1 and positive, so that the results are moderate and defined.
        const input = mode === Mode.PROD || mode === Mode.LOGSUM ? positive : x;
        const y = runOne({ case: "reduce", value: { mode, axis } }, [input]);
        expectClose(y, oracle(input, mode, axis, 1e-6), 2e-6);
      });
    }
  }

  test("LOGSUM adds a set epsilon inside the logarithm", () => {
    const y = runOne({ case: "reduce", value: { mode: Mode.LOGSUM, axis: Axis.W, epsilon: 0.5 } }, [positive]);
    expectClose(y, oracle(positive, Mode.LOGSUM, Axis.W, 0.5), 2e-6);
  });

  test("ARGMAX gives the first index of a tie", () => {
    const t = { shape: [1, 1, 1, 1, 4], data: Float32Array.from([1, 3, 3, 2]) };
    expect(Array.from(runOne({ case: "reduce", value: { mode: Mode.ARGMAX, axis: Axis.W } }, [t]).data)).toEqual([1]);
  });

  test("reduces the trailing axes of a rank-2 blob in an exact network", () => {
    const t = randomTensor([3, 4], 43);
    expectClose(runOne({ case: "reduce", value: { mode: Mode.SUM, axis: Axis.HW } }, [t], "exact"), oracle(t, Mode.SUM, Axis.HW, 0));
  });

  test("refuses C on a blob of rank 2", () => {
    let caught: unknown;
    try {
      runOne({ case: "reduce", value: { mode: Mode.SUM, axis: Axis.C } }, [randomTensor([3, 4], 44)], "exact");
    } catch (e) {
      caught = e;
    }
    expect(isQuantizeError(caught, "invalid-input")).toBe(true);
  });

  test("ARGMAX over HW is refused when prepared", () => {
    expect(() => runOne({ case: "reduce", value: { mode: Mode.ARGMAX, axis: Axis.HW } }, [x])).toThrow("reduce ARGMAX takes axis C, H or W, not HW");
  });
});

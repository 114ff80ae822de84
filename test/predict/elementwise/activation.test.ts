/**
 * The activation layer against the formulas of ActivationParams in
 * NeuralNetwork.proto, evaluated naively in float64.
 */
import { isQuantizeError } from "../../../src/errors.js";
import { LAYER_PATH, type LayerInit, expectClose, fromFunction, at, randomTensor, runOne, weights } from "./helpers.js";

const SHAPE5 = [2, 1, 3, 2, 4];
const x = randomTensor(SHAPE5, 7, -4, 4);
/** An activation layer; the nonlinearity's name is dynamic, hence the assertion. */
const activation = (fn: { case: string; value: object }): LayerInit => ({ case: "activation", value: { NonlinearityType: fn } }) as LayerInit;

const plain: [string, object, (v: number) => number][] = [
  ["linear", { alpha: -0.75, beta: 0.3 }, (v) => -0.75 * v + 0.3],
  ["ReLU", {}, (v) => Math.max(0, v)],
  ["leakyReLU", { alpha: 0.1 }, (v) => (v >= 0 ? v : 0.1 * v)],
  ["thresholdedReLU", { alpha: 0.7 }, (v) => (v >= 0.7 ? v : 0)],
  ["tanh", {}, (v) => (1 - Math.exp(-2 * v)) / (1 + Math.exp(-2 * v))],
  ["scaledTanh", { alpha: 1.5, beta: 0.7 }, (v) => 1.5 * Math.tanh(0.7 * v)],
  ["sigmoid", {}, (v) => 1 / (1 + Math.exp(-v))],
  ["sigmoidHard", { alpha: 0.3, beta: 0.4 }, (v) => Math.min(Math.max(0.3 * v + 0.4, 0), 1)],
  ["ELU", { alpha: 0.8 }, (v) => (v >= 0 ? v : 0.8 * (Math.exp(v) - 1))],
  ["softsign", {}, (v) => v / (1 + Math.abs(v))],
  ["softplus", {}, (v) => Math.log(1 + Math.exp(v))],
];

describe("activation", () => {
  test.each(plain)("%s follows the proto formula", (name, value, f) => {
    // The model stores the parameters as float32; the oracle's float64 ones differ by < 1e-7 relative.
    const y = runOne(activation({ case: name, value }), [x]);
    const expected = fromFunction(SHAPE5, (i) => f(at(x, i)));
    expectClose(y, expected, 1e-6);
  });

  test("does not change its input", () => {
    const before = x.data.slice();
    runOne(activation({ case: "ReLU", value: {} }), [x]);
    expect(x.data).toEqual(before);
  });

  test("softplus stays finite for large inputs", () => {
    const big = { shape: [1, 1, 1, 1, 3], data: Float32Array.from([100, 500, -500]) };
    const y = runOne(activation({ case: "softplus", value: {} }), [big]);
    expect(Array.from(y.data)).toEqual([100, 500, 0]);
  });

  test("PReLU takes one alpha per channel (axis -3)", () => {
    const alpha = [0.5, -0.25, 2];
    const y = runOne(activation({ case: "PReLU", value: { alpha: weights(alpha) } }), [x]);
    const expected = fromFunction(SHAPE5, (i) => {
      const v = at(x, i);
      return v >= 0 ? v : Math.fround(alpha[i[2] as number] as number) * v;
    });
    expectClose(y, expected);
  });

  test("PReLU with one alpha applies it to every channel, at any rank (exact layout)", () => {
    const x2 = randomTensor([4, 5], 3);
    const y = runOne(activation({ case: "PReLU", value: { alpha: weights([0.125]) } }), [x2], "exact");
    expectClose(
      y,
      fromFunction([4, 5], (i) => Math.min(at(x2, i), 0) * 0.125 + Math.max(at(x2, i), 0)),
    );
  });

  test("PReLU per channel on a rank-4 blob of an exact network uses axis -3", () => {
    const x4 = randomTensor([2, 3, 2, 2], 5);
    const alpha = [0.5, 0.25, 0.125];
    const y = runOne(activation({ case: "PReLU", value: { alpha: weights(alpha) } }), [x4], "exact");
    expectClose(
      y,
      fromFunction([2, 3, 2, 2], (i) => (at(x4, i) >= 0 ? at(x4, i) : (alpha[i[1] as number] as number) * at(x4, i))),
    );
  });

  test("parametricSoftplus takes alpha and beta per channel or single", () => {
    const alpha = [0.5, 1.5, 2];
    const y = runOne(activation({ case: "parametricSoftplus", value: { alpha: weights(alpha), beta: weights([0.75]) } }), [x]);
    const expected = fromFunction(SHAPE5, (i) => (alpha[i[2] as number] as number) * Math.log(1 + Math.exp(0.75 * at(x, i))));
    expectClose(y, expected);
  });

  test("PReLU refuses an alpha count that is neither 1 nor C", () => {
    expect(() => runOne(activation({ case: "PReLU", value: { alpha: weights([1, 2]) } }), [x])).toThrow(
      /PReLU has 2 parameters per channel, the input \[2, 1, 3, 2, 4\] has 3 channels/,
    );
  });

  test("an activation without a nonlinearity is refused when prepared", () => {
    let caught: unknown;
    try {
      runOne({ case: "activation", value: {} }, [x]);
    } catch (e) {
      caught = e;
    }
    expect(isQuantizeError(caught, "invalid-option")).toBe(true);
    expect(String(caught)).toContain(LAYER_PATH);
  });
});

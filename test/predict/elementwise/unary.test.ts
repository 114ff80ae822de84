/**
 * The unary layer against UnaryFunctionLayerParams: x <- scale * x + shift (scale
 * unset -> 1), then the operation (epsilon unset -> 1e-6).
 */
import { UnaryFunctionLayerParams_Operation as Op } from "../../../src/gen/NeuralNetwork_pb.js";
import { at, expectClose, fromFunction, randomTensor, runOne } from "./helpers.js";

// Positive after the shifts below, for SQRT, RSQRT, LOG and POWER.
const x = randomTensor([1, 1, 3, 2, 4], 31, 0.1, 3);
const mixed = randomTensor([1, 1, 3, 2, 4], 32, -3, 3);

const unary = (value: object) => ({ case: "unary", value }) as const;

const CASES: [string, object, (v: number) => number][] = [
  ["SQRT, shift, scale unset", { type: Op.SQRT, shift: 1.5 }, (v) => Math.sqrt(v + 1.5)],
  ["RSQRT, epsilon set", { type: Op.RSQRT, shift: 1.5, epsilon: 0.25 }, (v) => 1 / Math.sqrt(v + 1.5 + 0.25)],
  ["RSQRT, epsilon unset", { type: Op.RSQRT, shift: 1.5 }, (v) => 1 / Math.sqrt(v + 1.5 + 1e-6)],
  ["INVERSE, scale and shift", { type: Op.INVERSE, shift: 3, scale: 2 }, (v) => 1 / (2 * v + 3 + 1e-6)],
  ["POWER", { type: Op.POWER, alpha: 2.5, shift: 1.5 }, (v) => (v + 1.5) ** 2.5],
  ["EXP, scale", { type: Op.EXP, scale: 1.5 }, (v) => Math.exp(1.5 * v)],
  ["LOG", { type: Op.LOG, shift: 1.25 }, (v) => Math.log(v + 1.25)],
  ["ABS", { type: Op.ABS, shift: -0.25 }, (v) => Math.abs(v - 0.25)],
  ["THRESHOLD", { type: Op.THRESHOLD, alpha: 0.2 }, (v) => Math.max(0.2, v)],
  ["THRESHOLD, negative alpha (the ReLU6 trick)", { type: Op.THRESHOLD, alpha: -6 }, (v) => Math.max(-6, v)],
];

describe("unary", () => {
  test.each(CASES)("%s", (name, value, f) => {
    for (const input of [x, mixed]) {
      if (input === mixed && ["SQRT", "RSQRT", "LOG", "POWER"].some((n) => name.startsWith(n))) continue;
      expectClose(
        runOne(unary(value), [input]),
        fromFunction(input.shape, (i) => f(at(input, i))),
        2e-6,
      );
    }
  });

  test("works on a blob of any rank (exact layout)", () => {
    const v = randomTensor([7], 33);
    expectClose(
      runOne(unary({ type: Op.ABS }), [v], "exact"),
      fromFunction([7], (i) => Math.abs(at(v, i))),
    );
  });

  test("an unknown operation is refused when prepared", () => {
    expect(() => runOne(unary({ type: 42 }), [x])).toThrow("unary operation 42 is not supported");
  });
});

/**
 * The classic softmax layer: e^x_i / sum_i e^x_i over the channels, at each
 * batch and spatial position.
 */
import fc from "fast-check";
import { isQuantizeError } from "../../../src/errors.js";
import type { Tensor } from "../../../src/predict/layer-runner.js";
import { at, expectClose, fromFunction, randomTensor, runOne } from "./helpers.js";
import { propertySeed } from "../../support/property-seed.js";

function oracle(x: Tensor): Tensor {
  const r = x.shape.length;
  const c = x.shape[r - 3] as number;
  return fromFunction(x.shape, (i) => {
    let sum = 0;
    for (let k = 0; k < c; k++)
      sum += Math.exp(
        at(
          x,
          i.map((v, a) => (a === r - 3 ? k : v)),
        ),
      );
    return Math.exp(at(x, i)) / sum;
  });
}

describe("softmax", () => {
  test("over C at every position of a rank-5 blob", () => {
    const x = randomTensor([2, 1, 4, 3, 2], 51, -3, 3);
    expectClose(runOne({ case: "softmax", value: {} }, [x]), oracle(x));
  });

  test("over a vector [1, 1, C, 1, 1]", () => {
    const x = randomTensor([1, 1, 6, 1, 1], 52, -3, 3);
    expectClose(runOne({ case: "softmax", value: {} }, [x]), oracle(x));
  });

  test("large inputs do not overflow", () => {
    const x = { shape: [1, 1, 3, 1, 1], data: Float32Array.from([1000, 999, -1000]) };
    const y = runOne({ case: "softmax", value: {} }, [x]);
    expectClose(y, { shape: x.shape, data: Float32Array.from([1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1)), 0]) });
  });

  test("axis -3 of a rank-4 blob in an exact network", () => {
    const x = randomTensor([2, 3, 2, 2], 53, -3, 3);
    expectClose(runOne({ case: "softmax", value: {} }, [x], "exact"), oracle(x));
  });

  test("a blob of rank below 3 is refused", () => {
    let caught: unknown;
    try {
      runOne({ case: "softmax", value: {} }, [randomTensor([5], 54)], "exact");
    } catch (e) {
      caught = e;
    }
    expect(isQuantizeError(caught, "invalid-input")).toBe(true);
    expect(String(caught)).toContain("softmax needs a blob of rank >= 3, got [5]");
  });

  test("property: outputs lie in [0, 1] and sum to 1 over C", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 24, maxLength: 24 }),
        (c, hw, pool) => {
          const data = Float32Array.from({ length: c * hw }, (_, i) => pool[i % pool.length] as number);
          const y = runOne({ case: "softmax", value: {} }, [{ shape: [1, 1, c, 1, hw], data }]);
          for (let q = 0; q < hw; q++) {
            let sum = 0;
            for (let k = 0; k < c; k++) {
              const v = y.data[k * hw + q] as number;
              expect(v).toBeGreaterThanOrEqual(0);
              expect(v).toBeLessThanOrEqual(1);
              sum += v;
            }
            expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
          }
        },
      ),
      { seed: propertySeed(), numRuns: 100 },
    );
  });
});

/**
 * The data-movement kernel shared by the shape layers: transposes against a naive
 * index mapping, and the transpose/inverse round trip as a property.
 */
import fc from "fast-check";
import { broadcastTo } from "../../../src/predict/layers/broadcast.js";
import { transposeData } from "../../../src/predict/layers/strided-copy.js";
import { at, fromFunction, randomTensor } from "./helpers.js";
import { propertySeed } from "../../support/property-seed.js";

describe("transposeData", () => {
  test("output axis i is input axis perm[i]", () => {
    const x = randomTensor([2, 3, 4, 5], 91);
    const perm = [2, 0, 3, 1];
    const y = transposeData(x.data, x.shape, perm);
    expect(y.shape).toEqual([4, 2, 5, 3]);
    const expected = fromFunction(y.shape, (o) => {
      const i = new Array<number>(4);
      perm.forEach((p, k) => (i[p] = o[k] as number));
      return at(x, i);
    });
    expect(Array.from(y.data)).toEqual(Array.from(expected.data));
  });

  test("property: a permutation then its inverse gives the input back", () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 })
          .chain((shape) => fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length }))),
        ([shape, perm]) => {
          const x = randomTensor(shape, shape.length * 7 + (perm[0] as number));
          const y = transposeData(x.data, x.shape, perm);
          const inverse = new Array<number>(perm.length);
          perm.forEach((p, k) => (inverse[p] = k));
          const back = transposeData(y.data, y.shape, inverse);
          expect(back.shape).toEqual(shape);
          expect(Array.from(back.data)).toEqual(Array.from(x.data));
        },
      ),
      { seed: propertySeed(), numRuns: 100 },
    );
  });
});

describe("broadcastTo", () => {
  test("repeats axes of size 1 and adds leading ones", () => {
    const x = randomTensor([3, 1], 92);
    const y = broadcastTo(x.data, x.shape, [2, 3, 4]);
    expect(Array.from(y)).toEqual(Array.from(fromFunction([2, 3, 4], ([, c]) => at(x, [c as number, 0])).data));
  });

  test("returns the data itself when nothing is repeated", () => {
    const x = randomTensor([3, 4], 93);
    expect(broadcastTo(x.data, x.shape, [1, 1, 3, 4])).toBe(x.data);
  });
});

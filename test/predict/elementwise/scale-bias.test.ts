/**
 * scale and bias against a naive oracle: the weight of shape [1], [C], [1, H, W]
 * or [C, H, W] read at (c, h, w) with 0 on its axes of size 1.
 */
import { isQuantizeError } from "../../../src/errors.js";
import { at, expectClose, fromFunction, randomTensor, runOne, seeded, weights } from "./helpers.js";

const C = 3;
const H = 4;
const W = 5;
const x = randomTensor([2, 1, C, H, W], 21);

interface Parameter {
  readonly values: number[];
  /** The value applying at (c, h, w). */
  readonly read: (c: number, h: number, w: number) => number;
}

/** Seeded weight values for a declared shape, and the oracle's reader of them. */
function parameter(shape: readonly number[], seed: number): Parameter {
  const next = seeded(seed);
  const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(next(-2, 2)));
  const [pc, ph, pw] = shape.length === 1 ? [shape[0] as number, 1, 1] : (shape as [number, number, number]);
  return {
    values,
    read: (c, h, w) => values[((pc === 1 ? 0 : c) * ph + (ph === 1 ? 0 : h)) * pw + (pw === 1 ? 0 : w)] as number,
  };
}

const SHAPES: [string, number[]][] = [
  ["[1]", [1]],
  ["[C]", [C]],
  ["[1,H,W]", [1, H, W]],
  ["[C,H,W]", [C, H, W]],
];

/** x at a rank-5 index, with the oracle's (c, h, w). */
const chw = (i: number[]): [number, number, number] => [i[2] as number, i[3] as number, i[4] as number];

describe("scale", () => {
  test.each(SHAPES)("scale %s, no bias", (_name, shape) => {
    const s = parameter(shape, 1);
    const y = runOne({ case: "scale", value: { shapeScale: shape.map(BigInt), scale: weights(s.values) } }, [x]);
    expectClose(
      y,
      fromFunction(x.shape, (i) => at(x, i) * s.read(...chw(i))),
    );
  });

  test.each(SHAPES.flatMap(([sn, ss]) => SHAPES.map(([bn, bs]) => [sn, ss, bn, bs] as const)))("scale %s with bias %s", (_sn, scaleShape, _bn, biasShape) => {
    const s = parameter(scaleShape, 2);
    const b = parameter(biasShape, 3);
    const y = runOne(
      {
        case: "scale",
        value: {
          shapeScale: scaleShape.map(BigInt),
          scale: weights(s.values),
          hasBias: true,
          shapeBias: biasShape.map(BigInt),
          bias: weights(b.values),
        },
      },
      [x],
    );
    expectClose(
      y,
      fromFunction(x.shape, (i) => at(x, i) * s.read(...chw(i)) + b.read(...chw(i))),
    );
  });

  test("a bias present but hasBias false is ignored", () => {
    const y = runOne({ case: "scale", value: { shapeScale: [1n], scale: weights([2]), shapeBias: [1n], bias: weights([100]) } }, [x]);
    expectClose(
      y,
      fromFunction(x.shape, (i) => 2 * at(x, i)),
    );
  });

  test("a scale count that does not match shapeScale is refused as invalid weights", () => {
    let caught: unknown;
    try {
      runOne({ case: "scale", value: { shapeScale: [3n], scale: weights([1, 2]) } }, [x]);
    } catch (e) {
      caught = e;
    }
    expect(isQuantizeError(caught, "invalid-weights")).toBe(true);
    expect(String(caught)).toMatch(/scale holds 2 values, expected 3 for shape \[3\]/);
  });

  test("a shapeScale of rank 2 is refused", () => {
    expect(() => runOne({ case: "scale", value: { shapeScale: [4n, 5n], scale: weights(new Array(20).fill(1)) } }, [x])).toThrow(
      'scale weight "scale" has shape [4, 5]; expected [1], [C], [1, H, W] or [C, H, W]',
    );
  });

  test("a [C] scale on an input with another C is refused as invalid input", () => {
    let caught: unknown;
    try {
      runOne({ case: "scale", value: { shapeScale: [2n], scale: weights([1, 2]) } }, [x]);
    } catch (e) {
      caught = e;
    }
    expect(isQuantizeError(caught, "invalid-input")).toBe(true);
    expect(String(caught)).toContain('scale weight "scale" of shape [2, 1, 1] does not fit an input of [C, H, W] [3, 4, 5]');
  });
});

describe("bias", () => {
  test.each(SHAPES)("bias %s", (_name, shape) => {
    const b = parameter(shape, 4);
    const y = runOne({ case: "bias", value: { shape: shape.map(BigInt), bias: weights(b.values) } }, [x]);
    expectClose(
      y,
      fromFunction(x.shape, (i) => at(x, i) + b.read(...chw(i))),
    );
  });

  test("works on the trailing [C, H, W] of a rank-4 blob in an exact network", () => {
    const x4 = randomTensor([2, C, H, W], 22);
    const b = parameter([C], 5);
    const y = runOne({ case: "bias", value: { shape: [BigInt(C)], bias: weights(b.values) } }, [x4], "exact");
    expectClose(
      y,
      fromFunction(x4.shape, (i) => at(x4, i) + b.read(i[1] as number, i[2] as number, i[3] as number)),
    );
  });
});

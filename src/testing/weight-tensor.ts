/**
 * The weightTensor arbitrary: float32 values with a shape.
 *
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { FLOAT32_MAX, floatValues, shapeOf } from "./internal/float-values.js";
import { MAX_SIZE_CONSTRAINT, bool, integerIn, ordered, positive } from "./internal/validate.js";

/** A generated tensor: row-major float32 values and a shape whose dimensions multiply to their count. */
export interface WeightTensor {
  /** The values, in tensor order. */
  readonly values: Float32Array;
  /** The dimensions; their product is `values.length`. */
  readonly shape: readonly number[];
}

/** Constraints of {@link weightTensor}. */
export interface WeightTensorConstraints {
  /** Fewest values. @defaultValue 1 */
  readonly minLength?: number;
  /** Most values. @defaultValue 64, or `minLength` when larger */
  readonly maxLength?: number;
  /** Largest rank of the shape (ranks 1 to this are generated). @defaultValue 4 */
  readonly maxRank?: number;
  /**
   * Mix in values that break naive float code — ±0, float32 and float16
   * subnormals, ±65504, ±65519.996, ±65520, huge values, the largest float32 (each
   * only when within `maxMagnitude`) — and constant and two-valued tensors.
   * @defaultValue true
   */
  readonly edgeValues?: boolean;
  /** Only finite values; when false NaN and ±Infinity are mixed in. @defaultValue true */
  readonly finite?: boolean;
  /**
   * Largest magnitude of a finite value. 65504 keeps every tensor convertible to
   * half precision.
   * @defaultValue 3.4028234663852886e38 (the largest float32)
   */
  readonly maxMagnitude?: number;
}

/**
 * Float32 weight tensors with a shape, for property tests of code that handles
 * weights (lookup-table functions, custom quantizers).
 *
 * @param constraints - sizes and value mix
 * @returns an arbitrary of {@link WeightTensor}
 * @throws RangeError (when called) for constraints out of range or out of order
 * @example
 * ```ts
 * import * as fc from "fast-check";
 * import { weightTensor } from "coreml-quantize/testing";
 *
 * fc.assert(fc.property(weightTensor({ maxMagnitude: 65504 }), ({ values, shape }) => {
 *   const { lut, indices } = myLutFunction(4, values);
 *   return lut.length === 16 && indices.length === values.length;
 * }));
 * ```
 */
export function weightTensor(constraints: WeightTensorConstraints = {}): fc.Arbitrary<WeightTensor> {
  const name = "weightTensor";
  const minLength = integerIn(name, "minLength", constraints.minLength ?? 1, 0, MAX_SIZE_CONSTRAINT);
  const maxLength = integerIn(name, "maxLength", constraints.maxLength ?? Math.max(64, minLength), 0, MAX_SIZE_CONSTRAINT);
  ordered(name, "minLength", minLength, "maxLength", maxLength);
  const maxRank = integerIn(name, "maxRank", constraints.maxRank ?? 4, 1, 8);
  const values = {
    edgeValues: bool(name, "edgeValues", constraints.edgeValues ?? true),
    finite: bool(name, "finite", constraints.finite ?? true),
    maxMagnitude: positive(name, "maxMagnitude", constraints.maxMagnitude ?? FLOAT32_MAX),
  };
  return fc.integer({ min: minLength, max: maxLength }).chain((length) => fc.record({ values: floatValues(length, values), shape: shapeOf(length, maxRank) }));
}

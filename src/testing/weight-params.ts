/**
 * The weightParams arbitrary: a valid WeightParams in any storage, with the shape
 * and channel axis it belongs to.
 *
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { packIndices } from "../codec/bit-pack.js";
import { decodeFloat16, encodeFloat16, FLOAT16_MAX } from "../codec/float16.js";
import type { WeightParams } from "../codec/model-types.js";
import { withInt8, withLinear, withLut, type StorageKind } from "../codec/weight-storage.js";
import { float32AtMost, floatValues, shapeOf, type ValueOptions } from "./internal/float-values.js";
import { emptyWeightParams, floatWeightParams, product } from "./internal/messages.js";
import { MAX_SIZE_CONSTRAINT, bool, integerIn, ordered, positive, subsetOf } from "./internal/validate.js";

/** The storages {@link weightParams} generates: every storage kind but `empty`. */
export type GeneratedStorage = Exclude<StorageKind, "empty">;

/** Every {@link GeneratedStorage}, in the order of the format's fields. */
export const GENERATED_STORAGES: readonly GeneratedStorage[] = ["float32", "float16", "linear", "lut", "int8"];

/** A generated WeightParams with what a reader needs to decode it, and what it decodes to. */
export interface GeneratedWeightParams {
  /** The weights; exactly one storage is set. */
  readonly weightParams: WeightParams;
  /** Which storage. */
  readonly storage: GeneratedStorage;
  /** Bits per value: 32 (float32), 16 (float16), 8 (int8) or the n of n-bit linear / LUT storage. */
  readonly nbits: number;
  /** The tensor shape; its dimensions multiply to the value count. */
  readonly shape: readonly number[];
  /** The channel axis of `shape` (per-channel linear parameters run along it); 0 for rank 1. */
  readonly axis: 0 | 1;
  /** The float32 values the weights decode to (`readWeights(weightParams, { shape, axis })`). */
  readonly values: Float32Array;
}

/** Constraints of {@link weightParams}. */
export interface WeightParamsConstraints {
  /** Storages to generate. @defaultValue every {@link GENERATED_STORAGES} entry */
  readonly storages?: readonly GeneratedStorage[];
  /** Fewest values (at least 1: an empty WeightParams has no storage). @defaultValue 1 */
  readonly minLength?: number;
  /** Most values. @defaultValue 64, or `minLength` when larger */
  readonly maxLength?: number;
  /** Largest rank of the shape. @defaultValue 4 */
  readonly maxRank?: number;
  /**
   * The tensor shape, e.g. a layer's declared weight shape; `minLength`,
   * `maxLength` and `maxRank` are then ignored.
   * @defaultValue a random shape of `minLength..maxLength` values
   */
  readonly shape?: readonly number[];
  /**
   * The channel axis (1 needs a rank of at least 2).
   * @defaultValue 0 or 1 at random for rank >= 2, else 0
   */
  readonly axis?: 0 | 1;
  /** Fewest bits of n-bit linear and LUT storage. @defaultValue 1 */
  readonly minBits?: number;
  /** Most bits of n-bit linear and LUT storage. @defaultValue 8 */
  readonly maxBits?: number;
  /**
   * Mix edge values (±0, subnormals, ±65504, ...) and constant and two-valued
   * tensors into float storage. @defaultValue true
   */
  readonly edgeValues?: boolean;
  /**
   * Largest magnitude of any value, stored (float32, float16, table entries) or
   * decoded (linear: bias and step times index each stay within half of it; int8).
   * The default keeps every decoded value finite and convertible to half precision.
   * @defaultValue 65504
   */
  readonly maxMagnitude?: number;
}

/**
 * Valid WeightParams in every storage — float32, float16, n-bit linear (per-channel
 * scale and bias, packed rawValue), n-bit lookup table, int8 — built with the
 * codec's `with*` builders, with their shape, channel axis and decoded values.
 *
 * @param constraints - storages, sizes or a fixed shape and axis, bit widths
 * @returns an arbitrary of {@link GeneratedWeightParams}
 * @throws RangeError (when called) for constraints out of range or out of order
 * @example
 * ```ts
 * import * as fc from "fast-check";
 * import { readWeights } from "coreml-quantize";
 * import { weightParams } from "coreml-quantize/testing";
 *
 * fc.assert(fc.property(weightParams({ storages: ["linear", "lut"] }), (g) => {
 *   const decoded = readWeights(g.weightParams, { shape: g.shape, axis: g.axis });
 *   return decoded.every((v, i) => Object.is(v, g.values[i]));
 * }));
 * ```
 */
export function weightParams(constraints: WeightParamsConstraints = {}): fc.Arbitrary<GeneratedWeightParams> {
  const name = "weightParams";
  const storages = subsetOf(name, "storages", constraints.storages ?? GENERATED_STORAGES, GENERATED_STORAGES);
  const minLength = integerIn(name, "minLength", constraints.minLength ?? 1, 1, MAX_SIZE_CONSTRAINT);
  const maxLength = integerIn(name, "maxLength", constraints.maxLength ?? Math.max(64, minLength), 1, MAX_SIZE_CONSTRAINT);
  ordered(name, "minLength", minLength, "maxLength", maxLength);
  const maxRank = integerIn(name, "maxRank", constraints.maxRank ?? 4, 1, 8);
  const minBits = integerIn(name, "minBits", constraints.minBits ?? 1, 1, 8);
  const maxBits = integerIn(name, "maxBits", constraints.maxBits ?? 8, 1, 8);
  ordered(name, "minBits", minBits, "maxBits", maxBits);
  const values: ValueOptions = {
    edgeValues: bool(name, "edgeValues", constraints.edgeValues ?? true),
    finite: true,
    maxMagnitude: positive(name, "maxMagnitude", constraints.maxMagnitude ?? FLOAT16_MAX),
  };
  const fixedShape = constraints.shape === undefined ? undefined : checkShape(name, constraints.shape);
  const fixedAxis = constraints.axis;
  if (fixedAxis !== undefined && fixedAxis !== 0 && fixedAxis !== 1) {
    throw new RangeError(`${name}: axis must be 0 or 1, got ${String(fixedAxis)}`);
  }
  if (fixedAxis === 1 && fixedShape !== undefined && fixedShape.length < 2) {
    throw new RangeError(`${name}: axis 1 needs a shape of rank 2 or more, got [${fixedShape.join(", ")}]`);
  }
  const bits = fc.integer({ min: minBits, max: maxBits });
  const shapes =
    fixedShape !== undefined
      ? fc.constant(fixedShape)
      : fc
          .integer({ min: minLength, max: maxLength })
          .chain((length) => shapeOf(length, Math.max(maxRank, fixedAxis === 1 ? 2 : 1)))
          .filter((shape) => fixedAxis !== 1 || shape.length >= 2);
  return fc.tuple(fc.constantFrom(...storages), shapes).chain(([storage, shape]) => {
    const axes: (0 | 1)[] = fixedAxis !== undefined ? [fixedAxis] : shape.length >= 2 ? [0, 1] : [0];
    const length = product(shape);
    return fc.constantFrom(...axes).chain((axis) => {
      const tensor = { shape, axis, length };
      switch (storage) {
        case "float32":
        case "float16":
          return floatValues(length, values).map((v) => floatStorage(storage, v, tensor));
        case "linear":
          return bits.chain((nbits) => linearStorage(nbits, tensor, values.maxMagnitude));
        case "lut":
          return bits.chain((nbits) => lutStorage(nbits, tensor, values.maxMagnitude));
        case "int8":
          return int8Storage(tensor, values.maxMagnitude);
      }
    });
  });
}

function checkShape(owner: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1) || product(shape) > MAX_SIZE_CONSTRAINT) {
    throw new RangeError(
      `${owner}: shape must be a non-empty list of positive integers with at most ${MAX_SIZE_CONSTRAINT} values in all, got [${String(shape)}]`,
    );
  }
  return shape.slice();
}

interface Tensor {
  readonly shape: number[];
  readonly axis: 0 | 1;
  readonly length: number;
}

function floatStorage(storage: "float32" | "float16", values: Float32Array, t: Tensor): GeneratedWeightParams {
  const decoded = storage === "float16" ? decodeFloat16(encodeFloat16(values)) : values;
  return { weightParams: floatWeightParams(storage, values), storage, nbits: storage === "float16" ? 16 : 32, shape: t.shape, axis: t.axis, values: decoded };
}

const indicesOf = (length: number, nbits: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: 2 ** nbits - 1 }), { minLength: length, maxLength: length });

/**
 * Linear storage with one scale and bias for the whole tensor or (rank >= 2) one per
 * channel along the axis (a rank-1 tensor is one channel); scale in
 * [0, m/2 / (2^n - 1)], bias in [-m/2, m/2], so |w| <= m.
 */
function linearStorage(nbits: number, t: Tensor, maxMagnitude: number): fc.Arbitrary<GeneratedWeightParams> {
  const half = maxMagnitude / 2;
  const channelChoices = t.shape.length >= 2 ? [1, t.shape[t.axis] as number] : [1];
  return fc.constantFrom(...channelChoices).chain((channels) =>
    fc
      .record({
        scale: fc.array(fc.float({ min: 0, max: float32AtMost(half / (2 ** nbits - 1)), noNaN: true }), { minLength: channels, maxLength: channels }),
        bias: fc.array(fc.float({ min: -float32AtMost(half), max: float32AtMost(half), noNaN: true }), { minLength: channels, maxLength: channels }),
        indices: indicesOf(t.length, nbits),
      })
      .map(({ scale, bias, indices }) => {
        // Channel of value k: (k / inner) % channels, inner = product of the dims after the axis.
        const inner = channels === 1 ? t.length : product(t.shape.slice(t.axis + 1));
        const decoded = Float32Array.from(indices, (q, k) => {
          const c = Math.floor(k / inner) % channels;
          return q * (scale[c] as number) + (bias[c] as number);
        });
        return {
          weightParams: withLinear(emptyWeightParams(), nbits, packIndices(Uint8Array.from(indices), nbits), scale, bias),
          storage: "linear" as const,
          nbits,
          shape: t.shape,
          axis: t.axis,
          values: decoded,
        };
      }),
  );
}

/** Lookup-table storage: 2^n float32 entries within the magnitude bound, one index per value. */
function lutStorage(nbits: number, t: Tensor, maxMagnitude: number): fc.Arbitrary<GeneratedWeightParams> {
  const m = float32AtMost(maxMagnitude);
  const size = 2 ** nbits;
  return fc
    .record({
      lut: fc.array(fc.float({ min: -m, max: m, noNaN: true }), { minLength: size, maxLength: size }),
      indices: indicesOf(t.length, nbits),
    })
    .map(({ lut, indices }) => ({
      weightParams: withLut(emptyWeightParams(), nbits, packIndices(Uint8Array.from(indices), nbits), lut),
      storage: "lut" as const,
      nbits,
      shape: t.shape,
      axis: t.axis,
      values: Float32Array.from(indices, (q) => lut[q] as number),
    }));
}

/** int8 storage: values in -128..127 and one scale in [0, m / 128]. */
function int8Storage(t: Tensor, maxMagnitude: number): fc.Arbitrary<GeneratedWeightParams> {
  return fc
    .record({
      scale: fc.float({ min: 0, max: float32AtMost(maxMagnitude / 128), noNaN: true }),
      q: fc.array(fc.integer({ min: -128, max: 127 }), { minLength: t.length, maxLength: t.length }),
    })
    .map(({ scale, q }) => ({
      weightParams: withInt8(emptyWeightParams(), Int8Array.from(q), scale),
      storage: "int8" as const,
      nbits: 8,
      shape: t.shape,
      axis: t.axis,
      values: Float32Array.from(q, (v) => v * scale),
    }));
}

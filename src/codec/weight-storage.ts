/**
 * Typed views of a WeightParams: which storage it uses, how many bytes it takes,
 * and builders for each storage. The builders return new WeightParams; nothing
 * here mutates its argument. Reading the values as float32 needs the quantizer's
 * dequantization, so it lives a layer up, in walker/read-weights.ts.
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { LinearQuantizationParamsSchema, LookUpTableQuantizationParamsSchema, QuantizationParamsSchema } from "../gen/NeuralNetwork_pb.js";
import { QuantizeError } from "../errors.js";
import { encodeFloat16 } from "./float16.js";
import type { WeightParams } from "./model-types.js";

/** How a WeightParams stores its values. */
export type WeightStorage =
  | {
      /** No storage holds any value. */
      readonly kind: "empty";
    }
  | {
      /** `floatValue`. */
      readonly kind: "float32";
      /** Number of values. */
      readonly count: number;
    }
  | {
      /** `float16Value`, two bytes per value. */
      readonly kind: "float16";
      /** Number of values. */
      readonly count: number;
    }
  | {
      /** `rawValue` with a linear `quantization`: `w = scale[c] * q + bias[c]`. */
      readonly kind: "linear";
      /** Bits per index, 1..8. */
      readonly nbits: number;
      /** Number of `scale` entries: one per channel, or 1 for the whole tensor. */
      readonly channels: number;
    }
  | {
      /** `rawValue` with a lookup-table `quantization`: `w = lut[q]`. */
      readonly kind: "lut";
      /** Bits per index, 1..8. */
      readonly nbits: number;
    }
  | {
      /** `int8RawValue` with one linear scale. */
      readonly kind: "int8";
      /** Number of values. */
      readonly count: number;
    };

/** The names of {@link WeightStorage} kinds. */
export type StorageKind = WeightStorage["kind"];

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_FLOATS = new Float32Array(0);

/**
 * Which storage `weightParams` uses.
 *
 * @param weightParams - the weights
 * @param path - where they are, for errors
 * @returns the storage
 * @throws {@link QuantizeError} `invalid-weights` when more than one storage is set,
 *   or quantized bytes come without (or with unusable) quantization parameters
 */
export function weightStorage(weightParams: WeightParams, path?: string): WeightStorage {
  const where = path === undefined ? {} : { path };
  // Counted before any list is built: this runs several times per tensor.
  const storages =
    (weightParams.floatValue.length > 0 ? 1 : 0) +
    (weightParams.float16Value.length > 0 ? 1 : 0) +
    (weightParams.rawValue.length > 0 ? 1 : 0) +
    (weightParams.int8RawValue.length > 0 ? 1 : 0);
  if (storages > 1) {
    const used = [
      weightParams.floatValue.length > 0 && "floatValue",
      weightParams.float16Value.length > 0 && "float16Value",
      weightParams.rawValue.length > 0 && "rawValue",
      weightParams.int8RawValue.length > 0 && "int8RawValue",
    ].filter((x): x is string => x !== false);
    throw new QuantizeError("invalid-weights", `WeightParams has ${used.join(" and ")} at once; a valid model uses one storage`, where);
  }
  if (weightParams.floatValue.length > 0) return { kind: "float32", count: weightParams.floatValue.length };
  if (weightParams.float16Value.length > 0) {
    if (weightParams.float16Value.length % 2 !== 0) {
      throw new QuantizeError("invalid-weights", `float16Value has an odd number of bytes (${weightParams.float16Value.length})`, where);
    }
    return { kind: "float16", count: weightParams.float16Value.length / 2 };
  }
  const quantization = weightParams.quantization;
  if (weightParams.int8RawValue.length > 0) {
    if (quantization?.QuantizationType.case !== "linearQuantization") {
      throw new QuantizeError("invalid-weights", "int8RawValue without linear quantization parameters", where);
    }
    return { kind: "int8", count: weightParams.int8RawValue.length };
  }
  if (weightParams.rawValue.length === 0) return { kind: "empty" };
  const nbits = Number(quantization?.numberOfBits ?? 0n);
  if (quantization === undefined || !Number.isInteger(nbits) || nbits < 1 || nbits > 8) {
    throw new QuantizeError(
      "invalid-weights",
      `rawValue needs quantization.numberOfBits in 1..8, found ${quantization === undefined ? "no quantization" : nbits}`,
      where,
    );
  }
  switch (quantization.QuantizationType.case) {
    case "linearQuantization":
      return { kind: "linear", nbits, channels: quantization.QuantizationType.value.scale.length };
    case "lookupTableQuantization":
      return { kind: "lut", nbits };
    default:
      throw new QuantizeError("invalid-weights", "rawValue without linear or lookup-table quantization parameters", where);
  }
}

/**
 * Bytes the weights take in the file: the payload plus quantization parameters.
 *
 * @param weightParams - the weights
 * @returns the byte count
 */
export function storedByteLength(weightParams: WeightParams): number {
  const q = weightParams.quantization?.QuantizationType;
  const params =
    q?.case === "linearQuantization" ? q.value.scale.length + q.value.bias.length : q?.case === "lookupTableQuantization" ? q.value.floatValue.length : 0;
  return weightParams.floatValue.byteLength + weightParams.float16Value.length + weightParams.rawValue.length + weightParams.int8RawValue.length + params * 4;
}

/** A WeightParams' storages, all empty. */
const NO_STORAGE = Object.freeze({ floatValue: EMPTY_FLOATS, float16Value: EMPTY_BYTES, rawValue: EMPTY_BYTES, int8RawValue: EMPTY_BYTES });

/**
 * A copy of `weightParams` with every storage emptied, then `storage` set. A
 * `quantization` message that was set and is not replaced stays set but empty, as
 * the reference's clearing leaves it (so outputs match it byte for byte).
 */
function withStorage(weightParams: WeightParams, storage: Partial<Pick<WeightParams, keyof typeof NO_STORAGE | "quantization">>): WeightParams {
  const emptied = weightParams.quantization === undefined ? {} : { quantization: create(QuantizationParamsSchema) };
  // Object.assign, not `{ ...weightParams, quantization }`: V8 gives every object
  // spread from another and then given a key the other lacks a hidden class of its
  // own, and a model of a hundred thousand tensors then spends most of its time
  // collecting garbage.
  return Object.assign({}, weightParams, NO_STORAGE, emptied, storage);
}

/** `weightParams` stored as float32 `values`, every other storage cleared. */
export function withFloat32(weightParams: WeightParams, values: Float32Array): WeightParams {
  return withStorage(weightParams, { floatValue: values });
}

/** `weightParams` stored as half precision (rounded to nearest even), every other storage cleared. */
export function withFloat16(weightParams: WeightParams, values: Float32Array): WeightParams {
  return withFloat16Bytes(weightParams, encodeFloat16(values));
}

/**
 * `weightParams` stored as half-precision bytes already encoded (as by
 * {@link encodeFloat16WithPeak}), every other storage cleared.
 */
export function withFloat16Bytes(weightParams: WeightParams, bytes: Uint8Array): WeightParams {
  return withStorage(weightParams, { float16Value: bytes });
}

/**
 * `weightParams` stored as packed n-bit indices with per-channel linear
 * parameters (`w = q * scale[c] + bias[c]`).
 */
export function withLinear(weightParams: WeightParams, nbits: number, packed: Uint8Array, scale: ArrayLike<number>, bias: ArrayLike<number>): WeightParams {
  const quantization = create(QuantizationParamsSchema, {
    numberOfBits: BigInt(nbits),
    QuantizationType: {
      case: "linearQuantization",
      value: create(LinearQuantizationParamsSchema, { scale: Array.from(scale), bias: Array.from(bias) }),
    },
  });
  return withStorage(weightParams, { rawValue: packed, quantization });
}

/** `weightParams` stored as packed n-bit indices into a lookup table (`w = lut[q]`). */
export function withLut(weightParams: WeightParams, nbits: number, packed: Uint8Array, lut: ArrayLike<number>): WeightParams {
  const quantization = create(QuantizationParamsSchema, {
    numberOfBits: BigInt(nbits),
    QuantizationType: {
      case: "lookupTableQuantization",
      value: create(LookUpTableQuantizationParamsSchema, { floatValue: Array.from(lut) }),
    },
  });
  return withStorage(weightParams, { rawValue: packed, quantization });
}

/** `weightParams` stored as int8 values with one scale (`w = q * scale`). */
export function withInt8(weightParams: WeightParams, values: Int8Array, scale: number): WeightParams {
  const quantization = create(QuantizationParamsSchema, {
    numberOfBits: 8n,
    QuantizationType: { case: "linearQuantization", value: create(LinearQuantizationParamsSchema, { scale: [scale] }) },
  });
  return withStorage(weightParams, { int8RawValue: new Uint8Array(values.buffer, values.byteOffset, values.length), quantization });
}

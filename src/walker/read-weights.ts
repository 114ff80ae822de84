/**
 * The values of a WeightParams as float32 whatever its storage, and the parts of
 * n-bit storage checked against the tensor's shape. Above the codec because
 * decoding n-bit storage is the quantizer's dequantization, applied along the
 * channel axis the walker knows; the codec only says which storage is used.
 *
 * @packageDocumentation
 */
import type { WeightParams } from "../codec/model-types.js";
import { packedByteLength, unpackIndices } from "../codec/bit-pack.js";
import { decodeFloat16 } from "../codec/float16.js";
import { weightStorage } from "../codec/weight-storage.js";
import { QuantizeError } from "../errors.js";
import { channelLayout, type ChannelLayout } from "../quantizer/channel-layout.js";
import { dequantizeLinear, dequantizeLut } from "../quantizer/dequantize.js";

const EMPTY_FLOATS = new Float32Array(0);

/** Options of {@link readWeights}: the tensor the weights belong to, and where to write. */
export interface ReadWeightsOptions {
  /** The tensor's shape (from the layer); needed for `linear` and `lut` storage. @defaultValue none */
  readonly shape?: readonly number[];
  /** The channel axis of `shape` (1 for deconvolution weights). @defaultValue 0 */
  readonly axis?: 0 | 1;
  /** Where the weights are, for errors. @defaultValue none */
  readonly path?: string;
  /**
   * For decoded storages, write here (one value per weight) instead of a new
   * array; float32 storage is returned as it is. @defaultValue a new array
   */
  readonly into?: Float32Array;
}

/**
 * The values of `weightParams` as float32, whatever the storage. For quantized
 * storage the tensor's shape is needed: the packed payload does not say how many
 * values it holds, and per-channel parameters apply along the channel axis.
 *
 * @param weightParams - the weights
 * @param options - the tensor's shape and channel axis, a path for errors, an array to write into
 * @returns the values; for float32 storage the array itself, not a copy
 * @throws {@link QuantizeError} `invalid-weights` when the storage does not fit the
 *   shape; `invalid-option` when `into` does not hold one value per weight
 * @example
 * ```ts
 * const values = readWeights(weightParams, { shape: [64, 3, 3, 3], path: "conv1/weights" });
 * ```
 */
export function readWeights(weightParams: WeightParams, options: ReadWeightsOptions = {}): Float32Array {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    // The former positional form, readWeights(weightParams, shape, axis, path, into), from JavaScript.
    throw new QuantizeError(
      "invalid-option",
      `readWeights takes its options as an object, e.g. readWeights(weightParams, { shape, axis, path }), got ${Array.isArray(options) ? "an array" : typeof options}`,
    );
  }
  const { shape, axis = 0, path, into } = options;
  const where = path === undefined ? {} : { path };
  const target = into === undefined ? {} : { into };
  const storage = weightStorage(weightParams, path);
  switch (storage.kind) {
    case "empty":
      return EMPTY_FLOATS;
    case "float32":
      return weightParams.floatValue;
    case "float16":
      return decodeFloat16(weightParams.float16Value, into);
    case "int8": {
      const q = weightParams.quantization?.QuantizationType;
      const scale = q?.case === "linearQuantization" ? (q.value.scale[0] ?? 0) : 0;
      if (into !== undefined && into.length !== weightParams.int8RawValue.length) {
        throw new QuantizeError("invalid-option", `cannot read ${weightParams.int8RawValue.length} int8 values into an array of ${into.length}`, where);
      }
      const out = into ?? new Float32Array(weightParams.int8RawValue.length);
      const raw = new Int8Array(weightParams.int8RawValue.buffer, weightParams.int8RawValue.byteOffset, out.length);
      for (let i = 0; i < out.length; i++) out[i] = (raw[i] as number) * scale;
      return out;
    }
    case "linear":
    case "lut": {
      if (shape === undefined) {
        throw new QuantizeError("invalid-weights", "quantized weights can only be read with the tensor shape", where);
      }
      const parts = readQuantized(weightParams, shape, axis, path);
      return parts.kind === "lut"
        ? dequantizeLut(parts.indices, parts.lut, { ...where, ...target })
        : dequantizeLinear(parts.indices, parts.scale, parts.bias, parts.layout, { ...where, ...target });
    }
  }
}

/** The parts of n-bit storage, checked against the tensor's shape (see {@link readQuantized}). */
export type QuantizedParts =
  | {
      /** Linear quantization: `w = scale[c] * q + bias[c]`. */
      readonly kind: "linear";
      /** One index per value, in tensor order. */
      readonly indices: Uint8Array;
      /** Per-channel step, one entry per channel of `layout`. */
      readonly scale: readonly number[];
      /** Per-channel offset, one entry per channel of `layout`. */
      readonly bias: readonly number[];
      /** How the tensor splits into the channels of `scale` and `bias` (one channel when they hold one entry). */
      readonly layout: ChannelLayout;
    }
  | {
      /** A lookup table: `w = lut[q]`. */
      readonly kind: "lut";
      /** One index per value, in tensor order. */
      readonly indices: Uint8Array;
      /** The `2^nbits` table entries. */
      readonly lut: readonly number[];
    };

/**
 * The unpacked indices and parameters of n-bit (`linear` or `lut`) storage, for a
 * caller that works on them directly instead of on float32 values (as the error
 * report does). 8-bit indices are a view of the payload, not a copy.
 *
 * @param weightParams - weights stored as `linear` or `lut`
 * @param shape - the tensor's shape (from the layer)
 * @param axis - the channel axis of `shape` @defaultValue 0
 * @param path - where, for errors
 * @returns the indices and parameters
 * @throws {@link QuantizeError} `invalid-weights` when the storage is not n-bit or
 *   does not fit the shape
 */
export function readQuantized(weightParams: WeightParams, shape: readonly number[], axis: 0 | 1 = 0, path?: string): QuantizedParts {
  const where = path === undefined ? {} : { path };
  const storage = weightStorage(weightParams, path);
  if (storage.kind !== "linear" && storage.kind !== "lut") {
    throw new QuantizeError("invalid-weights", `expected n-bit storage, found ${storage.kind}`, where);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = packedByteLength(count, storage.nbits);
  if (weightParams.rawValue.length !== expected) {
    throw new QuantizeError(
      "invalid-weights",
      `rawValue has ${weightParams.rawValue.length} bytes; ${count} values of ${storage.nbits} bits take ${expected}`,
      where,
    );
  }
  const indices = unpackIndices(weightParams.rawValue, storage.nbits, count);
  const q = weightParams.quantization?.QuantizationType;
  if (q?.case === "lookupTableQuantization") {
    if (q.value.floatValue.length !== 2 ** storage.nbits) {
      throw new QuantizeError(
        "invalid-weights",
        `lookup table has ${q.value.floatValue.length} entries; ${storage.nbits} bits need ${2 ** storage.nbits}`,
        where,
      );
    }
    return { kind: "lut", indices, lut: q.value.floatValue };
  }
  if (q?.case !== "linearQuantization") throw new QuantizeError("invalid-weights", "missing quantization parameters", where);
  const { scale, bias } = q.value;
  const layout = scale.length === 1 ? channelLayout([count], 0) : channelLayout(shape, axis);
  if (scale.length !== layout.channels || bias.length !== scale.length) {
    throw new QuantizeError(
      "invalid-weights",
      `linear quantization has ${scale.length} scales and ${bias.length} biases for ${layout.channels} channels`,
      where,
    );
  }
  return { kind: "linear", indices, scale, bias, layout };
}

import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { concatUint8Arrays } from "typed-array-utils";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import { markShapeChecked } from "./shape-checked.js";
import { checkFraming } from "./check-framing.js";
import { float32FromBytes } from "./float32-bytes.js";
import { mapWeightParams } from "./map-weight-params.js";
import type { Model } from "./model-types.js";
import { ModelSchema } from "../gen/Model_pb.js";
import { readVarint } from "./varint.js";
import { FLOAT_VALUE_FIELD, readSchema, WEIGHT_PARAMS_TYPE } from "./wire-schema.js";

/** Bytes a model can be decoded from. A Node `Buffer` is a `Uint8Array`. */
export type ModelBytes = Uint8Array | ArrayBuffer;

/**
 * Protobuf nesting allowed while decoding. Real networks nest a few levels
 * (pipeline > network > branch > network); the limit turns hostile nesting into an
 * error instead of a stack overflow.
 */
export const MAX_NESTING_DEPTH = 100;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

type UnknownField = { no: number; wireType: number; data: Uint8Array };

/** Options of {@link decodeModel}. */
export interface DecodeOptions {
  /**
   * Let the decoder change bytes inside `bytes`: floatValue records are renamed to
   * a field WeightParams does not use (so the generated schema serves, with no
   * variant to derive), and an unaligned float payload is shifted by up to 3 bytes
   * over its own record header instead of being copied, so weights cost no memory
   * beyond the input. `bytes` is no longer a valid model
   * afterwards: use it only when the buffer is yours and used for nothing else
   * (the Node file helpers do).
   * @defaultValue false
   */
  readonly reuseInput?: boolean;
}

/**
 * Decodes the bytes of an `.mlmodel` file. The inverse of {@link encodeModel}.
 *
 * Weight payloads are not copied where they can be shared: `floatValue`,
 * `float16Value`, `rawValue` and `int8RawValue` may be views of `bytes`, so do not
 * modify `bytes` while the model is in use. Fields this schema does not know are
 * kept and written back by {@link encodeModel}.
 *
 * @param bytes - the file's contents
 * @param options - see {@link DecodeOptions}
 * @returns the model
 * @throws {@link QuantizeError} `invalid-protobuf` when the bytes are not a
 *   well-formed model (see also {@link MAX_REPEATED_SCALARS}), or `bytes` is not a
 *   Uint8Array or ArrayBuffer, or is detached
 * @example
 * ```ts
 * const model = decodeModel(await readFile("model.mlmodel"));
 * ```
 */
export function decodeModel(bytes: ModelBytes, options: DecodeOptions = {}): Model {
  const input = inputBytes(bytes);
  const reuseInput = options?.reuseInput === true;
  const floatTags = checkFraming(ModelSchema, input, MAX_NESTING_DEPTH, reuseInput ? FLOAT_VALUE_WATCH : undefined);
  // floatValue must reach us as unknown-field records (zero-copy views). In a buffer
  // of our own, renaming the records to a field WeightParams lacks does that with the
  // generated schema; otherwise the schema without floatValue does, which costs
  // 15-25 ms to derive on first use.
  let schema: DescMessage = ModelSchema;
  let floatField = SPARE_FIELD;
  if (floatTags.located) {
    for (const at of floatTags.tags) input[at] = SPARE_FIELD * 8 + ((input[at] as number) & 7);
  } else {
    schema = readSchema();
    floatField = FLOAT_VALUE_FIELD;
  }
  let decoded: object;
  try {
    decoded = fromBinary(schema, input, { readUnknownFields: true, recursionLimit: MAX_NESTING_DEPTH });
  } catch (cause) {
    throw new QuantizeError("invalid-protobuf", `not a valid Core ML model: ${messageOf(cause)}`, { cause });
  }
  // The messages are fresh: assembling floatValue in place is safe.
  return markShapeChecked(
    mapWeightParams(decoded, (weightParams) => {
      const target = weightParams as { floatValue?: Float32Array; $unknown?: UnknownField[] };
      target.floatValue = takeFloatValue(target, floatField, reuseInput);
      return weightParams;
    }) as unknown as Model,
  );
}

/**
 * A WeightParams field number the schema does not use, with a one-byte tag like
 * floatValue's: the in-place rename target.
 */
const SPARE_FIELD = 3;

/** floatValue records to rename; beyond a million (one record per value) the schema route is cheaper. */
const FLOAT_VALUE_WATCH = { typeName: WEIGHT_PARAMS_TYPE, field: FLOAT_VALUE_FIELD, spare: SPARE_FIELD, limit: 1 << 20 } as const;

/** Removes the floatValue records (field `floatField`) from `$unknown` and joins their values. */
function takeFloatValue(message: { $unknown?: UnknownField[] }, floatField: number, reuseInput: boolean): Float32Array {
  const unknown = message.$unknown;
  if (unknown === undefined) return new Float32Array(0);
  const chunks: Uint8Array[] = [];
  const rest: UnknownField[] = [];
  let only: UnknownField | undefined;
  for (const field of unknown) {
    if (field.no !== floatField) rest.push(field);
    else {
      chunks.push(floatPayload(field));
      only = field;
    }
  }
  if (chunks.length === 0) return new Float32Array(0);
  if (rest.length > 0) message.$unknown = rest;
  else delete message.$unknown;
  if (chunks.length > 1) return float32FromBytes(concatUint8Arrays(...chunks));
  const payload = chunks[0] as Uint8Array;
  if (reuseInput && only !== undefined) {
    const aligned = alignInPlace(only.data, payload);
    if (aligned !== undefined) return aligned;
  }
  return float32FromBytes(payload);
}

/**
 * Moves an unaligned payload back to a 4-byte boundary over the start of its own
 * record (the tag and length bytes, no longer needed), or undefined when the
 * header is too short to absorb the shift or the host is big-endian.
 */
function alignInPlace(record: Uint8Array, payload: Uint8Array): Float32Array | undefined {
  const shift = payload.byteOffset % 4;
  // Bytes before the payload in this record: its length varint, plus at least one tag byte.
  const header = payload.byteOffset - record.byteOffset + 1;
  if (shift === 0 || shift > header || !LITTLE_ENDIAN) return undefined;
  const target = payload.byteOffset - shift;
  new Uint8Array(payload.buffer).copyWithin(target, payload.byteOffset, payload.byteOffset + payload.byteLength);
  return new Float32Array(payload.buffer, target, payload.byteLength / 4);
}

function floatPayload(field: UnknownField): Uint8Array {
  if (field.wireType === WireType.Bit32) return field.data;
  if (field.wireType !== WireType.LengthDelimited) {
    throw new QuantizeError("invalid-protobuf", `WeightParams.floatValue has wire type ${field.wireType}, expected 2 (packed) or 5 (fixed32)`);
  }
  // `data` is the record after its tag: a varint length, then the payload.
  const cursor = { pos: 0 };
  const length = readVarint(field.data, cursor);
  const payload = field.data.subarray(cursor.pos);
  if (payload.byteLength !== length || length % 4 !== 0) {
    throw new QuantizeError("invalid-protobuf", `WeightParams.floatValue payload of ${payload.byteLength} bytes is not a whole number of floats`);
  }
  return payload;
}

/**
 * What the decoder threw, for the message: its `message`, read without
 * `instanceof Error` (an error from another realm, as TextDecoder's in a vm
 * context, fails it) and without a chance to throw.
 */
function messageOf(cause: unknown): string {
  try {
    const message: unknown = (cause as { message?: unknown } | null | undefined)?.message;
    if (typeof message === "string") return message;
  } catch {
    // a throwing getter: described by its shape below
  }
  return describeValue(cause);
}

/**
 * The byteLength getters of ArrayBuffer and SharedArrayBuffer (where the runtime has
 * one): each throws for anything but a real buffer of its kind, from any realm.
 */
const bufferByteLengths = [ArrayBuffer, globalThis.SharedArrayBuffer]
  .map((type) => (type === undefined ? undefined : Object.getOwnPropertyDescriptor(type.prototype, "byteLength")?.get))
  .filter((get) => get !== undefined);

function isBuffer(value: unknown): value is ArrayBufferLike {
  return bufferByteLengths.some((byteLength) => {
    try {
      byteLength.call(value);
      return true;
    } catch {
      return false;
    }
  });
}

/** `bytes` as a Uint8Array over the same memory; refuses anything else (a string, null, a number). */
function inputBytes(bytes: unknown): Uint8Array {
  const expected = "decodeModel expects the bytes of an .mlmodel file (a Uint8Array such as a Node Buffer, or an ArrayBuffer)";
  // isView, not instanceof: a buffer from another realm (iframe, vm) fails instanceof.
  const view = ArrayBuffer.isView(bytes);
  if (!view && !isBuffer(bytes)) throw new QuantizeError("invalid-protobuf", `${expected}, got ${describeValue(bytes)}`);
  try {
    return view ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  } catch (cause) {
    // The one way to fail here: the memory was handed to another thread (transferred), which detaches it.
    throw new QuantizeError(
      "invalid-protobuf",
      `${expected}, got ${view ? "a view of " : ""}a detached ArrayBuffer (its memory was transferred elsewhere, e.g. to a worker)`,
      { cause },
    );
  }
}

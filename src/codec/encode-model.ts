/**
 * Model -> bytes without ever growing a buffer or copying a weight: the fields are
 * written, in field-number order, into a {@link ChunkWriter}, which gathers small
 * pieces in blocks and keeps weight payloads by reference, so the output is one
 * exact allocation, or a few hundred chunks written to a file in turn with no
 * output buffer at all.
 *
 * The writer is the project's own: the bytes are protobuf-es's `toBinary`'s, byte
 * for byte, but toBinary looks at every field of a message, and a layer has some
 * 170 (one per layer kind), so a model of a million small layers took seconds in it.
 * Here a oneof costs one look, whatever its number of cases.
 *
 * @packageDocumentation
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import { ChunkWriter } from "./chunk-writer.js";
import { float32ToBytes } from "./float32-bytes.js";
import type { Model } from "./model-types.js";
import { ModelSchema } from "../gen/Model_pb.js";

/** An encoded model as consecutive pieces. */
export interface EncodedChunks {
  /** The pieces, in order; some are views of the model's weight arrays. */
  readonly chunks: readonly Uint8Array[];
  /** Their total length. */
  readonly byteLength: number;
}

type MessageObject = { readonly $typeName: string; [field: string]: unknown };
type OneofValue = { readonly case: string | undefined; readonly value?: unknown };
type UnknownField = { readonly no: number; readonly wireType: number; readonly data: Uint8Array };

/** `FieldDescriptorProto`'s presence: implicit (proto3 scalars: written unless zero). */
const IMPLICIT_PRESENCE = 2;

/**
 * Encodes a model as the bytes of an `.mlmodel` file. The inverse of
 * {@link decodeModel}: fields in field-number order, repeated scalars packed,
 * unknown fields last, so a canonically encoded file round-trips byte for byte.
 *
 * @param model - the model; not modified
 * @returns the encoded bytes
 * @throws {@link QuantizeError} `unsupported-model` for a field whose value its
 *   type cannot hold (in a model built by hand: an int32 of 2^40, a string in a
 *   number field)
 * @example
 * ```ts
 * await writeFile("out.mlmodel", encodeModel(model));
 * ```
 */
export function encodeModel(model: Model): Uint8Array {
  const { chunks, byteLength } = encodeModelChunks(model);
  return joinChunks(chunks, byteLength);
}

/**
 * Encodes a model as a list of chunks whose concatenation is
 * {@link encodeModel}'s result: for writing large models without holding the
 * whole output in memory. Chunks may be views of the model's weight arrays, so
 * write them before changing the model.
 *
 * @param model - the model; not modified
 * @returns the chunks and their total length
 * @throws {@link QuantizeError} `unsupported-model` as {@link encodeModel}
 */
export function encodeModelChunks(model: Model): EncodedChunks {
  const writer = new ChunkWriter();
  writeFields(writer, ModelSchema, model as unknown as MessageObject);
  return writer.finish();
}

/**
 * Any message of the schema, encoded as {@link encodeModel} encodes it inside a
 * model: the same bytes as protobuf-es's `toBinary`.
 *
 * @internal
 * @param desc - the message type
 * @param message - the message
 * @returns its encoding
 */
export function encodeMessage(desc: DescMessage, message: object): Uint8Array {
  const writer = new ChunkWriter();
  writeFields(writer, desc, message as MessageObject);
  const { chunks, byteLength } = writer.finish();
  return joinChunks(chunks, byteLength);
}

function joinChunks(chunks: readonly Uint8Array[], byteLength: number): Uint8Array {
  const out = new Uint8Array(byteLength);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Writes one field of a message, if it holds a value. */
type FieldWriter = (writer: ChunkWriter, message: MessageObject) => void;

/** How a message type is written: compiled once per type. */
interface MessagePlan {
  /** Fields outside oneofs, in field-number order. */
  readonly fields: readonly PlannedField[];
  /** Each oneof: its name, and a writer for each case. */
  readonly oneofs: readonly { readonly name: string; readonly cases: ReadonlyMap<string, PlannedField> }[];
}

const plans = new Map<DescMessage, MessagePlan>();

function planOf(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc);
  if (plan === undefined) {
    const byNumber = (a: { number: number }, b: { number: number }): number => a.number - b.number;
    plan = {
      fields: desc.fields
        .filter((f) => f.oneof === undefined)
        .map((f) => ({ number: f.number, write: compileField(f) }))
        .sort(byNumber),
      oneofs: desc.oneofs.map((oneof) => ({
        name: oneof.localName,
        cases: new Map(oneof.fields.map((f) => [f.localName, { number: f.number, write: compileField(f) }])),
      })),
    };
    plans.set(desc, plan);
  }
  return plan;
}

type PlannedField = { readonly number: number; readonly write: FieldWriter };

/** Writes a message's fields (not its own tag or length): set fields in number order, then unknown fields. */
function writeFields(writer: ChunkWriter, desc: DescMessage, message: MessageObject): void {
  const { fields, oneofs } = planOf(desc);
  // The set case of each oneof is merged into the other fields by number. A message
  // has one oneof or none, mostly: that case needs no list (this runs for every message).
  let single: PlannedField | undefined;
  let several: PlannedField[] | undefined;
  for (const oneof of oneofs) {
    const value = message[oneof.name] as OneofValue | undefined;
    const field = value?.case === undefined ? undefined : oneof.cases.get(value.case);
    if (field === undefined) continue;
    if (single === undefined) single = field;
    else (several ??= [single]).push(field);
  }
  if (several === undefined) {
    for (const field of fields) {
      if (single !== undefined && single.number < field.number) {
        single.write(writer, message);
        single = undefined;
      }
      field.write(writer, message);
    }
    single?.write(writer, message);
  } else {
    several.sort((a, b) => a.number - b.number);
    let next = 0;
    for (const field of fields) {
      for (; next < several.length && (several[next] as PlannedField).number < field.number; next++) (several[next] as PlannedField).write(writer, message);
      field.write(writer, message);
    }
    for (; next < several.length; next++) (several[next] as PlannedField).write(writer, message);
  }
  const unknown = message.$unknown as readonly UnknownField[] | undefined;
  if (unknown !== undefined) {
    for (const { no, wireType, data } of unknown) {
      writer.tag(no, wireType);
      writer.raw(data);
    }
  }
}

function compileField(field: DescField): FieldWriter {
  const name = field.localName;
  const number = field.number;
  if (field.oneof !== undefined) {
    // A set case is written whatever its value, zero included.
    const oneofName = field.oneof.localName;
    const writeValue = singularValue(field);
    return (writer, message) => writeValue(writer, (message[oneofName] as OneofValue).value);
  }
  switch (field.fieldKind) {
    case "message": {
      const writeValue = singularValue(field);
      return (writer, message) => {
        const value = message[name];
        if (value !== undefined && Object.hasOwn(message, name)) writeValue(writer, value);
      };
    }
    case "scalar":
    case "enum": {
      const writeValue = singularValue(field);
      const isZero = field.presence === IMPLICIT_PRESENCE ? zeroTest(field) : undefined;
      return (writer, message) => {
        const value = message[name];
        if (isZero === undefined ? value !== undefined && Object.hasOwn(message, name) : !isZero(value)) writeValue(writer, value);
      };
    }
    case "list": {
      if (field.listKind === "message") {
        const child = field.message;
        return (writer, message) => {
          for (const item of message[name] as readonly MessageObject[]) writeChild(writer, number, child, item);
        };
      }
      const type = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      const write = scalarWriter(type, field);
      if (!field.packed) {
        const wireType = wireTypeOf(type);
        return (writer, message) => {
          for (const item of message[name] as readonly unknown[]) {
            writer.tag(number, wireType);
            write(writer, item);
          }
        };
      }
      return (writer, message) => writePacked(writer, number, type, write, message[name] as ArrayLike<unknown>);
    }
    case "map": {
      const keyType = field.mapKey;
      const writeKey = scalarWriter(keyType, field);
      const keyOf = mapKeyParser(keyType);
      const valueType = field.mapKind === "enum" ? ScalarType.INT32 : field.mapKind === "scalar" ? field.scalar : undefined;
      const writeScalarValue = valueType === undefined ? undefined : scalarWriter(valueType, field);
      const child = field.mapKind === "message" ? field.message : undefined;
      return (writer, message) => {
        const record = message[name] as Readonly<Record<string, unknown>>;
        for (const key of Object.keys(record)) {
          writer.tag(number, WireType.LengthDelimited);
          const prefix = writer.fork();
          const start = writer.position;
          writer.tag(1, wireTypeOf(keyType));
          writeKey(writer, keyOf(key));
          if (child !== undefined) writeChild(writer, 2, child, record[key] as MessageObject);
          else if (valueType !== undefined && writeScalarValue !== undefined) {
            writer.tag(2, wireTypeOf(valueType));
            writeScalarValue(writer, record[key]);
          }
          writer.join(prefix, start);
        }
      };
    }
  }
}

/** Writes a singular field's tag and value. */
function singularValue(field: DescField): (writer: ChunkWriter, value: unknown) => void {
  if (field.fieldKind === "message") {
    const child = field.message;
    return (writer, value) => writeChild(writer, field.number, child, value as MessageObject);
  }
  if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") throw new Error(`coreml-quantize: ${field.toString()} is not singular`);
  const type = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar;
  const write = scalarWriter(type, field);
  const wireType = wireTypeOf(type);
  return (writer, value) => {
    writer.tag(field.number, wireType);
    write(writer, value);
  };
}

/** A message in a length-delimited record. */
function writeChild(writer: ChunkWriter, number: number, desc: DescMessage, value: MessageObject): void {
  writer.tag(number, WireType.LengthDelimited);
  const prefix = writer.fork();
  const start = writer.position;
  writeFields(writer, desc, value);
  writer.join(prefix, start);
}

/** A packed repeated scalar: one record, unless empty. A Float32Array of floats goes out as its bytes, uncopied. */
function writePacked(writer: ChunkWriter, number: number, type: ScalarType, write: ScalarWrite, items: ArrayLike<unknown>): void {
  if (items.length === 0) return;
  writer.tag(number, WireType.LengthDelimited);
  if (type === ScalarType.FLOAT && items instanceof Float32Array) {
    writer.bytes(float32ToBytes(items));
    return;
  }
  const width = wireTypeOf(type) === WireType.Bit32 ? 4 : wireTypeOf(type) === WireType.Bit64 ? 8 : 0;
  if (width > 0) {
    writer.varint(width * items.length);
    for (let i = 0; i < items.length; i++) write(writer, items[i]);
    return;
  }
  const prefix = writer.fork();
  const start = writer.position;
  for (let i = 0; i < items.length; i++) write(writer, items[i]);
  writer.join(prefix, start);
}

function wireTypeOf(type: ScalarType): number {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    default:
      return WireType.Varint;
  }
}

/** Whether a proto3 scalar holds its zero value (and so is not written), as protobuf-es decides it. */
function zeroTest(field: DescField): (value: unknown) => boolean {
  if (field.fieldKind === "enum") {
    const zero = field.enum.values[0]?.number ?? 0;
    return (value) => value === zero;
  }
  switch (field.fieldKind === "scalar" ? field.scalar : undefined) {
    case ScalarType.BOOL:
      return (value) => value === false;
    case ScalarType.STRING:
      return (value) => value === "";
    case ScalarType.BYTES:
      return (value) => value instanceof Uint8Array && value.byteLength === 0;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return (value) => Object.is(value, 0);
    default:
      // biome-ignore lint/suspicious/noDoubleEquals: integers arrive as numbers, bigints or strings; == 0 holds for 0, 0n and "0" alike.
      return (value) => value == 0;
  }
}

type ScalarWrite = (writer: ChunkWriter, value: unknown) => void;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Writes a scalar value (no tag) of `type`; refuses a value the type cannot hold, naming the field. */
function scalarWriter(type: ScalarType, field: DescField): ScalarWrite {
  const refuse = (value: unknown): never => {
    throw new QuantizeError(
      "unsupported-model",
      `cannot encode ${field.parent.typeName}.${field.name}: ${describeValue(value)} is not a valid ${ScalarType[type].toLowerCase()}`,
    );
  };
  const int32 = (value: unknown): number => {
    const n = typeof value === "string" ? Number(value) : value;
    return typeof n === "number" && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : refuse(value);
  };
  const uint32 = (value: unknown): number => {
    const n = typeof value === "string" ? Number(value) : value;
    return typeof n === "number" && Number.isInteger(n) && n >= 0 && n < 2 ** 32 ? n : refuse(value);
  };
  const int64 = (value: unknown, min: bigint, max: bigint): bigint => {
    let n: bigint | undefined;
    try {
      n = typeof value === "bigint" ? value : BigInt(value as string | number);
    } catch {
      // not an integer: refused below
    }
    return n !== undefined && n >= min && n <= max ? n : refuse(value);
  };
  switch (type) {
    case ScalarType.DOUBLE:
      return (writer, value) => writer.fixed64(Number(value));
    case ScalarType.FLOAT:
      return (writer, value) => {
        const n = typeof value === "string" ? Number(value) : value;
        if (typeof n !== "number" || (Number.isNaN(n) && value !== "NaN" && typeof value === "string")) refuse(value);
        // NaN and the infinities are float32 values; a finite number beyond float32's range is not.
        if (Number.isFinite(n) && !Number.isFinite(Math.fround(n as number))) refuse(value);
        writer.fixed32(n as number, true);
      };
    case ScalarType.INT32:
      return (writer, value) => {
        const n = int32(value);
        if (n >= 0) writer.varint(n);
        else writer.varint64(BigInt.asUintN(64, BigInt(n)));
      };
    case ScalarType.UINT32:
      return (writer, value) => writer.varint(uint32(value));
    case ScalarType.SINT32:
      return (writer, value) => {
        const n = int32(value);
        writer.varint(n >= 0 ? 2 * n : -2 * n - 1);
      };
    case ScalarType.FIXED32:
      return (writer, value) => writer.fixed32(uint32(value), false);
    case ScalarType.SFIXED32:
      return (writer, value) => writer.fixed32(int32(value), false);
    case ScalarType.INT64:
      return (writer, value) => writer.varint64(BigInt.asUintN(64, int64(value, INT64_MIN, INT64_MAX)));
    case ScalarType.UINT64:
      return (writer, value) => writer.varint64(int64(value, 0n, UINT64_MAX));
    case ScalarType.SINT64:
      return (writer, value) => {
        const n = int64(value, INT64_MIN, INT64_MAX);
        writer.varint64(n >= 0n ? 2n * n : -2n * n - 1n);
      };
    case ScalarType.FIXED64:
      return (writer, value) => writer.fixed64(int64(value, 0n, UINT64_MAX));
    case ScalarType.SFIXED64:
      return (writer, value) => writer.fixed64(BigInt.asUintN(64, int64(value, INT64_MIN, INT64_MAX)));
    case ScalarType.BOOL:
      return (writer, value) => writer.varint(value ? 1 : 0);
    case ScalarType.STRING:
      return (writer, value) => writer.string(typeof value === "string" ? value : String(value));
    case ScalarType.BYTES:
      return (writer, value) => (value instanceof Uint8Array ? writer.bytes(value) : refuse(value));
  }
}

/** Map keys are object keys, so strings: back to the key type, as protobuf-es converts them. */
function mapKeyParser(type: ScalarType): (key: string) => unknown {
  switch (type) {
    case ScalarType.STRING:
      return (key) => key;
    case ScalarType.BOOL:
      return (key) => (key === "true" ? true : key === "false" ? false : key);
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return (key) => key;
    default:
      return (key) => {
        const n = Number.parseInt(key, 10);
        return Number.isFinite(n) ? n : key;
      };
  }
}

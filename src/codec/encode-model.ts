/**
 * Model -> bytes without ever growing a buffer: messages that hold weights are
 * written as a list of chunks (framing bytes, and the weight payloads themselves,
 * uncopied), everything else by protobuf-es. The total size is known before any
 * byte is copied, so the output is one exact allocation, or a list of chunks
 * written to a file in turn with no output buffer at all.
 *
 * @packageDocumentation
 */
import { toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { float32ToBytes } from "./float32-bytes.js";
import type { Model, QuantizationParams } from "./model-types.js";
import { ModelSchema } from "../gen/Model_pb.js";
import { WEIGHT_PARAMS_TYPE, weightPathFields } from "./wire-schema.js";

/** An encoded model as consecutive pieces. */
export interface EncodedChunks {
  /** The pieces, in order; some are views of the model's weight arrays. */
  readonly chunks: readonly Uint8Array[];
  /** Their total length. */
  readonly byteLength: number;
}

type MessageObject = { readonly $typeName: string; [field: string]: unknown };

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/**
 * Encodes a model as the bytes of an `.mlmodel` file. The inverse of
 * {@link decodeModel}: fields in field-number order, repeated scalars packed,
 * unknown fields last, so a canonically encoded file round-trips byte for byte.
 *
 * @param model - the model; not modified
 * @returns the encoded bytes
 * @example
 * ```ts
 * await writeFile("out.mlmodel", encodeModel(model));
 * ```
 */
export function encodeModel(model: Model): Uint8Array {
  const { chunks, byteLength } = encodeModelChunks(model);
  const out = new Uint8Array(byteLength);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Encodes a model as a list of chunks whose concatenation is
 * {@link encodeModel}'s result: for writing large models without holding the
 * whole output in memory. Chunks may be views of the model's weight arrays, so
 * write them before changing the model.
 *
 * @param model - the model; not modified
 * @returns the chunks and their total length
 */
export function encodeModelChunks(model: Model): EncodedChunks {
  const writer = new ChunkWriter();
  // The generated schema serves: WeightParams, the one message whose float field
  // differs in memory (a Float32Array), is written by hand below.
  writeMessage(writer, ModelSchema, model as unknown as MessageObject);
  return writer.finish();
}

/** Collects chunks; small framing bytes are gathered into shared scratch blocks. */
class ChunkWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;
  private scratch = new Uint8Array(4096);
  private scratchStart = 0;
  private scratchEnd = 0;

  get position(): number {
    return this.length;
  }

  /** Appends a chunk by reference. */
  chunk(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.flushScratch();
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  varint(value: number): void {
    if (this.scratch.length - this.scratchEnd < 10) {
      this.flushScratch();
      this.scratch = new Uint8Array(4096);
      this.scratchStart = 0;
      this.scratchEnd = 0;
    }
    let v = value;
    while (v >= 0x80) {
      this.scratch[this.scratchEnd++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.scratch[this.scratchEnd++] = v;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Marks a point to come back to: the length prefix of what follows is written there. */
  fork(): number {
    this.flushScratch();
    this.chunks.push(EMPTY); // placeholder for the length prefix
    return this.chunks.length - 1;
  }

  /** Fills the placeholder of `fork` with the length of everything written since. */
  join(index: number, startLength: number): void {
    this.flushScratch();
    const length = this.length - startLength;
    const prefix = varintBytes(length);
    this.chunks[index] = prefix;
    this.length += prefix.length;
  }

  finish(): EncodedChunks {
    this.flushScratch();
    return { chunks: this.chunks, byteLength: this.length };
  }

  private flushScratch(): void {
    if (this.scratchEnd === this.scratchStart) return;
    const piece = this.scratch.subarray(this.scratchStart, this.scratchEnd);
    this.chunks.push(piece);
    this.length += piece.length;
    this.scratchStart = this.scratchEnd;
  }
}

const EMPTY = new Uint8Array(0);

function varintBytes(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

let pathFieldsTable: ReadonlyMap<string, readonly DescField[]> | undefined;
const pathFields = (): ReadonlyMap<string, readonly DescField[]> => (pathFieldsTable ??= weightPathFields(ModelSchema));

/** Writes one message's fields (not its own tag or length). */
function writeMessage(writer: ChunkWriter, desc: DescMessage, message: MessageObject): void {
  if (desc.typeName === WEIGHT_PARAMS_TYPE) {
    writeWeightParams(writer, desc, message);
    return;
  }
  const own = pathFields().get(desc.typeName);
  if (own === undefined || own.length === 0) {
    writer.chunk(toBinary(desc, message));
    return;
  }
  // Everything but the fields that lead to weights, by protobuf-es; then those
  // fields merged in by field number. Unknown fields stay last, as protobuf-es puts them.
  const rest: Record<string, unknown> = { ...message };
  for (const field of own) {
    if (field.oneof !== undefined) {
      const oneof = message[field.oneof.localName] as { case?: string };
      if (oneof.case === field.localName) rest[field.oneof.localName] = { case: undefined };
    } else if (field.fieldKind === "list") {
      rest[field.localName] = [];
    } else {
      delete rest[field.localName];
    }
  }
  const records = splitRecords(toBinary(desc, rest as MessageObject));
  const known = new Set(desc.fields.map((f) => f.number));
  const sorted = [...own].sort((a, b) => a.number - b.number);
  let r = 0;
  for (const field of sorted) {
    while (r < records.length && known.has((records[r] as WireRecord).field) && (records[r] as WireRecord).field < field.number) {
      writer.chunk((records[r] as WireRecord).bytes);
      r++;
    }
    writeField(writer, field, message);
  }
  for (; r < records.length; r++) writer.chunk((records[r] as WireRecord).bytes);
}

function writeField(writer: ChunkWriter, field: DescField, message: MessageObject): void {
  const child = (field.fieldKind === "message" || field.fieldKind === "list") ? field.message : undefined;
  if (child === undefined) return;
  let values: MessageObject[];
  if (field.oneof !== undefined) {
    const oneof = message[field.oneof.localName] as { case?: string; value?: MessageObject };
    values = oneof.case === field.localName && oneof.value !== undefined ? [oneof.value] : [];
  } else if (field.fieldKind === "list") {
    values = message[field.localName] as MessageObject[];
  } else {
    const value = message[field.localName] as MessageObject | undefined;
    values = value === undefined ? [] : [value];
  }
  for (const value of values) {
    writer.tag(field.number, WIRE_LENGTH_DELIMITED);
    const index = writer.fork();
    const start = writer.position;
    writeMessage(writer, child, value);
    writer.join(index, start);
  }
}

/** WeightParams by hand: its payloads go out as views, never copied here. */
function writeWeightParams(writer: ChunkWriter, desc: DescMessage, wp: MessageObject): void {
  const bytesField = (number: number, value: Uint8Array): void => {
    if (value.length === 0) return;
    writer.tag(number, WIRE_LENGTH_DELIMITED);
    writer.varint(value.length);
    writer.chunk(value);
  };
  bytesField(1, float32ToBytes(wp["floatValue"] as Float32Array));
  bytesField(2, wp["float16Value"] as Uint8Array);
  bytesField(30, wp["rawValue"] as Uint8Array);
  bytesField(31, wp["int8RawValue"] as Uint8Array);
  const quantization = wp["quantization"] as MessageObject | undefined;
  const quantizationField = desc.fields.find((f) => f.number === 40);
  if (quantization !== undefined && quantizationField?.fieldKind === "message") {
    writer.tag(40, WIRE_LENGTH_DELIMITED);
    const encoded = encodeQuantizationParams(quantization as unknown as QuantizationParams) ?? toBinary(quantizationField.message, quantization);
    writer.varint(encoded.length);
    writer.chunk(encoded);
  }
  if (wp["isUpdatable"] === true) {
    writer.tag(50, WIRE_VARINT);
    writer.varint(1);
  }
  const unknown = wp["$unknown"] as { no: number; wireType: number; data: Uint8Array }[] | undefined;
  for (const field of unknown ?? []) {
    writer.tag(field.no, field.wireType);
    writer.chunk(field.data);
  }
}

/**
 * QuantizationParams as protobuf-es writes it, byte for byte, but with each float
 * list written in one pass instead of value by value (protobuf-es checks and writes
 * every float on its own: a fifth of encoding an 8-bit model took that). Undefined
 * for a message with unknown fields, which protobuf-es then writes.
 *
 * @internal
 * @param params - the message
 * @returns its encoding, or undefined when it has unknown fields
 */
export function encodeQuantizationParams(params: QuantizationParams): Uint8Array | undefined {
  const message = params as unknown as MessageObject;
  const bits = message["numberOfBits"] as bigint;
  const type = message["QuantizationType"] as { case?: string; value?: MessageObject };
  if (message["$unknown"] !== undefined || type.value?.["$unknown"] !== undefined || bits >= 2n ** 53n) return undefined;
  // [field number, floats] of the oneof's message, in field-number order.
  const lists: [number, readonly number[]][] = type.case === "linearQuantization"
    ? [[1, type.value?.["scale"] as number[]], [2, type.value?.["bias"] as number[]]]
    : type.case === "lookupTableQuantization" ? [[1, type.value?.["floatValue"] as number[]]] : [];
  const listBytes = (floats: readonly number[]): number =>
    floats.length === 0 ? 0 : 1 + varintLength(4 * floats.length) + 4 * floats.length;
  const inner = lists.reduce((total, [, floats]) => total + listBytes(floats), 0);
  const oneofField = type.case === "linearQuantization" ? 101 : 102;
  const size = (bits === 0n ? 0 : 1 + varintLength(Number(bits)))
    + (type.case === undefined ? 0 : varintLength(oneofField * 8) + varintLength(inner) + inner);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  const varint = (value: number): void => {
    let v = value;
    while (v >= 0x80) {
      out[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[pos++] = v;
  };
  if (bits !== 0n) {
    varint(1 * 8 + WIRE_VARINT);
    varint(Number(bits));
  }
  if (type.case !== undefined) {
    varint(oneofField * 8 + WIRE_LENGTH_DELIMITED);
    varint(inner);
    for (const [field, floats] of lists) {
      if (floats.length === 0) continue;
      varint(field * 8 + WIRE_LENGTH_DELIMITED);
      varint(4 * floats.length);
      for (const value of floats) {
        view.setFloat32(pos, value, true);
        pos += 4;
      }
    }
  }
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) length++;
  return length;
}

interface WireRecord {
  readonly field: number;
  readonly bytes: Uint8Array;
}

/** Splits well-formed protobuf bytes (as protobuf-es wrote them) into whole records. */
function splitRecords(bytes: Uint8Array): WireRecord[] {
  const records: WireRecord[] = [];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  while (pos < bytes.length) {
    const start = pos;
    const tag = varint();
    switch (tag % 8) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const length = varint(); // read before adding: `pos += varint()` would use the old pos
        pos += length;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`coreml-quantize: unexpected wire type ${tag % 8} while encoding`);
    }
    records.push({ field: Math.floor(tag / 8), bytes: bytes.subarray(start, pos) });
  }
  return records;
}

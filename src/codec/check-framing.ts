/**
 * A cheap pass over the wire format before decoding, refusing at the first
 * offending byte what the decoder would take long or much memory to refuse, or
 * would not refuse at all:
 *
 * - a length beyond the bytes that remain (protobuf-es reads lengths as 32-bit
 *   numbers, so a declared length of 2^32 or more would wrap around and silently
 *   decode as something else);
 * - a tag no Core ML model holds: field number 0 (a file of zeros is refused at its
 *   first byte, not after the decoder has read it all), a field number above
 *   2^29 - 1, wire types 6 and 7, and groups (wire types 3 and 4: Core ML's schema
 *   is proto3, which has none);
 * - a repeated scalar field describing structure (shapes, sizes, strides, axes,
 *   blob names) with more than {@link MAX_REPEATED_SCALARS} entries in one message;
 * - more than {@link MAX_MESSAGES} messages in all.
 *
 * Records of message type are entered; weight payloads and other scalars are
 * stepped over by their length, so the pass costs a few operations per field, not
 * per weight (a capped packed field is counted byte by byte, and is short unless
 * it is refused).
 *
 * @packageDocumentation
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { QuantizeError } from "../errors.js";
import { Int64SetSchema, Int64VectorSchema, StringVectorSchema } from "../gen/DataStructures_pb.js";
import {
  TensorValue_RepeatedBoolsSchema,
  TensorValue_RepeatedBytesSchema,
  TensorValue_RepeatedDoublesSchema,
  TensorValue_RepeatedFloatsSchema,
  TensorValue_RepeatedIntsSchema,
  TensorValue_RepeatedLongIntsSchema,
  TensorValue_RepeatedStringsSchema,
} from "../gen/MIL_pb.js";
import { type ByteCursor, readVarint, truncatedAt } from "./varint.js";

/** The largest field number protobuf allows. */
const MAX_FIELD_NUMBER = 2 ** 29 - 1;

/**
 * Entries accepted in one repeated scalar field of one message, for the fields that
 * describe a model's structure rather than hold its data (checked by
 * {@link decodeModel}): real models have a few (a rank-5 shape, a concat of some
 * hundred inputs), while a packed field of a hundred million entries costs
 * gigabytes as JavaScript values (a one-byte 64-bit integer becomes a BigInt of
 * about 40 bytes).
 */
export const MAX_REPEATED_SCALARS = 1 << 16;

/**
 * Messages (and map entries) accepted in one model. Each decoded message costs some
 * 300 bytes of JavaScript heap, however few bytes it takes in the file (an empty
 * layer: 2 bytes, 291 in memory), so 8M of them are about 2.5 GB, over half of V8's
 * default heap of ~4 GB: past that, a hostile file of empty layers would crash V8
 * rather than be refused. A model of a million layers holds about 3M.
 */
export const MAX_MESSAGES = 1 << 23;

/**
 * Message types whose repeated scalar field is data of any length (class labels,
 * vocabularies, category sets, ML Program tensor values), so not capped.
 */
const DATA_CONTAINERS: ReadonlySet<string> = new Set(
  [
    StringVectorSchema,
    Int64VectorSchema,
    Int64SetSchema,
    TensorValue_RepeatedFloatsSchema,
    TensorValue_RepeatedDoublesSchema,
    TensorValue_RepeatedIntsSchema,
    TensorValue_RepeatedLongIntsSchema,
    TensorValue_RepeatedBoolsSchema,
    TensorValue_RepeatedStringsSchema,
    TensorValue_RepeatedBytesSchema,
  ].map((schema) => schema.typeName),
);

/**
 * Whether a repeated scalar field is capped by {@link MAX_REPEATED_SCALARS}: every
 * one is, except the fields that hold a model's data. Those are the float and
 * double fields, which in Core ML's schema are all data (weights and their
 * quantization parameters, mean images, GLM and SVM coefficients, scalers, feature
 * vectors) and take at most twice their bytes in memory, and the fields of the
 * schema's general-purpose containers ({@link DATA_CONTAINERS}).
 */
function isCapped(field: DescField): boolean {
  if (field.fieldKind !== "list" || field.listKind === "message") return false;
  if (field.listKind === "scalar" && (field.scalar === ScalarType.FLOAT || field.scalar === ScalarType.DOUBLE)) return false;
  return !DATA_CONTAINERS.has(field.parent.typeName);
}

/** Records of one field of one message type that {@link checkFraming} should locate. */
export interface FieldWatch {
  /** The message type, e.g. `CoreML.Specification.WeightParams`. */
  readonly typeName: string;
  /** The field whose records to locate. */
  readonly field: number;
  /** A field number that must not occur in that type for the locations to be returned. */
  readonly spare: number;
  /** At most this many records; beyond it no locations are returned. */
  readonly limit: number;
}

/**
 * What {@link checkFraming} found of the watched field: where its records' tags
 * are, or why it cannot say (the decoder then reads the field the slow way).
 */
export type WatchOutcome =
  | {
      /** Every record of the watched field was located. */
      readonly located: true;
      /** The offsets of their tags, each one byte (as for every field numbered below 16). */
      readonly tags: number[];
    }
  | {
      readonly located: false;
      /**
       * `not-watched`: no field was given to watch; `spare-field-used`: a record of
       * the spare field occurred (renaming records to it would merge them);
       * `wide-tag`: a watched record's tag took more than a byte; `over-limit`: more
       * than `limit` records.
       */
      readonly reason: "not-watched" | "spare-field-used" | "wide-tag" | "over-limit";
    };

/** A message (or map entry) being walked. */
interface Frame {
  /** The message type; undefined for a map entry. */
  readonly desc: DescMessage | undefined;
  /** Its fields by number (none for a map entry). */
  readonly fields: ReadonlyMap<number, DescField>;
  /** For a map entry whose values are messages: their type (field 2). */
  readonly mapValue: DescMessage | undefined;
  /** Where the message ends. */
  readonly end: number;
  /** Entries so far of each capped field, by field number. */
  counts: Map<number, number> | undefined;
}

/**
 * Checks the framing of `bytes` as a `root` message, and optionally locates the
 * records of one field.
 *
 * @param root - the message type of the whole buffer
 * @param bytes - the encoded message
 * @param maxDepth - nesting allowed (deeper nesting is left for the decoder to refuse)
 * @param watch - a field to locate
 * @returns the offsets of the watched records' tags, or why they are not given
 * @throws {@link QuantizeError} `invalid-protobuf` naming the offset and what is
 *   wrong: a length beyond the buffer, an impossible tag, a repeated scalar
 *   field with more than {@link MAX_REPEATED_SCALARS} entries (naming the message
 *   type and the field), more than {@link MAX_MESSAGES} messages
 */
export function checkFraming(root: DescMessage, bytes: Uint8Array, maxDepth: number, watch?: FieldWatch): WatchOutcome {
  const watched: number[] = [];
  let unlocated: Extract<WatchOutcome, { located: false }>["reason"] | undefined = watch === undefined ? "not-watched" : undefined;
  const stack: Frame[] = [messageFrame(root, bytes.length)];
  let messages = 1;
  // The read position, one object for the whole walk: readVarint advances it.
  const cursor: ByteCursor = { pos: 0 };
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (cursor.pos >= top.end) {
      if (cursor.pos > top.end) throw truncatedAt(top.end);
      stack.pop();
      continue;
    }
    const tagAt = cursor.pos;
    const tag = readVarint(bytes, cursor);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    assertPossibleTag(number, wireType, tagAt);
    if (unlocated === undefined && watch !== undefined && top.desc?.typeName === watch.typeName) {
      if (number === watch.spare) unlocated = "spare-field-used";
      else if (number === watch.field && cursor.pos - tagAt !== 1) unlocated = "wide-tag";
      else if (number === watch.field && watched.length >= watch.limit) unlocated = "over-limit";
      else if (number === watch.field) watched.push(tagAt);
    }
    const field = top.fields.get(number);
    switch (wireType) {
      case WireType.Varint:
        readVarint(bytes, cursor);
        break;
      case WireType.Bit64:
        cursor.pos += 8;
        break;
      case WireType.Bit32:
        cursor.pos += 4;
        break;
      case WireType.LengthDelimited: {
        const start = cursor.pos;
        const length = readVarint(bytes, cursor);
        if (length > top.end - cursor.pos) {
          throw new QuantizeError(
            "invalid-protobuf",
            `not a valid Core ML model: a record at offset ${start} declares ${length} bytes, but only ${top.end - cursor.pos} remain`,
          );
        }
        const child = top.desc === undefined ? (number === 2 ? top.mapValue : undefined) : childOf(field);
        const entries = field?.fieldKind === "map" && field.mapKind === "message" ? field.message : undefined;
        if ((child !== undefined || entries !== undefined) && stack.length < maxDepth && ++messages > MAX_MESSAGES) {
          throw new QuantizeError(
            "invalid-protobuf",
            `the model holds more than ${MAX_MESSAGES} messages (the record at offset ${tagAt} is one more); at most ${MAX_MESSAGES} are decoded (MAX_MESSAGES): each costs some 300 bytes of memory`,
          );
        }
        if (child !== undefined && stack.length < maxDepth) {
          stack.push(messageFrame(child, cursor.pos + length));
        } else if (entries !== undefined && stack.length < maxDepth) {
          stack.push({ desc: undefined, fields: NO_FIELDS, mapValue: entries, end: cursor.pos + length, counts: undefined });
        } else {
          if (field !== undefined && isCapped(field)) count(top, field, packedEntries(field, bytes, cursor.pos, cursor.pos + length), tagAt);
          cursor.pos += length;
        }
        if (cursor.pos > top.end) throw truncatedAt(top.end);
        continue;
      }
    }
    if (field !== undefined && isCapped(field)) count(top, field, 1, tagAt);
    if (cursor.pos > top.end) throw truncatedAt(top.end);
  }
  return unlocated === undefined ? { located: true, tags: watched } : { located: false, reason: unlocated };
}

/** Refuses a tag no Core ML model can hold. */
function assertPossibleTag(number: number, wireType: number, at: number): void {
  const refuse = (what: string): QuantizeError => new QuantizeError("invalid-protobuf", `not a valid Core ML model: ${what}`);
  if (number === 0) throw refuse(`field number 0 at offset ${at}`);
  if (number > MAX_FIELD_NUMBER) throw refuse(`field number ${number} at offset ${at}, above the largest protobuf allows (2^29 - 1)`);
  switch (wireType) {
    case WireType.StartGroup:
    case WireType.EndGroup:
      throw refuse(`a group (wire type ${wireType}) at offset ${at}; Core ML's schema has none`);
    case 6:
    case 7:
      throw refuse(`wire type ${wireType} at offset ${at}, which protobuf does not define`);
    default:
  }
}

/** Adds `entries` to the count of a capped field in `frame`; refuses past the cap. */
function count(frame: Frame, field: DescField, entries: number, at: number): void {
  frame.counts ??= new Map<number, number>();
  const total = (frame.counts.get(field.number) ?? 0) + entries;
  frame.counts.set(field.number, total);
  if (total > MAX_REPEATED_SCALARS) {
    const type = field.parent.typeName.slice(field.parent.file.proto.package.length + 1);
    throw new QuantizeError(
      "invalid-protobuf",
      `not a valid Core ML model: ${type}.${field.name} has ${total} entries (the record at offset ${at}); at most ${MAX_REPEATED_SCALARS} are accepted (MAX_REPEATED_SCALARS)`,
    );
  }
}

/** Entries in a length-delimited record of a repeated scalar field: one string or bytes, or a packed run. */
function packedEntries(field: DescField, bytes: Uint8Array, start: number, end: number): number {
  if (field.fieldKind !== "list" || field.listKind === "message") return 1;
  if (field.listKind === "scalar") {
    switch (field.scalar) {
      case ScalarType.STRING:
      case ScalarType.BYTES:
        return 1;
      case ScalarType.FIXED32:
      case ScalarType.SFIXED32:
      case ScalarType.FLOAT:
        return Math.ceil((end - start) / 4);
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
      case ScalarType.DOUBLE:
        return Math.ceil((end - start) / 8);
      default:
    }
  }
  // Varints: one ends at each byte below 0x80.
  let entries = 0;
  for (let i = start; i < end; i++) if ((bytes[i] as number) < 0x80) entries++;
  return entries;
}

const fieldTables = new WeakMap<DescMessage, ReadonlyMap<number, DescField>>();
const NO_FIELDS: ReadonlyMap<number, DescField> = new Map();

/** A frame for a message of type `desc` ending at `end`; its table of fields is built once per type. */
function messageFrame(desc: DescMessage, end: number): Frame {
  let fields = fieldTables.get(desc);
  if (fields === undefined) {
    fields = new Map(desc.fields.map((f) => [f.number, f]));
    fieldTables.set(desc, fields);
  }
  return { desc, fields, mapValue: undefined, end, counts: undefined };
}

/** The message type a length-delimited record of `field` holds, if it is a message. */
function childOf(field: DescField | undefined): DescMessage | undefined {
  return field?.fieldKind === "message" || (field?.fieldKind === "list" && field.listKind === "message") ? field.message : undefined;
}

/**
 * Protobuf varints, read and written in one place for the codec: the framing
 * check, the decoder's float payloads and the chunk writer. Values are plain
 * numbers (exact up to 2^53); the reader advances a caller's cursor instead of
 * returning a pair, so a hot loop allocates nothing.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";

/** The most bytes a varint takes: 64 bits, 7 per byte. */
export const MAX_VARINT_BYTES = 10;

/** A read position in a byte array; {@link readVarint} moves it past what it reads. */
export interface ByteCursor {
  /** The offset of the next byte to read. */
  pos: number;
}

/**
 * Reads the varint at `cursor.pos` and moves the cursor past it. A value above
 * 2^53 comes back rounded, which is enough for what is done with such values
 * here (skipping them, or refusing them as a length or a tag).
 *
 * @param bytes - the bytes
 * @param cursor - where to read; advanced past the varint
 * @param end - where the readable bytes end @defaultValue `bytes.length`
 * @returns the value
 * @throws {@link QuantizeError} `invalid-protobuf` when the varint runs past `end`
 *   or past {@link MAX_VARINT_BYTES} bytes
 */
export function readVarint(bytes: Uint8Array, cursor: ByteCursor, end: number = bytes.length): number {
  let pos = cursor.pos;
  // Most tags and lengths fit one byte.
  const first = pos < end ? (bytes[pos] as number) : 0x80;
  if (first < 0x80) {
    cursor.pos = pos + 1;
    return first;
  }
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= end) throw truncatedAt(end);
    const byte = bytes[pos++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor.pos = pos;
      return value;
    }
    scale *= 0x80;
  }
  throw new QuantizeError("invalid-protobuf", `not a valid Core ML model: a varint at offset ${cursor.pos} runs past ${MAX_VARINT_BYTES} bytes`);
}

/**
 * The error for bytes that end inside a record: a varint, or a record whose
 * length goes past its end.
 *
 * @param end - the offset the record runs past
 * @returns a {@link QuantizeError} `invalid-protobuf` to throw
 */
export function truncatedAt(end: number): QuantizeError {
  return new QuantizeError("invalid-protobuf", `not a valid Core ML model: a record runs past byte ${end} (truncated or corrupt)`);
}

/**
 * Writes `value` as a varint at `at` in `into`, which must have room for
 * {@link varintLength} bytes. The inverse of {@link readVarint}.
 *
 * @param into - the bytes to write into
 * @param at - where to write
 * @param value - a non-negative integer up to 2^53
 * @returns the offset after the varint
 */
export function writeVarint(into: Uint8Array, at: number, value: number): number {
  let pos = at;
  let v = value;
  while (v >= 0x80) {
    into[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  into[pos++] = v;
  return pos;
}

/**
 * Bytes the varint of `value` takes.
 *
 * @param value - a non-negative integer up to 2^53
 * @returns 1 to {@link MAX_VARINT_BYTES}
 */
export function varintLength(value: number): number {
  let length = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) length++;
  return length;
}

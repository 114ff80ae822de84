/**
 * A cheap pass over the wire format before decoding: every length must fit in the
 * bytes that remain. protobuf-es reads lengths as 32-bit numbers, so a declared
 * length of 2^32 or more would wrap around and silently decode as something else.
 * Only records of message type are entered; weight payloads are stepped over by
 * their length, so the pass costs a few operations per field, not per weight.
 *
 * @packageDocumentation
 */
import type { DescMessage } from "@bufbuild/protobuf";
import { QuantizeError } from "../errors.js";

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

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
 * Checks the framing of `bytes` as a `root` message, and optionally locates the
 * records of one field.
 *
 * @param root - the message type of the whole buffer
 * @param bytes - the encoded message
 * @param maxDepth - nesting allowed (deeper nesting is left for the decoder to refuse)
 * @param watch - a field to locate
 * @returns the offsets of the watched records' tags (each one byte, as for every
 *   field numbered below 16), or undefined when nothing was watched, a record of
 *   the spare field occurred, a tag took more than a byte, there were more than
 *   `limit` records, or the walk stopped early at a wire type it does not follow
 * @throws {@link QuantizeError} `invalid-protobuf` naming the offset and the length
 */
export function checkFraming(root: DescMessage, bytes: Uint8Array, maxDepth: number, watch?: FieldWatch): number[] | undefined {
  let watched: number[] | undefined = watch === undefined ? undefined : [];
  const stack: { desc: DescMessage; end: number }[] = [{ desc: root, end: bytes.length }];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) throw truncated(pos);
      const byte = bytes[pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new QuantizeError("invalid-protobuf", `not a valid Core ML model: a varint at offset ${pos - 10} runs past 10 bytes`);
  };
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { desc: DescMessage; end: number };
    if (pos >= top.end) {
      if (pos > top.end) throw truncated(top.end);
      stack.pop();
      continue;
    }
    const tagAt = pos;
    const tag = varint();
    const wireType = tag % 8;
    if (watched !== undefined && top.desc.typeName === watch?.typeName) {
      const number = Math.floor(tag / 8);
      if (number === watch.spare || (number === watch.field && (pos - tagAt !== 1 || watched.length >= watch.limit))) watched = undefined;
      else if (number === watch.field) watched.push(tagAt);
    }
    switch (wireType) {
      case WIRE_VARINT:
        varint();
        break;
      case WIRE_FIXED64:
        pos += 8;
        break;
      case WIRE_FIXED32:
        pos += 4;
        break;
      case WIRE_LENGTH_DELIMITED: {
        const start = pos;
        const length = varint();
        if (length > top.end - pos) {
          throw new QuantizeError("invalid-protobuf",
            `not a valid Core ML model: a record at offset ${start} declares ${length} bytes, but only ${top.end - pos} remain`);
        }
        const field = top.desc.fields.find((f) => f.number === Math.floor(tag / 8));
        const child = field?.fieldKind === "message" || (field?.fieldKind === "list" && field.listKind === "message")
          ? field.message
          : undefined;
        if (child !== undefined && stack.length < maxDepth) stack.push({ desc: child, end: pos + length });
        else pos += length;
        break;
      }
      default:
        // Groups and invalid wire types: the decoder knows what to do with them.
        return undefined;
    }
    if (pos > top.end) throw truncated(top.end);
  }
  return watched;
}

function truncated(at: number): QuantizeError {
  return new QuantizeError("invalid-protobuf", `not a valid Core ML model: a record runs past byte ${at} (truncated or corrupt)`);
}

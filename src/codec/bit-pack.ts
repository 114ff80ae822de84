/**
 * n-bit index packing of `WeightParams.rawValue`: each index written as n bits,
 * most significant bit first, concatenated in tensor order, the last byte padded
 * with zero bits. 8-bit indices are one byte each.
 *
 * @packageDocumentation
 */
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";

/** The widest index: indices are stored one per byte at most. */
const MAX_INDEX_BITS = 8;

/**
 * Bytes that `count` indices of `nbits` bits take: one per index at 8 bits, else
 * ceil(count * nbits / 8) and at least one (the reference never writes an empty
 * payload below 8 bits).
 *
 * @param count - number of indices
 * @param nbits - bits per index, 1..8
 * @returns the payload length in bytes
 * @throws {@link QuantizeError} `invalid-option` when `nbits` is not an integer
 *   in 1..8 or `count` is not a non-negative integer
 */
export function packedByteLength(count: number, nbits: number): number {
  assertIndexWidth(nbits, "packedByteLength");
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new QuantizeError("invalid-option", `packedByteLength: count must be a non-negative integer, got ${describeValue(count)}`);
  }
  if (nbits === 8) return count;
  return Math.max(1, Math.ceil((count * nbits) / 8));
}

/**
 * Packs indices into n-bit fields. The inverse of {@link unpackIndices}.
 *
 * @param indices - one index per value, each below 2^nbits
 * @param nbits - bits per index, 1..8
 * @returns the packed bytes ({@link packedByteLength} long); at 8 bits `indices` itself
 * @throws {@link QuantizeError} `invalid-option` when `nbits` is not an integer in
 *   1..8, `indices` is not a Uint8Array, or an index does not fit in `nbits` bits
 *   (the message names the first such position and value)
 */
export function packIndices(indices: Uint8Array, nbits: number): Uint8Array {
  assertIndexWidth(nbits, "packIndices");
  if (!(indices instanceof Uint8Array)) {
    throw new QuantizeError("invalid-option", `packIndices: indices must be a Uint8Array, got ${describeValue(indices)}`);
  }
  if (nbits === 8) return indices;
  const out = new Uint8Array(packedByteLength(indices.length, nbits));
  // Widths that divide a byte fill whole bytes from a fixed number of indices: no
  // carry between bytes, so one byte per step. The rest, and any tail, bit by bit.
  // Every index is ORed into `seen` on the way: a bit above nbits there means one
  // did not fit, found in a second pass only then (the packing pass stays one pass).
  const whole = 8 % nbits === 0 ? Math.floor(indices.length / (8 / nbits)) : 0;
  let seen = nbits === 4 ? packNibbles(indices, out, whole) : nbits === 2 ? packPairs(indices, out, whole) : nbits === 1 ? packBits(indices, out, whole) : 0;
  let accumulator = 0;
  let pending = 0;
  let o = whole;
  for (let i = whole * (8 / nbits); i < indices.length; i++) {
    const index = indices[i] as number;
    seen |= index;
    accumulator = (accumulator << nbits) | index;
    pending += nbits;
    if (pending >= 8) {
      pending -= 8;
      out[o++] = accumulator >>> pending;
      accumulator &= (1 << pending) - 1;
    }
  }
  if (pending > 0) out[o] = accumulator << (8 - pending);
  if (seen >>> nbits !== 0) throw indexTooWide(indices, nbits);
  return out;
}

/** The error for the first index of `indices` that does not fit in `nbits` bits. */
function indexTooWide(indices: Uint8Array, nbits: number): QuantizeError {
  const at = indices.findIndex((index) => index >>> nbits !== 0);
  return new QuantizeError(
    "invalid-option",
    `packIndices: index ${indices[at]} at position ${at} does not fit in ${nbits} bits (indices must be below ${2 ** nbits})`,
  );
}

/** Packs whole bytes of 4-bit indices; returns every index ORed together. */
function packNibbles(indices: Uint8Array, out: Uint8Array, bytes: number): number {
  let seen = 0;
  for (let j = 0, i = 0; j < bytes; j++, i += 2) {
    const a = indices[i] as number;
    const b = indices[i + 1] as number;
    seen |= a | b;
    out[j] = (a << 4) | b;
  }
  return seen;
}

/** Packs whole bytes of 2-bit indices; returns every index ORed together. */
function packPairs(indices: Uint8Array, out: Uint8Array, bytes: number): number {
  let seen = 0;
  for (let j = 0, i = 0; j < bytes; j++, i += 4) {
    const a = indices[i] as number;
    const b = indices[i + 1] as number;
    const c = indices[i + 2] as number;
    const d = indices[i + 3] as number;
    seen |= a | b | c | d;
    out[j] = (a << 6) | (b << 4) | (c << 2) | d;
  }
  return seen;
}

/** Packs whole bytes of 1-bit indices; returns every index ORed together. */
function packBits(indices: Uint8Array, out: Uint8Array, bytes: number): number {
  let seen = 0;
  for (let j = 0, i = 0; j < bytes; j++, i += 8) {
    const b0 = indices[i] as number;
    const b1 = indices[i + 1] as number;
    const b2 = indices[i + 2] as number;
    const b3 = indices[i + 3] as number;
    const b4 = indices[i + 4] as number;
    const b5 = indices[i + 5] as number;
    const b6 = indices[i + 6] as number;
    const b7 = indices[i + 7] as number;
    seen |= b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7;
    out[j] = (b0 << 7) | (b1 << 6) | (b2 << 5) | (b3 << 4) | (b4 << 3) | (b5 << 2) | (b6 << 1) | b7;
  }
  return seen;
}

/**
 * Unpacks `count` n-bit indices. The inverse of {@link packIndices}.
 *
 * @param bytes - the packed payload, at least ceil(count * nbits / 8) bytes
 * @param nbits - bits per index, 1..8
 * @param count - number of indices to read
 * @returns one index per value
 * @throws {@link QuantizeError} `invalid-option` when `nbits` is not an integer in
 *   1..8, `count` is not a non-negative integer or `bytes` is not a Uint8Array;
 *   `invalid-weights` when `bytes` is too short (callers that know the layer check
 *   lengths first, to name it)
 */
export function unpackIndices(bytes: Uint8Array, nbits: number, count: number): Uint8Array {
  assertIndexWidth(nbits, "unpackIndices");
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new QuantizeError("invalid-option", `unpackIndices: count must be a non-negative integer, got ${describeValue(count)}`);
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new QuantizeError("invalid-option", `unpackIndices: bytes must be a Uint8Array, got ${describeValue(bytes)}`);
  }
  if (bytes.length * 8 < count * nbits) {
    throw new QuantizeError("invalid-weights", `unpackIndices: ${bytes.length} bytes cannot hold ${count} indices of ${nbits} bits`);
  }
  if (nbits === 8) return bytes.subarray(0, count);
  const out = new Uint8Array(count);
  // As in packIndices: whole bytes of a width that divides 8 one byte per step.
  const whole = 8 % nbits === 0 ? Math.floor(count / (8 / nbits)) : 0;
  if (nbits === 4) unpackNibbles(bytes, out, whole);
  else if (nbits === 2) unpackPairs(bytes, out, whole);
  else if (nbits === 1) unpackBits(bytes, out, whole);
  const mask = (1 << nbits) - 1;
  let accumulator = 0;
  let available = 0;
  let b = whole;
  for (let i = whole * (8 / nbits); i < count; i++) {
    if (available < nbits) {
      accumulator = ((accumulator << 8) | (bytes[b++] as number)) & 0xffff;
      available += 8;
    }
    available -= nbits;
    out[i] = (accumulator >>> available) & mask;
  }
  return out;
}

function unpackNibbles(bytes: Uint8Array, out: Uint8Array, count: number): void {
  for (let j = 0, i = 0; j < count; j++, i += 2) {
    const byte = bytes[j] as number;
    out[i] = byte >>> 4;
    out[i + 1] = byte & 15;
  }
}

function unpackPairs(bytes: Uint8Array, out: Uint8Array, count: number): void {
  for (let j = 0, i = 0; j < count; j++, i += 4) {
    const byte = bytes[j] as number;
    out[i] = byte >>> 6;
    out[i + 1] = (byte >>> 4) & 3;
    out[i + 2] = (byte >>> 2) & 3;
    out[i + 3] = byte & 3;
  }
}

function unpackBits(bytes: Uint8Array, out: Uint8Array, count: number): void {
  for (let j = 0, i = 0; j < count; j++, i += 8) {
    const byte = bytes[j] as number;
    for (let t = 0; t < 8; t++) out[i + t] = (byte >>> (7 - t)) & 1;
  }
}

/** Refuses a width an index cannot have, naming the function it was given to. */
function assertIndexWidth(nbits: number, fn: string): void {
  if (!Number.isInteger(nbits) || nbits < 1 || nbits > MAX_INDEX_BITS) {
    throw new QuantizeError("invalid-option", `${fn}: nbits must be an integer from 1 to ${MAX_INDEX_BITS}, got ${describeValue(nbits)}`);
  }
}

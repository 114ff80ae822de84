/**
 * n-bit index packing of `WeightParams.rawValue`: each index written as n bits,
 * most significant bit first, concatenated in tensor order, the last byte padded
 * with zero bits. 8-bit indices are one byte each.
 *
 * @packageDocumentation
 */

/**
 * Bytes that `count` indices of `nbits` bits take: one per index at 8 bits, else
 * ceil(count * nbits / 8) and at least one (the reference never writes an empty
 * payload below 8 bits).
 *
 * @param count - number of indices
 * @param nbits - bits per index, 1..8
 * @returns the payload length in bytes
 */
export function packedByteLength(count: number, nbits: number): number {
  if (nbits === 8) return count;
  return Math.max(1, Math.ceil((count * nbits) / 8));
}

/**
 * Packs indices into n-bit fields. The inverse of {@link unpackIndices}.
 *
 * @param indices - one index per value, each below 2^nbits
 * @param nbits - bits per index, 1..8
 * @returns the packed bytes ({@link packedByteLength} long); at 8 bits `indices` itself
 */
export function packIndices(indices: Uint8Array, nbits: number): Uint8Array {
  if (nbits === 8) return indices;
  const out = new Uint8Array(packedByteLength(indices.length, nbits));
  // Widths that divide a byte fill whole bytes from a fixed number of indices: no
  // carry between bytes, so one byte per step. The rest, and any tail, bit by bit.
  const whole = 8 % nbits === 0 ? Math.floor(indices.length / (8 / nbits)) : 0;
  if (nbits === 4) packNibbles(indices, out, whole);
  else if (nbits === 2) packPairs(indices, out, whole);
  else if (nbits === 1) packBits(indices, out, whole);
  let accumulator = 0;
  let pending = 0;
  let o = whole;
  for (let i = whole * (8 / nbits); i < indices.length; i++) {
    accumulator = (accumulator << nbits) | (indices[i] as number);
    pending += nbits;
    if (pending >= 8) {
      pending -= 8;
      out[o++] = accumulator >>> pending;
      accumulator &= (1 << pending) - 1;
    }
  }
  if (pending > 0) out[o] = accumulator << (8 - pending);
  return out;
}

function packNibbles(indices: Uint8Array, out: Uint8Array, bytes: number): void {
  for (let j = 0, i = 0; j < bytes; j++, i += 2) out[j] = ((indices[i] as number) << 4) | (indices[i + 1] as number);
}

function packPairs(indices: Uint8Array, out: Uint8Array, bytes: number): void {
  for (let j = 0, i = 0; j < bytes; j++, i += 4) {
    out[j] = ((indices[i] as number) << 6) | ((indices[i + 1] as number) << 4) | ((indices[i + 2] as number) << 2) | (indices[i + 3] as number);
  }
}

function packBits(indices: Uint8Array, out: Uint8Array, bytes: number): void {
  for (let j = 0, i = 0; j < bytes; j++, i += 8) {
    out[j] = ((indices[i] as number) << 7) | ((indices[i + 1] as number) << 6) | ((indices[i + 2] as number) << 5)
      | ((indices[i + 3] as number) << 4) | ((indices[i + 4] as number) << 3) | ((indices[i + 5] as number) << 2)
      | ((indices[i + 6] as number) << 1) | (indices[i + 7] as number);
  }
}

/**
 * Unpacks `count` n-bit indices. The inverse of {@link packIndices}.
 *
 * @param bytes - the packed payload, at least ceil(count * nbits / 8) bytes
 * @param nbits - bits per index, 1..8
 * @param count - number of indices to read
 * @returns one index per value
 * @throws RangeError when `bytes` is too short (callers check lengths first and
 *   report the layer)
 */
export function unpackIndices(bytes: Uint8Array, nbits: number, count: number): Uint8Array {
  if (bytes.length * 8 < count * nbits) {
    throw new RangeError(`${bytes.length} bytes cannot hold ${count} indices of ${nbits} bits`);
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

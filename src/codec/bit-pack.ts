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
  let accumulator = 0;
  let pending = 0;
  let o = 0;
  for (let i = 0; i < indices.length; i++) {
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
  const mask = (1 << nbits) - 1;
  let accumulator = 0;
  let available = 0;
  let b = 0;
  for (let i = 0; i < count; i++) {
    if (available < nbits) {
      accumulator = ((accumulator << 8) | (bytes[b++] as number)) & 0xffff;
      available += 8;
    }
    available -= nbits;
    out[i] = (accumulator >>> available) & mask;
  }
  return out;
}

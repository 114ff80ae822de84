/**
 * Sub-byte packing of ML Program tensors (blobs and inline `bytes`): element i
 * takes bits `i*n .. i*n+n-1` of a bit stream whose bit b is bit `b mod 8` (least
 * significant first) of byte `floor(b/8)`; an element may straddle two bytes, and
 * the unused high bits of the last byte are zero. Note the order is the opposite
 * of the neural-network format's `rawValue` (most significant first, bit-pack.ts).
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";

/**
 * Packs n-bit elements, least significant bit first. The inverse of
 * {@link unpackSubByte}.
 *
 * @param values - one element per entry; signed elements as their two's complement
 *   (only the low `bits` bits are stored)
 * @param bits - bits per element, 1..7
 * @returns `ceil(values.length * bits / 8)` bytes, padding bits zero
 */
export function packSubByte(values: ArrayLike<number>, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  if (bits === 4) return packNibbles(values, out);
  const mask = (1 << bits) - 1;
  // Elements go into an accumulator above the bits still pending (fewer than 8), and
  // every full byte is written once: no read-modify-write of the output.
  let pending = 0;
  let pendingBits = 0;
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    pending |= ((values[i] as number) & mask) << pendingBits;
    pendingBits += bits;
    if (pendingBits >= 8) {
      out[at++] = pending & 0xff;
      pending >>>= 8;
      pendingBits -= 8;
    }
  }
  if (pendingBits > 0) out[at] = pending;
  return out;
}

/** 4-bit elements two to a byte, low nibble first: the common case, about twice as fast as the general loop. */
function packNibbles(values: ArrayLike<number>, out: Uint8Array): Uint8Array {
  const pairs = values.length >>> 1;
  for (let at = 0, i = 0; at < pairs; at++, i += 2) out[at] = ((values[i] as number) & 0xf) | (((values[i + 1] as number) & 0xf) << 4);
  if (values.length % 2 === 1) out[pairs] = (values[values.length - 1] as number) & 0xf;
  return out;
}

/**
 * Unpacks `count` n-bit elements packed least significant bit first. The inverse
 * of {@link packSubByte}.
 *
 * @param bytes - the packed bytes
 * @param bits - bits per element, 1..7
 * @param count - number of elements
 * @param signed - read each element as n-bit two's complement (int4)
 * @returns the elements: an Int8Array when signed, else a Uint8Array
 * @throws {@link QuantizeError} `invalid-weights` when `bytes` is shorter than
 *   `count` elements need
 */
export function unpackSubByte(bytes: Uint8Array, bits: number, count: number, signed: boolean): Uint8Array | Int8Array {
  const needed = Math.ceil((count * bits) / 8);
  if (bytes.length < needed) {
    throw new QuantizeError("invalid-weights", `${count} elements of ${bits} bits need ${needed} bytes, found ${bytes.length}`);
  }
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  let bit = 0;
  for (let i = 0; i < count; i++, bit += bits) {
    const at = bit >>> 3;
    const shift = bit & 7;
    // Two bytes cover any element of up to 8 bits wherever it starts.
    const pair = (bytes[at] as number) | ((at + 1 < bytes.length ? (bytes[at + 1] as number) : 0) << 8);
    const value = (pair >>> shift) & mask;
    out[i] = signed && (value & signBit) !== 0 ? value - (1 << bits) : value;
  }
  return out;
}

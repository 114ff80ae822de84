/**
 * IEEE 754 half precision <-> single precision, as numpy converts: round to
 * nearest, ties to even; subnormals, signed zeros, infinities and NaN kept.
 * Values beyond the half range become infinities here; refusing them is the
 * caller's decision.
 *
 * @packageDocumentation
 */
import { HALF_ENCODE_LIMIT_BITS, runKernels } from "../kernels/index.js";

/** The largest finite half-precision value. */
export const FLOAT16_MAX = 65504;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The half-precision bit pattern nearest to a float32 value given by its bits.
 * The inverse of {@link float16BitsToFloat32Bits} on every value a half can hold.
 *
 * @param bits - the float32 bit pattern (as from a Uint32Array view)
 * @returns the 16-bit pattern
 */
export function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    // Infinity, or NaN with its top payload bits (never turned into an infinity).
    if (mantissa === 0) return sign | 0x7c00;
    const nan = 0x7c00 | (mantissa >>> 13);
    return sign | (nan === 0x7c00 ? 0x7c01 : nan);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): the value is significand * 2^(halfExponent - 14 - 10).
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to infinity: still right.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/**
 * The float32 bit pattern of a half-precision value (exact: every half is a float32).
 *
 * @param half - the 16-bit pattern
 * @returns the float32 bit pattern
 */
export function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal: normalise the mantissa into a float32 exponent.
  let shift = 0;
  let m = mantissa;
  while ((m & 0x400) === 0) {
    m <<= 1;
    shift++;
  }
  return (sign | ((113 - shift) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/**
 * Encodes float32 values as little-endian half-precision bytes (the layout of
 * `WeightParams.float16Value`). The inverse of {@link decodeFloat16} for values a
 * half can hold.
 *
 * @param values - float32 values
 * @returns two bytes per value
 */
export function encodeFloat16(values: Float32Array): Uint8Array {
  return encodeFloat16WithPeak(values).bytes;
}

/**
 * {@link encodeFloat16}, also returning the largest magnitude among the values
 * from the same pass, so a caller can refuse values beyond the half range without
 * reading the tensor twice.
 *
 * @param values - float32 values
 * @returns the bytes, and `peak`: the largest `|value|` (NaN when any value is NaN; 0
 *   for no values)
 */
export function encodeFloat16WithPeak(values: Float32Array): { bytes: Uint8Array; peak: number } {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const halves = new Uint16Array(values.length);
  const peakBits = runKernels().encodeHalves(bits, 0, bits.length, halves);
  if (peakBits >= HALF_ENCODE_LIMIT_BITS) {
    // Overflow to infinity, infinities and NaN: the kernels leave them to us.
    for (let i = 0; i < bits.length; i++) {
      const x = bits[i] as number;
      if ((x & 0x7fffffff) >= HALF_ENCODE_LIMIT_BITS) halves[i] = float32BitsToFloat16Bits(x);
    }
  }
  // Magnitude bits order like the magnitudes, NaNs above infinity.
  const peak = new Float32Array(Uint32Array.of(peakBits).buffer)[0] as number;
  return { bytes: littleEndianBytes(halves), peak };
}

/**
 * Decodes little-endian half-precision bytes to float32 values. The inverse of
 * {@link encodeFloat16}.
 *
 * @param bytes - two bytes per value; a trailing odd byte is ignored
 * @param into - write here (exactly one value per half) instead of a new array
 * @returns the values
 */
export function decodeFloat16(bytes: Uint8Array, into?: Float32Array): Float32Array {
  const count = bytes.byteLength >>> 1;
  if (into !== undefined && into.length !== count) throw new RangeError(`decode ${count} halves into an array of ${into.length}`);
  const out = into ?? new Float32Array(count);
  runKernels().decodeHalves(float16Halves(bytes), 0, count, new Uint32Array(out.buffer, out.byteOffset, count));
  return out;
}

/**
 * The half-precision values of little-endian bytes as 16-bit numbers: a view when
 * the bytes are aligned on a little-endian machine (every payload this library
 * writes), a copy otherwise.
 *
 * @param bytes - two bytes per value; a trailing odd byte is ignored
 * @returns one 16-bit pattern per value
 */
export function float16Halves(bytes: Uint8Array): Uint16Array {
  const count = bytes.byteLength >>> 1;
  if (!littleEndian) return Uint16Array.from({ length: count }, (_, i) => (bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8));
  return bytes.byteOffset % 2 === 0
    ? new Uint16Array(bytes.buffer, bytes.byteOffset, count)
    : new Uint16Array(bytes.slice(0, 2 * count).buffer);
}

/** The little-endian bytes of 16-bit values (a view on little-endian machines). */
function littleEndianBytes(halves: Uint16Array): Uint8Array {
  const bytes = new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength);
  if (!littleEndian) {
    for (let i = 0; i < halves.length; i++) {
      const half = halves[i] as number;
      bytes[2 * i] = half & 0xff;
      bytes[2 * i + 1] = half >>> 8;
    }
  }
  return bytes;
}

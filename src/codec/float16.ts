/**
 * IEEE 754 half precision <-> single precision, as numpy converts: round to
 * nearest, ties to even; subnormals, signed zeros, infinities and NaN kept.
 * Values beyond the half range become infinities here; refusing them is the
 * caller's decision.
 *
 * @packageDocumentation
 */
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import { float32BitsToFloat16Bits } from "../kernels/half-bits.js";
import { HALF_ENCODE_LIMIT_BITS, runKernels } from "../kernels/index.js";

export { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../kernels/half-bits.js";

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The largest finite half-precision value. */
export const FLOAT16_MAX = 65504;

/** The half-way point between {@link FLOAT16_MAX} and 2^16: from here up, rounding to a half overflows to infinity (ties go to the even 2^16). */
const HALF_OVERFLOW_THRESHOLD = 65520;
/** The smallest normal half, 2^-14; below it halves are multiples of 2^-24. */
const HALF_MIN_NORMAL = 2 ** -14;

/** Scratch for reading a float64's bits without allocating. */
const DOUBLE_SCRATCH = new Float64Array(1);
const DOUBLE_SCRATCH_WORDS = new Uint32Array(DOUBLE_SCRATCH.buffer);
/** The index of the 32-bit word holding a float64's sign and exponent. */
const HIGH_WORD = littleEndian ? 1 : 0;

/**
 * The half-precision bit pattern nearest to a float64 number, rounded once, ties to
 * even, as numpy's `astype(np.float16)` of a float64 array does. Going through
 * float32 first (`Math.fround`, then {@link float32BitsToFloat16Bits}) rounds twice
 * and can land on a tie the number is not on: 0.21612548828125003 is above the
 * midpoint between the halves 0x32ea and 0x32eb but rounds to it in float32, and
 * from there to the even 0x32ea. Subnormal halves, signed zeros and infinities
 * kept; beyond the half range gives an infinity; NaN keeps its top payload bits.
 *
 * @param x - the number
 * @returns the 16-bit pattern
 */
export function float64ToFloat16Bits(x: number): number {
  DOUBLE_SCRATCH[0] = x;
  const high = DOUBLE_SCRATCH_WORDS[HIGH_WORD] as number;
  const sign = (high >>> 16) & 0x8000;
  if (Number.isNaN(x)) {
    // The top 10 of the 52 payload bits (all in the high word), never an infinity.
    const nan = 0x7c00 | ((high >>> 10) & 0x3ff);
    return sign | (nan === 0x7c00 ? 0x7c01 : nan);
  }
  const magnitude = Math.abs(x);
  if (magnitude >= HALF_OVERFLOW_THRESHOLD) return sign | 0x7c00;
  if (magnitude < HALF_MIN_NORMAL) {
    // A multiple of 2^-24 from 0 to 2^-14 (1024, the smallest normal, reads as one too).
    return sign | roundHalfEven(magnitude * 2 ** 24);
  }
  const exponent = ((high >>> 20) & 0x7ff) - 1023;
  // The significand in units of the half's last place: 1024 <= scaled < 2048, exact
  // (scaling by a power of two); a carry to 2048 moves into the exponent, as it should.
  const scaled = magnitude * 2 ** (10 - exponent);
  return sign | ((((exponent + 15) << 10) + roundHalfEven(scaled) - 1024) & 0xffff);
}

/**
 * The half-precision value nearest to a float64 number, rounded once (see
 * {@link float64ToFloat16Bits}): the value numpy's `astype(np.float16)` gives.
 *
 * @param x - the number
 * @returns that half's value
 */
export function roundFloat64ToFloat16(x: number): number {
  const half = float64ToFloat16Bits(x);
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const sign = (half & 0x8000) === 0 ? 1 : -1;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : x;
  // Exact: a product of a small integer and a power of two.
  return exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** A non-negative number below 2^53 rounded to an integer, ties to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
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
export function encodeFloat16WithPeak(values: Float32Array): {
  /** Two bytes per value, as {@link encodeFloat16} returns them. */
  bytes: Uint8Array;
  /** The largest `|value|` (NaN when any value is NaN; 0 for no values). */
  peak: number;
} {
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
 * @param bytes - two bytes per value
 * @param into - write here (exactly one value per half) instead of a new array
 * @returns the values
 * @throws {@link QuantizeError} `invalid-weights` for an odd number of bytes;
 *   `invalid-option` when `bytes` is not a Uint8Array or `into` does not hold one
 *   value per half
 */
export function decodeFloat16(bytes: Uint8Array, into?: Float32Array): Float32Array {
  const count = halfCount(bytes, "decodeFloat16");
  if (into !== undefined && into.length !== count) {
    throw new QuantizeError("invalid-option", `decodeFloat16: cannot decode ${count} halves into an array of ${into.length}`);
  }
  const out = into ?? new Float32Array(count);
  runKernels().decodeHalves(float16Halves(bytes), 0, count, new Uint32Array(out.buffer, out.byteOffset, count));
  return out;
}

/**
 * The half-precision values of little-endian bytes as 16-bit numbers: a view when
 * the bytes are aligned on a little-endian machine (every payload this library
 * writes), a copy otherwise.
 *
 * @param bytes - two bytes per value
 * @returns one 16-bit pattern per value
 * @throws {@link QuantizeError} as {@link decodeFloat16} does
 */
export function float16Halves(bytes: Uint8Array): Uint16Array {
  const count = halfCount(bytes, "float16Halves");
  if (!littleEndian) return Uint16Array.from({ length: count }, (_, i) => (bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8));
  return bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.slice(0, 2 * count).buffer);
}

/**
 * Halves in `bytes`: an odd length is refused, not rounded down (a dropped byte
 * would hide a truncated payload).
 */
function halfCount(bytes: Uint8Array, fn: string): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new QuantizeError("invalid-option", `${fn}: bytes must be a Uint8Array, got ${describeValue(bytes)}`);
  }
  if (bytes.byteLength % 2 !== 0) {
    throw new QuantizeError("invalid-weights", `${fn}: ${bytes.byteLength} bytes is an odd length; half-precision values take two bytes each`);
  }
  return bytes.byteLength >>> 1;
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

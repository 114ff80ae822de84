/**
 * One value at a time between half-precision and float32 bit patterns, as numpy
 * converts: round to nearest, ties to even; subnormals, signed zeros, infinities
 * and NaN kept. The definitions the array kernels are checked against; the codec
 * re-exports them.
 *
 * @packageDocumentation
 */

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

/**
 * Float32 values for generated weights: the element arbitrary, the edge-value
 * table, and whole tensors (plain, constant or two-valued).
 *
 * @internal
 * @packageDocumentation
 */
import * as fc from "fast-check";

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** What the values of a generated tensor may be. */
export interface ValueOptions {
  /** Largest magnitude of a finite value. */
  readonly maxMagnitude: number;
  /** Mix in {@link EDGE_VALUES}, constant tensors and two-valued tensors. */
  readonly edgeValues: boolean;
  /** Only finite values; when false NaN and ±Infinity are mixed in. */
  readonly finite: boolean;
}

/**
 * Values that break naive float code, kept when within the magnitude bound: signed
 * zeros, the smallest float32 and float16 subnormals and normals, the largest
 * float16 (65504), the largest float32 that still rounds to it (65519.996), the
 * first that rounds to infinity in float16 (65520), huge values, the largest float32.
 */
export const EDGE_VALUES: readonly number[] = [
  0,
  -0,
  2 ** -149,
  -(2 ** -149), // smallest float32 subnormal
  2 ** -126,
  -(2 ** -126), // smallest float32 normal
  2 ** -24,
  -(2 ** -24), // smallest float16 subnormal
  2 ** -25,
  -(2 ** -25), // half of it: rounds to ±0 in float16 (ties to even)
  2 ** -14,
  -(2 ** -14), // smallest float16 normal
  1,
  -1,
  65504,
  -65504, // largest float16
  65519.99609375,
  -65519.99609375, // largest float32 rounding to 65504 in float16
  65520,
  -65520, // rounds to infinity in float16
  Math.fround(1e30),
  Math.fround(-1e30),
  FLOAT32_MAX,
  -FLOAT32_MAX,
];

/**
 * The largest float32 not above `bound` (the float32 maximum for larger bounds).
 *
 * @param bound - a positive bound
 * @returns a float32 value
 */
export function float32AtMost(bound: number): number {
  if (bound >= FLOAT32_MAX) return FLOAT32_MAX;
  const f = Math.fround(bound);
  if (f <= bound) return f;
  const bits = new Uint32Array(new Float32Array([f]).buffer);
  bits[0] = (bits[0] as number) - 1; // f > bound > 0: one ulp down is the float32 below
  return new Float32Array(bits.buffer)[0] as number;
}

/**
 * One float32 value.
 *
 * @param options - bounds and mix
 * @returns the arbitrary
 */
export function floatValue(options: ValueOptions): fc.Arbitrary<number> {
  const m = float32AtMost(options.maxMagnitude);
  const bounded = fc.float({ min: -m, max: m, noNaN: true });
  const arbitraries: fc.WeightedArbitrary<number>[] = [{ arbitrary: bounded, weight: 6 }];
  if (options.edgeValues) {
    arbitraries.push({ arbitrary: fc.constantFrom(...EDGE_VALUES.filter((v) => Math.abs(v) <= m)), weight: 2 });
  }
  if (!options.finite) arbitraries.push({ arbitrary: fc.constantFrom(NaN, Infinity, -Infinity), weight: 1 });
  return fc.oneof(...arbitraries);
}

/**
 * A tensor of exactly `length` float32 values. With edge values on, a fifth of the
 * tensors are constant and a fifth hold only two distinct values.
 *
 * @param length - the value count
 * @param options - bounds and mix
 * @returns the arbitrary
 */
export function floatValues(length: number, options: ValueOptions): fc.Arbitrary<Float32Array> {
  const element = floatValue(options);
  const plain = fc.array(element, { minLength: length, maxLength: length }).map((a) => Float32Array.from(a));
  if (!options.edgeValues || length < 2) return plain;
  const constant = element.map((v) => new Float32Array(length).fill(v));
  const twoValued = fc
    .tuple(element, element, fc.array(fc.boolean(), { minLength: length, maxLength: length }))
    .map(([a, b, pick]) => Float32Array.from(pick, (p) => (p ? a : b)));
  return fc.oneof({ arbitrary: plain, weight: 3 }, { arbitrary: constant, weight: 1 }, { arbitrary: twoValued, weight: 1 });
}

/**
 * A shape whose dimensions multiply to `length`, of rank 1 to `maxRank` (rank 1 for
 * an empty tensor).
 *
 * @param length - the value count
 * @param maxRank - the largest rank
 * @returns the arbitrary
 */
export function shapeOf(length: number, maxRank: number): fc.Arbitrary<number[]> {
  if (length === 0) return fc.constant([0]);
  return fc.tuple(fc.integer({ min: 1, max: maxRank }), fc.array(fc.nat(), { minLength: maxRank, maxLength: maxRank })).map(([rank, picks]) => {
    const shape: number[] = [];
    let rest = length;
    for (let d = 0; d < rank - 1; d++) {
      const divisors = divisorsOf(rest);
      const dim = divisors[(picks[d] as number) % divisors.length] as number;
      shape.push(dim);
      rest /= dim;
    }
    shape.push(rest);
    return shape;
  });
}

function divisorsOf(n: number): number[] {
  const small: number[] = [];
  const large: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d !== 0) continue;
    small.push(d);
    if (d * d !== n) large.unshift(n / d);
  }
  return [...small, ...large];
}

import * as fc from "fast-check";
import {
  FLOAT16_MAX,
  decodeFloat16,
  encodeFloat16,
  encodeFloat16WithPeak,
  float16BitsToFloat32Bits,
  float32BitsToFloat16Bits,
  float64ToFloat16Bits,
  roundFloat64ToFloat16,
} from "../../src/codec/float16.js";
import { propertySeed } from "../support/property-seed.js";

// Everything expected here comes from an independent model of IEEE 754 binary16:
// values from the textbook formula, rounding by comparing exact distances to the
// two neighbouring halves. Nothing is copied from the code under test.

const HALF_COUNT = 0x10000;
const HALF_INFINITY = 0x7c00;
const HALF_SIGN = 0x8000;

const scratchBits = new Uint32Array(1);
const scratchFloat = new Float32Array(scratchBits.buffer);

/** The float32 value with these bits (NaN payloads are not observable through this). */
function floatOfBits(bits: number): number {
  scratchBits[0] = bits;
  return scratchFloat[0] as number;
}

/** The float32 bits of a number that is exactly a float32 (non-NaN). */
function bitsOfFloat(value: number): number {
  scratchFloat[0] = value;
  return scratchBits[0] as number;
}

/** Half -> number by the formula: sign * 2^(e-15) * (1 + m/1024), subnormals, inf, NaN. */
function referenceHalfValue(half: number): number {
  const sign = (half & HALF_SIGN) === 0 ? 1 : -1;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}

function isHalfNaN(half: number): boolean {
  return (half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0;
}

/**
 * The magnitudes of the positive halves by bit pattern, 0 .. 0x7bff, then 2^16 at
 * 0x7c00: IEEE rounds as if the exponent were unbounded, and a result of 2^16 is
 * an overflow, i.e. infinity.
 */
const ladder = new Float64Array(HALF_INFINITY + 1);
for (let half = 0; half < HALF_INFINITY; half++) ladder[half] = referenceHalfValue(half);
ladder[HALF_INFINITY] = 2 ** 16;

/**
 * Float32 (by bits, not NaN) -> nearest half, ties to the even bit pattern. The
 * distances are exact in float64: both operands are multiples of the float32 ulp
 * near the value and differ by less than 2^24 such ulps.
 */
function referenceFloatToHalf(bits: number): number {
  const value = floatOfBits(bits);
  const sign = bits >>> 31 === 1 ? HALF_SIGN : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= (ladder[HALF_INFINITY] as number)) return sign | HALF_INFINITY;
  // Invariant: ladder[low] <= magnitude < ladder[high].
  let low = 0;
  let high = HALF_INFINITY;
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if ((ladder[middle] as number) <= magnitude) low = middle;
    else high = middle;
  }
  const below = magnitude - (ladder[low] as number);
  const above = (ladder[high] as number) - magnitude;
  const nearest = below < above ? low : above < below ? high : low % 2 === 0 ? low : high;
  return sign | nearest;
}

/** Half bits of a float32 given by bits, checked against the reference (NaN: NaN and sign). */
function mismatch(bits: number): string | undefined {
  const actual = float32BitsToFloat16Bits(bits);
  if (Number.isNaN(floatOfBits(bits))) {
    const signOk = (actual & HALF_SIGN) === (bits >>> 31 === 1 ? HALF_SIGN : 0);
    return isHalfNaN(actual) && signOk ? undefined : `NaN 0x${hex(bits)} -> 0x${hex(actual)}`;
  }
  const expected = referenceFloatToHalf(bits);
  return actual === expected ? undefined : `0x${hex(bits)} -> 0x${hex(actual)}, expected 0x${hex(expected)}`;
}

function hex(value: number): string {
  return value.toString(16);
}

describe("the reference model itself", () => {
  test("agrees with well-known half values", () => {
    // Arrange
    const known: Array<[number, number]> = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x0001, 2 ** -24],
      [0x0400, 2 ** -14],
      [0x3555, 0.333251953125],
    ];

    // Act
    const values = known.map(([half]) => referenceHalfValue(half));

    // Assert
    expect(values).toEqual(known.map(([, value]) => value));
    expect(Object.is(referenceHalfValue(0x8000), -0)).toBe(true);
    expect(referenceFloatToHalf(bitsOfFloat(1 + 2 ** -11))).toBe(0x3c00);
  });
});

describe("float16BitsToFloat32Bits", () => {
  test("matches the formula on all 65,536 half bit patterns", () => {
    // Arrange
    const failures: string[] = [];

    // Act
    for (let half = 0; half < HALF_COUNT; half++) {
      const bits = float16BitsToFloat32Bits(half);
      // Assert (collected, so one failure report lists every bad pattern)
      if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
        failures.push(`0x${hex(half)}: ${bits} is not an unsigned 32-bit pattern`);
        continue;
      }
      const expected = referenceHalfValue(half);
      if (Number.isNaN(expected)) {
        const exponentAllOnes = ((bits >>> 23) & 0xff) === 0xff;
        const payload = bits & 0x7fffff;
        const signOk = bits >>> 31 === half >>> 15;
        const payloadOk = payload >>> 13 === (half & 0x3ff) && (payload & 0x1fff) === 0;
        if (!exponentAllOnes || payload === 0 || !signOk || !payloadOk) {
          failures.push(`NaN 0x${hex(half)} -> 0x${hex(bits)}`);
        }
      } else if (!Object.is(floatOfBits(bits), expected)) {
        failures.push(`0x${hex(half)} -> ${floatOfBits(bits)}, expected ${expected}`);
      }
    }

    // Assert
    expect(failures).toEqual([]);
  });
});

describe("float32BitsToFloat16Bits", () => {
  test("round-trips every half bit pattern exactly (NaN payloads included)", () => {
    // Arrange
    const failures: string[] = [];

    // Act
    for (let half = 0; half < HALF_COUNT; half++) {
      const back = float32BitsToFloat16Bits(float16BitsToFloat32Bits(half));
      if (back !== half) failures.push(`0x${hex(half)} -> 0x${hex(back)}`);
    }

    // Assert
    expect(failures).toEqual([]);
  });

  test("maps the float32 of every non-NaN half (built from the formula) to that half", () => {
    // Arrange
    const failures: string[] = [];

    // Act
    for (let half = 0; half < HALF_COUNT; half++) {
      const value = referenceHalfValue(half);
      if (Number.isNaN(value)) continue;
      const actual = float32BitsToFloat16Bits(bitsOfFloat(value));
      if (actual !== half) failures.push(`0x${hex(half)} -> 0x${hex(actual)}`);
    }

    // Assert
    expect(failures).toEqual([]);
  });

  test("sends every midpoint between consecutive halves to the even one, and ±1 float32 ulp to the nearer one", () => {
    // Arrange
    const failures: string[] = [];

    // Act
    for (let low = 0; low < HALF_INFINITY; low++) {
      const high = low + 1;
      const midpoint = ((ladder[low] as number) + (ladder[high] as number)) / 2;
      const midBits = bitsOfFloat(midpoint);
      if (floatOfBits(midBits) !== midpoint) {
        failures.push(`midpoint after 0x${hex(low)} is not a float32`);
        continue;
      }
      const even = low % 2 === 0 ? low : high;
      for (const sign of [0, HALF_SIGN]) {
        const floatSign = sign === 0 ? 0 : 0x80000000;
        const cases: Array<[number, number]> = [
          [midBits, even],
          [midBits + 1, high], // one float32 ulp above the midpoint
          [midBits - 1, low], // one float32 ulp below
        ];
        for (const [bits, expected] of cases) {
          const input = (floatSign | bits) >>> 0;
          const actual = float32BitsToFloat16Bits(input);
          if (actual !== (sign | expected)) {
            failures.push(`0x${hex(input)} -> 0x${hex(actual)}, expected 0x${hex(sign | expected)}`);
          }
        }
      }
    }

    // Assert
    expect(failures).toEqual([]);
  });

  test("rounds 100,000 random float32 bit patterns like the reference", () => {
    // Arrange
    const patterns = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1000, maxLength: 1000 });

    // Act / Assert
    fc.assert(
      fc.property(patterns, (bitsList) => {
        const failures = bitsList.map(mismatch).filter((m) => m !== undefined);
        expect(failures).toEqual([]);
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });

  test("rounds random float32 values (fast-check's float bias: edges, tiny, huge) like the reference", () => {
    // Arrange
    const values = fc.float();

    // Act / Assert
    fc.assert(
      fc.property(values, (value) => {
        const bits = Number.isNaN(value) ? 0x7fc00000 : bitsOfFloat(value);
        expect(mismatch(bits)).toBeUndefined();
      }),
      { seed: propertySeed(), numRuns: 20000 },
    );
  });

  test("rounds uniformly random bits within the half range like the reference", () => {
    // Arrange: exponents 2^-26 .. 2^16, where all the rounding happens
    const inRange = fc.record({
      sign: fc.integer({ min: 0, max: 1 }),
      exponent: fc.integer({ min: 127 - 26, max: 127 + 16 }),
      mantissa: fc.integer({ min: 0, max: 0x7fffff }),
    });

    // Act / Assert
    fc.assert(
      fc.property(inRange, ({ sign, exponent, mantissa }) => {
        const bits = ((sign << 31) | (exponent << 23) | mantissa) >>> 0;
        expect(mismatch(bits)).toBeUndefined();
      }),
      { seed: propertySeed(), numRuns: 20000 },
    );
  });

  describe("edge table", () => {
    const justAbove2pow25 = bitsOfFloat(2 ** -25) + 1;
    const below65520 = Math.fround(65519.99);
    const edges: Array<[string, number, number]> = [
      ["+0", bitsOfFloat(0), 0x0000],
      ["-0", bitsOfFloat(-0), 0x8000],
      ["min subnormal 2^-24", bitsOfFloat(2 ** -24), 0x0001],
      ["-min subnormal", bitsOfFloat(-(2 ** -24)), 0x8001],
      ["2^-25, a tie, goes to even 0", bitsOfFloat(2 ** -25), 0x0000],
      ["-2^-25 goes to -0", bitsOfFloat(-(2 ** -25)), 0x8000],
      ["just above 2^-25 goes to the min subnormal", justAbove2pow25, 0x0001],
      ["below 2^-25 goes to 0", bitsOfFloat(2 ** -26), 0x0000],
      ["1.5 * 2^-24, a tie, goes to even 2 * 2^-24", bitsOfFloat(1.5 * 2 ** -24), 0x0002],
      ["2.5 * 2^-24, a tie, goes to even 2 * 2^-24", bitsOfFloat(2.5 * 2 ** -24), 0x0002],
      ["max subnormal 1023 * 2^-24", bitsOfFloat(1023 * 2 ** -24), 0x03ff],
      ["min normal 2^-14", bitsOfFloat(2 ** -14), 0x0400],
      ["float32 min subnormal 2^-149", 0x00000001, 0x0000],
      ["-2^-149", 0x80000001, 0x8000],
      ["1", bitsOfFloat(1), 0x3c00],
      ["-2", bitsOfFloat(-2), 0xc000],
      ["1 + 2^-11, a tie, goes to even 1", bitsOfFloat(1 + 2 ** -11), 0x3c00],
      ["1 + 3 * 2^-11, a tie, goes to even 1 + 2^-9", bitsOfFloat(1 + 3 * 2 ** -11), 0x3c02],
      ["0.1", bitsOfFloat(0.1), 0x2e66],
      ["65504", bitsOfFloat(65504), 0x7bff],
      ["-65504", bitsOfFloat(-65504), 0xfbff],
      ["65519.99 -> 65504", bitsOfFloat(below65520), 0x7bff],
      ["65520 -> Infinity", bitsOfFloat(65520), 0x7c00],
      ["-65520 -> -Infinity", bitsOfFloat(-65520), 0xfc00],
      ["65536 -> Infinity", bitsOfFloat(65536), 0x7c00],
      ["float32 max -> Infinity", 0x7f7fffff, 0x7c00],
      ["Infinity", bitsOfFloat(Infinity), 0x7c00],
      ["-Infinity", bitsOfFloat(-Infinity), 0xfc00],
    ];

    test("the table's inputs are what they claim", () => {
      expect(below65520).toBeLessThan(65520);
      expect(below65520).toBeGreaterThan(65519.9);
      expect(floatOfBits(justAbove2pow25)).toBeGreaterThan(2 ** -25);
      expect(floatOfBits(bitsOfFloat(1023 * 2 ** -24))).toBe(1023 * 2 ** -24);
    });

    test.each(edges)("%s", (_name, bits, expected) => {
      // Act
      const half = float32BitsToFloat16Bits(bits);

      // Assert
      expect(hex(half)).toBe(hex(expected));
      expect(referenceFloatToHalf(bits)).toBe(expected);
    });

    test.each([
      ["quiet NaN", 0x7fc00000],
      ["-quiet NaN", 0xffc00000],
      ["signalling NaN with a high payload", 0x7fa00000],
      ["NaN whose payload lies only in the low 13 bits (must not become Infinity)", 0x7f800001],
      ["-NaN, low payload", 0xff800fff],
    ])("%s stays NaN with its sign", (_name, bits) => {
      // Act
      const half = float32BitsToFloat16Bits(bits);

      // Assert
      expect(isHalfNaN(half)).toBe(true);
      expect(half & HALF_SIGN).toBe(bits >>> 31 === 1 ? HALF_SIGN : 0);
      expect(Number.isNaN(referenceHalfValue(half))).toBe(true);
    });

    test("NaN keeps the top 10 payload bits", () => {
      // Act
      const half = float32BitsToFloat16Bits(0x7f80_0000 | (0x2a5 << 13));

      // Assert
      expect(half).toBe(0x7c00 | 0x2a5);
    });
  });
});

describe("FLOAT16_MAX", () => {
  test("is the largest finite half, 65504, and converts to 0x7bff", () => {
    expect(FLOAT16_MAX).toBe(65504);
    expect(FLOAT16_MAX).toBe(referenceHalfValue(0x7bff));
    expect(FLOAT16_MAX).toBe((2 - 2 ** -10) * 2 ** 15);
    expect(float32BitsToFloat16Bits(bitsOfFloat(FLOAT16_MAX))).toBe(0x7bff);
    expect(referenceHalfValue(0x7bff + 1)).toBe(Infinity);
  });
});

describe("encodeFloat16 / decodeFloat16", () => {
  test("encode writes little-endian halves, two bytes per value", () => {
    // Arrange
    const values = new Float32Array([1, -2, 65504, 2 ** -24, -0, Infinity]);

    // Act
    const bytes = encodeFloat16(values);

    // Assert
    expect(Array.from(bytes)).toEqual([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7c]);
  });

  test("decode reads little-endian halves", () => {
    // Arrange
    const bytes = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0xfc, 0x66, 0x2e]);

    // Act
    const values = decodeFloat16(bytes);

    // Assert
    expect(Array.from(values)).toEqual([1, -2, 65504, 2 ** -24, -0, -Infinity, referenceHalfValue(0x2e66)]);
    expect(Object.is(values[4], -0)).toBe(true);
  });

  test("decode accepts an unaligned view, and refuses an odd byte count", () => {
    // Arrange
    const backing = Uint8Array.from([0xaa, 0x00, 0x3c, 0x00, 0x40, 0x7f]);
    const view = backing.subarray(1, 5); // byteOffset 1, four bytes

    // Act
    const values = decodeFloat16(view);

    // Assert
    expect(Array.from(values)).toEqual([1, 2]);
    expect(() => decodeFloat16(backing.subarray(1))).toThrow(/5 bytes is an odd length/);
  });

  test("encode reads only the given view of a larger buffer", () => {
    // Arrange
    const backing = new Float32Array([7, 1, 2, 9]);
    const view = backing.subarray(1, 3);

    // Act
    const bytes = encodeFloat16(view);

    // Assert
    expect(Array.from(bytes)).toEqual([0x00, 0x3c, 0x00, 0x40]);
  });

  test("empty in, empty out", () => {
    expect(encodeFloat16(new Float32Array(0)).length).toBe(0);
    expect(decodeFloat16(new Uint8Array(0)).length).toBe(0);
    expect(() => decodeFloat16(new Uint8Array(1))).toThrow(/odd length/);
  });

  test("encode(decode(bytes)) is the identity on any even-length byte string (NaN payloads included)", () => {
    // Arrange
    const halves = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 64 });

    // Act / Assert
    fc.assert(
      fc.property(halves, (list) => {
        const bytes = new Uint8Array(list.length * 2);
        list.forEach((half, i) => {
          bytes[2 * i] = half & 0xff;
          bytes[2 * i + 1] = half >>> 8;
        });
        expect(Array.from(encodeFloat16(decodeFloat16(bytes)))).toEqual(Array.from(bytes));
      }),
      { seed: propertySeed(), numRuns: 500 },
    );
  });

  test("decode(encode(values)) is each value rounded to the nearest half", () => {
    // Arrange
    const values = fc.array(fc.float({ noNaN: true }), { maxLength: 64 });

    // Act / Assert
    fc.assert(
      fc.property(values, (list) => {
        const decoded = decodeFloat16(encodeFloat16(new Float32Array(list)));
        const expected = list.map((v) => referenceHalfValue(referenceFloatToHalf(bitsOfFloat(v))));
        expect(decoded.length).toBe(list.length);
        expected.forEach((value, i) => expect(Object.is(decoded[i], value)).toBe(true));
      }),
      { seed: propertySeed(), numRuns: 500 },
    );
  });

  test("decode(encode(values)) is the identity on values a half can hold", () => {
    // Arrange
    const halfValues = fc.array(
      fc
        .integer({ min: 0, max: 0xffff })
        .filter((half) => !isHalfNaN(half))
        .map(referenceHalfValue),
      { maxLength: 64 },
    );

    // Act / Assert
    fc.assert(
      fc.property(halfValues, (list) => {
        const decoded = decodeFloat16(encodeFloat16(new Float32Array(list)));
        expect(Array.from(decoded)).toEqual(list);
        list.forEach((value, i) => expect(Object.is(decoded[i], value)).toBe(true));
      }),
      { seed: propertySeed(), numRuns: 500 },
    );
  });
});

describe("array fast paths agree with the scalar conversions", () => {
  test("decodeFloat16 on all 65,536 half patterns equals float16BitsToFloat32Bits", () => {
    const bytes = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) {
      bytes[2 * h] = h & 0xff;
      bytes[2 * h + 1] = h >>> 8;
    }
    const bits = new Uint32Array(decodeFloat16(bytes).buffer);
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) if (bits[h] !== float16BitsToFloat32Bits(h)) mismatches++;
    expect(mismatches).toBe(0);
  });

  test("encodeFloat16 equals float32BitsToFloat16Bits on 2^20 float32 patterns spread over every exponent, and on every half boundary ±1 ulp", () => {
    const patterns = new Uint32Array(1 << 20);
    let seed = 12345;
    for (let i = 0; i < patterns.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      patterns[i] = (Math.imul(seed, 2654435761) ^ (i << 11)) >>> 0;
    }
    // Around each half-precision value, its midpoints and the range edges.
    const edges: number[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      const f = float16BitsToFloat32Bits(h);
      for (const d of [-1, 0, 1, 0xfff, 0x1000, 0x1001]) edges.push((f + d) >>> 0, ((f | 0x80000000) + d) >>> 0);
    }
    for (const source of [patterns, Uint32Array.from(edges)]) {
      const halves = new Uint16Array(encodeFloat16(new Float32Array(source.buffer)).buffer);
      let mismatches = 0;
      for (let i = 0; i < source.length; i++) if (halves[i] !== float32BitsToFloat16Bits(source[i] as number)) mismatches++;
      expect(mismatches).toBe(0);
    }
  });
});

describe("encodeFloat16WithPeak", () => {
  test("the same bytes as encodeFloat16, and the largest magnitude from the same pass", () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 9000 }), (values) => {
        const { bytes, peak } = encodeFloat16WithPeak(values);
        expect(bytes).toEqual(encodeFloat16(values));
        const expected = values.some(Number.isNaN) ? NaN : values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(peak).toBe(expected);
      }),
      { seed: propertySeed(), numRuns: 200 },
    );
  });

  test("peak across run boundaries: the largest value last of 10,000", () => {
    const values = new Float32Array(10_000).fill(1);
    values[9_999] = -70_000;
    expect(encodeFloat16WithPeak(values).peak).toBe(70_000);
  });
});

/** The neighbouring float64 of x towards +Infinity (up) or -Infinity (down), for x > 0. */
function nextDouble(x: number, direction: 1 | -1): number {
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = (bits[0] as bigint) + BigInt(direction);
  return new Float64Array(bits.buffer)[0] as number;
}

/**
 * The half nearest to a finite float64, ties to the even pattern, by comparing it
 * with the exact midpoint of its neighbouring halves (a float64: at most 12
 * significant bits); the distances themselves need not be exact in float64.
 */
function nearestHalf(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? HALF_SIGN : 0;
  const magnitude = Math.abs(x);
  if (magnitude >= 2 ** 16) return sign | HALF_INFINITY;
  // The largest half at or below the magnitude.
  let lo = 0;
  let hi = HALF_INFINITY;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((ladder[mid] as number) <= magnitude) lo = mid;
    else hi = mid;
  }
  if (magnitude === ladder[lo]) return sign | lo;
  const midpoint = ((ladder[lo] as number) + (ladder[lo + 1] as number)) / 2;
  if (magnitude < midpoint) return sign | lo;
  if (magnitude > midpoint) return sign | (lo + 1);
  return sign | (lo % 2 === 0 ? lo : lo + 1);
}

describe("float64ToFloat16Bits", () => {
  test("maps every finite half's value, of either sign, to that half", () => {
    const failures: number[] = [];
    for (let half = 0; half < HALF_INFINITY; half++) {
      if (float64ToFloat16Bits(referenceHalfValue(half)) !== half) failures.push(half);
      if (float64ToFloat16Bits(-referenceHalfValue(half)) !== (half | HALF_SIGN)) failures.push(half | HALF_SIGN);
    }
    expect(failures).toEqual([]);
  });

  test("sends every midpoint between consecutive halves to the even one, and the float64 on either side to the nearer one", () => {
    const failures: string[] = [];
    for (let half = 0; half < HALF_INFINITY; half++) {
      const midpoint = ((ladder[half] as number) + (ladder[half + 1] as number)) / 2;
      const even = half % 2 === 0 ? half : half + 1;
      const cases: [number, number][] = [
        [midpoint, even],
        [nextDouble(midpoint, -1), half],
        [nextDouble(midpoint, 1), half + 1],
      ];
      for (const [x, expected] of cases) {
        if (float64ToFloat16Bits(x) !== expected) failures.push(`${x} -> ${float64ToFloat16Bits(x).toString(16)}, want ${expected.toString(16)}`);
        if (float64ToFloat16Bits(-x) !== (expected | HALF_SIGN)) failures.push(`${-x} -> ${float64ToFloat16Bits(-x).toString(16)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("rounds once where float64 -> float32 -> float16 rounds twice (a k-means centroid of the golden set)", () => {
    const centroid = 0.21612548828125003;
    expect(float64ToFloat16Bits(centroid)).toBe(0x32eb);
    // The detour through float32 lands on the midpoint, then on the even half.
    const float32Bits = new Uint32Array(new Float32Array([centroid]).buffer)[0] as number;
    expect(float32BitsToFloat16Bits(float32Bits)).toBe(0x32ea);
  });

  test.each([
    ["+0", 0, 0x0000],
    ["-0", -0, 0x8000],
    ["+Infinity", Infinity, 0x7c00],
    ["-Infinity", -Infinity, 0xfc00],
    ["the largest half", 65504, 0x7bff],
    ["just below the overflow midpoint", nextDouble(65520, -1), 0x7bff],
    ["the overflow midpoint (ties to the even 2^16: infinity)", 65520, 0x7c00],
    ["beyond the half range", 1e300, 0x7c00],
    ["below the range, negative", -1e300, 0xfc00],
    ["the smallest subnormal half", 2 ** -24, 0x0001],
    ["half the smallest subnormal (a tie, to +0)", 2 ** -25, 0x0000],
    ["just above half the smallest subnormal", nextDouble(2 ** -25, 1), 0x0001],
    ["the smallest float64", Number.MIN_VALUE, 0x0000],
    ["minus the smallest float64", -Number.MIN_VALUE, 0x8000],
    ["the largest subnormal half rounding up to the smallest normal", 2 ** -14 - 2 ** -26, 0x0400],
    ["the smallest normal half", 2 ** -14, 0x0400],
  ])("edge: %s", (_name, x, expected) => {
    expect(float64ToFloat16Bits(x)).toBe(expected);
  });

  test("NaN stays NaN with its top payload bits", () => {
    expect(float64ToFloat16Bits(Number.NaN)).toBe(0x7e00);
    const payload = new Float64Array(new BigUint64Array([0xfff0_0400_0000_0001n]).buffer)[0] as number;
    expect(float64ToFloat16Bits(payload)).toBe(0xfc01);
    const lowPayload = new Float64Array(new BigUint64Array([0x7ff0_0000_0000_0001n]).buffer)[0] as number;
    expect(float64ToFloat16Bits(lowPayload)).toBe(0x7c01);
  });

  test("rounds random float64 values within and around the half range like the oracle", () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (x) => {
        expect(float64ToFloat16Bits(x)).toBe(nearestHalf(x));
      }),
      { seed: propertySeed(), numRuns: 20000 },
    );
  });

  test("rounds random float64 values near halves (a half plus a few float64 steps) like the oracle", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: HALF_INFINITY - 1 }), fc.integer({ min: -3, max: 3 }), fc.boolean(), (half, steps, upper) => {
        const midpoint = ((ladder[half] as number) + (ladder[half + 1] as number)) / 2;
        let x = upper ? midpoint : (ladder[half] as number);
        for (let s = 0; s < Math.abs(steps) && x > 0; s++) x = nextDouble(x, steps > 0 ? 1 : -1);
        expect(float64ToFloat16Bits(x)).toBe(nearestHalf(x));
      }),
      { seed: propertySeed(), numRuns: 20000 },
    );
  });
});

describe("roundFloat64ToFloat16", () => {
  test("gives the value of the half float64ToFloat16Bits picks", () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (x) => {
        expect(roundFloat64ToFloat16(x)).toBe(referenceHalfValue(nearestHalf(x)));
      }),
      { seed: propertySeed(), numRuns: 20000 },
    );
    expect(roundFloat64ToFloat16(0.21612548828125003)).toBe(referenceHalfValue(0x32eb));
    expect(Object.is(roundFloat64ToFloat16(-0), -0)).toBe(true);
    expect(roundFloat64ToFloat16(1e9)).toBe(Infinity);
    expect(roundFloat64ToFloat16(Number.NaN)).toBeNaN();
  });
});

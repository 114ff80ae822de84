import * as fc from "fast-check";
import { float32FromBytes, float32ToBytes } from "../../src/codec/float32-bytes.js";
import { propertySeed } from "../support/property-seed.js";

/** Little-endian float32 bytes written independently with a DataView. */
function referenceBytes(bitsList: readonly number[]): Uint8Array {
  const out = new Uint8Array(bitsList.length * 4);
  const view = new DataView(out.buffer);
  bitsList.forEach((bits, i) => view.setUint32(i * 4, bits, true));
  return out;
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

const NAN_PATTERNS = [0x7fc00000, 0xffc00000, 0x7fc00001, 0x7f800001, 0xffbfffff, 0x7fa5a5a5];

describe("float32FromBytes", () => {
  test("reads little-endian float32", () => {
    // Arrange
    const bytes = Uint8Array.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x80]);

    // Act
    const values = float32FromBytes(bytes);

    // Assert
    expect(Array.from(values)).toEqual([1, -2, -0]);
    expect(Object.is(values[2], -0)).toBe(true);
  });

  test("an aligned view shares memory with the input", () => {
    // Arrange
    const backing = new Uint8Array(24);
    const bytes = backing.subarray(8, 20); // byteOffset 8: aligned, three floats
    bytes.set(referenceBytes([0x3f800000, 0x40000000, 0x40400000]));

    // Act
    const values = float32FromBytes(bytes);
    bytes.set(referenceBytes([0x40800000]), 4); // 2 -> 4 in the source bytes

    // Assert
    expect(values.buffer).toBe(backing.buffer);
    expect(values.byteOffset).toBe(8);
    expect(Array.from(values)).toEqual([1, 4, 3]);
  });

  test.each([1, 2, 3, 5])("an unaligned view (byteOffset %i) is copied and read correctly", (offset) => {
    // Arrange
    const backing = new Uint8Array(offset + 12 + 3).fill(0xee);
    const bytes = backing.subarray(offset, offset + 12);
    bytes.set(referenceBytes([0x3f800000, 0xc0000000, 0x7f7fffff]));

    // Act
    const values = float32FromBytes(bytes);
    bytes.fill(0);

    // Assert
    expect(values.buffer).not.toBe(backing.buffer);
    expect(values.length).toBe(3);
    expect(bitsOf(values)).toEqual([0x3f800000, 0xc0000000, 0x7f7fffff]);
  });

  test("NaN payloads are kept bit for bit, aligned or not", () => {
    for (const offset of [0, 1, 2, 3]) {
      // Arrange
      const backing = new Uint8Array(offset + NAN_PATTERNS.length * 4);
      backing.set(referenceBytes(NAN_PATTERNS), offset);

      // Act
      const values = float32FromBytes(backing.subarray(offset));

      // Assert
      expect(bitsOf(values).map((b) => b.toString(16))).toEqual(NAN_PATTERNS.map((b) => b.toString(16)));
    }
  });

  test("reads any bit patterns at any offset like a DataView", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }), fc.integer({ min: 0, max: 7 }), (bitsList, offset) => {
        // Arrange
        const backing = new Uint8Array(offset + bitsList.length * 4);
        backing.set(referenceBytes(bitsList), offset);

        // Act
        const values = float32FromBytes(backing.subarray(offset));

        // Assert
        expect(bitsOf(values)).toEqual(bitsList);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("empty in, empty out", () => {
    expect(float32FromBytes(new Uint8Array(0)).length).toBe(0);
    expect(float32FromBytes(new Uint8Array(5).subarray(1, 1)).length).toBe(0);
  });
});

describe("float32ToBytes", () => {
  test("writes little-endian bytes of exactly the given view", () => {
    // Arrange
    const backing = new Float32Array([9, 1, -2, 9]);
    const values = backing.subarray(1, 3);

    // Act
    const bytes = float32ToBytes(values);

    // Assert
    expect(Array.from(bytes)).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
  });

  test("float32FromBytes(float32ToBytes(values)) keeps every bit pattern, NaN payloads included", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }), (bitsList) => {
        // Arrange
        const all = [...bitsList, ...NAN_PATTERNS];
        const values = new Float32Array(Uint32Array.from(all).buffer);

        // Act
        const bytes = float32ToBytes(values);
        const back = float32FromBytes(bytes);

        // Assert
        expect(Array.from(bytes)).toEqual(Array.from(referenceBytes(all)));
        expect(bitsOf(back)).toEqual(all);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("round trip through a copy at an unaligned offset", () => {
    // Arrange
    const values = new Float32Array(Uint32Array.from(NAN_PATTERNS).buffer);
    const bytes = float32ToBytes(values);
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);

    // Act
    const back = float32FromBytes(backing.subarray(3));

    // Assert
    expect(bitsOf(back)).toEqual(NAN_PATTERNS);
  });
});

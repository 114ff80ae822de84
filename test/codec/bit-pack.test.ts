import * as fc from "fast-check";
import { packIndices, packedByteLength, unpackIndices } from "../../src/codec/bit-pack.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";
import { propertySeed } from "../support/property-seed.js";

const BIT_WIDTHS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

/**
 * The layout spelled out as a string of '0'/'1': each index as n binary digits,
 * most significant first, concatenated, zero-padded to whole bytes (at least one
 * byte below 8 bits).
 */
function referencePack(indices: readonly number[], nbits: number): Uint8Array {
  let bits = indices.map((index) => index.toString(2).padStart(nbits, "0")).join("");
  if (nbits < 8) bits = bits.padEnd(Math.max(8, Math.ceil(bits.length / 8) * 8), "0");
  const out = new Uint8Array(bits.length / 8);
  for (let b = 0; b < out.length; b++) out[b] = parseInt(bits.slice(8 * b, 8 * b + 8), 2);
  return out;
}

function indicesArbitrary(nbits: number, maxLength = 200): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: 2 ** nbits - 1 }), { maxLength });
}

describe.each(BIT_WIDTHS)("%i-bit indices", (nbits) => {
  test("pack matches the MSB-first reference layout", () => {
    fc.assert(
      fc.property(indicesArbitrary(nbits), (indices) => {
        // Act
        const packed = packIndices(Uint8Array.from(indices), nbits);

        // Assert
        expect(Array.from(packed)).toEqual(Array.from(referencePack(indices, nbits)));
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("unpack(pack(indices)) is the identity", () => {
    fc.assert(
      fc.property(indicesArbitrary(nbits), (indices) => {
        // Arrange
        const packed = packIndices(Uint8Array.from(indices), nbits);

        // Act
        const unpacked = unpackIndices(packed, nbits, indices.length);

        // Assert
        expect(Array.from(unpacked)).toEqual(indices);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("unpack reads the reference layout, also from an unaligned view with trailing bytes", () => {
    fc.assert(
      fc.property(indicesArbitrary(nbits), fc.integer({ min: 0, max: 3 }), (indices, offset) => {
        // Arrange
        const reference = referencePack(indices, nbits);
        const backing = new Uint8Array(offset + reference.length + 2).fill(0xff);
        backing.set(reference, offset);
        const view = backing.subarray(offset); // two 0xff bytes beyond the payload

        // Act
        const unpacked = unpackIndices(view, nbits, indices.length);

        // Assert
        expect(Array.from(unpacked)).toEqual(indices);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("packed length is n === 8 ? count : max(1, ceil(count * n / 8))", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), (count) => {
        // Arrange
        const expected = nbits === 8 ? count : Math.max(1, Math.ceil((count * nbits) / 8));

        // Act
        const length = packedByteLength(count, nbits);
        const packed = packIndices(new Uint8Array(count), nbits);

        // Assert
        expect(length).toBe(expected);
        expect(packed.length).toBe(expected);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("padding bits of the last byte are zero", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), (count) => {
        // Arrange: all-ones indices, so any stray bit would show
        const indices = new Uint8Array(count).fill(2 ** nbits - 1);
        const paddingBits = (8 - ((count * nbits) % 8)) % 8;

        // Act
        const packed = packIndices(indices, nbits);

        // Assert
        const last = packed[packed.length - 1] as number;
        expect(last & ((1 << paddingBits) - 1)).toBe(0);
        expect(last >>> paddingBits).toBe((1 << (8 - paddingBits)) - 1);
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });

  test("count 0: pack writes the minimum payload, unpack returns nothing", () => {
    // Act
    const packed = packIndices(new Uint8Array(0), nbits);

    // Assert
    expect(Array.from(packed)).toEqual(nbits === 8 ? [] : [0]);
    expect(unpackIndices(packed, nbits, 0).length).toBe(0);
    expect(unpackIndices(new Uint8Array(0), nbits, 0).length).toBe(0);
  });

  test("unpack of a buffer one byte too short throws invalid-weights", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (count) => {
        // Arrange
        const needed = Math.ceil((count * nbits) / 8);
        const short = new Uint8Array(needed - 1);

        // Act / Assert
        expectQuantizeError(() => unpackIndices(short, nbits, count), "invalid-weights", "cannot hold");
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });
});

describe("hand-worked layouts", () => {
  test.each([
    { nbits: 1, indices: [1, 0, 1, 1, 0, 0, 0, 1, 1], bytes: [0b10110001, 0b10000000] },
    { nbits: 2, indices: [1, 2, 3], bytes: [0b01101100] },
    { nbits: 2, indices: [3, 0, 1, 2], bytes: [0b11000110] },
    { nbits: 3, indices: [7, 0, 5], bytes: [0b11100010, 0b10000000] },
    { nbits: 4, indices: [0xa, 0x5, 0xf], bytes: [0xa5, 0xf0] },
    { nbits: 5, indices: [31, 1], bytes: [0b11111000, 0b01000000] },
    { nbits: 6, indices: [1, 2, 3, 4], bytes: [0b00000100, 0b00100000, 0b11000100] },
    { nbits: 7, indices: [0x7f], bytes: [0b11111110] },
    { nbits: 7, indices: [1, 0x40], bytes: [0b00000011, 0b00000000] },
    { nbits: 8, indices: [0, 255, 17], bytes: [0, 255, 17] },
  ])("$nbits bits: $indices", ({ nbits, indices, bytes }) => {
    // Act
    const packed = packIndices(Uint8Array.from(indices), nbits);
    const unpacked = unpackIndices(Uint8Array.from(bytes), nbits, indices.length);

    // Assert
    expect(Array.from(packed)).toEqual(bytes);
    expect(Array.from(unpacked)).toEqual(indices);
  });

  test("too-short buffers on hand-worked sizes throw invalid-weights", () => {
    expectQuantizeError(() => unpackIndices(new Uint8Array(1), 3, 3), "invalid-weights", "cannot hold"); // 9 bits > 8
    expectQuantizeError(() => unpackIndices(new Uint8Array(2), 8, 3), "invalid-weights", "cannot hold");
    expectQuantizeError(() => unpackIndices(new Uint8Array(0), 1, 1), "invalid-weights", "cannot hold");
    expect(Array.from(unpackIndices(new Uint8Array([0xff]), 4, 2))).toEqual([15, 15]); // exactly enough
  });
});

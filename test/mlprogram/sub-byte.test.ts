import fc from "fast-check";
import { packSubByte, unpackSubByte } from "../../src/mlprogram/sub-byte.js";
import { propertySeed } from "../support/property-seed.js";

fc.configureGlobal({ seed: propertySeed(), numRuns: 300 });

describe("sub-byte packing (least significant bit first)", () => {
  test("the specification's example: 2-bit [0, 3, 2, 1, 3] is 0x6C 0x03", () => {
    expect([...packSubByte([0, 3, 2, 1, 3], 2)]).toEqual([0x6c, 0x03]);
    expect([...unpackSubByte(new Uint8Array([0x6c, 0x03]), 2, 5, false)]).toEqual([0, 3, 2, 1, 3]);
  });

  test("3- and 6-bit elements straddle bytes", () => {
    // 3-bit [7, 0, 5]: bits 0-2 = 111, 3-5 = 000, 6-8 = 101 -> byte 0 = 0b01_000_111, byte 1 = 0b1
    expect([...packSubByte([7, 0, 5], 3)]).toEqual([0b01000111, 0b1]);
    // 6-bit [1, 63]: byte 0 = 0b11_000001, byte 1 = 0b1111
    expect([...packSubByte([1, 63], 6)]).toEqual([0b11000001, 0b1111]);
  });

  test("int4 stores the low 4 bits of the two's complement and reads back signed", () => {
    expect([...packSubByte([-1, -8, 7], 4)]).toEqual([0x8f, 0x07]);
    expect([...unpackSubByte(new Uint8Array([0x8f, 0x07]), 4, 3, true)]).toEqual([-1, -8, 7]);
  });

  test("unpack inverts pack for every width, with zero padding bits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }).chain((bits) => fc.tuple(fc.constant(bits), fc.array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { maxLength: 100 }))),
        ([bits, values]) => {
          const packed = packSubByte(values, bits);
          expect(packed.length).toBe(Math.ceil((values.length * bits) / 8));
          expect([...unpackSubByte(packed, bits, values.length, false)]).toEqual(values);
          const used = (values.length * bits) % 8;
          if (used !== 0) expect((packed[packed.length - 1] as number) >>> used).toBe(0);
        },
      ),
    );
  });

  test("too few bytes for the count are refused", () => {
    expect(() => unpackSubByte(new Uint8Array(1), 4, 3, false)).toThrow(expect.objectContaining({ code: "invalid-weights" }));
  });
});

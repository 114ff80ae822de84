import { toBinary, create } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { isQuantizeError } from "../../src/errors.js";
import { MAX_VARINT_BYTES, readVarint, varintLength, writeVarint } from "../../src/codec/varint.js";
import { SizeRangeSchema } from "../../src/gen/FeatureTypes_pb.js";

const written = (value: number): Uint8Array => {
  const out = new Uint8Array(MAX_VARINT_BYTES);
  return out.subarray(0, writeVarint(out, 0, value));
};

test.each([
  [0, [0x00]],
  [1, [0x01]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [300, [0xac, 0x02]],
  [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
  [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
])("%d is written as protobuf writes it", (value, bytes) => {
  expect([...written(value)]).toEqual(bytes);
  expect(written(value)).toEqual(new BinaryWriter().uint64(value).finish());
  expect(varintLength(value)).toBe(bytes.length);
});

test("readVarint and writeVarint are inverses, and the cursor lands after the varint", () => {
  fc.assert(
    fc.property(fc.array(fc.maxSafeNat(), { maxLength: 20 }), (values) => {
      const bytes = new Uint8Array(values.length * MAX_VARINT_BYTES);
      let end = 0;
      for (const value of values) end = writeVarint(bytes, end, value);
      expect(end).toBe(values.reduce((sum, v) => sum + varintLength(v), 0));
      const cursor = { pos: 0 };
      expect(values.map(() => readVarint(bytes, cursor, end))).toEqual(values);
      expect(cursor.pos).toBe(end);
    }),
    { seed: 15 },
  );
});

test("reads a 10-byte varint of a 64-bit value as protobuf writes it (rounded past 2^53)", () => {
  const bytes = toBinary(SizeRangeSchema, create(SizeRangeSchema, { lowerBound: 0xffffffffffffffffn }));
  const cursor = { pos: 1 };
  expect(readVarint(bytes, cursor)).toBe(2 ** 64);
  expect(cursor.pos).toBe(1 + MAX_VARINT_BYTES);
});

test.each([
  ["ends inside a varint", [0x80, 0x80], 2, /runs past byte 2/],
  ["ends at the given end, before the array's", [0x80, 0x01], 1, /runs past byte 1/],
  ["runs past 10 bytes", [...Array(10).fill(0xff), 0x01], 11, /varint at offset 0 runs past 10 bytes/],
])("refuses a varint that %s", (_, bytes, end, message) => {
  const cursor = { pos: 0 };
  let thrown: unknown;
  try {
    readVarint(Uint8Array.from(bytes), cursor, end);
  } catch (error) {
    thrown = error;
  }
  expect(isQuantizeError(thrown) && thrown.code).toBe("invalid-protobuf");
  expect((thrown as Error).message).toMatch(message);
  expect(cursor.pos).toBe(0);
});

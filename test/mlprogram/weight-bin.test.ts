import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isQuantizeError } from "../../src/errors.js";
import { blobElementCount, blobElements, blobOffsets, decodeWeightBin, encodeWeightBin, type BlobContents } from "../../src/mlprogram/weight-bin.js";
import { BLOB_DATA_TYPES } from "../../src/mlprogram/blob-data-types.js";
import { FIXTURES, fixturePackages, independentBlobs, WEIGHT_BIN_PATH } from "./fixtures.js";

const packages = fixturePackages();

test("the fixture set is all there (9 models, 330 expected packages)", () => {
  expect(packages.filter((p) => p.startsWith("models/"))).toHaveLength(9);
  expect(packages.filter((p) => p.startsWith("expected/"))).toHaveLength(330);
});

describe("every fixture weight.bin decodes and re-encodes byte for byte", () => {
  test.each(packages)("%s", (pkg) => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, pkg, WEIGHT_BIN_PATH)));
    const decoded = decodeWeightBin(bytes);
    const independent = independentBlobs(bytes);
    expect(decoded.blobs.map((b) => ({ offset: b.offset, code: BLOB_DATA_TYPES[b.dataType].code, size: b.data.length }))).toEqual(independent);
    expect(blobOffsets(decoded.blobs)).toEqual(independent.map((b) => b.offset));
    expect(Buffer.from(encodeWeightBin(decoded.blobs)).equals(bytes)).toBe(true);
  });
});

/** A file of the given blobs, as the encoder writes it. */
function fileOf(blobs: BlobContents[]): Uint8Array {
  return encodeWeightBin(blobs);
}

const sample: BlobContents[] = [
  { dataType: "float32", data: new Uint8Array(new Float32Array([1, -2, 0.5]).buffer) },
  { dataType: "uint4", data: new Uint8Array([0x21, 0x03]), paddingBits: 4 },
  { dataType: "float16", data: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) },
];

describe("layout", () => {
  test("header, 64-byte aligned records, data right after each record", () => {
    const bytes = fileOf(sample);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(3);
    expect(view.getUint32(4, true)).toBe(2);
    expect(blobOffsets(sample)).toEqual([64, 192, 320]);
    expect(view.getUint32(192, true)).toBe(0xdeadbeef);
    expect(view.getUint32(196, true)).toBe(11); // uint4
    expect(Number(view.getBigUint64(200, true))).toBe(2);
    expect(Number(view.getBigUint64(208, true))).toBe(256);
    expect(Number(view.getBigUint64(216, true))).toBe(4);
    expect(bytes.length).toBe(320 + 64 + 4);
  });

  test("an empty file is a header of count 0", () => {
    const bytes = encodeWeightBin([]);
    expect(bytes.length).toBe(64);
    expect(decodeWeightBin(bytes).blobs).toEqual([]);
  });

  test("elements: zero-copy views where aligned, copies where not, sub-byte types unpacked", () => {
    const bytes = fileOf(sample);
    const { blobs } = decodeWeightBin(bytes);
    const floats = blobElements(blobs[0] as BlobContents);
    expect(floats).toBeInstanceOf(Float32Array);
    expect([...floats]).toEqual([1, -2, 0.5]);
    expect(floats.buffer).toBe(bytes.buffer);
    expect([...blobElements(blobs[1] as BlobContents)]).toEqual([1, 2, 3]);
    expect(blobElementCount(blobs[1] as BlobContents)).toBe(3);
    expect([...blobElements(blobs[2] as BlobContents)]).toEqual([0x3c00, 0xc000]);
    // The same file one byte into a buffer: data no longer aligned for float32.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = blobElements(decodeWeightBin(shifted.subarray(1)).blobs[0] as BlobContents);
    expect([...unaligned]).toEqual([1, -2, 0.5]);
    expect(unaligned.buffer).not.toBe(shifted.buffer);
  });
});

describe("malformed files are refused with invalid-weights, naming what is wrong", () => {
  const good = (): Uint8Array => fileOf(sample);
  // biome-ignore lint/suspicious/noConfusingVoidType: most edits change the bytes in place and return nothing.
  const edit = (change: (view: DataView, bytes: Uint8Array) => Uint8Array | void): Uint8Array => {
    const bytes = good();
    return change(new DataView(bytes.buffer), bytes) ?? bytes;
  };
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["a truncated header", () => good().subarray(0, 40), /shorter than the 64-byte header/],
    ["a header version other than 2", () => edit((v) => v.setUint32(4, 3, true)), /header version 3/],
    [
      "non-zero header bytes",
      () =>
        edit((_, b) => {
          b[20] = 1;
        }),
      /header bytes 8\.\.63/,
    ],
    ["a count larger than the file can hold", () => edit((v) => v.setUint32(0, 1000, true)), /counts 1000 blobs/],
    ["a record past the end", () => edit((v) => v.setUint32(0, 4, true)), /blob 3 .*runs past the end/],
    ["truncated data", () => good().subarray(0, good().length - 1), /blob 2 .*run past the end/],
    ["a missing sentinel", () => edit((v) => v.setUint32(192, 0x12345678, true)), /blob 1 \(metadata at offset 192\): no blob record here/],
    ["an unknown element type", () => edit((v) => v.setUint32(196, 99, true)), /unknown element type code 99/],
    ["an fp8 element type (not read)", () => edit((v) => v.setUint32(196, 16, true)), /unknown element type code 16/],
    ["a data offset not right after the record", () => edit((v) => v.setBigUint64(208, 320n, true)), /data offset 320, expected 256/],
    ["a size beyond 2^53", () => edit((v) => v.setBigUint64(200, 2n ** 60n, true)), /beyond 2\^53/],
    ["padding bits out of range", () => edit((v) => v.setBigUint64(216, 9n, true)), /9 padding bits/],
    ["padding bits on a whole-byte type", () => edit((v) => v.setBigUint64(88, 1n, true)), /a float32 blob has none/],
    ["a partial float32", () => edit((v) => v.setBigUint64(72, 11n, true)), /11 bytes is not a whole number of float32/],
    [
      "non-zero reserved bytes",
      () =>
        edit((_, b) => {
          b[192 + 40] = 1;
        }),
      /reserved bytes/,
    ],
    [
      "non-zero padding between blobs",
      () =>
        edit((_, b) => {
          b[150] = 7;
        }),
      /padding before the record is not zero/,
    ],
    [
      "bytes after the last blob",
      () => {
        const b = good();
        const longer = new Uint8Array(b.length + 5);
        longer.set(b);
        return longer;
      },
      /5 bytes after the last blob/,
    ],
  ];
  test.each(cases)("%s", (_name, make, message) => {
    let error: unknown;
    try {
      decodeWeightBin(make());
    } catch (caught) {
      error = caught;
    }
    expect(isQuantizeError(error, "invalid-weights")).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^weights\/weight\.bin: /);
  });

  test("the encoder refuses a partial element or bad padding too", () => {
    expect(() => encodeWeightBin([{ dataType: "float32", data: new Uint8Array(3) }])).toThrow(/blob 0: 3 bytes is not a whole number of float32/);
    expect(() => encodeWeightBin([{ dataType: "uint3", data: new Uint8Array(1), paddingBits: 8 }])).toThrow(/8 padding bits/);
  });

  test("the file is named as the caller says", () => {
    expect(() => decodeWeightBin(new Uint8Array(3), "x.mlpackage/weight.bin")).toThrow(/^x\.mlpackage\/weight\.bin: 3 bytes/);
  });
});

import fc from "fast-check";
import { deflateRawSync } from "node:zlib";
import { isQuantizeError } from "../../src/errors.js";
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/ml-package.js";
import { crc32, decodeMlPackageZip, encodeMlPackageZip, readZipArchive, writeZipArchive } from "../../src/mlprogram/zip-archive.js";
import { packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";
import { propertySeed } from "../support/property-seed.js";

interface HandEntry {
  readonly name: string;
  readonly data: Uint8Array;
  readonly method?: number;
  readonly flags?: number;
  /** Overrides of what the headers declare. */
  readonly size?: number;
  readonly crc?: number;
}

/**
 * A zip archive built by hand from the format's description (not by the code under
 * test): local header + data per entry, central directory, end record.
 */
function handZip(entries: readonly HandEntry[], options: { count?: number } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const method = entry.method ?? 8;
    const stored = method === 8 ? new Uint8Array(deflateRawSync(entry.data)) : entry.data;
    const name = new TextEncoder().encode(entry.name);
    const crc = entry.crc ?? crc32(entry.data);
    const size = entry.size ?? entry.data.length;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, entry.flags ?? 0, true);
    local.setUint16(8, method, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, stored.length, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    const header = new DataView(new ArrayBuffer(46));
    header.setUint32(0, 0x02014b50, true);
    header.setUint16(6, 20, true);
    header.setUint16(8, entry.flags ?? 0, true);
    header.setUint16(10, method, true);
    header.setUint32(16, crc, true);
    header.setUint32(20, stored.length, true);
    header.setUint32(24, size, true);
    header.setUint16(28, name.length, true);
    header.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), name, stored);
    central.push(new Uint8Array(header.buffer), name);
    offset += 30 + name.length + stored.length;
  }
  const directorySize = central.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, options.count ?? entries.length, true);
  end.setUint16(10, options.count ?? entries.length, true);
  end.setUint32(12, directorySize, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

const packageFolder = "models/conv_fp16_ios18.mlpackage";

describe("reading", () => {
  test("a zip of deflated entries inside a folder, with __MACOSX noise, decodes to the same package", async () => {
    const files = packageFiles(packageFolder);
    const zip = handZip([
      { name: "conv.mlpackage/", data: new Uint8Array(0), method: 0 },
      ...[...files].map(([name, data]) => ({ name: `conv.mlpackage/${name}`, data })),
      { name: "__MACOSX/conv.mlpackage/._Manifest.json", data: new Uint8Array([1, 2]) },
    ]);
    const fromZip = await decodeMlPackageZip(zip);
    const direct = decodeMlPackage(files);
    const a = encodeMlPackage(fromZip);
    const b = encodeMlPackage(direct);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, bytes] of a) expect(Buffer.from(bytes).equals(b.get(name) as Uint8Array)).toBe(true);
  });

  test("stored entries are views of the archive, not copies", async () => {
    const zip = handZip([{ name: "a.bin", data: new Uint8Array([9, 8, 7]), method: 0 }]);
    const read = await readZipArchive(zip);
    expect(read.get("a.bin")?.buffer).toBe(zip.buffer);
  });

  const refusals: [string, () => Uint8Array, RegExp][] = [
    ["not a zip", () => new Uint8Array(100), /not a zip archive/],
    ["a CRC-32 that does not match", () => handZip([{ name: "a", data: new Uint8Array([1, 2, 3]), crc: 5 }]), /entry a is damaged \(its CRC-32/],
    ["an entry inflating past its declared size", () => handZip([{ name: "a", data: new Uint8Array(5000), size: 10 }]), /inflates to more than the 10 bytes/],
    ["an entry shorter than declared", () => handZip([{ name: "a", data: new Uint8Array(10), method: 0, size: 20 }]), /holds 10 bytes, its header says 20/],
    ["an unknown method", () => handZip([{ name: "a", data: new Uint8Array(3), method: 12 }]), /compression method 12/],
    ["an encrypted entry", () => handZip([{ name: "a", data: new Uint8Array(3), method: 0, flags: 1 }]), /entry a is encrypted/],
    ["a name leaving its folder", () => handZip([{ name: "x/../../evil", data: new Uint8Array(3), method: 0 }]), /could leave its folder/],
    ["an absolute name", () => handZip([{ name: "/etc/x", data: new Uint8Array(3), method: 0 }]), /could leave its folder/],
    ["a zip64 marker", () => handZip([{ name: "a", data: new Uint8Array(3), method: 0 }], { count: 0xffff }), /zip64/],
    [
      "a truncated archive",
      () => {
        const z = handZip([{ name: "a", data: new Uint8Array(300), method: 0 }]);
        return z.subarray(200);
      },
      /truncated|damaged/,
    ],
    [
      "a name twice",
      () =>
        handZip([
          { name: "a", data: new Uint8Array(1), method: 0 },
          { name: "a", data: new Uint8Array(1), method: 0 },
        ]),
      /holds a twice/,
    ],
  ];
  test.each(refusals)("refuses %s", async (_name, make, message) => {
    let error: unknown;
    try {
      await readZipArchive(make());
    } catch (caught) {
      error = caught;
    }
    expect(isQuantizeError(error, "unsupported-model")).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test("an archive without a manifest, or with two packages, is not a package", async () => {
    await expect(decodeMlPackageZip(handZip([{ name: "a.txt", data: new Uint8Array(1) }]))).rejects.toThrow(/holds no Manifest\.json/);
    const files = [...packageFiles(packageFolder)];
    const two = handZip([...files.map(([n, d]) => ({ name: `a/${n}`, data: d })), ...files.map(([n, d]) => ({ name: `b/${n}`, data: d }))]);
    await expect(decodeMlPackageZip(two)).rejects.toThrow(/several packages \(a\/Manifest\.json, b\/Manifest\.json\)/);
  });
});

describe("writing", () => {
  test("a package written as a zip reads back the same, in a folder or at the root", async () => {
    const pkg = decodeMlPackage(packageFiles(packageFolder));
    for (const folder of ["conv.mlpackage", ""]) {
      const zip = encodeMlPackageZip(pkg, { folder });
      const names = [...(await readZipArchive(zip)).keys()];
      expect(names.every((n) => (folder === "" ? !n.startsWith("conv") : n.startsWith("conv.mlpackage/")))).toBe(true);
      const back = await decodeMlPackageZip(zip);
      expect(Buffer.from(encodeMlPackage(back).get(WEIGHT_BIN_PATH) as Uint8Array).equals(encodeMlPackage(pkg).get(WEIGHT_BIN_PATH) as Uint8Array)).toBe(true);
    }
  });

  test("equal files give equal archives (fixed dates), stored entries with their CRC-32", () => {
    const files = new Map([["x/y.bin", new Uint8Array([1, 2, 3])]]);
    const a = writeZipArchive(files);
    expect(Buffer.from(a).equals(writeZipArchive(new Map(files)))).toBe(true);
    const view = new DataView(a.buffer);
    expect(view.getUint16(8, true)).toBe(0); // stored
    expect(view.getUint32(14, true)).toBe(crc32(new Uint8Array([1, 2, 3])));
  });

  test("CRC-32 of the standard check string", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});

test("CRC-32 agrees with the bitwise definition on any bytes, whatever their length modulo 8", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      expect(crc32(bytes)).toBe(bitwiseCrc32(bytes));
    }),
    { seed: propertySeed(), numRuns: 300 },
  );
});

/** CRC-32 one bit at a time, straight from its definition (reflected polynomial 0xEDB88320). */
function bitwiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

import { BLOB_DATA_TYPES, type BlobDataType } from "../../src/mlprogram/blob-data-types.js";
import { inspectProgram } from "../../src/mlprogram/inspect-program.js";
import { decodeMlPackage } from "../../src/mlprogram/ml-package.js";
import { fixturePackages, independentBlobs, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

const codeToName = new Map<number, BlobDataType>((Object.keys(BLOB_DATA_TYPES) as BlobDataType[]).map((name) => [BLOB_DATA_TYPES[name].code, name]));

describe("weight.bin totals agree with an independent reading of the file", () => {
  test.each(fixturePackages())("%s", (relative) => {
    const files = packageFiles(relative);
    const summary = inspectProgram(decodeMlPackage(files));
    const blobs = independentBlobs(files.get(WEIGHT_BIN_PATH) as Uint8Array);
    expect(summary.blobs).toBe(blobs.length);
    expect(summary.totals.blob.bytes).toBe(blobs.reduce((sum, b) => sum + b.size, 0));
    // Bytes per blob type, from the file, against the constants of that type stored in blobs.
    const fromFile: Record<string, number> = {};
    for (const b of blobs) fromFile[codeToName.get(b.code) as string] = (fromFile[codeToName.get(b.code) as string] ?? 0) + b.size;
    const fromProgram: Record<string, number> = {};
    const seen = new Set<number>();
    for (const c of summary.constants) {
      if (c.storage.kind !== "blob" || seen.has(c.storage.offset)) continue;
      seen.add(c.storage.offset);
      fromProgram[c.dataType] = (fromProgram[c.dataType] ?? 0) + c.storage.byteLength;
    }
    expect(fromProgram).toEqual(fromFile);
    expect(summary.totals.bytes).toBe(summary.totals.inline.bytes + summary.totals.blob.bytes);
    expect(summary.totals.constants).toBe(summary.constants.length);
  });
});

test("the mlp input model: functions, counts and bytes per type", () => {
  const summary = inspectProgram(decodeMlPackage(packageFiles("models/mlp_fp32_ios16.mlpackage")));
  expect(summary.specificationVersion).toBe(7);
  expect(summary.functions).toEqual([{ name: "main", opsets: ["CoreML6"], operations: 23 }]);
  // Five linear layers: weights and biases in weight.bin (fc3's bias has exactly 10 elements).
  expect(summary.totals.blob).toEqual({
    constants: 10,
    values: 128 * 80 + 128 + 43 * 128 + 43 + 10 * 43 + 10 + 45 * 51 + 45 + 40 * 80 + 40,
    bytes: 4 * 21_935,
  });
  expect(summary.totals.byDataType.float32?.constants).toBe(10);
  expect(summary.totals.byDataType.int32).toEqual({ constants: 3, values: 5, bytes: 20 });
  expect(summary.weights.filter((w) => w.input === "weight").map((w) => `${w.opName} ${w.shape.join("x")}`)).toEqual([
    "fc1 128x80",
    "fc2 43x128",
    "fc3 10x43",
    "odd 45x51",
    "lat 40x80",
  ]);
});

test("a shared mask blob is counted once", () => {
  const summary = inspectProgram(decodeMlPackage(packageFiles("expected/attn_fp32_ios18__joint_prune50_then_lq_int8.mlpackage")));
  const offsets = summary.constants.flatMap((c) => (c.storage.kind === "blob" ? [c.storage.offset] : []));
  expect(new Set(offsets).size).toBeLessThan(offsets.length);
  expect(summary.totals.blob.bytes).toBe(
    summary.constants
      .filter(
        (c, i, all) =>
          c.storage.kind === "blob" &&
          all.findIndex((d) => d.storage.kind === "blob" && c.storage.kind === "blob" && d.storage.offset === c.storage.offset) === i,
      )
      .reduce((sum, c) => sum + c.storage.byteLength, 0),
  );
});

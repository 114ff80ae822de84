/**
 * Package folders in Node: read whole, written into a temporary folder beside the
 * destination and renamed into place, nothing left behind, nothing but a package
 * replaced.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isQuantizeError } from "../../src/errors.js";
import { readMlPackage, writeMlPackage } from "../../src/node/mlpackage-files.js";
import { liveTemporaries, onTemporaryRegistered } from "../../src/node/temporary-files.js";
import { FIXTURES, MODEL_PATH, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-mlpackage-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const source = "models/mlp_fp16_ios18.mlpackage";

function expectSameFiles(folder: string, relative: string): void {
  const expected = packageFiles(relative);
  for (const [path, bytes] of expected) expect(Buffer.from(readFileSync(join(folder, path))).equals(bytes)).toBe(true);
}

test("a package read and written is the same files, and nothing else is left beside it", () => {
  const out = join(dir, "copy.mlpackage");
  writeMlPackage(out, readMlPackage(join(FIXTURES, source)));
  expectSameFiles(out, source);
  expect(readdirSync(dir)).toEqual(["copy.mlpackage"]);
});

test("an existing package is replaced whole (no file of the old one stays)", () => {
  const out = join(dir, "out.mlpackage");
  writeMlPackage(out, readMlPackage(join(FIXTURES, "models/conv_fp32_ios18.mlpackage")));
  writeFileSync(join(out, "Data", "stray.txt"), "old");
  writeMlPackage(out, readMlPackage(join(FIXTURES, source)));
  expectSameFiles(out, source);
  expect(readdirSync(join(out, "Data"))).toEqual(["com.apple.CoreML"]);
  expect(readdirSync(dir)).toEqual(["out.mlpackage"]);
});

test("a package can replace itself (it is read whole first)", () => {
  const out = join(dir, "self.mlpackage");
  writeMlPackage(out, readMlPackage(join(FIXTURES, source)));
  writeMlPackage(out, readMlPackage(out));
  expectSameFiles(out, source);
});

test("a failed write removes the temporary folder and leaves the destination as it was", () => {
  const out = join(dir, "out.mlpackage");
  writeMlPackage(out, readMlPackage(join(FIXTURES, source)));
  const pkg = readMlPackage(join(FIXTURES, "models/conv_fp32_ios18.mlpackage"));
  // A file where the model's folder must go: the write fails part way.
  const clash = { ...pkg, otherFiles: new Map([["Data/com.apple.CoreML", new Uint8Array([1])]]) };
  let error: unknown;
  try {
    writeMlPackage(out, clash);
  } catch (caught) {
    error = caught;
  }
  expect(isQuantizeError(error, "io")).toBe(true);
  expect((error as Error).message).toMatch(/^cannot write .*out\.mlpackage: /);
  expectSameFiles(out, source);
  expect(readdirSync(dir)).toEqual(["out.mlpackage"]);
});

describe("what is never replaced", () => {
  test("a regular file", () => {
    const out = join(dir, "file.mlpackage");
    writeFileSync(out, "keep");
    expect(() => writeMlPackage(out, readMlPackage(join(FIXTURES, source)))).toThrow(/exists and is not a folder/);
    expect(readFileSync(out, "utf8")).toBe("keep");
  });

  test("a folder that is not a package", () => {
    const out = join(dir, "photos");
    mkdirSync(out);
    writeFileSync(join(out, "a.jpg"), "x");
    expect(() => writeMlPackage(out, readMlPackage(join(FIXTURES, source)))).toThrow(/without Manifest\.json, not an \.mlpackage, and is not replaced/);
    expect(readdirSync(out)).toEqual(["a.jpg"]);
    expect(readdirSync(dir)).toEqual(["photos"]);
  });
});

describe("reading refuses", () => {
  test("a missing folder, a file, with io", () => {
    expect(() => readMlPackage(join(dir, "none.mlpackage"))).toThrow(expect.objectContaining({ code: "io", message: expect.stringMatching(/ENOENT/) }));
    writeFileSync(join(dir, "model.mlmodel"), "x");
    expect(() => readMlPackage(join(dir, "model.mlmodel"))).toThrow(/not a folder; an \.mlpackage is a folder/);
  });

  test("a symbolic link to a folder inside the package", () => {
    const out = join(dir, "linked.mlpackage");
    writeMlPackage(out, readMlPackage(join(FIXTURES, source)));
    symlinkSync(dir, join(out, "Data", "loop"));
    expect(() => readMlPackage(out)).toThrow(/symbolic link to a folder/);
  });

  test("a malformed package, the message starting with the folder", () => {
    const out = join(dir, "broken.mlpackage");
    writeMlPackage(out, readMlPackage(join(FIXTURES, source)));
    writeFileSync(join(out, WEIGHT_BIN_PATH), new Uint8Array(10));
    let error: unknown;
    try {
      readMlPackage(out);
    } catch (caught) {
      error = caught;
    }
    expect(isQuantizeError(error, "invalid-weights")).toBe(true);
    expect((error as Error).message).toMatch(/broken\.mlpackage: Data\/com\.apple\.CoreML\/weights\/weight\.bin: 10 bytes/);
    rmSync(join(out, MODEL_PATH));
    expect(() => readMlPackage(out)).toThrow(expect.objectContaining({ code: "unsupported-model" }));
  });
});

test("the temporary folder is registered while it exists (for signal clean-up) and forgotten after", () => {
  const registered: string[] = [];
  const stop = onTemporaryRegistered(() => registered.push(...liveTemporaries()));
  try {
    writeMlPackage(join(dir, "reg.mlpackage"), readMlPackage(join(FIXTURES, source)));
  } finally {
    stop();
  }
  expect(registered).toHaveLength(1);
  expect(registered[0]).toMatch(/\/\.reg\.mlpackage\.\d+\.\d+\.tmp$/);
  expect(liveTemporaries()).toEqual([]);
});

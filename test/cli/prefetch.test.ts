/**
 * Reading the input ahead: which command lines start a read, what it yields, and
 * run() using the bytes only for the same path (and reading normally otherwise).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPrefetch } from "../../src/cli/prefetch.js";
import { cli } from "../support/cli.js";

const EXAMPLE = join(__dirname, "..", "..", "examples", "cnn.mlmodel");
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-prefetch-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("startPrefetch", () => {
  test("reads the model of `COMMAND MODEL ...`, whole", async () => {
    for (const command of ["quantize", "dequantize", "int8-matmul", "inspect", "report"]) {
      const prefetch = startPrefetch([command, EXAMPLE, "-o", "x"]);
      expect(prefetch?.path).toBe(EXAMPLE);
      expect(await prefetch?.bytes).toEqual(new Uint8Array(readFileSync(EXAMPLE)));
    }
  });

  test("starts nothing for other command lines", () => {
    for (const argv of [[], ["quantize"], ["--help"], ["quantize", "--force", EXAMPLE], ["version", EXAMPLE], ["inspect", "-"]]) {
      expect(startPrefetch(argv)).toBeUndefined();
    }
  });

  test("missing files, directories and empty files are left to the command", async () => {
    const empty = join(dir, "empty.mlmodel");
    writeFileSync(empty, "");
    const folder = join(dir, "model.mlpackage");
    mkdirSync(folder);
    for (const path of [join(dir, "missing.mlmodel"), empty, folder]) expect(startPrefetch(["quantize", path])).toBeUndefined();
  });
});

describe("run() with a prefetched input", () => {
  test("uses the bytes when the command reads that path", async () => {
    // The path does not exist: only the bytes read ahead can make this succeed.
    const gone = join(dir, "gone.mlmodel");
    const out = join(dir, "out.mlmodel");
    const result = await cli(["quantize", gone, "-o", out, "--nbits", "8"],
      { prefetched: { path: gone, bytes: Promise.resolve(new Uint8Array(readFileSync(EXAMPLE))) } });
    expect(result.code).toBe(0);
    expect(readFileSync(out).length).toBeGreaterThan(0);
  });

  test("bytes that are not a model are decoded, and refused, like the file's", async () => {
    const result = await cli(["inspect", EXAMPLE], { prefetched: { path: EXAMPLE, bytes: Promise.resolve(Uint8Array.of(0xff, 0xff)) } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not a valid Core ML model/);
  });

  test("a failed read falls back to reading the file, with its usual errors", async () => {
    const missing = join(dir, "missing.mlmodel");
    const result = await cli(["inspect", missing], { prefetched: { path: missing, bytes: Promise.resolve(undefined) } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ENOENT/);
    const fine = await cli(["inspect", EXAMPLE], { prefetched: { path: EXAMPLE, bytes: Promise.resolve(undefined) } });
    expect(fine.code).toBe(0);
  });

  test("a prefetch of another path is ignored", async () => {
    const result = await cli(["inspect", EXAMPLE], { prefetched: { path: join(dir, "other.mlmodel"), bytes: Promise.resolve(Uint8Array.of(0xff)) } });
    expect(result.code).toBe(0);
  });
});

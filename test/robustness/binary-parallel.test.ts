/**
 * The executable quantizes with worker threads where that pays (k-means over
 * several tensors) and on its own thread otherwise: either way the file it writes
 * is byte for byte the one the library writes in-process.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "../support/cli.js";
import { ensureBuiltCli, REPO, runBinary } from "./helpers.js";

const MODELS = ["cnn.mlmodel"].map((name) => join(REPO, "examples", name));
let dir: string;
beforeAll(() => {
  ensureBuiltCli();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-parallel-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe.each(MODELS)("%s", (model) => {
  test.each([
    ["kmeans_lut 4-bit (worker threads)", ["--nbits", "4", "--mode", "kmeans_lut"]],
    ["kmeans_lut 8-bit (worker threads)", ["--nbits", "8", "--mode", "kmeans_lut"]],
    ["linear 8-bit (this thread)", ["--nbits", "8"]],
    ["half precision", ["--nbits", "16"]],
  ])(
    "%s: the binary's output equals the library's",
    async (_name, args) => {
      const viaBinary = join(dir, "binary.mlmodel");
      const inProcess = join(dir, "library.mlmodel");
      const binary = runBinary(["quantize", model, "-o", viaBinary, ...args], 60_000);
      expect(binary.stderr).toBe("");
      expect(binary.code).toBe(0);
      const library = await cli(["quantize", model, "-o", inProcess, ...args]);
      expect(library.code).toBe(0);
      expect(readFileSync(viaBinary)).toEqual(readFileSync(inProcess));
    },
    90_000,
  );
});

/**
 * Reading the input ahead: which command lines start a read, which files (regular
 * ones within the size limit only: never a FIFO), what it yields, and run() using
 * the bytes only for the same path (and reading normally otherwise).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPrefetch } from "../../src/cli/prefetch.js";
import { MAX_MODEL_BYTES } from "../../src/node/model-file-limits.js";
import { cli } from "../support/cli.js";

const EXAMPLE = join(__dirname, "..", "..", "examples", "cnn.mlmodel");
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-prefetch-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("startPrefetch", () => {
  test("reads the model of `COMMAND MODEL ...`, whole", async () => {
    for (const command of ["quantize", "dequantize", "int8-matmul", "inspect", "report", "predict", "compare"]) {
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

  test("files over the size limit and files no model starts like are left to the command, unread", () => {
    const big = join(dir, "big.mlmodel");
    writeFileSync(big, "");
    truncateSync(big, MAX_MODEL_BYTES + 1);
    const zeros = join(dir, "zeros.mlmodel");
    writeFileSync(zeros, new Uint8Array(1 << 20));
    for (const path of [big, zeros]) expect(startPrefetch(["inspect", path])).toBeUndefined();
  });

  test("a FIFO is left to the command: not opened, so start-up cannot wait on it", async () => {
    const fifo = join(dir, "in.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // A writer that comes after 2 s (so a prefetch that opens the FIFO is slow, not stuck).
    const late = spawn(process.execPath, ["-e", 'setTimeout(() => require("fs").openSync(process.argv[1], "w"), 2000)', fifo], { stdio: "ignore" });
    try {
      const started = Date.now();
      expect(startPrefetch(["inspect", fifo])).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      late.kill("SIGKILL");
      await new Promise((resolve) => late.once("exit", resolve));
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
    const result = await cli(["quantize", gone, "-o", out, "--nbits", "8"], {
      prefetched: { path: gone, bytes: Promise.resolve(new Uint8Array(readFileSync(EXAMPLE))) },
    });
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

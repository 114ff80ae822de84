/**
 * Issue 11, outputs and inputs, through the real binary (`node
 * dist/bin/coreml-quantize.js`): nothing the tool writes may destroy a file, and no
 * input makes it hang or crash.
 *
 * - `-o` and `--report` are compared with the input and with each other by device
 *   and inode (hard and symbolic links included), new names by resolved path.
 * - Only a regular file or a new name is replaced (atomically); a FIFO, a character
 *   device or a link to `/proc/self/fd/1` is written in place and stays what it was;
 *   a block device, a directory or a dangling link is refused.
 * - Every refusal is one line naming the path and the reason, with nothing written
 *   and no temporary file left; a report that cannot be written leaves no model.
 * - Inputs: a FIFO is read once and never blocks start-up; endless and oversized
 *   inputs are refused quickly, from their size or their first bytes.
 * - Standard output: a closed pipe ends the run quietly, a full device is one line.
 * - SIGINT while the output is being written removes the temporary file.
 *
 * Device nodes are made with mknod in the test's own directory (root only; the
 * cases are skipped, and listed at the end, otherwise).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  concat,
  ensureBuiltCli,
  float32Bytes,
  GOLDEN_MODELS,
  innerProductLayer,
  MAIN,
  networkModel,
  ONE_LINE_REFUSAL,
  prng,
  REPO,
  runBinary,
  runBinaryAsync,
  sha256,
  TEMP_NAME,
  varint,
  type CliResult,
} from "./helpers.js";

const MODEL = join(GOLDEN_MODELS, "cnn.mlmodel");
const AS_ROOT = process.getuid?.() === 0;
/** What a hang test allows before killing the binary: start-up and refusals take well under a second. */
const HANG_MS = 10_000;
// Each test runs the binary, some several times, some with HANG_MS each.
jest.setTimeout(3 * HANG_MS);

let root = "";
/** What `quantize MODEL --nbits 8` writes, and its report. */
let reference = Buffer.alloc(0);
let referenceReport: unknown;
const skipped = new Set<string>();

beforeAll(() => {
  console.log(ensureBuiltCli());
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-outputs-"));
  const r = runBinary(["quantize", MODEL, "-o", join(root, "reference.mlmodel"), "--nbits", "8", "--report", join(root, "reference.json")]);
  expect(r.code).toBe(0);
  reference = readFileSync(join(root, "reference.mlmodel"));
  referenceReport = JSON.parse(readFileSync(join(root, "reference.json"), "utf8"));
}, 240_000);

afterAll(() => {
  if (skipped.size > 0) console.log(`skipped (not root, or mknod refused):\n  ${[...skipped].join("\n  ")}`);
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** A fresh directory holding a copy of the model as `in.mlmodel`. */
function fresh(): { dir: string; input: string } {
  const dir = mkdtempSync(join(root, "case-"));
  const input = join(dir, "in.mlmodel");
  copyFileSync(MODEL, input);
  return { dir, input };
}

/** A character or block device node in `dir` (root only); undefined, with the case noted, otherwise. */
function deviceNode(dir: string, name: string, kind: "c" | "b", major: number, minor: number, testName: string): string | undefined {
  const path = join(dir, name);
  if (!AS_ROOT || spawnSync("mknod", [path, kind, String(major), String(minor)]).status !== 0) {
    skipped.add(testName);
    return undefined;
  }
  return path;
}

function fifo(dir: string, name: string): string {
  const path = join(dir, name);
  const made = spawnSync("mkfifo", [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr.toString()}`);
  return path;
}

/**
 * Every entry of `dir` as it is: its type, and for a regular file its contents'
 * hash and permission bits, for a link its target, for a device its number.
 * Compared before and after a run: "nothing changed".
 */
function state(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const s = lstatSync(path);
      if (s.isSymbolicLink()) return `${name} -> ${readlinkSync(path)}`;
      if (s.isFile()) return `${name} file ${(s.mode & 0o7777).toString(8)} ${sha256(path)}`;
      if (s.isFIFO()) return `${name} fifo`;
      if (s.isCharacterDevice()) return `${name} char ${s.rdev}`;
      if (s.isBlockDevice()) return `${name} block ${s.rdev}`;
      return `${name} directory`;
    });
}

/** Exit 1, one line on stderr matching `pattern`, nothing claimed written. */
function expectRefusal(r: CliResult, pattern: RegExp): void {
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
  expect(r.stderr).toMatch(ONE_LINE_REFUSAL);
  expect(r.stderr).toMatch(pattern);
  expect(r.stdout).not.toMatch(/wrote/);
}

/** Exit 0 with nothing on stderr. */
function expectSuccess(r: CliResult): void {
  expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
}

/** A process that reads `path` (a FIFO) to its end; settles with what it read. */
function readerOf(path: string): Promise<Buffer> {
  const child = spawn("cat", [path], { stdio: ["ignore", "pipe", "inherit"] });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** A process that writes `file` into `path` (a FIFO); settles with its exit code. */
function writerOf(file: string, path: string): Promise<number | null> {
  const child = spawn("sh", ["-c", 'cat "$1" > "$2"', "sh", file, path], { stdio: "ignore" });
  return exited(child).then((r) => r.code);
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

const temporaries = (dir: string): string[] => readdirSync(dir).filter((name) => /\.tmp$/.test(name));

// ---------------------------------------------------------------------------
// Outputs compared with the input and with each other
// ---------------------------------------------------------------------------

describe("-o and --report never name the input, and --report never names -o", () => {
  type Clash = { name: string; argv: (dir: string, input: string) => string[]; message: RegExp };
  const clashes: Clash[] = [
    { name: "--report naming the input", argv: (dir, input) => ["-o", join(dir, "out.mlmodel"), "--report", input], message: /--report \S+ is the input file/ },
    {
      name: "--report a hard link to the input",
      argv: (dir, input) => {
        linkSync(input, join(dir, "hard.json"));
        return ["-o", join(dir, "out.mlmodel"), "--report", join(dir, "hard.json")];
      },
      message: /--report \S+hard\.json is the input file/,
    },
    {
      name: "--report a symbolic link to the input",
      argv: (dir) => {
        symlinkSync("in.mlmodel", join(dir, "link.json"));
        return ["-o", join(dir, "out.mlmodel"), "--report", join(dir, "link.json")];
      },
      message: /--report \S+link\.json is the input file/,
    },
    {
      name: "--report naming -o (an existing file)",
      argv: (dir) => {
        writeFileSync(join(dir, "out.mlmodel"), "previous");
        return ["-o", join(dir, "out.mlmodel"), "--report", join(dir, "out.mlmodel")];
      },
      message: /--report \S+ is the model output -o/,
    },
    {
      name: "--report naming -o (a new name, spelled another way)",
      argv: (dir) => ["-o", join(dir, "out.mlmodel"), "--report", `${dir}/./out.mlmodel`],
      message: /--report \S+ is the model output -o/,
    },
    {
      name: "--report a symbolic link to -o",
      argv: (dir) => {
        writeFileSync(join(dir, "out.mlmodel"), "previous");
        symlinkSync("out.mlmodel", join(dir, "out-link.json"));
        return ["-o", join(dir, "out.mlmodel"), "--report", join(dir, "out-link.json")];
      },
      message: /--report \S+out-link\.json is the model output -o/,
    },
    {
      name: "-o a hard link to the input, without --force",
      argv: (dir, input) => {
        linkSync(input, join(dir, "hard.mlmodel"));
        return ["-o", join(dir, "hard.mlmodel")];
      },
      message: /-o \S+hard\.mlmodel is the input file.*--force/,
    },
    {
      name: "-o a symbolic link to the input, without --force",
      argv: (dir) => {
        symlinkSync("in.mlmodel", join(dir, "link.mlmodel"));
        return ["-o", join(dir, "link.mlmodel")];
      },
      message: /-o \S+link\.mlmodel is the input file.*--force/,
    },
    {
      name: "--report naming the input, with --force",
      argv: (_dir, input) => ["-o", input, "--report", input, "--force"],
      message: /--report \S+ is the input file/,
    },
  ];

  test.each(clashes.map((c) => [c.name, c] as const))("%s: refused, nothing written", (_name, c) => {
    // Arrange
    const { dir, input } = fresh();
    const argv = ["quantize", input, ...c.argv(dir, input), "--nbits", "8"];
    const before = state(dir);

    // Act
    const r = runBinary(argv);

    // Assert
    expectRefusal(r, c.message);
    expect(state(dir)).toEqual(before);
  });

  test("--force still lets -o replace the input (read whole first)", () => {
    const { dir, input } = fresh();
    expectSuccess(runBinary(["quantize", input, "-o", input, "--nbits", "8", "--force"]));
    expect(readFileSync(input).equals(reference)).toBe(true);
    expect(temporaries(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// What is replaced, and what is written in place
// ---------------------------------------------------------------------------

describe("only a regular file or a new name is replaced; a FIFO, a device or a /proc/self/fd link is written in place", () => {
  test.each(["-o", "--report"] as const)("a character device (null) as %s stays a device", (flag) => {
    const { dir, input } = fresh();
    const nul = deviceNode(dir, "null", "c", 1, 3, `a character device as ${flag}`);
    if (nul === undefined) return;
    const argv = flag === "-o" ? ["-o", nul] : ["-o", join(dir, "out.mlmodel"), "--report", nul];
    const before = state(dir);

    const r = runBinary(["quantize", input, ...argv, "--nbits", "8"]);

    expectSuccess(r);
    expect(lstatSync(nul).isCharacterDevice()).toBe(true);
    const after = state(dir).filter((entry) => !entry.startsWith("out.mlmodel "));
    expect(after).toEqual(before);
    if (flag === "--report") expect(readFileSync(join(dir, "out.mlmodel")).equals(reference)).toBe(true);
  });

  test("a FIFO as -o: its reader gets the model, and it stays a FIFO", async () => {
    const { dir, input } = fresh();
    const pipe = fifo(dir, "out.fifo");
    const read = readerOf(pipe);

    const r = await runBinaryAsync(["quantize", input, "-o", pipe, "--nbits", "8"], HANG_MS);

    expectSuccess(r);
    expect((await read).equals(reference)).toBe(true);
    expect(lstatSync(pipe).isFIFO()).toBe(true);
    expect(temporaries(dir)).toEqual([]);
  });

  test("a FIFO as --report: its reader gets the JSON, and the model goes to -o", async () => {
    const { dir, input } = fresh();
    const pipe = fifo(dir, "report.fifo");
    const read = readerOf(pipe);

    const r = await runBinaryAsync(["quantize", input, "-o", join(dir, "out.mlmodel"), "--nbits", "8", "--report", pipe], HANG_MS);

    expectSuccess(r);
    expect(JSON.parse((await read).toString("utf8"))).toEqual(referenceReport);
    expect(readFileSync(join(dir, "out.mlmodel")).equals(reference)).toBe(true);
    expect(lstatSync(pipe).isFIFO()).toBe(true);
  });

  test("a symbolic link to /proc/self/fd/1 as --report, standard output a pipe: the JSON goes down the pipe, and the link stays", () => {
    const { dir, input } = fresh();
    const link = join(dir, "stdout.json");
    symlinkSync("/proc/self/fd/1", link);

    // Through `| cat`: a child's stdout from Node is a socket, which cannot be opened by path.
    const r = spawnSync(
      "bash",
      ["-c", '"$@" | cat', "bash", process.execPath, MAIN, "quantize", input, "-o", join(dir, "out.mlmodel"), "--nbits", "8", "--report", link],
      {
        cwd: REPO,
        encoding: "utf8",
        timeout: HANG_MS,
      },
    );

    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const json = r.stdout.slice(r.stdout.indexOf("{"), r.stdout.lastIndexOf("}") + 1);
    expect(JSON.parse(json)).toEqual(referenceReport);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("/proc/self/fd/1");
  });

  test("a symbolic link to a regular file as -o: the file it names is replaced, and the link stays", () => {
    const { dir, input } = fresh();
    mkdirSync(join(dir, "elsewhere"));
    writeFileSync(join(dir, "elsewhere", "target.mlmodel"), "previous");
    symlinkSync("elsewhere/target.mlmodel", join(dir, "link.mlmodel"));

    expectSuccess(runBinary(["quantize", input, "-o", join(dir, "link.mlmodel"), "--nbits", "8"]));

    expect(readlinkSync(join(dir, "link.mlmodel"))).toBe("elsewhere/target.mlmodel");
    expect(readFileSync(join(dir, "elsewhere", "target.mlmodel")).equals(reference)).toBe(true);
    expect([...temporaries(dir), ...temporaries(join(dir, "elsewhere"))]).toEqual([]);
  });

  test("a replaced output and report keep their permission bits", () => {
    const { dir, input } = fresh();
    const out = join(dir, "out.mlmodel");
    const report = join(dir, "report.json");
    writeFileSync(out, "previous");
    writeFileSync(report, "{}");
    chmodSync(out, 0o640);
    chmodSync(report, 0o600);

    expectSuccess(runBinary(["quantize", input, "-o", out, "--nbits", "8", "--report", report]));

    expect(readFileSync(out).equals(reference)).toBe(true);
    expect((statSync(out).mode & 0o7777).toString(8)).toBe("640");
    expect((statSync(report).mode & 0o7777).toString(8)).toBe("600");
  });

  test("a valid 250-byte file name works: the temporary file's name is shortened, not refused", () => {
    const { dir, input } = fresh();
    const name = `${"m".repeat(242)}.mlmodel`;
    expect(Buffer.byteLength(name)).toBe(250);

    expectSuccess(runBinary(["quantize", input, "-o", join(dir, name), "--nbits", "8"]));

    expect(readFileSync(join(dir, name)).equals(reference)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["in.mlmodel", name].sort());
  });
});

// ---------------------------------------------------------------------------
// Refusals to write
// ---------------------------------------------------------------------------

describe("an output that cannot be written: one line saying what and where, nothing written", () => {
  type Unwritable = { name: string; out: (dir: string) => string | undefined; message: RegExp; rootOnly?: boolean; notRoot?: boolean };
  const cases: Unwritable[] = [
    {
      name: "a full device (ENOSPC)",
      out: (dir) => deviceNode(dir, "full", "c", 1, 7, "-o a full device"),
      message: /cannot write \S+full: ENOSPC \(no space left on device\)/,
    },
    {
      name: "a path through a regular file (ENOTDIR)",
      out: (dir) => {
        writeFileSync(join(dir, "file"), "x");
        return join(dir, "file", "out.mlmodel");
      },
      message: /cannot write \S+file\/out\.mlmodel: ENOTDIR/,
    },
    {
      name: "a loop of symbolic links (ELOOP)",
      out: (dir) => {
        symlinkSync("b", join(dir, "a"));
        symlinkSync("a", join(dir, "b"));
        return join(dir, "a");
      },
      message: /cannot write \S+\/a: ELOOP/,
    },
    { name: "a 300-byte name (ENAMETOOLONG)", out: (dir) => join(dir, "n".repeat(300)), message: /: ENAMETOOLONG \(the name is too long\)/ },
    { name: "a directory (EISDIR)", out: (dir) => dir, message: /: EISDIR \(it is a directory\)/ },
    {
      name: "a missing directory (ENOENT)",
      out: (dir) => join(dir, "missing", "out.mlmodel"),
      message: /cannot write \S+missing\/out\.mlmodel: ENOENT.*create the directory/,
    },
    {
      name: "a symbolic link to a missing file",
      out: (dir) => {
        symlinkSync("nowhere/out.mlmodel", join(dir, "dangling"));
        return join(dir, "dangling");
      },
      message: /cannot write \S+dangling: it is a symbolic link to a missing file/,
    },
    { name: "a block device", out: (dir) => deviceNode(dir, "disk", "b", 240, 0, "-o a block device"), message: /cannot write \S+disk: it is a block device/ },
    {
      name: "a directory without write permission (EACCES)",
      out: (dir) => {
        if (AS_ROOT) {
          skipped.add("-o in a directory without write permission (root may write anywhere)");
          return undefined;
        }
        mkdirSync(join(dir, "locked"));
        chmodSync(join(dir, "locked"), 0o555);
        return join(dir, "locked", "out.mlmodel");
      },
      message: /cannot write \S+locked\/out\.mlmodel: EACCES \(permission denied\)/,
    },
  ];

  test.each(cases.map((c) => [c.name, c] as const))("-o %s", (_name, c) => {
    // Arrange
    const { dir, input } = fresh();
    const out = c.out(dir);
    if (out === undefined) return;
    const before = state(dir);

    // Act
    const r = runBinary(["quantize", input, "-o", out, "--nbits", "8", "--report", join(dir, "report.json")]);

    // Assert
    expectRefusal(r, c.message);
    expect(state(dir)).toEqual(before);
  });

  test("a report that cannot be written (ENOSPC) leaves no model behind, and the previous output whole", () => {
    const { dir, input } = fresh();
    const full = deviceNode(dir, "full", "c", 1, 7, "--report a full device");
    if (full === undefined) return;
    writeFileSync(join(dir, "out.mlmodel"), "previous");
    const before = state(dir);

    const r = runBinary(["quantize", input, "-o", join(dir, "out.mlmodel"), "--nbits", "8", "--report", full]);

    expectRefusal(r, /cannot write \S+full: ENOSPC \(no space left on device\)/);
    expect(state(dir)).toEqual(before);
  });

  test("a report in a missing directory is refused before any work, with -o untouched", () => {
    const { dir, input } = fresh();
    const before = state(dir);

    const r = runBinary(["quantize", input, "-o", join(dir, "out.mlmodel"), "--nbits", "8", "--report", join(dir, "no", "r.json")]);

    expectRefusal(r, /cannot write \S+no\/r\.json: ENOENT/);
    expect(state(dir)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

describe("inputs: FIFOs never block start-up and are read once; endless and oversized inputs are refused quickly", () => {
  test.each([
    ["inspect FIFO --help", ["inspect", "@", "--help"], 0],
    ["quantize FIFO (a usage error)", ["quantize", "@"], 2],
    ["dequantize FIFO -o OUT --nbits 8 (a usage error)", ["dequantize", "@", "-o", "x", "--nbits", "8"], 2],
  ] as const)("%s, with nobody writing: answers at once", (_name, argv, code) => {
    const { dir } = fresh();
    const pipe = fifo(dir, "in.fifo");

    const r = runBinary(
      argv.map((a) => (a === "@" ? pipe : a)),
      HANG_MS,
    );

    expect({ code: r.code, signal: r.signal }).toEqual({ code, signal: null });
    expect(r.ms).toBeLessThan(HANG_MS);
  });

  test("inspect FIFO: reads what a writer sends, once", async () => {
    const { dir, input } = fresh();
    const pipe = fifo(dir, "in.fifo");
    const writer = writerOf(input, pipe);

    const r = await runBinaryAsync(["inspect", pipe], HANG_MS);

    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    expect(r.stdout).toMatch(/^\S+in\.fifo: neuralNetwork/);
    expect(await writer).toBe(0);
  });

  test("quantize FIFO -o OUT: the same model as from the file", async () => {
    const { dir, input } = fresh();
    const pipe = fifo(dir, "in.fifo");
    const writer = writerOf(input, pipe);

    const r = await runBinaryAsync(["quantize", pipe, "-o", join(dir, "out.mlmodel"), "--nbits", "8"], HANG_MS);

    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    expect(readFileSync(join(dir, "out.mlmodel")).equals(reference)).toBe(true);
    expect(await writer).toBe(0);
  });

  test("an endless stream of zeros through a FIFO: refused from its first bytes", async () => {
    const { dir } = fresh();
    const pipe = fifo(dir, "zeros.fifo");
    // Writes zeros until the reader goes away (Node ignores SIGPIPE: the write fails with EPIPE).
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("fs"); const fd = fs.openSync(process.argv[1], "w");
      const zeros = Buffer.alloc(1 << 16); try { for (;;) fs.writeSync(fd, zeros); } catch { process.exit(0); }`,
        pipe,
      ],
      { stdio: "ignore" },
    );
    const writerDone = exited(writer);

    const r = await runBinaryAsync(["inspect", pipe], HANG_MS);

    expectRefusal(r, /not a valid Core ML model/);
    expect(r.ms).toBeLessThan(HANG_MS);
    writer.kill("SIGKILL");
    await writerDone;
  });

  test("a character device that never ends (zero): refused quickly", () => {
    const { dir } = fresh();
    const zero = deviceNode(dir, "zero", "c", 1, 5, "inspect a character device of zeros");
    if (zero === undefined) return;

    const r = runBinary(["inspect", zero], HANG_MS);

    expectRefusal(r, /not a valid Core ML model/);
  });

  test.each([
    ["5 GiB", 5 * 2 ** 30],
    ["2 GiB (one byte over the limit)", 2 ** 31],
  ])("a %s sparse file: refused from its size, at once, by every command", (_name, size) => {
    const { dir } = fresh();
    const big = join(dir, "big.mlmodel");
    writeFileSync(big, "");
    truncateSync(big, size);

    for (const argv of [
      ["inspect", big],
      ["quantize", big, "-o", join(dir, "out.mlmodel"), "--nbits", "8"],
      ["report", big, big],
    ]) {
      const r = runBinary(argv, HANG_MS);
      expectRefusal(r, new RegExp(`cannot read \\S+big\\.mlmodel: it is \\d+\\.\\d GiB \\(${size} bytes\\); a Core ML model is at most 2147483647 bytes`));
      expect(r.ms).toBeLessThan(HANG_MS);
    }
    expect(readdirSync(dir).sort()).toEqual(["big.mlmodel", "in.mlmodel"]);
  });

  test("2 GiB - 1 bytes of zeros (within the limit): refused from the first bytes, not read whole", () => {
    const { dir } = fresh();
    const zeros = join(dir, "zeros.mlmodel");
    writeFileSync(zeros, "");
    truncateSync(zeros, 2 ** 31 - 1);

    const r = runBinary(["inspect", zeros], HANG_MS);

    expectRefusal(r, /not a valid Core ML model/);
    // Reading and scanning 2 GiB takes 15 s or more here; the first bytes, a fraction of a second.
    expect(r.ms).toBeLessThan(5_000);
  });
});

// ---------------------------------------------------------------------------
// Standard output
// ---------------------------------------------------------------------------

describe("standard output", () => {
  /** Runs the binary with stdout into a pipe whose reader exits at once; its exit status and stderr. */
  function intoClosedPipe(argv: readonly string[]): { status: string; stderr: string } {
    const { dir } = fresh();
    const errors = join(dir, "stderr.txt");
    const quoted = [MAIN, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const r = spawnSync("bash", ["-c", `"$0" ${quoted} 2>'${errors}' | true; echo "\${PIPESTATUS[0]}"`, process.execPath], {
      cwd: REPO,
      encoding: "utf8",
      timeout: HANG_MS,
    });
    return { status: r.stdout.trim(), stderr: readFileSync(errors, "utf8") };
  }

  test.each([
    ["--help", ["--help"]],
    ["inspect --json", ["inspect", join(GOLDEN_MODELS, "real_updatable_drawing_pipeline_nn_knn.mlmodel"), "--json"]],
  ])("%s into a pipe closed by its reader: ends quietly (status 0 or 141, nothing on stderr)", (_name, argv) => {
    const r = intoClosedPipe(argv);
    expect(["0", "141"]).toContain(r.status);
    expect(r.stderr).toBe("");
  });

  test("inspect into a full device: one line on stderr, exit 1", () => {
    const { dir } = fresh();
    const full = deviceNode(dir, "full", "c", 1, 7, "inspect > a full device");
    if (full === undefined) return;
    const fd = openSync(full, "w");
    let r: ReturnType<typeof spawnSync>;
    try {
      r = spawnSync(process.execPath, [MAIN, "inspect", MODEL], { cwd: REPO, stdio: ["ignore", fd, "pipe"], encoding: "utf8", timeout: HANG_MS });
    } finally {
      closeSync(fd);
    }
    expect({ code: r.status, signal: r.signal }).toEqual({ code: 1, signal: null });
    expect(r.stderr).toMatch(ONE_LINE_REFUSAL);
    expect(r.stderr).toMatch(/cannot write standard output: ENOSPC \(no space left on device\)/);
  });
});

// ---------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------

/** 8 innerProduct layers of 1024 x 1024 float32 weights: 32 MiB, so writing the output takes a while. */
function bigModel(): Uint8Array {
  const r = prng(11);
  const layers: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    const weights = new Float32Array(1024 * 1024);
    for (let k = 0; k < weights.length; k++) weights[k] = r.float();
    layers.push(
      innerProductLayer(
        `fc${i}`,
        { inputChannels: 1024, outputChannels: 1024 },
        concat(Uint8Array.of(0x0a), varint(weights.byteLength), float32Bytes(weights)),
      ),
    );
  }
  return networkModel(layers);
}

describe("a signal while the output is being written", () => {
  test.each(["SIGINT", "SIGTERM"] as const)(
    "%s removes the temporary file and leaves the previous output whole",
    async (signal) => {
      // Arrange: a model whose output takes a while to write (and its report, to build)
      const { dir } = fresh();
      const big = join(dir, "big.mlmodel");
      writeFileSync(big, bigModel());
      const out = join(dir, "out.mlmodel");
      writeFileSync(out, "previous");
      const temp = TEMP_NAME("out.mlmodel");
      const child = spawn(process.execPath, [MAIN, "quantize", big, "-o", out, "--nbits", "8"], { cwd: REPO, stdio: "ignore" });
      const ended = exited(child);

      // Act: the signal as soon as the temporary file appears
      const deadline = Date.now() + 30_000;
      let seen = false;
      while (!seen && Date.now() < deadline && child.exitCode === null) seen = readdirSync(dir).some((name) => temp.test(name));
      child.kill(signal);
      const result = await ended;

      // Assert
      expect(seen).toBe(true);
      expect(result).toEqual({ code: null, signal });
      expect(readdirSync(dir).sort()).toEqual(["big.mlmodel", "in.mlmodel", "out.mlmodel"]);
      expect(readFileSync(out, "utf8")).toBe("previous");
    },
    120_000,
  );
});

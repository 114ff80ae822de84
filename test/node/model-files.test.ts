/**
 * The atomic writers: exact bytes from chunks, replacing a file, nothing left behind
 * on success or failure, and the asynchronous one settling with the file in place;
 * what is replaced (regular files, through links, keeping their permission bits)
 * and what is written in place (FIFOs); staging several files; and reading a model
 * file within the size limit, as a stream when it is not a regular file.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
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
import { readModelBytes, readModelFile, writeFileAtomic, writeFileAtomicAsync } from "../../src/node/model-files.js";
import { MAX_MODEL_BYTES } from "../../src/node/model-file-limits.js";
import { commitFiles, stageFile } from "../../src/node/staged-file.js";
import { liveTemporaries, onTemporaryRegistered } from "../../src/node/temporary-files.js";
import { isQuantizeError } from "../../src/errors.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-files-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const chunks = { chunks: [Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3), new Uint8Array(100_000).fill(7)], byteLength: 100_003 };
const expected = Uint8Array.from([1, 2, 3, ...new Uint8Array(100_000).fill(7)]);

describe.each([
  // async: a synchronous throw becomes a rejection, as the other writer reports it.
  ["writeFileAtomic", async (path: string, contents: Parameters<typeof writeFileAtomic>[1]) => writeFileAtomic(path, contents)],
  ["writeFileAtomicAsync", writeFileAtomicAsync],
] as const)("%s", (_name, write) => {
  test("writes the chunks one after another, replacing what was there, and leaves nothing else", async () => {
    const path = join(dir, "out.mlmodel");
    writeFileSync(path, "old");
    await write(path, chunks);
    expect(new Uint8Array(readFileSync(path))).toEqual(expected);
    expect(readdirSync(dir)).toEqual(["out.mlmodel"]);
  });

  test("a single Uint8Array", async () => {
    const path = join(dir, "out.bin");
    await write(path, Uint8Array.of(9, 8));
    expect([...readFileSync(path)]).toEqual([9, 8]);
  });

  test("a directory that does not exist: QuantizeError io naming the path, and no file", async () => {
    const path = join(dir, "missing", "out.mlmodel");
    const error = await write(path, chunks).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQuantizeError(error) && error.code === "io" && error.message.includes(path)).toBe(true);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });

  test("a destination that is a directory: refused, and the temporary file removed", async () => {
    const path = join(dir, "taken");
    writeFileSync(join(dir, "keep"), "x");
    mkdirSync(path);
    const error = await write(path, chunks).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQuantizeError(error) && error.code === "io").toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["keep", "taken"]);
  });
});

test("writeFileAtomicAsync: the bytes are handed over before it returns; the file is in place when it settles", async () => {
  const path = join(dir, "out.mlmodel");
  const contents = { chunks: [new Uint8Array(1000).fill(1)], byteLength: 1000 };
  const written = writeFileAtomicAsync(path, contents);
  // Changing the caller's bytes now must not change the file: they were written already.
  (contents.chunks[0] as Uint8Array).fill(2);
  await written;
  expect(readFileSync(path).every((b) => b === 1)).toBe(true);
});

describe.each([
  ["writeFileAtomic", async (path: string, contents: Parameters<typeof writeFileAtomic>[1]) => writeFileAtomic(path, contents)],
  ["writeFileAtomicAsync", writeFileAtomicAsync],
] as const)("%s: what is replaced and what is not", (_name, write) => {
  test("keeps a replaced file's permission bits; a new file gets the usual ones", async () => {
    const path = join(dir, "out.mlmodel");
    writeFileSync(path, "old");
    chmodSync(path, 0o640);
    await write(path, chunks);
    expect(statSync(path).mode & 0o7777).toBe(0o640);
    await write(join(dir, "new.mlmodel"), chunks);
    expect(statSync(join(dir, "new.mlmodel")).mode & 0o7777).toBe(0o666 & ~currentUmask());
  });

  test("follows a symbolic link: the file it names is replaced, the link stays", async () => {
    mkdirSync(join(dir, "real"));
    writeFileSync(join(dir, "real", "out.mlmodel"), "old");
    symlinkSync("real/out.mlmodel", join(dir, "link.mlmodel"));
    await write(join(dir, "link.mlmodel"), chunks);
    expect(readlinkSync(join(dir, "link.mlmodel"))).toBe("real/out.mlmodel");
    expect(new Uint8Array(readFileSync(join(dir, "real", "out.mlmodel")))).toEqual(expected);
    expect(readdirSync(join(dir, "real"))).toEqual(["out.mlmodel"]);
  });

  test("writes a FIFO in place: its reader gets the bytes, and it stays a FIFO", async () => {
    const fifo = join(dir, "out.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // The reader writes to a file, not to this process: a synchronous write must not wait on our event loop.
    const reader = spawn("sh", ["-c", 'cat "$1" > "$2"', "sh", fifo, join(dir, "got")], { stdio: "ignore" });
    const done = new Promise((resolve) => reader.once("exit", resolve));
    await write(fifo, chunks);
    await done;
    expect(new Uint8Array(readFileSync(join(dir, "got")))).toEqual(expected);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  test("refuses a symbolic link to a missing file, and leaves it", async () => {
    symlinkSync("nowhere", join(dir, "dangling"));
    const error = await write(join(dir, "dangling"), chunks).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQuantizeError(error) && error.code === "io" && /symbolic link to a missing file/.test(error.message)).toBe(true);
    expect(lstatSync(join(dir, "dangling")).isSymbolicLink()).toBe(true);
  });

  test("a valid 250-byte name works (the temporary's name is shortened)", async () => {
    const name = `${"é".repeat(121)}.mlmodel`; // 250 bytes in UTF-8
    expect(Buffer.byteLength(name)).toBe(250);
    await write(join(dir, name), chunks);
    expect(readdirSync(dir)).toEqual([name]);
  });

  test("registers its temporary file while it exists, and leaves none registered", async () => {
    const seen: string[][] = [];
    const stop = onTemporaryRegistered(() => seen.push(liveTemporaries()));
    try {
      await write(join(dir, "out.mlmodel"), chunks);
      await write(join(dir, "missing", "out.mlmodel"), chunks).catch(() => undefined);
    } finally {
      stop();
    }
    expect(seen).toHaveLength(1); // the refused one never got as far as a temporary file
    expect(seen[0]?.[0]).toMatch(/\/\.out\.mlmodel\.\d+\.\d+\.tmp$/);
    expect(liveTemporaries()).toEqual([]);
  });
});

describe("stageFile and commitFiles", () => {
  test("both files go in place together, after both are written", async () => {
    const a = join(dir, "a.mlmodel");
    const b = join(dir, "b.json");
    const staged = [stageFile(a, chunks), stageFile(b, Uint8Array.of(1))];
    expect(readdirSync(dir).filter((n) => !n.startsWith("."))).toEqual([]);
    await commitFiles(staged);
    expect(readdirSync(dir).sort()).toEqual(["a.mlmodel", "b.json"]);
  });

  test("when the second cannot go in place, neither does the first, and no temporary file stays", async () => {
    const a = join(dir, "a.mlmodel");
    const b = join(dir, "b.json");
    writeFileSync(a, "previous");
    const staged = [stageFile(a, chunks), stageFile(b, Uint8Array.of(1))];
    mkdirSync(b); // b became a directory meanwhile
    const error = await commitFiles(staged).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isQuantizeError(error) && error.code === "io" && error.message.includes(b)).toBe(true);
    expect(readFileSync(a, "utf8")).toBe("previous");
    expect(readdirSync(dir).sort()).toEqual(["a.mlmodel", "b.json"]);
    expect(liveTemporaries()).toEqual([]);
  });

  test("discard removes the temporary file", () => {
    const staged = stageFile(join(dir, "a.mlmodel"), chunks);
    expect(readdirSync(dir)).toHaveLength(1);
    staged.discard();
    staged.discard();
    expect(readdirSync(dir)).toEqual([]);
    expect(liveTemporaries()).toEqual([]);
  });
});

describe("readModelBytes", () => {
  test("a regular file over MAX_MODEL_BYTES is refused from its size, before any read", () => {
    const path = join(dir, "big.mlmodel");
    writeFileSync(path, "");
    truncateSync(path, MAX_MODEL_BYTES + 1);
    const started = Date.now();
    expect(() => readModelBytes(path)).toThrow(/cannot read \S+big\.mlmodel: it is 2\.0 GiB \(2147483648 bytes\); a Core ML model is at most 2147483647 bytes/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a file whose first byte no model has is read no further, and refused by the decoder", () => {
    const path = join(dir, "zeros.mlmodel");
    writeFileSync(path, new Uint8Array(4 << 20));
    expect(readModelBytes(path).length).toBeLessThan(1 << 20);
    const error = (() => {
      try {
        readModelFile(path);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isQuantizeError(error) && error.code === "invalid-protobuf").toBe(true);
  });

  test("a FIFO is read as a stream, to its end", () => {
    const fifo = join(dir, "in.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const example = join(__dirname, "..", "..", "examples", "cnn.mlmodel");
    spawn("sh", ["-c", 'cat "$1" > "$2"', "sh", example, fifo], { stdio: "ignore" });
    expect(new Uint8Array(readModelBytes(fifo))).toEqual(new Uint8Array(readFileSync(example)));
  });

  test("a regular file is read whole", () => {
    const example = join(__dirname, "..", "..", "examples", "cnn.mlmodel");
    expect(new Uint8Array(readModelBytes(example))).toEqual(new Uint8Array(readFileSync(example)));
  });
});

function currentUmask(): number {
  const probe = join(dir, ".umask-probe");
  writeFileSync(probe, "", { mode: 0o777 });
  const mode = statSync(probe).mode & 0o777;
  rmSync(probe);
  return 0o777 & ~mode;
}

/**
 * The atomic writers: exact bytes from chunks, replacing a file, nothing left behind
 * on success or failure, and the asynchronous one settling with the file in place.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic, writeFileAtomicAsync } from "../../src/node/model-files.js";
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
    const error = await write(path, chunks).then(() => undefined, (e: unknown) => e);
    expect(isQuantizeError(error) && error.code === "io" && error.message.includes(path)).toBe(true);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });

  test("a destination that is a directory: refused, and the temporary file removed", async () => {
    const path = join(dir, "taken");
    writeFileSync(join(dir, "keep"), "x");
    mkdirSync(path);
    const error = await write(path, chunks).then(() => undefined, (e: unknown) => e);
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

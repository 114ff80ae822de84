/**
 * Reading and writing `.mlmodel` files in Node. The rest of the library does no
 * I/O, so it runs in browsers too.
 *
 * @packageDocumentation
 */
import { closeSync, fsync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { decodeModel } from "../codec/decode-model.js";
import { encodeModelChunks, type EncodedChunks } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";

/**
 * Reads and decodes a model file.
 *
 * @param path - the `.mlmodel` file
 * @param contents - the file's bytes when the caller has read them already (the
 *   CLI reads its input while it loads); they become the decoder's to reuse
 * @returns the model
 * @throws {@link index!QuantizeError} `io` when the file cannot be read (missing, a
 *   directory, an `.mlpackage` folder), `invalid-protobuf` when it is not a model
 */
export function readModelFile(path: string, contents?: Uint8Array): Model {
  let bytes: Uint8Array;
  try {
    bytes = contents ?? readBytes(path);
  } catch (cause) {
    if (cause instanceof QuantizeError) throw cause;
    throw new QuantizeError("io", `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  if (bytes.length === 0) throw new QuantizeError("invalid-protobuf", `${path} is empty (0 bytes), not a Core ML model`);
  // The buffer is ours alone: let the decoder align weights in place instead of copying.
  return decodeModel(bytes, { reuseInput: true });
}

function readBytes(path: string): Uint8Array {
  if (statSync(path).isDirectory()) {
    const hint = path.replace(/\/+$/, "").endsWith(".mlpackage")
      ? " (an .mlpackage holds an ML Program; this tool handles neuralNetwork .mlmodel files)"
      : "";
    throw new QuantizeError("io", `${path} is a directory, not an .mlmodel file${hint}`);
  }
  return readFileSync(path);
}

/**
 * Encodes a model and writes it atomically: to a temporary file beside `path`,
 * flushed to disk, then renamed over `path`. A reader (or a crash) sees either the
 * previous file or the complete new one, never a partial file.
 *
 * @param path - the destination
 * @param model - the model
 * @throws {@link index!QuantizeError} `io` when the file cannot be written
 */
export function writeModelFile(path: string, model: Model): void {
  writeFileAtomic(path, encodeModelChunks(model));
}

/**
 * Writes bytes atomically (temporary file beside `path`, fsync, rename).
 *
 * @param path - the destination
 * @param contents - the bytes, or chunks written one after another (as from
 *   {@link encodeModelChunks}, so no output buffer is ever assembled)
 * @throws {@link index!QuantizeError} `io` when the file cannot be written
 */
export function writeFileAtomic(path: string, contents: Uint8Array | EncodedChunks): void {
  const temporary = temporaryBeside(path);
  let fd: number | undefined;
  try {
    fd = writeTemporary(temporary, contents);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (cause) {
    throw abandon(path, temporary, fd, cause);
  }
}

/**
 * {@link writeFileAtomic} that returns once the bytes are handed to the operating
 * system, and flushes them to disk on libuv's threads: the caller computes while
 * the disk works (the CLI builds its report meanwhile). The file is renamed into
 * place when the flush is done, so the promise settles with the file complete.
 *
 * @param path - the destination
 * @param contents - the bytes, or chunks written one after another
 * @returns a promise settled when the file is in place
 * @throws {@link index!QuantizeError} `io` (as a rejection) when the file cannot be written
 */
export async function writeFileAtomicAsync(path: string, contents: Uint8Array | EncodedChunks): Promise<void> {
  const temporary = temporaryBeside(path);
  let fd: number | undefined;
  try {
    fd = writeTemporary(temporary, contents);
    const flushing = fd;
    await new Promise<void>((resolve, reject) => fsync(flushing, (error) => (error === null ? resolve() : reject(error))));
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (cause) {
    throw abandon(path, temporary, fd, cause);
  }
}

/** Creates `temporary` (never an existing file) and writes `contents` to it; returns the open descriptor. */
function writeTemporary(temporary: string, contents: Uint8Array | EncodedChunks): number {
  const fd = openSync(temporary, "wx", 0o644);
  try {
    for (const chunk of contents instanceof Uint8Array ? [contents] : contents.chunks) {
      for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
    }
    return fd;
  } catch (cause) {
    closeSync(fd);
    throw cause;
  }
}

/** Closes and removes a temporary file that will not be renamed; the error to throw. */
function abandon(path: string, temporary: string, fd: number | undefined, cause: unknown): QuantizeError {
  try {
    if (fd !== undefined) closeSync(fd);
  } finally {
    rmSync(temporary, { force: true });
  }
  return new QuantizeError("io", `cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
}

/** A hidden temporary name in the destination's directory (so the rename stays on one file system). */
function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}


/**
 * Reading and writing `.mlmodel` files in Node. The rest of the library does no
 * I/O, so it runs in browsers too.
 *
 * @packageDocumentation
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { decodeModel } from "../codec/decode-model.js";
import { encodeModelChunks } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import { ioFailure } from "./io-failure.js";
import { cannotStartModel, MAX_MODEL_BYTES } from "./model-file-limits.js";
import { writeFileAtomic } from "./write-file-atomic.js";

export { writeFileAtomic, writeFileAtomicAsync } from "./write-file-atomic.js";

/** The largest read Node accepts in one call. */
const MAX_READ = 2 ** 31 - 1;
/** Read first, to look at the first byte before reading the rest (see {@link cannotStartModel}). */
const FIRST_READ = 1 << 16;
/** The first buffer for a stream of unknown length (a FIFO, a device); it doubles as needed. */
const FIRST_STREAM_BUFFER = 1 << 20;
/** How long to wait before reading again a descriptor that has no data yet (EAGAIN). */
const RETRY_MS = 10;

/**
 * Reads and decodes a model file.
 *
 * @param path - the `.mlmodel` file (or a FIFO or device that yields one)
 * @param contents - the file's bytes when the caller has read them already (the
 *   CLI reads its input while it loads); they become the decoder's to reuse
 * @returns the model
 * @throws {@link index!QuantizeError} `io` when the file cannot be read (missing, a
 *   directory, an `.mlpackage` folder, over {@link MAX_MODEL_BYTES}),
 *   `invalid-protobuf` when it is not a model
 */
export function readModelFile(path: string, contents?: Uint8Array): Model {
  const bytes = contents ?? readModelBytes(path);
  if (bytes.length === 0) throw new QuantizeError("invalid-protobuf", `${path} is empty (0 bytes), not a Core ML model`);
  // The buffer is ours alone: let the decoder align weights in place instead of copying.
  return decodeModel(bytes, { reuseInput: true });
}

/**
 * Reads the bytes of a model file, opening it once. A regular file is read whole
 * after its size is checked against {@link MAX_MODEL_BYTES}; anything else (a FIFO,
 * `/dev/stdin`, a device) is read as a stream until its end, refused as soon as it
 * passes that size. Either is read no further once its first byte shows it cannot
 * be a model (field number 0: `/dev/zero`, a file of zeros), so the decoder refuses
 * it at once.
 *
 * @param path - the file
 * @returns its bytes (for a stream, possibly only the first ones, when they cannot start a model)
 * @throws {@link index!QuantizeError} `io` when it cannot be read or is too large
 */
export function readModelBytes(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw ioFailure("read", path, cause);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) {
      const hint = path.replace(/\/+$/, "").endsWith(".mlpackage")
        ? " (an .mlpackage holds an ML Program; this tool handles neuralNetwork .mlmodel files)"
        : "";
      throw new QuantizeError("io", `${path} is a directory, not an .mlmodel file${hint}`);
    }
    // A regular file of size 0 may still have contents (/proc): read it as a stream.
    return stats.isFile() && stats.size > 0 ? readRegular(fd, path, stats.size) : readStream(fd, path);
  } catch (cause) {
    if (cause instanceof QuantizeError) throw cause;
    throw ioFailure("read", path, cause);
  } finally {
    closeSync(fd);
  }
}

/** A regular file of `size` bytes: refused over the limit before anything is allocated. */
function readRegular(fd: number, path: string, size: number): Uint8Array {
  if (size > MAX_MODEL_BYTES) throw tooLarge(path, `is ${formatSize(size)}`);
  // Pages of the buffer not read into cost no memory, should the first bytes be the last.
  const buffer = new Uint8Array(size);
  let done = readSync(fd, buffer, 0, Math.min(size, FIRST_READ), 0);
  if (done > 0 && cannotStartModel(buffer[0])) return buffer.subarray(0, done);
  while (done < size) {
    const n = readSync(fd, buffer, done, Math.min(size - done, MAX_READ), done);
    if (n === 0) break; // shrunk since the stat: what is there is what there is
    done += n;
  }
  return done === size ? buffer : buffer.subarray(0, done);
}

/** A stream of unknown length, read until its end, refused once past the limit. */
function readStream(fd: number, path: string): Uint8Array {
  let buffer = new Uint8Array(FIRST_STREAM_BUFFER);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length === MAX_MODEL_BYTES) {
        // Full at the limit: one more byte means too large.
        if (readSome(fd, new Uint8Array(1), 0, 1) === 0) break;
        throw tooLarge(path, `goes on past ${MAX_MODEL_BYTES} bytes`);
      }
      const grown = new Uint8Array(Math.min(buffer.length * 2, MAX_MODEL_BYTES));
      grown.set(buffer);
      buffer = grown;
    }
    const n = readSome(fd, buffer, length, buffer.length - length);
    if (n === 0) break;
    length += n;
    if (cannotStartModel(buffer[0])) break;
  }
  return buffer.subarray(0, length);
}

/** One read from the current position; waits and retries while a non-blocking descriptor has no data. */
function readSome(fd: number, buffer: Uint8Array, offset: number, length: number): number {
  for (;;) {
    try {
      return readSync(fd, buffer, offset, Math.min(length, MAX_READ), null);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "EAGAIN") throw cause;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
    }
  }
}

function tooLarge(path: string, what: string): QuantizeError {
  return new QuantizeError("io", `cannot read ${path}: it ${what}; a Core ML model is at most ${MAX_MODEL_BYTES} bytes `
    + "(2 GiB, protobuf's limit on a message): is it the right file?");
}

function formatSize(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB (${bytes} bytes)`;
}

/**
 * Encodes a model and writes it atomically (see {@link writeFileAtomic}): a reader
 * (or a crash) sees either the previous file or the complete new one, never a
 * partial file.
 *
 * @param path - the destination
 * @param model - the model
 * @throws {@link index!QuantizeError} `io` when the file cannot be written
 */
export function writeModelFile(path: string, model: Model): void {
  writeFileAtomic(path, encodeModelChunks(model));
}

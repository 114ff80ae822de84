/**
 * Reading and writing `.mlmodel` files in Node. The rest of the library does no
 * I/O, so it runs in browsers too.
 *
 * @packageDocumentation
 */
import { closeSync, fstatSync, readSync } from "node:fs";
import { decodeModel } from "../codec/decode-model.js";
import { encodeModelChunks } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import { ioFailure, openForReading } from "./io-failure.js";
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
 * @returns the model
 * @throws {@link index!QuantizeError} `io` when the file cannot be read (missing, a
 *   directory, an `.mlpackage` folder, over {@link MAX_MODEL_BYTES}),
 *   `invalid-protobuf` when it is not a model
 */
export function readModelFile(path: string): Model {
  return decodeModelFile(path, readModelBytes(path));
}

/**
 * Decodes the bytes of a model file read already (the CLI reads its input while it
 * loads). The bytes become the decoder's: it aligns weights in place instead of
 * copying them.
 *
 * @param path - the file, for messages
 * @param bytes - its contents, used by no one else
 * @returns the model
 * @throws {@link index!QuantizeError} `invalid-protobuf` when the bytes are not a model
 */
export function decodeModelFile(path: string, bytes: Uint8Array): Model {
  if (bytes.length === 0) throw new QuantizeError("invalid-protobuf", `${path} is empty (0 bytes), not a Core ML model`);
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
  const fd = openForReading(path);
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) {
      const hint = path.replace(/\/+$/, "").endsWith(".mlpackage") ? " (an .mlpackage folder holds an ML Program, not an .mlmodel file)" : "";
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

/**
 * Reads a model's bytes from a stream (the CLI's standard input) until its end,
 * within {@link MAX_MODEL_BYTES}: the read stops, and the stream is let go, as soon
 * as it passes the limit or its first byte shows it cannot be a model (the decoder
 * then refuses those first bytes at once), as {@link readModelBytes} reads a FIFO.
 *
 * @param source - the bytes, chunk by chunk (a Node `Readable` is one)
 * @param name - what to call the source in messages, e.g. `standard input`
 * @param maxBytes - the most bytes accepted @defaultValue {@link MAX_MODEL_BYTES}
 * @returns the bytes (possibly only the first ones, when they cannot start a model)
 * @throws {@link index!QuantizeError} `io` when the stream passes `maxBytes` or fails
 */
export async function readModelStream(source: AsyncIterable<Uint8Array>, name: string, maxBytes = MAX_MODEL_BYTES): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    // Leaving the loop early (break, throw) ends the iteration: the stream is destroyed, nothing more is read.
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      if (length + chunk.length > maxBytes) throw tooLarge(name, `goes on past ${maxBytes} bytes`, maxBytes);
      chunks.push(chunk);
      length += chunk.length;
      if (cannotStartModel((chunks[0] as Uint8Array)[0] as number)) break;
    }
  } catch (cause) {
    if (cause instanceof QuantizeError) throw cause;
    throw ioFailure("read", name, cause);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  // Joined by hand: a 2 GB stream is tens of thousands of chunks, too many to spread
  // as arguments into concatUint8Arrays.
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** A regular file of `size` bytes: refused over the limit before anything is allocated. */
function readRegular(fd: number, path: string, size: number): Uint8Array {
  if (size > MAX_MODEL_BYTES) throw tooLarge(path, `is ${formatSize(size)}`);
  // Pages of the buffer not read into cost no memory, should the first bytes be the last.
  const buffer = new Uint8Array(size);
  let done = readSync(fd, buffer, 0, Math.min(size, FIRST_READ), 0);
  if (done > 0 && cannotStartModel(buffer[0] as number)) return buffer.subarray(0, done);
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
    if (cannotStartModel(buffer[0] as number)) break;
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

function tooLarge(path: string, what: string, maxBytes = MAX_MODEL_BYTES): QuantizeError {
  return new QuantizeError(
    "io",
    `cannot read ${path}: it ${what}; a Core ML model is at most ${maxBytes} bytes (2 GiB, protobuf's limit on a message): is it the right file?`,
  );
}

function formatSize(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB (${bytes} bytes)`;
}

/**
 * Encodes a model and writes it atomically: to a hidden temporary file beside
 * `path`, flushed, then renamed over it, so a reader (or a crash) sees either the
 * previous file or the complete new one, never a partial file. A FIFO or character
 * device is written in place; a directory is refused.
 *
 * @param path - the destination
 * @param model - the model
 * @throws {@link index!QuantizeError} `io` when the file cannot be written
 */
export function writeModelFile(path: string, model: Model): void {
  writeFileAtomic(path, encodeModelChunks(model));
}

/**
 * Starts reading the command's first model file on libuv's threads as soon as the
 * executable starts, before the rest of the program loads: the copy from the page
 * cache and the page faults of a fresh buffer (about 40 ms for 63 MB here) then
 * happen on the other core while this one loads and boots the schema (about 50 ms).
 * Imported by main.ts right after the heap settings.
 *
 * Only the documented form `COMMAND MODEL ...` is read ahead, and only a regular file
 * within the size limit; anything else, and any failure, leaves the reading to the
 * command itself, which reports errors as usual. Nothing here may throw or wait: it
 * runs while the program loads.
 *
 * @packageDocumentation
 */
import { closeSync, constants, fstatSync, openSync, read, readSync, statSync } from "node:fs";
import { cannotStartModel, MAX_MODEL_BYTES } from "../node/model-file-limits.js";

/** A model file being read ahead. */
export interface Prefetch {
  /** The path as given on the command line. */
  readonly path: string;
  /** Its bytes, or undefined when reading did not succeed. */
  readonly bytes: Promise<Uint8Array | undefined>;
}

const COMMANDS_READING_A_MODEL = new Set(["quantize", "dequantize", "int8-matmul", "inspect", "report", "predict", "compare"]);
/** The largest read Node accepts in one call. */
const MAX_READ = 2 ** 31 - 1;

/** The read started for this process's command line, if any. */
export const prefetch: Prefetch | undefined = startPrefetch(process.argv.slice(2));

/**
 * Starts reading the model named by `argv` (`COMMAND MODEL ...`), when it is a
 * regular file of at most {@link MAX_MODEL_BYTES}. Nothing else is even opened: a
 * FIFO's open would wait for a writer (start-up, `--help` included, would hang), and
 * reading it here would take the bytes the command itself must read; a device may be
 * endless. Those, and every failure, are left to the command, which reads the file
 * once and reports errors as usual.
 *
 * @param argv - the arguments after the program name
 * @returns the read under way, or undefined when there is nothing to read ahead
 */
export function startPrefetch(argv: readonly string[]): Prefetch | undefined {
  const [command, path] = argv;
  // A leading dash: an option, or `-` (standard input, which only the command reads, once).
  if (command === undefined || path === undefined || !COMMANDS_READING_A_MODEL.has(command) || path.startsWith("-")) return undefined;
  try {
    return readAhead(path);
  } catch {
    return undefined;
  }
}

function readAhead(path: string): Prefetch | undefined {
  const before = statSync(path, { bigint: true });
  if (!isReadable(before)) return undefined;
  // Non-blocking: should the path have become a FIFO since the stat, the open must not wait.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let buffer: Uint8Array;
  let size: number;
  try {
    const stats = fstatSync(fd, { bigint: true });
    if (!isReadable(stats) || stats.dev !== before.dev || stats.ino !== before.ino) throw new Error("changed since the stat");
    size = Number(stats.size);
    buffer = new Uint8Array(size);
    // A first byte no model has: left to the command, which reads no further (a
    // file of 2 GiB of zeros would take seconds to read whole).
    if (readSync(fd, buffer, 0, 1, 0) !== 1 || cannotStartModel(buffer[0] as number)) throw new Error("not a model");
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const bytes = new Promise<Uint8Array | undefined>((resolve) => {
    const finish = (result: Uint8Array | undefined): void => {
      try {
        closeSync(fd);
      } catch {
        // Read already (or not at all); nothing depends on the close.
      }
      resolve(result);
    };
    try {
      // One request for (nearly) the whole file: it runs on a libuv thread without
      // waiting for this thread, which is busy loading the program meanwhile.
      read(fd, buffer, 0, Math.min(size, MAX_READ), 0, (error, first) => {
        try {
          let done = first;
          while (error === null && done < size) {
            const n = readSync(fd, buffer, done, Math.min(size - done, MAX_READ), done);
            if (n === 0) break;
            done += n;
          }
          finish(error === null && done === size ? buffer : undefined);
        } catch {
          finish(undefined);
        }
      });
    } catch {
      finish(undefined);
    }
  });
  return { path, bytes };
}

/** A regular, non-empty file within the size limit: the only kind read ahead. */
function isReadable(stats: { isFile(): boolean; readonly size: bigint }): boolean {
  return stats.isFile() && stats.size > 0n && stats.size <= BigInt(MAX_MODEL_BYTES);
}

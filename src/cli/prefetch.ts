/**
 * Starts reading the command's first model file on libuv's threads as soon as the
 * executable starts, before the rest of the program loads: the copy from the page
 * cache and the page faults of a fresh buffer (about 40 ms for 63 MB here) then
 * happen on the other core while this one loads and boots the schema (about 50 ms).
 * Imported by main.ts right after the heap settings.
 *
 * Only the documented form `COMMAND MODEL ...` is read ahead; anything else, and any
 * failure, leaves the reading to the command itself, which reports errors as usual.
 *
 * @packageDocumentation
 */
import { closeSync, fstatSync, openSync, read, readSync } from "node:fs";

/** A model file being read ahead. */
export interface Prefetch {
  /** The path as given on the command line. */
  readonly path: string;
  /** Its bytes, or undefined when reading did not succeed. */
  readonly bytes: Promise<Uint8Array | undefined>;
}

const COMMANDS_READING_A_MODEL = new Set(["quantize", "dequantize", "int8-matmul", "inspect", "report"]);
/** The largest read Node accepts in one call. */
const MAX_READ = 2 ** 31 - 1;

/** The read started for this process's command line, if any. */
export const prefetch: Prefetch | undefined = startPrefetch(process.argv.slice(2));

/**
 * Starts reading the model named by `argv` (`COMMAND MODEL ...`).
 *
 * @param argv - the arguments after the program name
 * @returns the read under way, or undefined when there is nothing to read ahead
 */
export function startPrefetch(argv: readonly string[]): Prefetch | undefined {
  const [command, path] = argv;
  if (command === undefined || path === undefined || !COMMANDS_READING_A_MODEL.has(command) || path.startsWith("-")) return undefined;
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    size = stat.size;
    if (!stat.isFile() || size === 0) throw new Error("not a regular, non-empty file");
  } catch {
    closeSync(fd);
    return undefined;
  }
  const buffer = new Uint8Array(size);
  const bytes = new Promise<Uint8Array | undefined>((resolve) => {
    // One request for (nearly) the whole file: it runs on a libuv thread without
    // waiting for this thread, which is busy loading the program meanwhile.
    read(fd, buffer, 0, Math.min(size, MAX_READ), 0, (error, first) => {
      let done = first;
      try {
        while (error === null && done < size) {
          const n = readSync(fd, buffer, done, Math.min(size - done, MAX_READ), done);
          if (n === 0) break;
          done += n;
        }
        resolve(error === null && done === size ? buffer : undefined);
      } catch {
        resolve(undefined);
      } finally {
        closeSync(fd);
      }
    });
  });
  return { path, bytes };
}

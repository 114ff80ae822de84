/**
 * What an output path names, and so how it may be written:
 *
 * - a new name, or a regular file: replaced atomically (a temporary file beside
 *   it, flushed, renamed over it). A symbolic link is followed: the file it names
 *   is replaced and the link stays. That includes a link into `/proc/self/fd`
 *   (`/dev/stdout` when standard output is redirected to a file).
 * - a FIFO or a character device (a terminal, `/dev/null`, `/dev/stdout` on a pipe):
 *   written in place, opened for writing as it is. Renaming over it would replace
 *   the device or pipe with a regular file, and the reader would never see a byte.
 * - anything else (a directory, a block device, a socket, a link to nowhere):
 *   refused, and never replaced.
 *
 * @packageDocumentation
 */
import { accessSync, constants, lstatSync, realpathSync, statSync, type BigIntStats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { QuantizeError } from "../errors.js";
import { errnoLike, ioFailure } from "./io-failure.js";

/** How an output is written; see the module's description. */
export type OutputTarget =
  | {
      /** Nothing is there yet: a new regular file is created. */
      readonly kind: "create";
      /** The path as the user named it (for messages). */
      readonly path: string;
      /** Where the file goes. */
      readonly file: string;
    }
  | {
      /** A regular file is there: it is replaced whole. */
      readonly kind: "replace";
      /** The path as the user named it (for messages). */
      readonly path: string;
      /** The regular file replaced: `path` with symbolic links resolved. */
      readonly file: string;
      /** Its permission bits (`mode & 0o7777`), kept by the new file. */
      readonly mode: number;
      /** Its owner, kept where the operating system allows (root). */
      readonly uid: number;
      /** Its group, kept where the operating system allows. */
      readonly gid: number;
    }
  | {
      /** A FIFO or character device: written to as it is, never replaced. */
      readonly kind: "in-place";
      /** The path as the user named it (for messages). */
      readonly path: string;
      /** What it is, for messages. */
      readonly what: "FIFO" | "character device";
    };

/**
 * Looks at `path` and says how an output may be written there, refusing what must
 * not be written (a directory, a block device, a socket, a dangling symbolic link, a
 * missing or read-only directory). Called before any work starts and again just
 * before writing.
 *
 * @param path - the output path as given
 * @returns how to write it
 * @throws {@link index!QuantizeError} `io`, one line naming the path and the reason
 */
export function resolveOutputTarget(path: string): OutputTarget {
  let stats: BigIntStats | undefined;
  try {
    stats = statSync(path, { bigint: true });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw ioFailure("write", path, cause);
  }
  if (stats === undefined) {
    if (isSymbolicLink(path)) {
      throw new QuantizeError("io", `cannot write ${path}: it is a symbolic link to a missing file; remove the link or name its target`);
    }
    if (path.endsWith("/")) throw new QuantizeError("io", `cannot write ${path}: a name ending in / is a directory; name a file`);
    const directory = checkDirectory(dirname(path), path);
    return { kind: "create", path, file: join(directory, basename(path)) };
  }
  if (stats.isDirectory()) throw ioFailure("write", path, errnoLike("EISDIR"));
  if (stats.isFIFO() || stats.isCharacterDevice()) {
    try {
      accessSync(path, constants.W_OK);
    } catch (cause) {
      throw ioFailure("write", path, cause);
    }
    return { kind: "in-place", path, what: stats.isFIFO() ? "FIFO" : "character device" };
  }
  if (!stats.isFile()) {
    const what = stats.isBlockDevice() ? "a block device" : stats.isSocket() ? "a socket" : "not a regular file";
    throw new QuantizeError("io", `cannot write ${path}: it is ${what}, and is never replaced; write to a file`);
  }
  const file = realFile(path, stats);
  checkDirectory(dirname(file), path);
  return { kind: "replace", path, file, mode: Number(stats.mode & 0o7777n), uid: Number(stats.uid), gid: Number(stats.gid) };
}

/**
 * Says which file `path` names, for comparing paths: the device and inode of an
 * existing file (so a hard link or a symbolic link to the same file compares
 * equal), or the absolute path, with the directory's links resolved, of a name
 * that does not exist yet.
 *
 * @param path - any path
 * @returns a string equal for two paths that name the same file
 */
export function fileIdentity(path: string): string {
  try {
    const stats = statSync(path, { bigint: true });
    return `inode ${stats.dev}:${stats.ino}`;
  } catch {
    // Not there (yet): compare by name.
  }
  try {
    return `path ${join(realpathSync.native(dirname(path)), basename(path))}`;
  } catch {
    return `path ${resolve(path)}`;
  }
}

/**
 * Whether two paths name the same file (see {@link fileIdentity}).
 *
 * @param a - a path
 * @param b - another path
 * @returns true for the same path, a hard link, or a symbolic link to the same file
 */
export function isSameFile(a: string, b: string): boolean {
  return fileIdentity(a) === fileIdentity(b);
}

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** `path` with every symbolic link resolved, checked to be the very file `stats` describes. */
function realFile(path: string, stats: BigIntStats): string {
  let file: string;
  try {
    file = realpathSync.native(path);
  } catch (cause) {
    throw ioFailure("write", path, cause);
  }
  let at: BigIntStats | undefined;
  try {
    at = lstatSync(file, { bigint: true });
  } catch {
    at = undefined;
  }
  // A link into /proc/self/fd naming a deleted file resolves to "… (deleted)".
  if (at === undefined || !at.isFile() || at.dev !== stats.dev || at.ino !== stats.ino) {
    throw new QuantizeError("io", `cannot write ${path}: it leads to a file that has no name (deleted?), which cannot be replaced; write to a named file`);
  }
  return file;
}

/**
 * Refuses a directory that is missing, not a directory, or not writable; errors
 * name the output.
 *
 * @returns the directory with its symbolic links resolved
 */
function checkDirectory(directory: string, path: string): string {
  try {
    if (!statSync(directory).isDirectory()) throw errnoLike("ENOTDIR");
    accessSync(directory, constants.W_OK);
    return realpathSync.native(directory);
  } catch (cause) {
    throw ioFailure("write", path, cause);
  }
}

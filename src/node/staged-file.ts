/**
 * Writing output files in two steps, so that several files go out together and
 * nothing is in place before everything that can fail has been tried:
 * {@link stageFile} writes each file's bytes to a hidden temporary file beside it
 * and starts flushing them to disk; {@link commitFiles} waits for the flushes,
 * writes the targets that are written in place, and only then renames the
 * temporary files into place. A failure anywhere before the renames removes every
 * temporary file and leaves every destination as it was.
 *
 * How each destination is written (replaced, or written in place) is
 * {@link resolveOutputTarget}'s decision.
 *
 * @packageDocumentation
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { EncodedChunks } from "../codec/encode-model.js";
import { QuantizeError } from "../errors.js";
import { ioFailure } from "./io-failure.js";
import { resolveOutputTarget, type OutputTarget } from "./output-target.js";
import { registerTemporary, unregisterTemporary } from "./temporary-files.js";

/** Bytes to write: one array, or chunks written one after another (as from `encodeModelChunks`). */
export type FileContents = Uint8Array | EncodedChunks;

/** A file whose bytes are ready to go into place; see {@link stageFile}. */
export interface StagedFile {
  /** The destination, as given. */
  readonly path: string;
  /** Removes the temporary file, if any, and forgets the file; safe to call more than once. */
  discard(): void;
}

/** The longest file name (in bytes) the usual file systems take: NAME_MAX on Linux and macOS. */
const MAX_NAME_BYTES = 255;
/** Names tried for a temporary file before giving up (they collide only within one millisecond). */
const TEMPORARY_NAME_ATTEMPTS = 100;
/** Opening an existing FIFO or device: never create, never become its controlling terminal. */
const IN_PLACE_FLAGS = constants.O_WRONLY | constants.O_NOCTTY;

class Staged implements StagedFile {
  private discarded = false;

  constructor(
    readonly path: string,
    readonly target: OutputTarget,
    readonly contents: FileContents,
    /** The temporary file; undefined for a target written in place. */
    readonly temporary: string | undefined,
    /** Settles when the temporary file is flushed and closed. */
    readonly flushed: Promise<void>,
  ) {
    // Discarded files are not awaited: their failure is nobody's to report.
    flushed.catch(() => undefined);
  }

  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    if (this.temporary === undefined) return;
    rmSync(this.temporary, { force: true });
    unregisterTemporary(this.temporary);
  }

  /** Renamed into place: there is nothing left to discard. */
  markPlaced(): void {
    this.discarded = true;
  }

  get isDiscarded(): boolean {
    return this.discarded;
  }
}

/**
 * Prepares a file: a regular destination (or a new name) gets its bytes written to
 * a temporary file beside it now, flushed to disk on libuv's threads meanwhile; a
 * FIFO or device is only looked at, and written by {@link commitFiles}. Returns once
 * the bytes are handed to the operating system, so the caller may reuse them.
 *
 * @param path - the destination
 * @param contents - the bytes (kept until {@link commitFiles} for a target written in place)
 * @returns the staged file, for {@link commitFiles} or its `discard`
 * @throws {@link index!QuantizeError} `io` when the destination is refused or the
 *   temporary file cannot be written (and then nothing is left behind)
 */
export function stageFile(path: string, contents: FileContents): StagedFile {
  const target = resolveOutputTarget(path);
  if (target.kind === "in-place") return new Staged(path, target, contents, undefined, Promise.resolve());
  const { temporary, fd } = createTemporary(target, contents);
  const flushed = new Promise<void>((resolve, reject) => {
    fsync(fd, (error) => {
      try {
        closeSync(fd);
      } catch (closing) {
        error ??= closing as NodeJS.ErrnoException;
      }
      if (error === null) resolve();
      else reject(ioFailure("write", path, error));
    });
  });
  return new Staged(path, target, contents, temporary, flushed);
}

/**
 * Puts staged files in place, in order: waits until every temporary file is on
 * disk, writes the destinations that are written in place, then renames each
 * temporary file over its destination and flushes the directories (best effort).
 * On a failure before the renames, every temporary file is removed and no
 * destination has changed (except a FIFO or device written already: those cannot be
 * taken back, so they are written after every temporary file is safe). A rename
 * can still fail after an earlier one succeeded only if something else changes the
 * directories meanwhile (a rename needs no space); the earlier file then stays.
 *
 * @param files - from {@link stageFile}
 * @returns a promise settled when every file is in place
 * @throws {@link index!QuantizeError} `io` (as a rejection)
 */
export async function commitFiles(files: readonly StagedFile[]): Promise<void> {
  const staged = files.map((file) => {
    if (!(file instanceof Staged) || file.isDiscarded) throw new TypeError(`commitFiles: ${file.path} was not staged, or was discarded`);
    return file;
  });
  const discardAll = (): void => staged.forEach((file) => file.discard());
  try {
    await Promise.all(staged.map((file) => file.flushed));
    for (const file of staged) {
      if (file.target.kind === "in-place") await writeInPlace(file.target.path, file.contents);
    }
    // libuv runs signal handlers after the other I/O callbacks of a loop turn: without
    // this wait, a signal that came while the bytes were written would be handled
    // only after the renames below, and the files would be in place when it ends
    // the process. One turn lets the handler remove the temporaries first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Looked at again: what was a file when staged must not have become a FIFO or device.
    for (const file of staged) {
      if (file.target.kind === "in-place") continue;
      const now = resolveOutputTarget(file.path);
      if (now.kind === "in-place" || now.file !== file.target.file) {
        throw new QuantizeError("io", `cannot write ${file.path}: it changed while the output was being written; run again`);
      }
    }
  } catch (error) {
    discardAll();
    throw error;
  }
  const directories = new Set<string>();
  for (const [i, file] of staged.entries()) {
    if (file.temporary === undefined || file.target.kind === "in-place") continue;
    try {
      placeTemporary(file.temporary, file.target);
    } catch (error) {
      staged.slice(i).forEach((rest) => rest.discard());
      throw error;
    }
    file.markPlaced();
    directories.add(dirname(file.target.file));
  }
  directories.forEach(flushDirectory);
}

/**
 * Creates the temporary file for `target` (never an existing file), with the
 * destination's permission bits, and writes `contents` to it.
 *
 * @param target - a destination that is replaced or created
 * @param contents - the bytes
 * @returns its name (registered in the temporary-file registry) and open descriptor
 * @throws {@link index!QuantizeError} `io`, having removed the temporary file
 */
export function createTemporary(target: Extract<OutputTarget, { kind: "create" | "replace" }>, contents: FileContents): { temporary: string; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const temporary = temporaryBeside(target.file, attempt);
    registerTemporary(temporary);
    let fd: number | undefined;
    try {
      // 0o666 less the umask, like any new file; a replaced file's own bits follow.
      fd = openSync(temporary, "wx", 0o666);
      if (target.kind === "replace") keepPermissions(fd, target);
      for (const chunk of contents instanceof Uint8Array ? [contents] : contents.chunks) {
        for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
      }
      return { temporary, fd };
    } catch (cause) {
      if (fd !== undefined) closeSync(fd);
      const collided = fd === undefined && (cause as NodeJS.ErrnoException).code === "EEXIST";
      if (!collided) rmSync(temporary, { force: true });
      unregisterTemporary(temporary);
      if (!collided || attempt + 1 >= TEMPORARY_NAME_ATTEMPTS) throw ioFailure("write", target.path, cause);
    }
  }
}

/**
 * Renames a flushed temporary file over its destination.
 *
 * @param temporary - from {@link createTemporary}, flushed and closed
 * @param target - its destination
 * @throws {@link index!QuantizeError} `io`, having removed the temporary file
 */
export function placeTemporary(temporary: string, target: Extract<OutputTarget, { kind: "create" | "replace" }>): void {
  try {
    renameSync(temporary, target.file);
  } catch (cause) {
    rmSync(temporary, { force: true });
    throw ioFailure("write", target.path, cause);
  } finally {
    unregisterTemporary(temporary);
  }
}

/**
 * Writes `contents` to an existing FIFO or device, opened as it is (never created,
 * truncated or renamed over).
 *
 * @throws {@link index!QuantizeError} `io` (as a rejection)
 */
async function writeInPlace(path: string, contents: FileContents): Promise<void> {
  try {
    // Asynchronous: opening a FIFO waits for a reader, and the process must stay
    // responsive (signals) meanwhile.
    const handle = await open(path, IN_PLACE_FLAGS);
    try {
      for (const chunk of contents instanceof Uint8Array ? [contents] : contents.chunks) {
        for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset)).bytesWritten;
      }
    } finally {
      await handle.close();
    }
  } catch (cause) {
    throw ioFailure("write", path, cause);
  }
}

/**
 * Writes `contents` to an existing FIFO or device, opened as it is (never created,
 * truncated or renamed over), synchronously.
 *
 * @param path - the FIFO or device
 * @param contents - the bytes
 * @throws {@link index!QuantizeError} `io`
 */
export function writeInPlaceSync(path: string, contents: FileContents): void {
  try {
    const fd = openSync(path, IN_PLACE_FLAGS);
    try {
      for (const chunk of contents instanceof Uint8Array ? [contents] : contents.chunks) {
        for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
      }
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw ioFailure("write", path, cause);
  }
}

/**
 * Flushes a directory, so a rename in it survives a crash. Best effort: some file
 * systems refuse to flush directories, and the file is in place either way.
 *
 * @param directory - the directory
 */
export function flushDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Not supported here; nothing to undo.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The replaced file's permission bits, and its owner where allowed (root), on the new file. */
function keepPermissions(fd: number, target: Extract<OutputTarget, { kind: "replace" }>): void {
  const now = fstatSync(fd);
  if (now.uid !== target.uid || now.gid !== target.gid) {
    try {
      fchownSync(fd, target.uid, target.gid);
    } catch {
      // Only root (or the group's member) may: the file is then the writer's, as a new file is.
    }
  }
  // After the owner: changing the owner clears set-user-ID bits.
  fchmodSync(fd, target.mode);
}

/**
 * A hidden name beside `file` for its temporary: `.NAME.PID.TIME.tmp`, NAME cut
 * short when the whole would exceed {@link MAX_NAME_BYTES} (a valid 250-byte name
 * must still work). Hidden and ending in `.tmp`, so nobody takes a leftover for the
 * output; in the same directory, so the rename stays on one file system.
 */
function temporaryBeside(file: string, attempt: number): string {
  const suffix = `.${process.pid}.${Date.now() + attempt}.tmp`;
  const room = MAX_NAME_BYTES - 1 - suffix.length;
  return join(dirname(file), `.${truncateUtf8(basename(file), room)}${suffix}`);
}

/** `text` cut to at most `bytes` UTF-8 bytes, never inside a character. */
function truncateUtf8(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = "";
  let used = 0;
  for (const character of text) {
    const size = Buffer.byteLength(character);
    if (used + size > bytes) break;
    out += character;
    used += size;
  }
  return out;
}

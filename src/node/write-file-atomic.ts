/**
 * Writing one file so that a reader (or a crash) sees either the previous file or
 * the complete new one, never a partial file.
 *
 * @packageDocumentation
 */
import { closeSync, fsyncSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { ioFailure } from "./io-failure.js";
import { resolveOutputTarget } from "./output-target.js";
import { commitFiles, createTemporary, flushDirectory, placeTemporary, stageFile, writeInPlaceSync, type FileContents } from "./staged-file.js";
import { unregisterTemporary } from "./temporary-files.js";

/**
 * Writes bytes atomically: to a hidden temporary file beside `path`, flushed to
 * disk, then renamed over `path` (symbolic links followed, the replaced file's
 * permission bits kept). A FIFO or character device is written in place instead,
 * and a directory, block device or socket refused: none is ever replaced by a
 * regular file.
 *
 * @param path - the destination
 * @param contents - the bytes, or chunks written one after another (as from
 *   `encodeModelChunks`, so no output buffer is ever assembled)
 * @throws {@link index!QuantizeError} `io` when the file cannot be written; the
 *   destination is then unchanged and no temporary file is left
 */
export function writeFileAtomic(path: string, contents: FileContents): void {
  const target = resolveOutputTarget(path);
  if (target.kind === "in-place") {
    writeInPlaceSync(path, contents);
    return;
  }
  const { temporary, fd } = createTemporary(target, contents);
  try {
    fsyncSync(fd);
  } catch (cause) {
    rmSync(temporary, { force: true });
    unregisterTemporary(temporary);
    throw ioFailure("write", path, cause);
  } finally {
    closeSync(fd);
  }
  placeTemporary(temporary, target);
  flushDirectory(dirname(target.file));
}

/**
 * {@link writeFileAtomic} that returns once the bytes are handed to the operating
 * system, and flushes them to disk on libuv's threads: the caller computes while
 * the disk works. The file is renamed into place when the flush is done, so the
 * promise settles with the file complete. (A FIFO or device is written in place
 * after the call returns: keep `contents` unchanged until the promise settles.)
 *
 * @param path - the destination
 * @param contents - the bytes, or chunks written one after another
 * @returns a promise settled when the file is in place
 * @throws {@link index!QuantizeError} `io` (as a rejection) when the file cannot be written
 */
export async function writeFileAtomicAsync(path: string, contents: FileContents): Promise<void> {
  await commitFiles([stageFile(path, contents)]);
}

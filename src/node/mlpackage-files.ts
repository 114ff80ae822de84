/**
 * Reading and writing `.mlpackage` folders in Node. A package is written whole
 * into a hidden temporary folder beside the destination, flushed, and renamed into
 * place, so nobody sees a partial package.
 *
 * @packageDocumentation
 */
import { constants as bufferConstants } from "node:buffer";
import {
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { QuantizeError } from "../errors.js";
import { decodeMlPackage, encodeMlPackage, MANIFEST_PATH, type MlPackage } from "../mlprogram/ml-package.js";
import { errnoLike, ioFailure, openForReading } from "./io-failure.js";
import { flushDirectory } from "./staged-file.js";
import { registerTemporary, unregisterTemporary } from "./temporary-files.js";

/**
 * Most files read from one package folder. The reference writes three; a folder of
 * thousands is not a package (a home directory given by mistake), and reading it
 * whole would take the memory of all its files.
 */
export const MAX_PACKAGE_FILES = 1000;
/** The largest file read: the largest array this Node can hold (weight.bin may pass protobuf's 2 GiB). */
export const MAX_PACKAGE_FILE_BYTES = bufferConstants.MAX_LENGTH;
/** The largest single read Node accepts. */
const MAX_READ = 2 ** 31 - 1;
/** Names tried for the temporary folder before giving up (they collide only within one millisecond). */
const TEMPORARY_NAME_ATTEMPTS = 100;

/**
 * Reads and decodes an `.mlpackage` folder: every file in it (symbolic links to
 * files followed, links to folders refused), then {@link decodeMlPackage}.
 *
 * @param dir - the package folder
 * @returns the package
 * @throws {@link index!QuantizeError} `io` when the folder or a file cannot be read,
 *   is not a folder, holds more than {@link MAX_PACKAGE_FILES} files or a file over
 *   {@link MAX_PACKAGE_FILE_BYTES}; otherwise as `decodeMlPackage`, the message
 *   starting with `dir`
 * @example
 * ```ts
 * const pkg = readMlPackage("model.mlpackage");
 * ```
 */
export function readMlPackage(dir: string): MlPackage {
  let stats: Stats;
  try {
    stats = statSync(dir);
  } catch (cause) {
    throw ioFailure("read", dir, cause);
  }
  if (!stats.isDirectory()) {
    throw new QuantizeError("io", `cannot read ${dir}: not a folder; an .mlpackage is a folder (a zipped one is read with decodeMlPackageZip)`);
  }
  const files = new Map<string, Uint8Array>();
  const visit = (folder: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch (cause) {
      throw ioFailure("read", folder, cause);
    }
    for (const name of names) {
      const full = join(folder, name);
      const relative = prefix + name;
      let entry: Stats;
      try {
        entry = lstatSync(full).isSymbolicLink() ? statSync(full) : lstatSync(full);
      } catch (cause) {
        throw ioFailure("read", full, cause);
      }
      if (entry.isDirectory()) {
        if (lstatSync(full).isSymbolicLink())
          throw new QuantizeError("io", `cannot read ${full}: a symbolic link to a folder inside a package is not followed`);
        visit(full, `${relative}/`);
      } else if (entry.isFile()) {
        if (files.size >= MAX_PACKAGE_FILES) {
          throw new QuantizeError("io", `cannot read ${dir}: more than ${MAX_PACKAGE_FILES} files, which no .mlpackage holds; is it the right folder?`);
        }
        files.set(relative, readWhole(full));
      } else {
        throw new QuantizeError("io", `cannot read ${full}: neither a file nor a folder`);
      }
    }
  };
  visit(dir, "");
  try {
    return decodeMlPackage(files);
  } catch (error) {
    if (error instanceof QuantizeError && error.code !== "io") throw new QuantizeError(error.code, error.message, { path: dir, cause: error });
    throw error;
  }
}

/**
 * Encodes a package and writes it as a folder, atomically: every file goes into a
 * hidden temporary folder beside `dir` and is flushed, then the folder is renamed
 * to `dir`. An existing package at `dir` is first renamed aside and removed once
 * the new one is in place (a reader between the two renames finds no package, never
 * a partial one; a failure of the second rename puts the old one back).
 *
 * @param dir - the destination folder
 * @param pkg - the package
 * @throws {@link index!QuantizeError} `io` when `dir` exists and is not a package
 *   folder (a file, or a folder without Manifest.json: never replaced), or a write
 *   fails (the temporary folder is then removed and `dir` unchanged); as
 *   `encodeMlPackage` before anything is written
 */
export function writeMlPackage(dir: string, pkg: MlPackage): void {
  const files = encodeMlPackage(pkg);
  const target = resolve(dir);
  const existing = existingPackage(dir, target);
  const temporary = createTemporaryFolder(dir, target);
  try {
    placePackage(dir, target, temporary, files, existing);
  } finally {
    unregisterTemporary(temporary);
  }
  flushDirectory(dirname(target));
}

/**
 * Refuses, before any work is done, a destination {@link writeMlPackage} would
 * refuse: something there that is not a package folder, or a parent folder that
 * does not exist.
 *
 * @param dir - the destination folder
 * @throws {@link index!QuantizeError} `io` naming `dir` and what to do
 */
export function checkPackageDestination(dir: string): void {
  const target = resolve(dir);
  if (existingPackage(dir, target)) return;
  let parent: Stats | undefined;
  try {
    parent = statSync(dirname(target));
  } catch {
    parent = undefined;
  }
  if (parent === undefined || !parent.isDirectory()) {
    throw new QuantizeError("io", `cannot write ${dir}: the folder ${dirname(dir)} does not exist; create it first`);
  }
}

/** Writes the files into `temporary`, then renames it to `target` (an existing package renamed aside first). */
function placePackage(dir: string, target: string, temporary: string, files: ReadonlyMap<string, Uint8Array>, existing: boolean): void {
  try {
    for (const [path, contents] of files) writeFlushed(join(temporary, ...path.split("/")), contents, temporary);
    flushDirectory(temporary);
  } catch (cause) {
    rmSync(temporary, { recursive: true, force: true });
    throw cause instanceof QuantizeError ? cause : ioFailure("write", dir, cause);
  }
  if (!existing) {
    try {
      renameSync(temporary, target);
    } catch (cause) {
      rmSync(temporary, { recursive: true, force: true });
      throw ioFailure("write", dir, cause);
    }
  } else {
    const aside = `${temporary}.old`;
    try {
      renameSync(target, aside);
    } catch (cause) {
      rmSync(temporary, { recursive: true, force: true });
      throw ioFailure("write", dir, cause);
    }
    try {
      renameSync(temporary, target);
    } catch (cause) {
      renameSync(aside, target);
      rmSync(temporary, { recursive: true, force: true });
      throw ioFailure("write", dir, cause);
    }
    rmSync(aside, { recursive: true, force: true });
  }
}

/** Whether `target` holds a package to replace; refuses anything else that is there. */
function existingPackage(dir: string, target: string): boolean {
  let stats: Stats;
  try {
    stats = lstatSync(target);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw ioFailure("write", dir, cause);
  }
  if (!stats.isDirectory()) {
    throw new QuantizeError("io", `cannot write ${dir}: it exists and is not a folder (an .mlpackage is one); remove it or choose another name`);
  }
  try {
    if (statSync(join(target, MANIFEST_PATH)).isFile()) return true;
  } catch {
    // no manifest: refused below
  }
  throw new QuantizeError("io", `cannot write ${dir}: it is a folder without ${MANIFEST_PATH}, not an .mlpackage, and is not replaced; choose another name`);
}

/** A new hidden folder beside `target`: `.NAME.PID.TIME.tmp`. */
function createTemporaryFolder(dir: string, target: string): string {
  for (let attempt = 0; ; attempt++) {
    const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now() + attempt}.tmp`);
    // Registered before it exists, so a signal during the write finds it (see temporary-files.ts).
    registerTemporary(temporary);
    try {
      mkdirSync(temporary);
      return temporary;
    } catch (cause) {
      unregisterTemporary(temporary);
      if ((cause as NodeJS.ErrnoException).code !== "EEXIST" || attempt + 1 >= TEMPORARY_NAME_ATTEMPTS) throw ioFailure("write", dir, cause);
    }
  }
}

/** Writes a new file (creating its folders below `root`) and flushes it. */
function writeFlushed(file: string, contents: Uint8Array, root: string): void {
  const folder = dirname(file);
  if (folder !== root) mkdirSync(folder, { recursive: true });
  const fd = openSync(file, "wx", 0o666);
  try {
    for (let offset = 0; offset < contents.length; ) offset += writeSync(fd, contents, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (folder !== root) flushDirectory(folder);
}

/** A regular file's bytes, read whole after its size is checked. */
function readWhole(path: string): Uint8Array {
  const fd = openForReading(path);
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_PACKAGE_FILE_BYTES) {
      throw new QuantizeError("io", `cannot read ${path}: it is ${size} bytes, over the ${MAX_PACKAGE_FILE_BYTES} bytes an array holds in this Node`);
    }
    const buffer = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buffer, done, Math.min(size - done, MAX_READ), done);
      if (n === 0) throw errnoLike("EIO");
      done += n;
    }
    return buffer;
  } catch (cause) {
    if (cause instanceof QuantizeError) throw cause;
    throw ioFailure("read", path, cause);
  } finally {
    closeSync(fd);
  }
}

/**
 * One-line messages for failed file operations: what failed, where, the error code
 * in words, and what to do about it.
 *
 * @packageDocumentation
 */
import { openSync } from "node:fs";
import { QuantizeError } from "../errors.js";

/** The error codes a file operation commonly meets, in plain words. */
const WORDS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EAGAIN: "resource temporarily unavailable",
  EBUSY: "device or resource busy",
  EDQUOT: "disk quota exceeded",
  EEXIST: "a file of that name exists",
  EFBIG: "file too large",
  EINVAL: "invalid argument",
  EIO: "input/output error",
  EISDIR: "it is a directory",
  ELOOP: "a loop of symbolic links, or too many of them",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the name is too long",
  ENFILE: "too many open files in the system",
  ENODEV: "no such device",
  ENOENT: "no such file or directory",
  ENOSPC: "no space left on device",
  ENOTDIR: "a part of the path is not a directory",
  ENXIO: "no such device or address",
  EPERM: "operation not permitted",
  EPIPE: "the reading end was closed",
  EROFS: "read-only file system",
  ETXTBSY: "text file busy",
  EXDEV: "not on the same file system",
};

/** What to do about a failed write, by error code. */
const WRITE_HINTS: Readonly<Record<string, string>> = {
  EACCES: "check the permissions or write elsewhere",
  EDQUOT: "free some space or write elsewhere",
  EISDIR: "name a file, not a directory",
  ELOOP: "check the symbolic links in the path",
  ENAMETOOLONG: "choose a shorter name",
  ENOENT: "create the directory first, or check the path",
  ENOSPC: "free some space or write elsewhere",
  ENOTDIR: "check the path",
  EPERM: "check the permissions or write elsewhere",
  EROFS: "write elsewhere",
};

/**
 * The error for a failed read or write of `path`, e.g. `cannot write out/x.mlmodel:
 * ENOSPC (no space left on device); free some space or write elsewhere`.
 *
 * @param action - what was being done
 * @param path - the file, as the user named it
 * @param cause - the error thrown (a Node `ErrnoException`, or anything)
 * @returns a {@link index!QuantizeError} `io` wrapping `cause`
 */
export function ioFailure(action: "read" | "write", path: string, cause: unknown): QuantizeError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  let reason: string;
  if (typeof code === "string") {
    const words = WORDS[code];
    const hint = action === "write" ? WRITE_HINTS[code] : undefined;
    reason = `${code}${words === undefined ? "" : ` (${words})`}${hint === undefined ? "" : `; ${hint}`}`;
  } else {
    reason = cause instanceof Error ? cause.message : String(cause);
  }
  return new QuantizeError("io", `cannot ${action} ${path}: ${reason}`, { cause });
}

/**
 * An error-like value with a Node error code, for refusals found by looking
 * (`EISDIR` from a stat) rather than thrown by a system call.
 *
 * @param code - the error code
 * @returns something {@link ioFailure} describes like the thrown error
 */
export function errnoLike(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * Opens `path` for reading.
 *
 * @param path - the file, as the user named it
 * @returns the file descriptor
 * @throws {@link index!QuantizeError} `io`, from {@link ioFailure}, when it cannot be opened
 */
export function openForReading(path: string): number {
  try {
    return openSync(path, "r");
  } catch (cause) {
    throw ioFailure("read", path, cause);
  }
}

/**
 * Zip archives of packages, for the browser (where a folder cannot be handed
 * over as one file): reading stored and deflated entries, writing stored ones.
 * Inflation uses the web-standard `DecompressionStream("deflate-raw")`, which
 * browsers and Node >= 20 have, so nothing here needs Node.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { decodeMlPackage, encodeMlPackage, MANIFEST_PATH, type MlPackage, type PackageFiles } from "./ml-package.js";

/**
 * Most entries read or written: the classic zip format counts them in 16 bits.
 * Zip64 archives (more entries, or entries of 4 GiB and more) are refused, and
 * none is written.
 */
export const MAX_ZIP_ENTRIES = 0xffff;
/** The largest entry, compressed or not, the classic zip format can describe. */
export const MAX_ZIP_ENTRY_BYTES = 0xffffffff;

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const END_RECORD_BYTES = 22;
/** The end record sits within its own size plus the longest comment (65,535 bytes) from the end. */
const END_RECORD_SEARCH = END_RECORD_BYTES + 0xffff;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const FLAG_ENCRYPTED = 1;
const FLAG_UTF8_NAMES = 1 << 11;
/** Version 2.0: what stored entries in folders need. */
const VERSION_NEEDED = 20;
/** 1980-01-01 00:00, the earliest DOS date: every entry gets it, so equal packages give equal archives. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Folders archivers add beside the content (macOS Finder's resource forks): skipped when reading. */
const IGNORED_PREFIXES = ["__MACOSX/"];

/**
 * Reads every file of a zip archive (folders and `__MACOSX/` entries skipped).
 * Stored entries are views of `bytes`; deflated ones are inflated, each checked
 * against its declared size and CRC-32.
 *
 * @param bytes - the archive
 * @returns the files by their path in the archive
 * @throws {@link QuantizeError} `unsupported-model` when `bytes` is not a zip
 *   archive, is zip64, encrypted, truncated, uses a method other than stored or
 *   deflated, holds a path that could leave its folder, or an entry whose contents
 *   do not match its size or CRC-32
 */
export async function readZipArchive(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndRecord(bytes, view);
  const count = view.getUint16(end + 10, true);
  const directorySize = view.getUint32(end + 12, true);
  const directoryOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw fail("is a zip64 archive (over 65,535 entries or 4 GiB); zip the package with fewer, smaller files");
  }
  if (directoryOffset + directorySize > end) throw fail("is truncated: its central directory lies past its end");
  const files = new Map<string, Uint8Array>();
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL_HEADER) throw fail(`is damaged: central directory entry ${i} is missing`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localOffset = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/") || IGNORED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    checkEntryName(name);
    if ((flags & FLAG_ENCRYPTED) !== 0) throw fail(`entry ${name} is encrypted`);
    if (files.has(name)) throw fail(`holds ${name} twice`);
    if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== LOCAL_HEADER) throw fail(`is damaged: the local header of ${name} is missing`);
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (dataStart + compressedSize > bytes.length) throw fail(`is truncated: ${name} runs past its end`);
    const stored = bytes.subarray(dataStart, dataStart + compressedSize);
    let contents: Uint8Array;
    if (method === METHOD_STORED) contents = stored;
    else if (method === METHOD_DEFLATED) contents = await inflateRaw(stored, size, name);
    else throw fail(`entry ${name} uses compression method ${method}; only stored (0) and deflated (8) are read`);
    if (contents.length !== size) throw fail(`entry ${name} holds ${contents.length} bytes, its header says ${size}`);
    if (crc32(contents) !== crc) throw fail(`entry ${name} is damaged (its CRC-32 does not match)`);
    files.set(name, contents);
  }
  return files;
}

/** Options of {@link writeZipArchive}. */
export interface ZipWriteOptions {
  /**
   * A folder every entry is put in, e.g. `model.mlpackage` (so unzipping gives the
   * package folder); `""` puts the files at the archive's root.
   * @defaultValue `""`
   */
  readonly folder?: string;
}

/**
 * Writes files as a zip archive of stored (uncompressed) entries, in the order
 * given, every entry dated 1980-01-01 so equal files give equal archives.
 * {@link readZipArchive} reads it back.
 *
 * @param files - the files by path (`/`-separated)
 * @param options - see {@link ZipWriteOptions}
 * @returns the archive's bytes
 * @throws {@link QuantizeError} `invalid-option` when there are more than
 *   {@link MAX_ZIP_ENTRIES} files or one is over {@link MAX_ZIP_ENTRY_BYTES} bytes
 */
export function writeZipArchive(files: PackageFiles, options: ZipWriteOptions = {}): Uint8Array {
  const folder = (options.folder ?? "").replace(/\/+$/, "");
  const prefix = folder === "" ? "" : `${folder}/`;
  const encoder = new TextEncoder();
  const entries = [...files].map(([path, contents]) => ({ name: encoder.encode(prefix + path), contents, crc: crc32(contents) }));
  if (entries.length > MAX_ZIP_ENTRIES)
    throw new QuantizeError("invalid-option", `${entries.length} files; a zip archive without zip64 holds at most ${MAX_ZIP_ENTRIES}`);
  for (const [path, contents] of files) {
    if (contents.length > MAX_ZIP_ENTRY_BYTES)
      throw new QuantizeError("invalid-option", `${path} is ${contents.length} bytes; a zip entry without zip64 holds at most ${MAX_ZIP_ENTRY_BYTES}`);
  }
  const localBytes = entries.reduce((sum, e) => sum + 30 + e.name.length + e.contents.length, 0);
  const directoryBytes = entries.reduce((sum, e) => sum + 46 + e.name.length, 0);
  if (localBytes > MAX_ZIP_ENTRY_BYTES)
    throw new QuantizeError("invalid-option", `the package is ${localBytes} bytes; a zip archive without zip64 holds at most ${MAX_ZIP_ENTRY_BYTES}`);
  const out = new Uint8Array(localBytes + directoryBytes + END_RECORD_BYTES);
  const view = new DataView(out.buffer);
  const offsets: number[] = [];
  let at = 0;
  for (const entry of entries) {
    offsets.push(at);
    view.setUint32(at, LOCAL_HEADER, true);
    writeCommon(view, at + 4, entry, false);
    out.set(entry.name, at + 30);
    out.set(entry.contents, at + 30 + entry.name.length);
    at += 30 + entry.name.length + entry.contents.length;
  }
  entries.forEach((entry, i) => {
    view.setUint32(at, CENTRAL_HEADER, true);
    view.setUint16(at + 4, VERSION_NEEDED, true); // version made by: 2.0, MS-DOS attributes
    writeCommon(view, at + 6, entry, true);
    view.setUint32(at + 42, offsets[i] as number, true);
    out.set(entry.name, at + 46);
    at += 46 + entry.name.length;
  });
  view.setUint32(at, END_OF_CENTRAL_DIRECTORY, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, directoryBytes, true);
  view.setUint32(at + 16, localBytes, true);
  return out;
}

/**
 * Decodes a package from a zip archive of it: its files at the archive's root, or
 * in one folder (as zipping an `.mlpackage` folder gives).
 *
 * @param bytes - the archive
 * @returns the package
 * @throws {@link QuantizeError} as {@link readZipArchive} and `decodeMlPackage`;
 *   `unsupported-model` when the archive holds no manifest or several packages
 * @example
 * ```ts
 * const pkg = await decodeMlPackageZip(new Uint8Array(await file.arrayBuffer()));
 * ```
 */
export async function decodeMlPackageZip(bytes: Uint8Array): Promise<MlPackage> {
  const files = await readZipArchive(bytes);
  const manifests = [...files.keys()].filter((path) => path === MANIFEST_PATH || path.endsWith(`/${MANIFEST_PATH}`));
  const depth = (path: string): number => path.split("/").length;
  const shallowest = Math.min(...manifests.map(depth));
  const roots = manifests.filter((path) => depth(path) === shallowest);
  if (roots.length === 0) throw new QuantizeError("unsupported-model", `the archive holds no ${MANIFEST_PATH}: it is not a zipped .mlpackage`);
  if (roots.length > 1) throw new QuantizeError("unsupported-model", `the archive holds several packages (${roots.join(", ")}); zip one`);
  const prefix = (roots[0] as string).slice(0, -MANIFEST_PATH.length);
  const inside = new Map([...files].filter(([path]) => path.startsWith(prefix)).map(([path, contents]) => [path.slice(prefix.length), contents]));
  return decodeMlPackage(inside);
}

/**
 * Encodes a package as a zip archive of stored entries. The inverse of
 * {@link decodeMlPackageZip}.
 *
 * @param pkg - the package
 * @param options - see {@link ZipWriteOptions}
 * @returns the archive's bytes
 * @throws {@link QuantizeError} as `encodeMlPackage` and {@link writeZipArchive}
 */
export function encodeMlPackageZip(pkg: MlPackage, options: ZipWriteOptions = {}): Uint8Array {
  return writeZipArchive(encodeMlPackage(pkg), options);
}

/** The fields local and central headers share, from "version needed" on. */
function writeCommon(view: DataView, at: number, entry: { name: Uint8Array; contents: Uint8Array; crc: number }, central: boolean): void {
  view.setUint16(at, VERSION_NEEDED, true);
  view.setUint16(at + 2, FLAG_UTF8_NAMES, true);
  view.setUint16(at + 4, METHOD_STORED, true);
  view.setUint16(at + 6, 0, true); // time 00:00
  view.setUint16(at + 8, DOS_DATE, true);
  view.setUint32(at + 10, entry.crc, true);
  view.setUint32(at + 14, entry.contents.length, true);
  view.setUint32(at + 18, entry.contents.length, true);
  view.setUint16(at + 22, entry.name.length, true);
  // Extra field length 0; in the central header also comment, disk, attributes 0.
  if (!central) view.setUint16(at + 24, 0, true);
}

function findEndRecord(bytes: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, bytes.length - END_RECORD_SEARCH);
  for (let at = bytes.length - END_RECORD_BYTES; at >= lowest; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw fail("is not a zip archive (no end-of-central-directory record)");
}

/** Entry names that could write outside the folder they are unpacked in are refused. */
function checkEntryName(name: string): void {
  const parts = name.split("/");
  if (name.includes("\\") || name.startsWith("/") || parts.some((part) => part === "" || part === "." || part === "..")) {
    throw fail(`holds an entry named ${JSON.stringify(name)}, which could leave its folder`);
  }
}

/** Inflates raw deflate data, stopping as soon as the output passes `size` (a bomb stops early). */
async function inflateRaw(data: Uint8Array, size: number, name: string): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let length = 0;
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.length > size) throw fail(`entry ${name} inflates to more than the ${size} bytes its header says`);
      out.set(value, length);
      length += value.length;
    }
  } catch (cause) {
    if (cause instanceof QuantizeError) throw cause;
    throw fail(`entry ${name} is damaged: ${(cause as Error).message}`);
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return out.subarray(0, length);
}

/** Eight 256-entry tables: table k gives the CRC of a byte followed by k zero bytes (slicing by 8). */
let crcTables: Uint32Array | undefined;

/**
 * The CRC-32 (IEEE 802.3, as zip uses) of `bytes`.
 *
 * @param bytes - the data
 * @returns the checksum, as an unsigned 32-bit number
 */
export function crc32(bytes: Uint8Array): number {
  const t = (crcTables ??= makeCrcTables());
  let crc = 0xffffffff;
  let i = 0;
  // Eight bytes per step: a package's weights are hundreds of megabytes.
  for (const whole = bytes.length - (bytes.length % 8); i < whole; i += 8) {
    const low = crc ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24));
    crc =
      (t[1792 + (low & 0xff)] as number) ^
      (t[1536 + ((low >>> 8) & 0xff)] as number) ^
      (t[1280 + ((low >>> 16) & 0xff)] as number) ^
      (t[1024 + (low >>> 24)] as number) ^
      (t[768 + (bytes[i + 4] as number)] as number) ^
      (t[512 + (bytes[i + 5] as number)] as number) ^
      (t[256 + (bytes[i + 6] as number)] as number) ^
      (t[bytes[i + 7] as number] as number);
  }
  for (; i < bytes.length; i++) crc = (t[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeCrcTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = tables[(k - 1) * 256 + n] as number;
      tables[k * 256 + n] = (tables[previous & 0xff] as number) ^ (previous >>> 8);
    }
  }
  return tables;
}

function fail(what: string): QuantizeError {
  return new QuantizeError("unsupported-model", `the zip archive ${what}`);
}

/**
 * A small checked reader and writer of NumPy's `.npy` format (versions 1.0, 2.0
 * and 3.0), for the prediction inputs and outputs of the executor: little-endian,
 * C order, the few element types models exchange.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";

/** The element types read and written: numpy's `<f4 <f8 <i8 <i4 |u1 |b1`. */
export type NpyDtype = "float32" | "float64" | "int64" | "int32" | "uint8" | "bool";

/** The typed array holding each element type (booleans are 0/1 bytes). */
export interface NpyDataOf {
  /** `<f4`. */
  float32: Float32Array;
  /** `<f8`. */
  float64: Float64Array;
  /** `<i8`. */
  int64: BigInt64Array;
  /** `<i4`. */
  int32: Int32Array;
  /** `|u1`. */
  uint8: Uint8Array;
  /** `|b1`: one byte per element, 0 or 1. */
  bool: Uint8Array;
}

/** A decoded array: its element type, shape (`[]` for a scalar) and values in C order. */
export type NpyArray = {
  [D in NpyDtype]: {
    /** The element type. */
    readonly dtype: D;
    /** The dimensions; `[]` for a scalar. */
    readonly shape: readonly number[];
    /** The values in C (row-major) order. */
    readonly data: NpyDataOf[D];
  };
}[NpyDtype];

/** The format's magic string, `\x93NUMPY`. */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** Header dictionaries are a few hundred bytes; a bigger one is not an array file. */
const MAX_HEADER_LENGTH = 1 << 20;
/** Headers (with the preamble) are padded to this many bytes so the data is aligned. */
const HEADER_ALIGNMENT = 64;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface DtypeInfo {
  readonly descr: string;
  readonly bytes: number;
  readonly make: (buffer: ArrayBuffer, length: number) => NpyDataOf[NpyDtype];
  /** Reads element i of a little-endian DataView (for big-endian hosts). */
  readonly read: (view: DataView, offset: number) => number | bigint;
}

const DTYPES: { readonly [D in NpyDtype]: DtypeInfo } = {
  float32: { descr: "<f4", bytes: 4, make: (b, n) => new Float32Array(b, 0, n), read: (v, o) => v.getFloat32(o, true) },
  float64: { descr: "<f8", bytes: 8, make: (b, n) => new Float64Array(b, 0, n), read: (v, o) => v.getFloat64(o, true) },
  int64: { descr: "<i8", bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n), read: (v, o) => v.getBigInt64(o, true) },
  int32: { descr: "<i4", bytes: 4, make: (b, n) => new Int32Array(b, 0, n), read: (v, o) => v.getInt32(o, true) },
  uint8: { descr: "|u1", bytes: 1, make: (b, n) => new Uint8Array(b, 0, n), read: (v, o) => v.getUint8(o) },
  bool: { descr: "|b1", bytes: 1, make: (b, n) => new Uint8Array(b, 0, n), read: (v, o) => v.getUint8(o) },
};

/** Other spellings numpy accepts for the same little-endian types. */
const DESCR_ALIASES: Readonly<Record<string, NpyDtype>> = {
  "<f4": "float32",
  "<f8": "float64",
  "<i8": "int64",
  "<i4": "int32",
  "|u1": "uint8",
  "<u1": "uint8",
  u1: "uint8",
  "|b1": "bool",
  "<b1": "bool",
  b1: "bool",
};

function fail(message: string): never {
  throw new QuantizeError("invalid-input", `.npy: ${message}`);
}

/**
 * Decodes a `.npy` file. The inverse of {@link encodeNpy}.
 *
 * @param bytes - the file's contents
 * @returns the array; its data is a copy, independent of `bytes`
 * @throws {@link QuantizeError} `invalid-input` when the bytes are not a `.npy`
 *   file, or use what this reader refuses: Fortran order, big-endian or other
 *   element types, a data length that does not match the shape
 * @example
 * ```ts
 * const { shape, data } = parseNpy(await readFile("x.npy"));
 * ```
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail("not a .npy file (no \\x93NUMPY magic)");
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated header length");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`format version ${major}.${bytes[7] as number} is not supported (1.0, 2.0, 3.0 are)`);
  }
  if (headerLength > MAX_HEADER_LENGTH) fail(`header of ${headerLength} bytes is beyond the ${MAX_HEADER_LENGTH} allowed`);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail(`header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes)`);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  // Versions 1 and 2 are latin-1, 3 is UTF-8; the keys and values we read are ASCII either way.
  const text = major === 3 ? new TextDecoder("utf-8", { fatal: false }).decode(headerBytes) : latin1(headerBytes);
  const header = parseHeader(text);

  const dtype = DESCR_ALIASES[header.descr];
  if (dtype === undefined) {
    const order = header.descr.startsWith(">") ? " (big-endian data is not supported: save it little-endian)" : "";
    fail(`element type '${header.descr}' is not supported${order}; supported: <f4 <f8 <i8 <i4 |u1 |b1`);
  }
  if (header.fortranOrder) fail("fortran_order arrays are not supported: save the array in C order");
  const info = DTYPES[dtype];
  let count = 1;
  for (const d of header.shape) count *= d;
  if (!Number.isSafeInteger(count)) fail(`shape (${header.shape.join(", ")}) is too large`);
  const dataBytes = count * info.bytes;
  if (bytes.length - dataStart !== dataBytes) {
    fail(`shape (${header.shape.join(", ")}) of ${header.descr} needs ${dataBytes} data bytes, the file has ${bytes.length - dataStart}`);
  }
  const buffer = new ArrayBuffer(dataBytes);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(buffer).set(bytes.subarray(dataStart, dataStart + dataBytes));
    return { dtype, shape: header.shape, data: info.make(buffer, count) } as NpyArray;
  }
  const data = info.make(buffer, count);
  for (let i = 0; i < count; i++) (data as unknown as (number | bigint)[])[i] = info.read(view, dataStart + i * info.bytes);
  return { dtype, shape: header.shape, data } as NpyArray;
}

/**
 * Encodes an array as a version 1.0 `.npy` file (2.0 when the header needs it).
 * The inverse of {@link parseNpy}.
 *
 * @param array - element type, shape and values (`data.length` must be the shape's size)
 * @returns the file's bytes
 * @throws {@link QuantizeError} `invalid-input` when the data length does not match the shape
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const info = DTYPES[array.dtype];
  let count = 1;
  for (const d of array.shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`bad dimension ${d} in shape (${array.shape.join(", ")})`);
    count *= d;
  }
  if (count !== array.data.length) fail(`${array.data.length} values for shape (${array.shape.join(", ")})`);
  const shapeText = array.shape.length === 1 ? `(${array.shape[0] as number},)` : `(${array.shape.join(", ")})`;
  const dict = `{'descr': '${info.descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let preamble = 10;
  if (dict.length + 1 + preamble > 0xffff) {
    major = 2;
    preamble = 12;
  }
  // Pad with spaces and end with a newline so the data starts on an aligned offset.
  const total = Math.ceil((preamble + dict.length + 1) / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const headerText = `${dict.padEnd(total - preamble - 1, " ")}\n`;
  const out = new Uint8Array(total + count * info.bytes);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerText.length, true);
  else view.setUint32(8, headerText.length, true);
  for (let i = 0; i < headerText.length; i++) out[preamble + i] = headerText.charCodeAt(i);
  const data = array.data;
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, count * info.bytes), total);
  } else {
    for (let i = 0; i < count; i++) {
      const at = total + i * info.bytes;
      const v = data[i] as number | bigint;
      switch (array.dtype) {
        case "float32":
          view.setFloat32(at, v as number, true);
          break;
        case "float64":
          view.setFloat64(at, v as number, true);
          break;
        case "int64":
          view.setBigInt64(at, v as bigint, true);
          break;
        case "int32":
          view.setInt32(at, v as number, true);
          break;
        case "uint8":
        case "bool":
          view.setUint8(at, v as number);
          break;
      }
    }
  }
  return out;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

interface Header {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

type PyValue = string | boolean | number | PyValue[] | { readonly [key: string]: PyValue };

/**
 * Parses the header: a Python dict literal with the keys `descr` (a string),
 * `fortran_order` (True/False) and `shape` (a tuple of ints).
 */
function parseHeader(text: string): Header {
  const parser = new LiteralParser(text);
  const value = parser.value(0);
  parser.end();
  if (typeof value !== "object" || Array.isArray(value)) fail("header is not a dictionary");
  const { descr, fortran_order: fortranOrder, shape } = value as Record<string, PyValue | undefined>;
  if (typeof descr !== "string") fail("header has no string 'descr' (structured arrays are not supported)");
  if (typeof fortranOrder !== "boolean") fail("header has no boolean 'fortran_order'");
  if (!Array.isArray(shape) || !shape.every((d): d is number => typeof d === "number")) fail("header has no integer tuple 'shape'");
  return { descr, fortranOrder, shape };
}

/** Python literals nest this deep at most in a header (a dict holding a tuple). */
const MAX_LITERAL_DEPTH = 4;

/** A recursive-descent reader of the Python literals a header uses. */
class LiteralParser {
  private at = 0;

  constructor(private readonly text: string) {}

  end(): void {
    this.skipSpace();
    if (this.at !== this.text.length) fail(`unexpected '${this.text.slice(this.at, this.at + 10)}' after the header dictionary`);
  }

  value(depth: number): PyValue {
    if (depth > MAX_LITERAL_DEPTH) fail("header nests too deeply");
    this.skipSpace();
    const c = this.text[this.at];
    if (c === "{") return this.dict(depth);
    if (c === "(" || c === "[") return this.sequence(depth, c === "(" ? ")" : "]");
    if (c === "'" || c === '"') return this.string(c);
    const word = /^(True|False|-?\d+L?)/.exec(this.text.slice(this.at));
    if (word === null) return fail(`unexpected '${this.text.slice(this.at, this.at + 10)}' in the header`);
    this.at += (word[1] as string).length;
    if (word[1] === "True") return true;
    if (word[1] === "False") return false;
    const n = Number((word[1] as string).replace("L", ""));
    if (!Number.isSafeInteger(n) || n < 0) fail(`bad dimension ${word[1] as string} in the header`);
    return n;
  }

  private dict(depth: number): Record<string, PyValue> {
    const out: Record<string, PyValue> = {};
    this.at++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === "}") {
        this.at++;
        return out;
      }
      const key = this.value(depth + 1);
      if (typeof key !== "string") fail("header dictionary key is not a string");
      this.expect(":");
      out[key] = this.value(depth + 1);
      this.skipSpace();
      if (this.text[this.at] === ",") this.at++;
      else if (this.text[this.at] !== "}") fail("expected ',' or '}' in the header dictionary");
    }
  }

  private sequence(depth: number, close: string): PyValue[] {
    const out: PyValue[] = [];
    this.at++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === close) {
        this.at++;
        return out;
      }
      out.push(this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.at] === ",") this.at++;
      else if (this.text[this.at] !== close) fail(`expected ',' or '${close}' in the header`);
    }
  }

  private string(quote: string): string {
    const end = this.text.indexOf(quote, this.at + 1);
    if (end < 0) fail("unterminated string in the header");
    const s = this.text.slice(this.at + 1, end);
    this.at = end + 1;
    return s;
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.text[this.at] !== c) fail(`expected '${c}' in the header`);
    this.at++;
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at] as string)) this.at++;
  }
}

/**
 * The blob file of an ML Program, `weights/weight.bin`: a 64-byte header (blob
 * count, version 2), then each blob at the next multiple of 64 as a 64-byte
 * metadata record (sentinel, element type, size, data offset, padding bits)
 * followed by its data. A program refers to a blob by the offset of its metadata
 * record. {@link decodeWeightBin} and {@link encodeWeightBin} are inverses: a file
 * written as the reference writes it decodes and re-encodes byte for byte.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { BLOB_DATA_TYPES, blobDataTypeOfCode, isSubByte, type BlobDataType } from "./blob-data-types.js";
import { unpackSubByte } from "./sub-byte.js";

/** Alignment of every metadata record and of every blob's data, in bytes. */
export const BLOB_ALIGNMENT = 64;
/** The one blob file version the reference writes and this codec reads. */
export const WEIGHT_BIN_VERSION = 2;
/** Marks the start of every metadata record. */
export const BLOB_SENTINEL = 0xdeadbeef;
/** Bytes of the file header and of each metadata record. */
const RECORD_BYTES = 64;
/** Where the program finds the blob file, as every `blobFileValue.fileName` spells it. */
export const WEIGHT_BIN_NAME = "@model_path/weights/weight.bin";

/** What a blob holds, without its place in the file (the input of {@link encodeWeightBin}). */
export interface BlobContents {
  /** Element type. */
  readonly dataType: BlobDataType;
  /** The data bytes; sub-byte types packed least significant bit first (see sub-byte.ts). */
  readonly data: Uint8Array;
  /** Unused bits at the end of the last byte: 0..7 for sub-byte types, else 0. @defaultValue 0 */
  readonly paddingBits?: number;
}

/** A blob as decoded: its contents and where its metadata record is. */
export interface WeightBlob extends BlobContents {
  /** Offset of the metadata record: what `blobFileValue.offset` holds. */
  readonly offset: number;
  /** Unused bits at the end of the last byte. */
  readonly paddingBits: number;
}

/** A decoded `weight.bin`: its blobs in file order. */
export interface WeightBin {
  /** The blobs, in the order they are written. */
  readonly blobs: readonly WeightBlob[];
}

/**
 * Decodes a `weight.bin` file. Blob data are views of `bytes`, not copies: do not
 * change `bytes` while the result is in use. The layout must be the one the
 * reference writes (each record at the next multiple of 64 after the previous
 * data, zero padding and reserved bytes, nothing after the last blob): anything
 * else could not be written back byte for byte, so it is refused.
 *
 * @param bytes - the file's contents
 * @param path - the file's name in messages @defaultValue `"weights/weight.bin"`
 * @returns the blobs
 * @throws {@link QuantizeError} `invalid-weights` naming the blob and offset: a file
 *   shorter than its header or its blobs, a version other than 2, a missing
 *   sentinel, an unknown element type, a data offset not right after its record,
 *   padding bits out of range, non-zero padding or reserved bytes, trailing bytes
 * @example
 * ```ts
 * const { blobs } = decodeWeightBin(bytes);
 * const first = blobElements(blobs[0]);
 * ```
 */
export function decodeWeightBin(bytes: Uint8Array, path = "weights/weight.bin"): WeightBin {
  const fail = (message: string): QuantizeError => new QuantizeError("invalid-weights", `${path}: ${message}`);
  if (bytes.length < RECORD_BYTES) throw fail(`${bytes.length} bytes, shorter than the ${RECORD_BYTES}-byte header: the file is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const version = view.getUint32(4, true);
  if (version !== WEIGHT_BIN_VERSION) throw fail(`header version ${version}, expected ${WEIGHT_BIN_VERSION}: not a blob file this tool reads`);
  if (!isZero(bytes, 8, RECORD_BYTES)) throw fail("header bytes 8..63 are not zero: not a blob file as Core ML writes it");
  // Every blob takes at least its record: a larger count cannot be true, whatever follows.
  const most = Math.floor((bytes.length - RECORD_BYTES) / RECORD_BYTES);
  if (count > most) throw fail(`header counts ${count} blobs; a file of ${bytes.length} bytes holds at most ${most}: the file is truncated`);
  const blobs: WeightBlob[] = [];
  let end = RECORD_BYTES;
  for (let i = 0; i < count; i++) {
    const offset = alignUp(end);
    const where = `blob ${i} (metadata at offset ${offset})`;
    if (offset + RECORD_BYTES > bytes.length) throw fail(`${where}: the record runs past the end of the file (${bytes.length} bytes): the file is truncated`);
    if (!isZero(bytes, end, offset)) throw fail(`${where}: the padding before the record is not zero`);
    const sentinel = view.getUint32(offset, true);
    if (sentinel !== BLOB_SENTINEL) throw fail(`${where}: no blob record here (sentinel 0x${sentinel.toString(16)}, expected 0xdeadbeef)`);
    const code = view.getUint32(offset + 4, true);
    const dataType = blobDataTypeOfCode(code);
    if (dataType === undefined) throw fail(`${where}: unknown element type code ${code}`);
    const size = readU64(view, offset + 8, () => fail(`${where}: data size beyond 2^53 bytes`));
    const dataOffset = readU64(view, offset + 16, () => fail(`${where}: data offset beyond 2^53`));
    const paddingBits = readU64(view, offset + 24, () => fail(`${where}: padding beyond 2^53 bits`));
    if (!isZero(bytes, offset + 32, offset + RECORD_BYTES)) throw fail(`${where}: reserved bytes 32..63 of the record are not zero`);
    if (dataOffset !== offset + RECORD_BYTES) {
      throw fail(`${where}: data offset ${dataOffset}, expected ${offset + RECORD_BYTES} (right after the record)`);
    }
    if (dataOffset + size > bytes.length) {
      throw fail(
        `${where}: ${size} bytes of ${dataType} data from offset ${dataOffset} run past the end of the file (${bytes.length} bytes): the file is truncated`,
      );
    }
    checkPadding(dataType, size, paddingBits, (message) => fail(`${where}: ${message}`));
    blobs.push({ offset, dataType, data: bytes.subarray(dataOffset, dataOffset + size), paddingBits });
    end = dataOffset + size;
  }
  if (end !== bytes.length) throw fail(`${bytes.length - end} bytes after the last blob (which ends at ${end}): not a blob file as Core ML writes it`);
  return { blobs };
}

/**
 * Where {@link encodeWeightBin} puts each blob's metadata record: the offsets a
 * program must refer to.
 *
 * @param blobs - the blobs, in file order
 * @returns one offset per blob
 */
export function blobOffsets(blobs: readonly BlobContents[]): number[] {
  const offsets: number[] = [];
  let end = RECORD_BYTES;
  for (const blob of blobs) {
    const offset = alignUp(end);
    offsets.push(offset);
    end = offset + RECORD_BYTES + blob.data.length;
  }
  return offsets;
}

/**
 * Encodes blobs as a `weight.bin` file, as the reference writes one. The inverse of
 * {@link decodeWeightBin}: the blobs of a decoded file give its bytes back. Each
 * blob goes at {@link blobOffsets}' offset, whatever `offset` a {@link WeightBlob}
 * carries.
 *
 * @param blobs - the blobs, in file order
 * @returns the file's bytes
 * @throws {@link QuantizeError} `invalid-weights` when a blob's data size does not
 *   suit its type (a partial element) or its padding is out of range
 */
export function encodeWeightBin(blobs: readonly BlobContents[]): Uint8Array {
  const offsets = blobOffsets(blobs);
  const last = blobs.length - 1;
  const length = last < 0 ? RECORD_BYTES : (offsets[last] as number) + RECORD_BYTES + (blobs[last] as BlobContents).data.length;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, blobs.length, true);
  view.setUint32(4, WEIGHT_BIN_VERSION, true);
  blobs.forEach((blob, i) => {
    const offset = offsets[i] as number;
    const paddingBits = blob.paddingBits ?? 0;
    if (BLOB_DATA_TYPES[blob.dataType] === undefined) throw new QuantizeError("invalid-weights", `blob ${i}: unknown element type ${String(blob.dataType)}`);
    checkPadding(blob.dataType, blob.data.length, paddingBits, (message) => new QuantizeError("invalid-weights", `blob ${i}: ${message}`));
    view.setUint32(offset, BLOB_SENTINEL, true);
    view.setUint32(offset + 4, BLOB_DATA_TYPES[blob.dataType].code, true);
    view.setBigUint64(offset + 8, BigInt(blob.data.length), true);
    view.setBigUint64(offset + 16, BigInt(offset + RECORD_BYTES), true);
    view.setBigUint64(offset + 24, BigInt(paddingBits), true);
    out.set(blob.data, offset + RECORD_BYTES);
  });
  return out;
}

/**
 * Number of elements a blob holds: its data bits less the padding, over the bits
 * per element.
 *
 * @param blob - a blob
 * @returns the element count
 */
export function blobElementCount(blob: BlobContents): number {
  return (blob.data.length * 8 - (blob.paddingBits ?? 0)) / BLOB_DATA_TYPES[blob.dataType].bits;
}

/** The array {@link blobElements} returns for each element type. */
export type BlobElements = Float32Array | Uint16Array | Int16Array | Uint8Array | Int8Array | Int32Array | Uint32Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The typed array per whole-byte element type; float16 and bfloat16 as their 16-bit patterns. */
const ARRAY_TYPES = {
  float16: Uint16Array,
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bfloat16: Uint16Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const satisfies Partial<Record<BlobDataType, unknown>>;

/**
 * A blob's elements as a typed array: a view of the blob's bytes (no copy) for
 * whole-byte types when the data is aligned for the type (the codec's 64-byte
 * layout makes it so in any buffer aligned to 4), else a copy; sub-byte types
 * unpacked, one element per byte. float16 and bfloat16 come as their bit patterns
 * (`Uint16Array`; decode with `decodeFloat16`).
 *
 * @param blob - a blob
 * @returns its elements
 */
export function blobElements(blob: BlobContents): BlobElements {
  const { dataType, data } = blob;
  if (isSubByte(dataType)) {
    const info = BLOB_DATA_TYPES[dataType];
    return unpackSubByte(data, info.bits, blobElementCount(blob), info.kind === "signed");
  }
  const ArrayType = ARRAY_TYPES[dataType as keyof typeof ARRAY_TYPES];
  const count = data.length / ArrayType.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN && data.byteOffset % ArrayType.BYTES_PER_ELEMENT === 0) return new ArrayType(data.buffer as ArrayBuffer, data.byteOffset, count);
  const copy = new Uint8Array(data);
  if (!LITTLE_ENDIAN) swapBytes(copy, ArrayType.BYTES_PER_ELEMENT);
  return new ArrayType(copy.buffer, 0, count);
}

/**
 * The blob whose metadata record is at `offset`, by a map built once per file.
 *
 * @param weightBin - a decoded file
 * @returns the blobs by offset
 */
export function blobsByOffset(weightBin: WeightBin): ReadonlyMap<number, WeightBlob> {
  return new Map(weightBin.blobs.map((blob) => [blob.offset, blob]));
}

function checkPadding(dataType: BlobDataType, size: number, paddingBits: number, fail: (message: string) => QuantizeError): void {
  const bits = BLOB_DATA_TYPES[dataType].bits;
  if (bits < 8) {
    if (paddingBits > 7) throw fail(`${paddingBits} padding bits; a ${dataType} blob has 0..7`);
    if (size === 0 && paddingBits !== 0) throw fail(`${paddingBits} padding bits in an empty blob`);
    if ((size * 8 - paddingBits) % bits !== 0) throw fail(`${size} bytes less ${paddingBits} padding bits is not a whole number of ${bits}-bit elements`);
  } else {
    if (paddingBits !== 0) throw fail(`${paddingBits} padding bits; a ${dataType} blob has none`);
    if (size % (bits / 8) !== 0) throw fail(`${size} bytes is not a whole number of ${dataType} elements`);
  }
}

function alignUp(offset: number): number {
  return Math.ceil(offset / BLOB_ALIGNMENT) * BLOB_ALIGNMENT;
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function readU64(view: DataView, at: number, tooLarge: () => QuantizeError): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw tooLarge();
  return Number(value);
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

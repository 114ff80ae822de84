/**
 * The element types of `weight.bin` blobs (MILBlob's `BlobDataType`), in one
 * table: code, bits per element, and how the bytes read as numbers.
 *
 * @packageDocumentation
 */

/**
 * The names of the blob element types, in code order; {@link BLOB_DATA_TYPES} has
 * an entry for each (the compiler holds the two to the same names).
 */
export const BLOB_DATA_TYPE_NAMES = [
  "float16",
  "float32",
  "uint8",
  "int8",
  "bfloat16",
  "int16",
  "uint16",
  "int4",
  "uint1",
  "uint2",
  "uint4",
  "uint3",
  "uint6",
  "int32",
  "uint32",
] as const;

/** The name of a blob element type, e.g. `float16`, `uint4`. */
export type BlobDataType = (typeof BLOB_DATA_TYPE_NAMES)[number];

/** How a blob's elements are read: as IEEE floats, or as integers of the given signedness. */
export type BlobElementKind = "float" | "signed" | "unsigned";

/** One entry of {@link BLOB_DATA_TYPES}. */
export interface BlobDataTypeInfo {
  /** The code in the blob's metadata record. */
  readonly code: number;
  /** Bits per element: 1..6 for sub-byte types (packed LSB first), else 8, 16 or 32. */
  readonly bits: number;
  /** How the bits read as a number. */
  readonly kind: BlobElementKind;
}

/**
 * Every blob element type this codec reads and writes, by name. The fp8 codes
 * (16 and 17) are left out: the reference's compression never writes them, and a
 * blob of either is refused as an unknown type rather than guessed at.
 */
export const BLOB_DATA_TYPES: Readonly<Record<BlobDataType, BlobDataTypeInfo>> = {
  float16: { code: 1, bits: 16, kind: "float" },
  float32: { code: 2, bits: 32, kind: "float" },
  uint8: { code: 3, bits: 8, kind: "unsigned" },
  int8: { code: 4, bits: 8, kind: "signed" },
  bfloat16: { code: 5, bits: 16, kind: "float" },
  int16: { code: 6, bits: 16, kind: "signed" },
  uint16: { code: 7, bits: 16, kind: "unsigned" },
  int4: { code: 8, bits: 4, kind: "signed" },
  uint1: { code: 9, bits: 1, kind: "unsigned" },
  uint2: { code: 10, bits: 2, kind: "unsigned" },
  uint4: { code: 11, bits: 4, kind: "unsigned" },
  uint3: { code: 12, bits: 3, kind: "unsigned" },
  uint6: { code: 13, bits: 6, kind: "unsigned" },
  int32: { code: 14, bits: 32, kind: "signed" },
  uint32: { code: 15, bits: 32, kind: "unsigned" },
};

const BY_CODE: ReadonlyMap<number, BlobDataType> = new Map((Object.keys(BLOB_DATA_TYPES) as BlobDataType[]).map((name) => [BLOB_DATA_TYPES[name].code, name]));

/**
 * The blob element type of a metadata code.
 *
 * @param code - the code read from a metadata record
 * @returns its name, or undefined for a code this codec does not know
 */
export function blobDataTypeOfCode(code: number): BlobDataType | undefined {
  return BY_CODE.get(code);
}

/**
 * Whether elements of `type` are packed several to a byte (1..6 bits).
 *
 * @param type - a blob element type
 * @returns true for the sub-byte types
 */
export function isSubByte(type: BlobDataType): boolean {
  return BLOB_DATA_TYPES[type].bits < 8;
}

/**
 * Bytes that `count` elements of `type` take: `ceil(count * bits / 8)`.
 *
 * @param type - a blob element type
 * @param count - number of elements
 * @returns the data size in bytes
 */
export function blobByteLength(type: BlobDataType, count: number): number {
  return Math.ceil((count * BLOB_DATA_TYPES[type].bits) / 8);
}

/**
 * Zero bits after the last element of `count` sub-byte elements of `type` (0 for
 * whole-byte types): what the metadata record's `padding_size_in_bits` holds.
 *
 * @param type - a blob element type
 * @param count - number of elements
 * @returns the padding, 0..7
 */
export function blobPaddingBits(type: BlobDataType, count: number): number {
  const bits = BLOB_DATA_TYPES[type].bits;
  return bits >= 8 ? 0 : (8 - ((count * bits) % 8)) % 8;
}

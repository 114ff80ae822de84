/**
 * The MIL tensor element types (`MILSpec.DataType`) in one table: the name used
 * in summaries, bits per element, and the blob element type a `weight.bin` blob
 * of that tensor type holds.
 *
 * @packageDocumentation
 */
import { DataType } from "../gen/MIL_pb.js";
import type { BlobDataType } from "./blob-data-types.js";

/** One entry of {@link MIL_DATA_TYPES}. */
export interface MilDataTypeInfo {
  /** Lower-case name, as coremltools spells dtypes (`float16`, `uint4`, `bool`). */
  readonly name: string;
  /** Bits per element; 0 for strings, whose size varies. */
  readonly bits: number;
  /** The blob element type holding a tensor of this type, when one can. */
  readonly blob: BlobDataType | undefined;
}

/** Every MIL data type, by its code. */
export const MIL_DATA_TYPES: Readonly<Record<DataType, MilDataTypeInfo>> = {
  [DataType.UNUSED_TYPE]: { name: "unused", bits: 0, blob: undefined },
  [DataType.BOOL]: { name: "bool", bits: 8, blob: undefined },
  [DataType.STRING]: { name: "string", bits: 0, blob: undefined },
  [DataType.FLOAT8E4M3FN]: { name: "float8e4m3fn", bits: 8, blob: undefined },
  [DataType.FLOAT8E5M2]: { name: "float8e5m2", bits: 8, blob: undefined },
  [DataType.FLOAT16]: { name: "float16", bits: 16, blob: "float16" },
  [DataType.FLOAT32]: { name: "float32", bits: 32, blob: "float32" },
  [DataType.FLOAT64]: { name: "float64", bits: 64, blob: undefined },
  [DataType.BFLOAT16]: { name: "bfloat16", bits: 16, blob: "bfloat16" },
  [DataType.INT8]: { name: "int8", bits: 8, blob: "int8" },
  [DataType.INT16]: { name: "int16", bits: 16, blob: "int16" },
  [DataType.INT32]: { name: "int32", bits: 32, blob: "int32" },
  [DataType.INT64]: { name: "int64", bits: 64, blob: undefined },
  [DataType.INT4]: { name: "int4", bits: 4, blob: "int4" },
  [DataType.UINT8]: { name: "uint8", bits: 8, blob: "uint8" },
  [DataType.UINT16]: { name: "uint16", bits: 16, blob: "uint16" },
  [DataType.UINT32]: { name: "uint32", bits: 32, blob: "uint32" },
  [DataType.UINT64]: { name: "uint64", bits: 64, blob: undefined },
  [DataType.UINT4]: { name: "uint4", bits: 4, blob: "uint4" },
  [DataType.UINT2]: { name: "uint2", bits: 2, blob: "uint2" },
  [DataType.UINT1]: { name: "uint1", bits: 1, blob: "uint1" },
  [DataType.UINT6]: { name: "uint6", bits: 6, blob: "uint6" },
  [DataType.UINT3]: { name: "uint3", bits: 3, blob: "uint3" },
};

/**
 * The table entry of a data type code, or undefined for a code the schema does
 * not define (a newer model's, kept by the decoder as a number).
 *
 * @param code - a `TensorType.dataType`
 * @returns its entry
 */
export function milDataType(code: number): MilDataTypeInfo | undefined {
  return (MIL_DATA_TYPES as Readonly<Record<number, MilDataTypeInfo>>)[code];
}

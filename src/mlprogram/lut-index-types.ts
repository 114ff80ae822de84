/**
 * The MIL types of palettization indices: one list for the palettization pass and
 * joint compression.
 *
 * @packageDocumentation
 */
import { DataType } from "../gen/MIL_pb.js";

/** The MIL type of iOS18 `constexpr_lut_to_dense` indices of each width (the widths `nbits` may take). */
export const LUT_INDEX_TYPES: Readonly<Record<number, DataType>> = {
  1: DataType.UINT1,
  2: DataType.UINT2,
  3: DataType.UINT3,
  4: DataType.UINT4,
  6: DataType.UINT6,
  8: DataType.UINT8,
};

/**
 * The elements of a float32 `const` stored in weight.bin, read in place: the
 * compression passes read every weight once, and a float64 copy of a large model
 * costs more than the pass's own arithmetic on it.
 *
 * @packageDocumentation
 */
import { DataType, type Operation } from "../gen/MIL_pb.js";
import { tensorShape } from "./program-values.js";
import { blobElements, type WeightBlob } from "./weight-bin.js";

/** A float tensor's elements as the passes read them: float32 in place, or float64 (float16 decoded, inline values). */
export type FloatElements = Float32Array | Float64Array;

/**
 * A float32 blob const's elements as a view of its blob (a copy only when the
 * blob's bytes are not aligned for float32), or undefined for any other const
 * (another type, inline, or a blob that is missing, for `constElements` to report).
 *
 * @param op - the `const` op
 * @param blobs - weight.bin's blobs by offset
 * @returns the elements, or undefined
 */
export function float32ConstView(op: Operation, blobs: ReadonlyMap<number, WeightBlob>): Float32Array | undefined {
  const val = op.attributes.val;
  if (val?.value.case !== "blobFileValue" || tensorShape(val.type)?.dataType !== DataType.FLOAT32) return undefined;
  const blob = blobs.get(Number(val.value.value.offset));
  if (blob?.dataType !== "float32") return undefined;
  return blobElements(blob) as Float32Array;
}

/**
 * Building and reading MIL values: tensor types, inline values as the reference
 * stores each type (floats, ints, strings, bytes with sub-byte packing), values
 * bound for weight.bin, and a const's elements as numbers.
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../codec/float16.js";
import { QuantizeError } from "../errors.js";
import {
  DataType,
  NamedValueTypeSchema,
  TensorValue_RepeatedBytesSchema,
  TensorValue_RepeatedFloatsSchema,
  TensorValue_RepeatedIntsSchema,
  TensorValue_RepeatedStringsSchema,
  ValueSchema,
  type NamedValueType,
  type Operation,
  type TensorValue,
  type Value,
  type ValueType,
} from "../gen/MIL_pb.js";
import { blobPaddingBits, isSubByte } from "./blob-data-types.js";
import { milDataType } from "./mil-data-types.js";
import { packSubByte } from "./sub-byte.js";
import { blobElements, WEIGHT_BIN_NAME, type BlobContents, type WeightBlob } from "./weight-bin.js";

/** Values of fewer elements are written inline, not in weight.bin (`load.py` `should_use_weight_file`). */
export const MIN_BLOB_ELEMENTS = 10;

/** New blobs by the value referring to them, until their offsets are known (see lay-out-blobs.ts). */
export type NewBlobs = Map<Value, BlobContents>;

/**
 * A tensor type of known dimensions.
 *
 * @param dataType - the element type
 * @param shape - the dimensions; `[]` for a scalar
 * @returns the type
 */
export function tensorType(dataType: DataType, shape: readonly number[]): ValueType {
  const dimensions = shape.map((size) => ({ dimension: { case: "constant" as const, value: { size: BigInt(size) } } }));
  return create(ValueSchema, { type: { type: { case: "tensorType", value: { dataType, rank: BigInt(shape.length), dimensions } } } }).type as ValueType;
}

/**
 * An inline tensor value, in the field the reference uses for its type: FLOAT32
 * `floats`, INT32 `ints`, STRING `strings`, FLOAT16 and (u)int 8- and sub-byte types `bytes`.
 *
 * @param dataType - the element type
 * @param shape - the dimensions
 * @param values - the elements, row-major (strings for STRING)
 * @returns the value
 */
export function inlineValue(dataType: DataType, shape: readonly number[], values: ArrayLike<number> | readonly string[]): Value {
  let tensor: TensorValue["value"];
  if (dataType === DataType.STRING)
    tensor = { case: "strings", value: create(TensorValue_RepeatedStringsSchema, { values: Array.from(values as readonly string[]) }) };
  else if (dataType === DataType.FLOAT32)
    tensor = { case: "floats", value: create(TensorValue_RepeatedFloatsSchema, { values: Array.from(values as ArrayLike<number>) }) };
  else if (dataType === DataType.INT32)
    tensor = { case: "ints", value: create(TensorValue_RepeatedIntsSchema, { values: Array.from(values as ArrayLike<number>) }) };
  else tensor = { case: "bytes", value: create(TensorValue_RepeatedBytesSchema, { values: elementBytes(dataType, values as ArrayLike<number>) }) };
  return create(ValueSchema, {
    type: tensorType(dataType, shape),
    value: { case: "immediateValue", value: { value: { case: "tensor", value: { value: tensor } } } },
  });
}

/**
 * A tensor value as the reference writes a constant: in weight.bin when it has at
 * least {@link MIN_BLOB_ELEMENTS} elements and a blob type, else inline. A blob
 * value's offset is a placeholder until its blob is laid out; its contents go to
 * `newBlobs`.
 *
 * @param dataType - the element type
 * @param shape - the dimensions
 * @param values - the elements, row-major
 * @param newBlobs - where the value's blob is recorded
 * @returns the value
 */
export function constantValue(dataType: DataType, shape: readonly number[], values: ArrayLike<number>, newBlobs: NewBlobs): Value {
  const blob = milDataType(dataType)?.blob;
  if (values.length < MIN_BLOB_ELEMENTS || blob === undefined) return inlineValue(dataType, shape, values);
  const value = create(ValueSchema, { type: tensorType(dataType, shape), value: { case: "blobFileValue", value: { fileName: WEIGHT_BIN_NAME, offset: 0n } } });
  newBlobs.set(value, { dataType: blob, data: elementBytes(dataType, values), paddingBits: blobPaddingBits(blob, values.length) });
  return value;
}

/**
 * An op output: a name and a tensor type.
 *
 * @param name - the output's name
 * @param dataType - the element type
 * @param shape - the dimensions
 * @returns the output
 */
export function namedOutput(name: string, dataType: DataType, shape: readonly number[]): NamedValueType {
  return create(NamedValueTypeSchema, { name, type: tensorType(dataType, shape) });
}

/**
 * An op's name: its `name` attribute, else its first output's name.
 *
 * @param op - the op
 * @returns the name
 */
export function opNameOf(op: Operation): string {
  const value = op.attributes.name?.value;
  if (value?.case === "immediateValue" && value.value.value.case === "tensor") {
    const tensor = value.value.value.value.value;
    if (tensor.case === "strings" && tensor.value.values[0] !== undefined) return tensor.value.values[0];
  }
  return op.outputs[0]?.name ?? "";
}

/**
 * A tensor type's element type and dimensions.
 *
 * @param type - a value type
 * @returns them, or undefined for a non-tensor or a dimension that is not a constant
 */
export function tensorShape(type: ValueType | undefined): { readonly dataType: DataType; readonly shape: readonly number[] } | undefined {
  if (type?.type.case !== "tensorType") return undefined;
  const shape = type.type.value.dimensions.map((d) => (d.dimension.case === "constant" ? Number(d.dimension.value.size) : -1));
  return shape.some((d) => d < 0) ? undefined : { dataType: type.type.value.dataType, shape };
}

/**
 * A float or 8-bit integer const's elements as numbers (float16 decoded), from
 * weight.bin or inline.
 *
 * @param op - the `const` op
 * @param blobs - weight.bin's blobs by offset
 * @returns the elements, or undefined when the const holds another type or storage
 * @throws {@link QuantizeError} `invalid-weights` when the blob it names is missing
 */
export function constElements(op: Operation, blobs: ReadonlyMap<number, WeightBlob>): Float64Array | undefined {
  const val = op.attributes.val;
  const type = tensorShape(val?.type);
  if (val === undefined || type === undefined) return undefined;
  const { dataType } = type;
  let raw: ArrayLike<number>;
  if (val.value.case === "blobFileValue") {
    const blob = blobs.get(Number(val.value.value.offset));
    if (blob === undefined) throw new QuantizeError("invalid-weights", `const ${opNameOf(op)}: weight.bin has no blob at offset ${val.value.value.offset}`);
    raw = blobElements(blob);
  } else if (val.value.case === "immediateValue" && val.value.value.value.case === "tensor") {
    const tensor = val.value.value.value.value.value;
    if (tensor.case === "floats") raw = tensor.value.values;
    else if (tensor.case !== "bytes") return undefined;
    else if (dataType === DataType.FLOAT16) raw = new Uint16Array(new Uint8Array(tensor.value.values).buffer);
    else if (dataType === DataType.INT8) raw = new Int8Array(new Uint8Array(tensor.value.values).buffer);
    else if (dataType === DataType.UINT8) raw = tensor.value.values;
    else return undefined;
  } else return undefined;
  if (dataType !== DataType.FLOAT16) return Float64Array.from(raw);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  return Float64Array.from(raw, (half) => {
    u32[0] = float16BitsToFloat32Bits(half);
    return f32[0] as number;
  });
}

/** The bytes of elements stored as bytes (inline or blob): little-endian, sub-byte types packed. */
function elementBytes(dataType: DataType, values: ArrayLike<number>): Uint8Array {
  const info = milDataType(dataType);
  if (info?.blob !== undefined && isSubByte(info.blob)) return packSubByte(values, info.bits);
  if (dataType === DataType.FLOAT16) {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const halves = Uint16Array.from(values, (v) => {
      f32[0] = v;
      return float32BitsToFloat16Bits(u32[0] as number);
    });
    return new Uint8Array(halves.buffer);
  }
  if (dataType === DataType.FLOAT32) return new Uint8Array(Float32Array.from(values).buffer);
  if (dataType === DataType.INT8) return new Uint8Array(Int8Array.from(values).buffer);
  if (dataType === DataType.UINT8) return Uint8Array.from(values);
  throw new QuantizeError("unsupported-model", `cannot store ${info?.name ?? dataType} elements as bytes`);
}

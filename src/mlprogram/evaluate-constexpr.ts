/**
 * The values of an ML Program's weights: any tensor constant read as numbers
 * (blob or inline, sub-byte types unpacked, float16 decoded), and the outputs of
 * the constexpr decompression ops computed as the reference's `decompress_weights`
 * computes them (MLPROGRAM.md section 4), chains of them included.
 *
 * @packageDocumentation
 */
import { float16BitsToFloat32Bits } from "../codec/float16.js";
import { QuantizeError } from "../errors.js";
import { DataType, type Operation, type Value } from "../gen/MIL_pb.js";
import { floatRounding } from "./blockwise-linear.js";
import { milDataType } from "./mil-data-types.js";
import { opNameOf, tensorShape } from "./program-values.js";
import { unpackSubByte } from "./sub-byte.js";
import { blobElements, type WeightBlob } from "./weight-bin.js";

/** A tensor's elements as numbers, with its type and dimensions. */
export interface TensorData {
  /** The element type. */
  readonly dataType: DataType;
  /** The dimensions; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The elements, row-major; every value of the element type is exact in a float64. */
  readonly values: Float64Array;
}

/** A parameter's value, or undefined when the op does not have the parameter. */
export type ParameterValues = (param: string) => TensorData | undefined;

/**
 * A tensor constant's elements, from weight.bin or inline.
 *
 * @param value - the value (a blob reference or an immediate tensor)
 * @param blobs - weight.bin's blobs by offset
 * @param where - names the value in errors
 * @returns the elements, float16 and bfloat16 decoded, sub-byte types unpacked
 * @throws {@link QuantizeError} `invalid-weights` for a blob that is missing or
 *   too short; `unsupported-model` for a value that is not a tensor of numbers of
 *   known dimensions
 */
export function constantTensor(value: Value, blobs: ReadonlyMap<number, WeightBlob>, where: string): TensorData {
  const type = tensorShape(value.type);
  if (type === undefined) throw new QuantizeError("unsupported-model", `${where}: not a tensor of known dimensions`);
  const { dataType, shape } = type;
  const count = shape.reduce((a, b) => a * b, 1);
  let raw: ArrayLike<number | bigint>;
  if (value.value.case === "blobFileValue") {
    const blob = blobs.get(Number(value.value.value.offset));
    if (blob === undefined) throw new QuantizeError("invalid-weights", `${where}: weight.bin has no blob at offset ${value.value.value.offset}`);
    raw = blobElements(blob);
  } else if (value.value.case === "immediateValue" && value.value.value.value.case === "tensor") {
    const tensor = value.value.value.value.value.value;
    if (tensor.case === "floats" || tensor.case === "ints" || tensor.case === "doubles" || tensor.case === "longInts") raw = tensor.value.values;
    else if (tensor.case === "bools") raw = tensor.value.values.map(Number);
    else if (tensor.case === "bytes") raw = bytesElements(tensor.value.values, dataType, count, where);
    else throw new QuantizeError("unsupported-model", `${where}: holds ${tensor.case ?? "nothing"}, not numbers`);
  } else throw new QuantizeError("unsupported-model", `${where}: not a tensor value`);
  if (raw.length < count) throw new QuantizeError("invalid-weights", `${where}: [${shape.join(", ")}] needs ${count} elements, the value holds ${raw.length}`);
  const values = new Float64Array(count);
  const halfBits = dataType === DataType.FLOAT16 || dataType === DataType.BFLOAT16;
  for (let i = 0; i < count; i++) values[i] = Number(raw[i]);
  if (halfBits) {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < count; i++) {
      const bits = values[i] as number;
      u32[0] = dataType === DataType.FLOAT16 ? float16BitsToFloat32Bits(bits) : bits * 65536;
      values[i] = f32[0] as number;
    }
  }
  return { dataType, shape, values };
}

/** Inline `bytes`: little-endian elements, sub-byte types packed; float16 as bit patterns (decoded by the caller). */
function bytesElements(bytes: Uint8Array, dataType: DataType, count: number, where: string): ArrayLike<number> {
  const info = milDataType(dataType);
  if (info === undefined || info.bits === 0) throw new QuantizeError("unsupported-model", `${where}: bytes of data type ${dataType}`);
  if (info.bits < 8) return unpackSubByte(bytes, info.bits, count, info.name === "int4");
  const copy = new Uint8Array(bytes);
  const view = new DataView(copy.buffer);
  const width = info.bits / 8;
  const read: Partial<Record<DataType, (at: number) => number>> = {
    [DataType.INT8]: (at) => view.getInt8(at),
    [DataType.UINT8]: (at) => view.getUint8(at),
    [DataType.BOOL]: (at) => view.getUint8(at),
    [DataType.FLOAT16]: (at) => view.getUint16(at, true),
    [DataType.BFLOAT16]: (at) => view.getUint16(at, true),
    [DataType.INT16]: (at) => view.getInt16(at, true),
    [DataType.UINT16]: (at) => view.getUint16(at, true),
    [DataType.INT32]: (at) => view.getInt32(at, true),
    [DataType.UINT32]: (at) => view.getUint32(at, true),
    [DataType.FLOAT32]: (at) => view.getFloat32(at, true),
  };
  const reader = read[dataType];
  if (reader === undefined) throw new QuantizeError("unsupported-model", `${where}: cannot read ${info.name} elements from bytes`);
  const n = Math.min(count, Math.floor(copy.length / width));
  return Array.from({ length: n }, (_, i) => reader(i * width));
}

/** One constexpr op type: the data types of its outputs, from its parameters, and how to compute them. */
type ConstexprEvaluator = (param: ParameterValues, where: string) => TensorData[];

/**
 * The constexpr op types and how each computes its outputs (MLPROGRAM.md section 4).
 * iOS16 and iOS18 forms share a type name; the iOS16 forms have a `shape` parameter.
 */
const CONSTEXPR_EVALUATORS: Readonly<Record<string, ConstexprEvaluator>> = {
  constexpr_affine_dequantize: (param, where) => [affineDequantize(required(param, "quantized_data", where), param, where)],
  constexpr_blockwise_shift_scale: (param, where) => {
    const data = required(param, "data", where);
    return [shiftScale(data, data.shape, param, where)];
  },
  constexpr_lut_to_dense: (param, where) => {
    const indices = required(param, "indices", where);
    const lut = required(param, "lut", where);
    const shape = param("shape");
    if (shape === undefined) return [lutToDense(indices, lut, param("vector_axis"), where)];
    // iOS16: a flat LUT of 2^n entries and the n-bit indices packed into a uint8 vector.
    const dims = Array.from(shape.values);
    const bits = Math.log2(lut.values.length);
    if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new QuantizeError("invalid-weights", `${where}: a LUT of ${lut.values.length} entries`);
    const count = dims.reduce((a, b) => a * b, 1);
    const codes = unpackSubByte(Uint8Array.from(indices.values), bits, count, false);
    return [{ dataType: lut.dataType, shape: dims, values: Float64Array.from(codes, (code) => lut.values[code] as number) }];
  },
  constexpr_sparse_to_dense: (param, where) => {
    const nonzero = required(param, "nonzero_data", where);
    const mask = required(param, "mask", where);
    const shape = param("shape");
    const dims = shape === undefined ? mask.shape : Array.from(shape.values);
    const bits =
      shape === undefined
        ? mask.values
        : unpackSubByte(
            Uint8Array.from(mask.values),
            1,
            dims.reduce((a, b) => a * b, 1),
            false,
          );
    return [{ dataType: nonzero.dataType, shape: dims, values: scatter(nonzero.values, bits, where) }];
  },
  constexpr_sparse_blockwise_shift_scale: (param, where) => {
    const mask = required(param, "data_mask", where);
    const nonzero = required(param, "nonzero_data", where);
    const dense = shiftScale({ ...nonzero, shape: mask.shape, values: scatter(nonzero.values, mask.values, where) }, mask.shape, param, where);
    return [mask, { dataType: dense.dataType, shape: [nonzero.values.length], values: gather(dense.values, mask.values) }];
  },
  constexpr_lut_to_sparse: (param, where) => {
    const mask = required(param, "indices_mask", where);
    const nonzero = required(param, "indices_nonzero_data", where);
    const lut = required(param, "lut", where);
    const vectorAxis = param("vector_axis");
    const indices = { ...nonzero, shape: mask.shape, values: scatter(nonzero.values, mask.values, where) };
    const dense = lutToDense(indices, lut, vectorAxis, where);
    // The mask is repeated as the vectors widen the output (the same expansion applied to 0/1 "LUT" entries).
    const vector = lut.shape.at(-1) ?? 1;
    const ones = {
      dataType: DataType.UINT1,
      shape: [...lut.shape.slice(0, -2), 2, vector],
      values: new Float64Array((lut.values.length / (lut.shape.at(-2) ?? 1)) * 2),
    };
    for (let g = 0; g < ones.values.length; g += 2 * vector) ones.values.fill(1, g + vector, g + 2 * vector);
    const outMask = lutToDense({ ...mask, values: mask.values }, ones, vectorAxis, where);
    return [outMask, { dataType: dense.dataType, shape: [nonzero.values.length * vector], values: gather(dense.values, outMask.values) }];
  },
};

/**
 * Whether an op type is a constexpr decompression op this module computes.
 *
 * @param opType - an op's type
 * @returns true for the six constexpr types of MLPROGRAM.md section 4
 */
export function isConstexprOp(opType: string): boolean {
  return Object.hasOwn(CONSTEXPR_EVALUATORS, opType);
}

/**
 * The outputs of one constexpr op, from its parameters' values.
 *
 * @param op - the constexpr op
 * @param param - each parameter's value (attribute, value-bound or name-bound input)
 * @returns one tensor per output, in output order
 * @throws {@link QuantizeError} `unsupported-model` for another op type;
 *   `invalid-weights` for parameters that do not fit together
 */
export function evaluateConstexpr(op: Operation, param: ParameterValues): TensorData[] {
  const where = `${op.type} ${JSON.stringify(opNameOf(op))}`;
  const evaluate = CONSTEXPR_EVALUATORS[op.type];
  if (evaluate === undefined) throw new QuantizeError("unsupported-model", `${where}: not a constexpr op this library decompresses`);
  return evaluate(param, where);
}

/**
 * The value of every `const` and constexpr output of a block, by name, computed
 * on demand (each once): a constexpr op's parameters are its attributes, its
 * value-bound inputs, or the values of the outputs its inputs name.
 *
 * @param operations - the block's ops
 * @param blobs - weight.bin's blobs by offset
 * @returns the value of a name, or undefined when no const or constexpr op produces it
 * @throws {@link QuantizeError} from {@link evaluateConstexpr} and {@link constantTensor}, when a value is asked for
 */
export function blockValues(operations: readonly Operation[], blobs: ReadonlyMap<number, WeightBlob>): (name: string) => TensorData | undefined {
  const producers = new Map<string, { op: Operation; index: number }>();
  for (const op of operations) op.outputs.forEach((output, index) => producers.set(output.name, { op, index }));
  const computed = new Map<Operation, TensorData[]>();
  const valueNamed = (name: string): TensorData | undefined => {
    const producer = producers.get(name);
    if (producer === undefined) return undefined;
    const { op, index } = producer;
    let outputs = computed.get(op);
    if (outputs === undefined) {
      if (op.type === "const") {
        const val = op.attributes.val;
        if (val === undefined) return undefined;
        outputs = [constantTensor(val, blobs, `const ${JSON.stringify(opNameOf(op))}`)];
      } else if (isConstexprOp(op.type)) outputs = evaluateConstexpr(op, (param) => parameterValue(op, param, blobs, valueNamed));
      else return undefined;
      computed.set(op, outputs);
    }
    return outputs[index];
  };
  return valueNamed;
}

function parameterValue(op: Operation, param: string, blobs: ReadonlyMap<number, WeightBlob>, valueNamed: (name: string) => TensorData | undefined) {
  const where = `${op.type} ${JSON.stringify(opNameOf(op))} ${param}`;
  const attribute = op.attributes[param];
  if (attribute !== undefined) return constantTensor(attribute, blobs, where);
  const binding = op.inputs[param]?.arguments[0]?.binding;
  if (binding?.case === "value") return constantTensor(binding.value, blobs, where);
  if (binding?.case === "name") {
    const value = valueNamed(binding.value);
    if (value === undefined) throw new QuantizeError("unsupported-model", `${where}: ${JSON.stringify(binding.value)} is not a constant`);
    return value;
  }
  return undefined;
}

function required(param: ParameterValues, name: string, where: string): TensorData {
  const value = param(name);
  if (value === undefined) throw new QuantizeError("invalid-weights", `${where}: parameter ${name} is missing`);
  return value;
}

/** `scale * (q - zero_point)` along `axis`, in float32, then rounded to the scale's type. */
function affineDequantize(data: TensorData, param: ParameterValues, where: string): TensorData {
  const scale = required(param, "scale", where);
  const zeroPoint = required(param, "zero_point", where);
  const axis = param("axis")?.values[0] ?? 0;
  const rank = data.shape.length;
  const along = axis < 0 ? axis + rank : axis;
  const inner = data.shape.slice(along + 1).reduce((a, b) => a * b, 1);
  const size = data.shape[along] ?? 1;
  const toOutput = floatRounding(scale.dataType === DataType.FLOAT16 ? "float16" : "float32");
  const values = new Float64Array(data.values.length);
  for (let i = 0; i < values.length; i++) {
    const channel = Math.floor(i / inner) % size;
    const s = scale.values.length === 1 ? (scale.values[0] as number) : (scale.values[channel] as number);
    const z = zeroPoint.values.length === 1 ? (zeroPoint.values[0] as number) : (zeroPoint.values[channel] as number);
    values[i] = toOutput(Math.fround(s * Math.fround((data.values[i] as number) - z)));
  }
  return { dataType: scale.dataType, shape: data.shape, values };
}

/** `scale[block] * (data - offset[block])`, in the scale's type; blocks by position in `shape`. */
function shiftScale(data: TensorData, shape: readonly number[], param: ParameterValues, where: string): TensorData {
  const scale = required(param, "scale", where);
  const offset = param("offset");
  const round = floatRounding(scale.dataType === DataType.FLOAT16 ? "float16" : "float32");
  const blockOf = blockIndices(shape, scale.shape, where);
  const values = new Float64Array(data.values.length);
  for (let i = 0; i < values.length; i++) {
    const block = blockOf[i] as number;
    const shift = offset === undefined ? 0 : round(offset.values[block] as number);
    values[i] = round((scale.values[block] as number) * round(round(data.values[i] as number) - shift));
  }
  return { dataType: scale.dataType, shape, values };
}

/** iOS18 `lut_to_dense`: each index position looks up its group's table; vectors widen `vector_axis`. */
function lutToDense(indices: TensorData, lut: TensorData, vectorAxisValue: TensorData | undefined, where: string): TensorData {
  const rank = indices.shape.length;
  if (lut.shape.length !== rank + 2) throw new QuantizeError("invalid-weights", `${where}: a LUT of rank ${lut.shape.length} for indices of rank ${rank}`);
  const entries = lut.shape[rank] as number;
  const vector = lut.shape[rank + 1] as number;
  const groupOf = blockIndices(indices.shape, lut.shape.slice(0, rank), where);
  const axisValue = vectorAxisValue?.values[0] ?? 0;
  const vectorAxis = axisValue < 0 ? axisValue + rank : axisValue;
  const shape = indices.shape.map((size, k) => (k === vectorAxis && vector > 1 ? size * vector : size));
  const outStrides = strides(shape);
  const values = new Float64Array(indices.values.length * vector);
  const position = new Array<number>(rank).fill(0);
  for (let i = 0; i < indices.values.length; i++) {
    const table = ((groupOf[i] as number) * entries + (indices.values[i] as number)) * vector;
    let base = 0;
    for (let k = 0; k < rank; k++) base += (k === vectorAxis ? (position[k] as number) * vector : (position[k] as number)) * (outStrides[k] as number);
    const step = vector > 1 ? (outStrides[vectorAxis] as number) : 0;
    for (let t = 0; t < vector; t++) values[base + t * step] = lut.values[table + t] as number;
    // Row-major successor of `position`.
    for (let k = rank - 1; k >= 0; k--) {
      position[k] = (position[k] as number) + 1;
      if ((position[k] as number) < (indices.shape[k] as number)) break;
      position[k] = 0;
    }
  }
  return { dataType: lut.dataType, shape, values };
}

/** For each row-major position of `shape`, the row-major index of its block in `blocks` (block k spans `shape[k] / blocks[k]`). */
function blockIndices(shape: readonly number[], blocks: readonly number[], where: string): Int32Array {
  if (blocks.length !== shape.length)
    throw new QuantizeError("invalid-weights", `${where}: blocks of rank ${blocks.length} for a tensor of rank ${shape.length}`);
  const sizes = shape.map((size, k) => {
    const count = blocks[k] as number;
    if (count < 1 || size % count !== 0) throw new QuantizeError("invalid-weights", `${where}: ${count} blocks do not divide axis ${k} of size ${size}`);
    return size / count;
  });
  const blockStrides = strides(blocks);
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(count);
  const position = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let block = 0;
    for (let k = 0; k < shape.length; k++) block += Math.floor((position[k] as number) / (sizes[k] as number)) * (blockStrides[k] as number);
    out[i] = block;
    for (let k = shape.length - 1; k >= 0; k--) {
      position[k] = (position[k] as number) + 1;
      if ((position[k] as number) < (shape[k] as number)) break;
      position[k] = 0;
    }
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) out[k] = (out[k + 1] as number) * (shape[k + 1] as number);
  return out;
}

/** The masked positions (row-major) take the next of `nonzero`; the others are 0. */
function scatter(nonzero: Float64Array, mask: ArrayLike<number>, where: string): Float64Array {
  const out = new Float64Array(mask.length);
  let next = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[i] = nonzero[next++] as number;
  if (next !== nonzero.length) throw new QuantizeError("invalid-weights", `${where}: the mask sets ${next} positions for ${nonzero.length} values`);
  return out;
}

/** The masked entries of `dense`, row-major. */
function gather(dense: Float64Array, mask: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out.push(dense[i] as number);
  return Float64Array.from(out);
}

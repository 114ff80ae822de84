/**
 * Joint compression, as coremltools' passes with `joint_compression=True` do it
 * (MLPROGRAM.md section 12): a pass compresses what an earlier pass wrote, the
 * parameters of its constexpr ops (or, for pruning, the ops themselves), and the
 * ops are rewritten so the dense weight is decompressed through both steps. Which
 * op types a pass takes, and how each is rewritten, is one table keyed by the
 * first op's type and the second pass; the passes supply the tensor math.
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { QuantizeError } from "../errors.js";
import { ArgumentSchema, DataType, OperationSchema, type NamedValueType, type Operation, type Value } from "../gen/MIL_pb.js";
import type { BlockwiseQuantized } from "./blockwise-linear.js";
import { constConfig, type BlockContext, type ConstConsumer, type ResolvedCompressionConfig, type SkippedWeight } from "./compression-pass.js";
import { constantTensor, evaluateConstexpr, type TensorData } from "./evaluate-constexpr.js";
import { LUT_INDEX_TYPES } from "./lut-index-types.js";
import { broadcastTensor, type PalettizedTensor } from "./palettize-tensor.js";
import { inlineValue, MIN_BLOB_ELEMENTS, namedOutput, opNameOf, tensorShape } from "./program-values.js";

/** The passes that compress jointly. */
export type JointPass = "quantize" | "palettize" | "prune";

/** A tensor a pass compresses on behalf of joint compression. */
export interface JointTensor {
  /** The name of what is compressed (a loaded parameter `<op>_<param>_0`, or the op), in messages and skip records. */
  readonly name: string;
  /** Its elements, row-major. */
  readonly values: Float64Array;
  /** Its dimensions. */
  readonly shape: readonly number[];
  /** Its element type: the weight's float type, or the integer type of quantized data. */
  readonly dataType: DataType;
  /** The ops reading the dense weight, which decide its axes; undefined for a tensor with axes of its own (a LUT). */
  readonly consumers: readonly ConstConsumer[] | undefined;
  /** The block's ops by output name. */
  readonly producers: ReadonlyMap<string, Operation>;
}

/** A tensor quantized by the quantization pass, with the MIL type of its codes. */
export interface JointQuantized {
  /** Codes, scales and offsets. */
  readonly quantized: BlockwiseQuantized;
  /** The codes' type. */
  readonly dtype: DataType;
}

/** A tensor palettized by the palettization pass, with its LUT's shape. */
export interface JointPalettized {
  /** Indices and LUT. */
  readonly palettized: PalettizedTensor;
  /** `[1.., G at the grouping axis, ..1, 2^n, 1]`. */
  readonly lutShape: readonly number[];
}

/** The tensor math each pass supplies: the result, or why the tensor is skipped (a string). */
export interface JointCompressors<R> {
  /** Quantizes a tensor (per tensor when it has no consumers). */
  readonly quantize: (tensor: JointTensor, config: R) => JointQuantized | string;
  /** Palettizes a tensor (integer data: float64 arithmetic, LUT still fractional). */
  readonly palettize: (tensor: JointTensor, config: R) => JointPalettized | string;
  /** Prunes a tensor: the values with the pruned ones 0. */
  readonly prune: (tensor: JointTensor, config: R) => Float64Array | string;
}

/** What a pass's joint rewrites share within one call. */
export interface JointContext<R extends { readonly weightThreshold: number }> extends BlockContext {
  /** The pass's resolved configs. */
  readonly config: ResolvedCompressionConfig<R>;
  /** Where skipped tensors are recorded. */
  readonly skipped: SkippedWeight[];
  /** The next number of each generated op name's type (`<op type>_<k>`), counted per call. */
  readonly generatedNames: Map<string, number>;
  /** Makes a new constant (the palettization pass merges equal large ones). */
  readonly constant: (dataType: DataType, shape: readonly number[], values: ArrayLike<number>) => Value;
}

/** One constexpr op met by a pass, with what rewriting it needs. */
interface Candidate<K extends JointPass, R extends { readonly weightThreshold: number }> {
  readonly op: Operation;
  readonly consumers: readonly ConstConsumer[];
  readonly producers: ReadonlyMap<string, Operation>;
  readonly context: JointContext<R>;
  readonly compress: JointCompressors<R>[K];
}

/** Rewrites one constexpr op for a pass: the ops replacing it, or undefined when it stays. */
type Rewrite<K extends JointPass> = <R extends { readonly weightThreshold: number }>(candidate: Candidate<K, R>) => Operation[] | undefined;

/** The joint rewrites, by the first pass's op type and the second pass (MLPROGRAM.md section 12's table). */
const JOINT_REWRITES: Readonly<Record<string, { readonly [K in JointPass]?: Rewrite<K> }>> = {
  constexpr_sparse_to_dense: { quantize: quantizeNonzeroData, palettize: palettizeNonzeroData },
  constexpr_lut_to_dense: { quantize: quantizeLut, prune: prunePalettized },
  constexpr_lut_to_sparse: { quantize: quantizeLut },
  constexpr_blockwise_shift_scale: { palettize: palettizeQuantizedData, prune: pruneQuantized },
};

/**
 * The ops replacing a constexpr op when a pass compresses it jointly, or undefined
 * when the pass leaves it (not a candidate, no config, at most the weight
 * threshold, or skipped, recorded in `context.skipped`).
 *
 * @param pass - the second pass
 * @param op - the constexpr op
 * @param consumers - the ops reading its first output
 * @param producers - the block's ops by output name
 * @param context - the call's configs and records
 * @param compress - the pass's tensor math
 * @returns the replacing ops, the last taking the op's outputs' places
 * @throws {@link QuantizeError} what the pass's math throws; `unsupported-model` for
 *   int4/uint4 data to palettize (a LUT of that type cannot be stored: defect D7), or a
 *   parameter that is read from another op
 */
export function jointReplacement<K extends JointPass, R extends { readonly weightThreshold: number }>(
  pass: K,
  op: Operation,
  consumers: readonly ConstConsumer[],
  producers: ReadonlyMap<string, Operation>,
  context: JointContext<R>,
  compress: JointCompressors<R>[K],
): Operation[] | undefined {
  const rewrite = JOINT_REWRITES[op.type]?.[pass] as Rewrite<K> | undefined;
  return rewrite?.({ op, consumers, producers, context, compress });
}

/**
 * Refuses joint compression of a program older than iOS18, as the reference does.
 *
 * @param opset - the block specialization's opset
 * @param iOS18 - whether it is iOS18 or later
 * @throws {@link QuantizeError} `unsupported-model` when it is not
 */
export function checkJointOpset(opset: string, iOS18: boolean): void {
  if (iOS18) return;
  throw new QuantizeError(
    "unsupported-model",
    `joint compression needs an iOS18 program (opset CoreML8), this one is ${opset}; re-convert for iOS18 or compress without jointCompression`,
  );
}

/** A value-bound parameter of an op: its value as the op holds it, with its type and shape. */
interface BoundParameter {
  /** The value as the op holds it (reused as an input of the new ops). */
  readonly value: Value;
  /** Its element type. */
  readonly dataType: DataType;
  /** Its dimensions. */
  readonly shape: readonly number[];
}

/** A value-bound parameter with its elements. */
type ReadParameter = BoundParameter & TensorData;

/** A parameter an op holds as a value-bound input, or undefined when it is absent or bound to another op's output. */
function boundParameter(op: Operation, param: string): BoundParameter | undefined {
  const binding = op.inputs[param]?.arguments[0]?.binding;
  if (binding?.case !== "value") return undefined;
  const type = tensorShape(binding.value.type);
  return type === undefined ? undefined : { value: binding.value, ...type };
}

/** A parameter's value and elements; undefined when the op does not have it; an error naming the op when another op's output binds it. */
function readParameter(op: Operation, param: string, blobs: BlockContext["blobs"]): ReadParameter | undefined {
  if (op.inputs[param] === undefined) return undefined;
  const where = `${op.type} ${opNameOf(op)} input ${param}`;
  const parameter = boundParameter(op, param);
  if (parameter === undefined) {
    throw new QuantizeError("unsupported-model", `${where}: joint compression needs it as a constant; this op reads it from another op`);
  }
  return { ...parameter, values: constantTensor(parameter.value, blobs, where).values };
}

/** {@link readParameter} for a parameter the op must have. */
function requiredParameter(op: Operation, param: string, blobs: BlockContext["blobs"]): ReadParameter {
  const parameter = readParameter(op, param, blobs);
  if (parameter === undefined) throw new QuantizeError("invalid-weights", `${op.type} ${opNameOf(op)}: parameter ${param} is missing`);
  return parameter;
}

/**
 * The dense weight a constexpr op stands for, decompressed from its value-bound
 * parameters as `decompress_weights` does, and those parameters (each read once).
 */
function denseWeight(op: Operation, blobs: BlockContext["blobs"]) {
  const read = new Map<string, ReadParameter>();
  const [dense] = evaluateConstexpr(op, (param) => {
    const parameter = readParameter(op, param, blobs);
    if (parameter !== undefined) read.set(param, parameter);
    return parameter;
  });
  if (dense === undefined) throw new QuantizeError("invalid-weights", `${op.type} ${opNameOf(op)}: no output`);
  const parameter = (param: string): ReadParameter => read.get(param) ?? requiredParameter(op, param, blobs);
  return { ...dense, parameter };
}

/** Row-major element count of a shape. */
function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The entries of a tensor where a mask is set, row-major. */
function maskedEntries(values: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (mask[i] !== 0) kept.push(values[i] as number);
  return Float64Array.from(kept);
}

/** The config of a candidate, or undefined when none applies or the dense weight is at most the threshold or of rank 1. */
function candidateConfig<R extends { readonly weightThreshold: number }>(
  name: string,
  consumers: readonly ConstConsumer[],
  denseShape: readonly number[],
  context: JointContext<R>,
): R | undefined {
  const config = constConfig(name, consumers, context.config);
  if (config === null || denseShape.length <= 1 || elementCount(denseShape) <= config.weightThreshold) return undefined;
  return config;
}

/** A parameter loaded as a const: its name (`<op>_<param>_0`, the MIL builder's) and its reader, the op. */
function loadedParameter(op: Operation, param: string) {
  const name = `${opNameOf(op)}_${param}_0`;
  return { name, readers: [{ op, input: param, inTuple: false }] };
}

/**
 * A parameter loaded as a const that the pass compresses: value-bound, of at least
 * {@link MIN_BLOB_ELEMENTS} elements, with a config the dense weight qualifies for;
 * undefined otherwise.
 */
function parameterCandidate<R extends { readonly weightThreshold: number }>(op: Operation, param: string, context: JointContext<R>) {
  const parameter = boundParameter(op, param);
  if (parameter === undefined || elementCount(parameter.shape) < MIN_BLOB_ELEMENTS) return undefined;
  const { name, readers } = loadedParameter(op, param);
  const config = candidateConfig(name, readers, outputShape(op), context);
  return config === undefined ? undefined : { name, config, parameter };
}

/** A dense weight as the tensor a pass compresses. */
function denseTensor(name: string, dense: TensorData, consumers: readonly ConstConsumer[], producers: ReadonlyMap<string, Operation>): JointTensor {
  return { name, values: dense.values, shape: dense.shape, dataType: dense.dataType, consumers, producers };
}

/** The dense shape of a constexpr op's (first) output. */
function outputShape(op: Operation): readonly number[] {
  return tensorShape(op.outputs[0]?.type)?.shape ?? [];
}

/** A generated op name, `<op type>_<k>`, k counting per type within the call. */
function generatedName(type: string, context: JointContext<{ readonly weightThreshold: number }>): string {
  const k = context.generatedNames.get(type) ?? 0;
  context.generatedNames.set(type, k + 1);
  return `${type}_${k}`;
}

/** An op input bound to a value or to another op's output (built here, or an existing op's). */
type Argument =
  | { readonly arguments: { readonly binding: { readonly case: "value"; readonly value: Value } | { readonly case: "name"; readonly value: string } }[] }
  | Operation["inputs"][string];

function valueArgument(value: Value): Argument {
  return { arguments: [{ binding: { case: "value", value } }] };
}

function nameArgument(name: string): Argument {
  return { arguments: [{ binding: { case: "name", value: name } }] };
}

/** A constexpr op named `name`, its parameters as inputs. */
function constexprOp(type: string, name: string, inputs: Readonly<Record<string, Argument | undefined>>, outputs: NamedValueType[]): Operation {
  const present = Object.fromEntries(
    Object.entries(inputs).flatMap(([key, argument]) => (argument === undefined ? [] : [[key, create(ArgumentSchema, argument)] as const])),
  );
  return create(OperationSchema, { type, inputs: present, outputs, attributes: { name: inlineValue(DataType.STRING, [], [name]) } });
}

/** The outputs of a two-output sparse op: the mask (`_0`, UINT1 of the dense shape) and the values (`_1`). */
function sparseOutputs(name: string, shape: readonly number[], float: DataType, count: number): NamedValueType[] {
  return [namedOutput(`${name}_0`, DataType.UINT1, shape), namedOutput(`${name}_1`, float, [count])];
}

/** `constexpr_sparse_to_dense(nonzero_data = <sparse op>_1, mask = <sparse op>_0)`. */
function sparseToDense(name: string, sparseOp: string, float: DataType, shape: readonly number[]): Operation {
  return constexprOp("constexpr_sparse_to_dense", name, { nonzero_data: nameArgument(`${sparseOp}_1`), mask: nameArgument(`${sparseOp}_0`) }, [
    namedOutput(name, float, shape),
  ]);
}

/** An op with some inputs rebound. */
function withInputs(op: Operation, inputs: Readonly<Record<string, Argument>>): Operation {
  const rebound = Object.fromEntries(Object.entries(inputs).map(([key, argument]) => [key, create(ArgumentSchema, argument)]));
  return { ...op, inputs: { ...op.inputs, ...rebound } };
}

/** A value with another shape of the same element count (the same blob or inline bytes). */
function reshaped(parameter: BoundParameter, shape: readonly number[]): Value {
  const type = parameter.value.type;
  if (type?.type.case !== "tensorType") return parameter.value;
  const dimensions = shape.map((size) => ({ dimension: { case: "constant" as const, value: { size: BigInt(size) } } }));
  return {
    ...parameter.value,
    type: { ...type, type: { case: "tensorType", value: { ...type.type.value, rank: BigInt(shape.length), dimensions } } },
  } as Value;
}

/** Records a skipped tensor; gives undefined, the op staying. */
function skip(context: JointContext<{ readonly weightThreshold: number }>, name: string, reason: string): undefined {
  context.skipped.push({ name, reason });
  return undefined;
}

/** A pruned weight's `nonzero_data` as a candidate: its name and config, the dense weight (as the tensor to compress) and the mask; undefined when it is none. */
function nonzeroDataCandidate<R extends { readonly weightThreshold: number }>(
  op: Operation,
  consumers: readonly ConstConsumer[],
  producers: ReadonlyMap<string, Operation>,
  context: JointContext<R>,
) {
  const candidate = parameterCandidate(op, "nonzero_data", context);
  if (candidate === undefined) return undefined;
  const dense = denseWeight(op, context.blobs);
  const { name, config } = candidate;
  return { name, config, dense, mask: dense.parameter("mask"), tensor: denseTensor(name, dense, consumers, producers) };
}

/** prune -> quantize: the dense weight quantized, its codes kept where the mask is set. */
function quantizeNonzeroData<R extends { readonly weightThreshold: number }>({ op, consumers, producers, context, compress }: Candidate<"quantize", R>) {
  const candidate = nonzeroDataCandidate(op, consumers, producers, context);
  if (candidate === undefined) return undefined;
  const { name, dense, mask } = candidate;
  const result = compress(candidate.tensor, candidate.config);
  if (typeof result === "string") return skip(context, name, result);
  const { quantized: q, dtype } = result;
  const quantizedName = `${name}_quantized`;
  const kept = maskedEntries(q.data, mask.values);
  const sparse = constexprOp(
    "constexpr_sparse_blockwise_shift_scale",
    quantizedName,
    {
      data_mask: valueArgument(mask.value),
      nonzero_data: valueArgument(context.constant(dtype, [kept.length], kept)),
      scale: valueArgument(context.constant(dense.dataType, q.scaleShape, q.scale)),
      offset: q.offset === undefined ? undefined : valueArgument(context.constant(dtype, q.scaleShape, q.offset)),
    },
    sparseOutputs(quantizedName, dense.shape, dense.dataType, kept.length),
  );
  return [sparse, withInputs(op, { nonzero_data: nameArgument(`${quantizedName}_1`) })];
}

/** prune -> palettize: the dense weight palettized, its indices kept where the mask is set. */
function palettizeNonzeroData<R extends { readonly weightThreshold: number }>({ op, consumers, producers, context, compress }: Candidate<"palettize", R>) {
  const candidate = nonzeroDataCandidate(op, consumers, producers, context);
  if (candidate === undefined) return undefined;
  const { name, dense, mask } = candidate;
  const result = compress(candidate.tensor, candidate.config);
  if (typeof result === "string") return skip(context, name, result);
  const { palettized: p, lutShape } = result;
  const palettizedName = `${name}_palettized`;
  const kept = maskedEntries(p.indices, mask.values);
  const sparse = constexprOp(
    "constexpr_lut_to_sparse",
    palettizedName,
    {
      indices_mask: valueArgument(mask.value),
      indices_nonzero_data: valueArgument(context.constant(LUT_INDEX_TYPES[p.nbits] as DataType, [kept.length], kept)),
      lut: valueArgument(context.constant(dense.dataType, lutShape, p.lut)),
    },
    sparseOutputs(palettizedName, dense.shape, dense.dataType, kept.length),
  );
  return [sparse, sparseToDense(opNameOf(op), palettizedName, dense.dataType, dense.shape)];
}

/** palettize -> quantize (also after prune -> palettize): the LUT quantized per tensor; LUTs of fewer than 10 entries are no candidates (defect D8). */
function quantizeLut<R extends { readonly weightThreshold: number }>({ op, producers, context, compress }: Candidate<"quantize", R>) {
  const candidate = parameterCandidate(op, "lut", context);
  if (candidate === undefined) return undefined;
  const { name, config, parameter: lut } = candidate;
  const { values: elements } = requiredParameter(op, "lut", context.blobs);
  const result = compress({ name, values: elements, shape: lut.shape, dataType: lut.dataType, consumers: undefined, producers }, config);
  if (typeof result === "string") return skip(context, name, result);
  const { quantized: q, dtype } = result;
  const quantizedName = `${name}_quantized`;
  const shiftScale = constexprOp(
    "constexpr_blockwise_shift_scale",
    quantizedName,
    {
      data: valueArgument(context.constant(dtype, lut.shape, q.data)),
      scale: valueArgument(context.constant(lut.dataType, q.scaleShape, q.scale)),
      offset: q.offset === undefined ? undefined : valueArgument(context.constant(dtype, q.scaleShape, q.offset)),
    },
    [namedOutput(quantizedName, lut.dataType, lut.shape)],
  );
  return [shiftScale, withInputs(op, { lut: nameArgument(quantizedName) })];
}

/**
 * quantize -> palettize: the integer codes palettized (LUT truncated to the codes'
 * type), then canonicalized as a per-channel scale is: the LUT repeated to the
 * scale's shape and scaled by a shift-scale op, which a LUT op reads.
 */
function palettizeQuantizedData<R extends { readonly weightThreshold: number }>({ op, consumers, producers, context, compress }: Candidate<"palettize", R>) {
  const candidate = parameterCandidate(op, "data", context);
  if (candidate === undefined) return undefined;
  const { name, config, parameter: data } = candidate;
  const { values: elements } = requiredParameter(op, "data", context.blobs);
  const result = compress({ name, values: elements, shape: data.shape, dataType: data.dataType, consumers, producers }, config);
  if (typeof result === "string") return skip(context, name, result);
  if (data.dataType !== DataType.INT8 && data.dataType !== DataType.UINT8) {
    throw new QuantizeError(
      "unsupported-model",
      `${op.type} ${opNameOf(op)}: palettizing 4-bit quantized data would give a 4-bit LUT, which constexpr_lut_to_dense cannot hold (coremltools fails too); quantize to int8/uint8 first`,
    );
  }
  const { palettized: p, lutShape } = result;
  const scale = requiredParameter(op, "scale", context.blobs);
  const offset = boundParameter(op, "offset");
  const scaleShape = [...scale.shape, 1, 1];
  const dataShape = lutShape.map((size, k) => Math.max(size, scaleShape[k] as number));
  const lutName = `${name}_palettized`;
  const shiftScale = constexprOp(
    "constexpr_blockwise_shift_scale",
    lutName,
    {
      data: valueArgument(context.constant(data.dataType, dataShape, broadcastTensor(p.lut.map(Math.trunc), lutShape, dataShape))),
      scale: valueArgument(reshaped(scale, scaleShape)),
      offset: offset === undefined ? undefined : valueArgument(reshaped(offset, scaleShape)),
    },
    [namedOutput(lutName, scale.dataType, dataShape)],
  );
  const oldName = opNameOf(op);
  const denseName = oldName.includes(op.type) ? generatedName("constexpr_lut_to_dense", context) : oldName;
  const lutToDense = constexprOp(
    "constexpr_lut_to_dense",
    denseName,
    { indices: valueArgument(context.constant(LUT_INDEX_TYPES[p.nbits] as DataType, p.indicesShape, p.indices)), lut: nameArgument(lutName) },
    [namedOutput(denseName, scale.dataType, data.shape)],
  );
  return [shiftScale, lutToDense];
}

/** The mask of a pruned weight: 1 where an entry is left (not 0 or -0). */
function prunedMask(pruned: Float64Array): Uint8Array {
  return Uint8Array.from(pruned, (v) => (v === 0 ? 0 : 1));
}

/** How a pruned weight's codes are written after each first step: the sparse op's type, the parameter holding the codes, the sparse op's names for mask and kept codes, and the inputs it takes over unchanged. */
interface PrunedCodesForm {
  readonly sparseType: string;
  readonly codes: string;
  readonly mask: string;
  readonly nonzero: string;
  readonly passed: readonly string[];
}

/** quantize -> prune: the quantized codes kept where the pruned weight is not 0; scale and offset as they were. */
const PRUNED_QUANTIZED: PrunedCodesForm = {
  sparseType: "constexpr_sparse_blockwise_shift_scale",
  codes: "data",
  mask: "data_mask",
  nonzero: "nonzero_data",
  passed: ["scale", "offset"],
};

/** palettize -> prune: the indices kept where the pruned weight is not 0; the LUT as it was. */
const PRUNED_PALETTIZED: PrunedCodesForm = {
  sparseType: "constexpr_lut_to_sparse",
  codes: "indices",
  mask: "indices_mask",
  nonzero: "indices_nonzero_data",
  passed: ["lut", "vector_axis"],
};

/** quantize -> prune: the dequantized weight pruned; its codes kept where the pruned weight is not 0. */
function pruneQuantized<R extends { readonly weightThreshold: number }>(candidate: Candidate<"prune", R>) {
  return pruneCodes(candidate, PRUNED_QUANTIZED);
}

/** palettize -> prune: the looked-up weight pruned; its indices kept where the pruned weight is not 0. */
function prunePalettized<R extends { readonly weightThreshold: number }>(candidate: Candidate<"prune", R>) {
  return pruneCodes(candidate, PRUNED_PALETTIZED);
}

/** The decompressed weight pruned, the first step's codes kept where it is not 0, in the sparse form of that step. */
function pruneCodes<R extends { readonly weightThreshold: number }>(
  { op, consumers, producers, context, compress }: Candidate<"prune", R>,
  form: PrunedCodesForm,
) {
  const name = opNameOf(op);
  const config = candidateConfig(name, consumers, outputShape(op), context);
  if (config === undefined) return undefined;
  const dense = denseWeight(op, context.blobs);
  const codes = dense.parameter(form.codes);
  if (codes.values.length !== dense.values.length) {
    // Only a vector LUT has fewer codes than weights.
    throw new QuantizeError("unsupported-model", `${op.type} ${name}: joint compression of vector LUTs is not supported; palettize with clusterDim 1`);
  }
  const pruned = compress(denseTensor(name, dense, consumers, producers), config);
  if (typeof pruned === "string") return skip(context, name, pruned);
  const mask = prunedMask(pruned);
  const kept = maskedEntries(codes.values, mask);
  const sparseName = generatedName(form.sparseType, context);
  const sparse = constexprOp(
    form.sparseType,
    sparseName,
    {
      [form.mask]: valueArgument(context.constant(DataType.UINT1, dense.shape, mask)),
      [form.nonzero]: valueArgument(context.constant(codes.dataType, [kept.length], kept)),
      ...Object.fromEntries(form.passed.map((input) => [input, op.inputs[input]])),
    },
    sparseOutputs(sparseName, dense.shape, dense.dataType, kept.length),
  );
  return [sparse, sparseToDense(`${name}_sparsified`, sparseName, dense.dataType, dense.shape)];
}

/**
 * Linear quantization of an ML Program's weights, as coremltools'
 * `linear_quantize_weights`: each qualifying `const` becomes
 * `constexpr_affine_dequantize` (iOS16/17 opsets, parameters as attributes) or
 * `constexpr_blockwise_shift_scale` (iOS18, parameters as inputs), computed in the
 * weight's own float type; weight.bin is written again in program order.
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { QuantizeError } from "../errors.js";
import { DataType, OperationSchema, type Block, type Operation, type Program, type Value } from "../gen/MIL_pb.js";
import { quantizeBlockwise, type BlockwiseQuantized } from "./blockwise-linear.js";
import {
  LINEAR_DTYPES,
  resolveLinearQuantizerConfig,
  type CompressionConfig,
  type LinearDtype,
  type LinearQuantizerConfig,
  type ResolvedLinearQuantizerConfig,
} from "./compression-config.js";
import { layOutBlobs } from "./lay-out-blobs.js";
import type { MlPackage } from "./ml-package.js";
import { constantValue, constElements, inlineValue, MIN_BLOB_ELEMENTS, namedOutput, opNameOf, tensorShape, type NewBlobs } from "./program-values.js";
import { blobsByOffset, type WeightBlob } from "./weight-bin.js";

/** A weight left as it was, and why (the reference logs a warning for each). */
export interface SkippedWeight {
  /** The `const` op's name. */
  readonly name: string;
  /** Why, in a line. */
  readonly reason: string;
}

/** What {@link linearQuantizeWeights} gives. */
export interface LinearQuantizeResult {
  /** The new package. */
  readonly package: MlPackage;
  /** Weights a config selected but that were left as they were, in program order. */
  readonly skipped: readonly SkippedWeight[];
}

/** The first opset (iOS18) whose constexpr ops take their parameters as inputs and have 4-bit and per-block forms. */
const FIRST_INPUT_OPSET = 8;
/** The const types the reference considers (`is_valid_op`). */
const CANDIDATE_TYPES: ReadonlySet<DataType> = new Set([DataType.FLOAT16, DataType.FLOAT32, DataType.UINT8, DataType.INT8]);
/** The MIL type of each quantized dtype. */
const DTYPE_CODES: Readonly<Record<LinearDtype, DataType>> = { int8: DataType.INT8, uint8: DataType.UINT8, int4: DataType.INT4, uint4: DataType.UINT4 };
/** What the ops the reference writes are called, and the suffix of their names. */
const QUANTIZED_SUFFIX = "_quantized";

type ResolvedConfig = Required<CompressionConfig<ResolvedLinearQuantizerConfig>>;

interface Consumer {
  readonly op: Operation;
  readonly input: string;
}

/** What one block's pass needs besides the block. */
interface PassContext {
  readonly opset: string;
  readonly config: ResolvedConfig;
  readonly blobs: ReadonlyMap<number, WeightBlob>;
  readonly newBlobs: NewBlobs;
  readonly skipped: SkippedWeight[];
}

/**
 * Quantizes an ML Program's weights linearly, as coremltools'
 * `linear_quantize_weights` with `OpLinearQuantizerConfig`s does: same choice of
 * weights, same ops and names, weight.bin byte for byte. A config is picked per
 * `const`: its own name in `opNameConfigs`, else its consumers' (name, then
 * type, then `global`), which must agree.
 *
 * @param pkg - the package; not modified
 * @param config - op configs: global, by consumer op type, by op name (`null` skips)
 * @returns the new package and the weights skipped
 * @throws {@link QuantizeError} `invalid-option` for a config the reference refuses
 *   (a field out of range, a `const` op type key, ops sharing a weight with
 *   different configs, a block size list of the wrong length);
 *   `unsupported-model` for a 4-bit or per-block config reaching a weight of an
 *   iOS16/17 program, an integer const, a model that is not an ML Program
 * @example
 * ```ts
 * const { package: small } = linearQuantizeWeights(pkg, { global: { dtype: "int4", granularity: "per_block", blockSize: 32 } });
 * ```
 */
export function linearQuantizeWeights(pkg: MlPackage, config: CompressionConfig<LinearQuantizerConfig>): LinearQuantizeResult {
  const resolved = resolveConfig(config);
  const type = pkg.model.Type;
  if (type.case !== "mlProgram") throw new QuantizeError("unsupported-model", `the package's model is a ${type.case ?? "empty"} model, not an ML Program`);
  const blobs = pkg.weights === undefined ? new Map<number, WeightBlob>() : blobsByOffset(pkg.weights);
  const newBlobs: NewBlobs = new Map();
  const skipped: SkippedWeight[] = [];
  const functions: Program["functions"] = {};
  for (const [name, fn] of Object.entries(type.value.functions)) {
    const blockSpecializations = Object.fromEntries(
      Object.entries(fn.blockSpecializations).map(([opset, block]) => [opset, quantizeBlock(block, { opset, config: resolved, blobs, newBlobs, skipped })]),
    );
    functions[name] = { ...fn, blockSpecializations };
  }
  const laidOut = layOutBlobs(functions, blobs, newBlobs);
  // The reference's output has no Program attributes (buildInfo is dropped on the way).
  const program: Program = { ...type.value, functions: laidOut.functions, attributes: {} };
  return { package: { ...pkg, model: { ...pkg.model, Type: { case: "mlProgram", value: program } }, weights: laidOut.weights }, skipped };
}

function resolveConfig(config: CompressionConfig<LinearQuantizerConfig>): ResolvedConfig {
  const one = (c: LinearQuantizerConfig | null | undefined, where: string): ResolvedLinearQuantizerConfig | null =>
    c === null || c === undefined ? null : resolveLinearQuantizerConfig(c, where);
  const byKey = (configs: Readonly<Record<string, LinearQuantizerConfig | null>> | undefined, where: string) =>
    Object.fromEntries(Object.entries(configs ?? {}).map(([key, c]) => [key, one(c, `${where}.${key}`)]));
  return {
    global: one(config.global, "global"),
    opTypeConfigs: byKey(config.opTypeConfigs, "opTypeConfigs"),
    opNameConfigs: byKey(config.opNameConfigs, "opNameConfigs"),
  };
}

/** One block (its nested blocks first): each const replaced in place, its consumers rebound to the new op. */
function quantizeBlock(block: Block, context: PassContext): Block {
  const operations = block.operations.map((op) => (op.blocks.length === 0 ? op : { ...op, blocks: op.blocks.map((nested) => quantizeBlock(nested, context)) }));
  const consumers = new Map<string, Consumer[]>();
  const producers = new Map<string, Operation>();
  for (const op of operations) {
    for (const output of op.outputs) producers.set(output.name, op);
    for (const [input, argument] of Object.entries(op.inputs)) {
      for (const { binding } of argument.arguments) {
        if (binding.case === "name") consumers.set(binding.value, [...(consumers.get(binding.value) ?? []), { op, input }]);
      }
    }
  }
  const renamed = new Map<string, string>();
  const replaced = operations.map((op) => {
    const output = op.outputs[0]?.name ?? "";
    const replacement = op.type === "const" ? quantizeConst(op, consumers.get(output) ?? [], producers, context) : undefined;
    if (replacement === undefined) return op;
    renamed.set(output, replacement.outputs[0]?.name ?? "");
    return replacement;
  });
  if (renamed.size === 0) return { ...block, operations: replaced };
  const rebind = (op: Operation): Operation => {
    if (!Object.values(op.inputs).some((a) => a.arguments.some(({ binding }) => binding.case === "name" && renamed.has(binding.value)))) return op;
    const inputs = Object.fromEntries(
      Object.entries(op.inputs).map(([key, argument]) => [
        key,
        {
          ...argument,
          arguments: argument.arguments.map((b) =>
            b.binding.case === "name" && renamed.has(b.binding.value)
              ? { ...b, binding: { case: "name" as const, value: renamed.get(b.binding.value) as string } }
              : b,
          ),
        },
      ]),
    );
    return { ...op, inputs };
  };
  return { ...block, operations: replaced.map(rebind), outputs: block.outputs.map((name) => renamed.get(name) ?? name) };
}

/** The config of a const, as the reference picks it (`_get_const_op_config`). */
function constConfig(name: string, consumers: readonly Consumer[], config: ResolvedConfig): ResolvedLinearQuantizerConfig | null {
  if (Object.hasOwn(config.opNameConfigs, name)) return config.opNameConfigs[name] ?? null;
  if (Object.hasOwn(config.opTypeConfigs, "const")) {
    throw new QuantizeError("invalid-option", "opTypeConfigs: const ops cannot be chosen by type; set the global config, or name the const in opNameConfigs");
  }
  const picks = consumers.map(({ op }) => {
    const consumerName = opNameOf(op);
    if (Object.hasOwn(config.opNameConfigs, consumerName)) return config.opNameConfigs[consumerName] ?? null;
    if (Object.hasOwn(config.opTypeConfigs, op.type)) return config.opTypeConfigs[op.type] ?? null;
    return config.global;
  });
  const first = picks[0] ?? null;
  const other = picks.findIndex((pick) => JSON.stringify(pick) !== JSON.stringify(first));
  if (other >= 0) {
    const [a, b] = [consumers[0], consumers[other]].map((consumer) => opNameOf((consumer as Consumer).op));
    throw new QuantizeError(
      "invalid-option",
      `const ${name}: ops ${a} and ${b} share it and resolve to different configs; give them the same config, or name the const in opNameConfigs`,
    );
  }
  return first;
}

/** A bool parameter of an op (`transpose_y`), inline or from a const; false when absent. */
function boolParameter(op: Operation, input: string, producers: ReadonlyMap<string, Operation>): boolean {
  const binding = op.inputs[input]?.arguments[0]?.binding;
  const value: Value | undefined =
    binding?.case === "value" ? binding.value : binding?.case === "name" ? producers.get(binding.value)?.attributes.val : undefined;
  if (value?.value.case !== "immediateValue" || value.value.value.value.case !== "tensor") return false;
  const tensor = value.value.value.value.value.value;
  return tensor.case === "bools" && tensor.value.values[0] === true;
}

/** [output axis, input axis] of a weight as one consumer reads it, possibly negative (`select_input_output_channel_axis`). */
function consumerAxes({ op, input }: Consumer, producers: ReadonlyMap<string, Operation>): readonly [number, number] {
  if (op.type === "conv_transpose") return [1, 0];
  if (op.type === "matmul" && input === "y") return boolParameter(op, "transpose_y", producers) ? [-2, -1] : [-1, -2];
  if (op.type === "matmul" && input === "x") return boolParameter(op, "transpose_x", producers) ? [-1, -2] : [-2, -1];
  return [0, 1];
}

/** The block size along each axis (0 = whole axis), or a reason to skip the weight. */
function blockSizesOf(
  name: string,
  shape: readonly number[],
  config: ResolvedLinearQuantizerConfig,
  consumers: readonly Consumer[],
  producers: ReadonlyMap<string, Operation>,
): number[] | string {
  const rank = shape.length;
  if (config.granularity === "per_block" && typeof config.blockSize !== "number") {
    if (config.blockSize.length !== rank) {
      throw new QuantizeError(
        "invalid-option",
        `const ${name}: blockSize has ${config.blockSize.length} entries for a weight of ${rank} axes; give one per axis`,
      );
    }
    return [...config.blockSize];
  }
  const axes = consumers.map((consumer) => consumerAxes(consumer, producers).map((axis) => ((axis % rank) + rank) % rank));
  const [first] = axes;
  if (first === undefined || axes.some(([output, input]) => output !== first[0] || input !== first[1]))
    return "its consumers read it along different channel axes";
  const sizes = shape.map(() => 0);
  if (config.granularity !== "per_tensor") sizes[first[0] as number] = 1;
  if (config.granularity === "per_block") sizes[first[1] as number] = config.blockSize as number;
  return sizes;
}

/** The constexpr op replacing a const, or undefined when the const stays (`need_compress_const` and the pass's skips). */
function quantizeConst(op: Operation, consumers: readonly Consumer[], producers: ReadonlyMap<string, Operation>, context: PassContext): Operation | undefined {
  const type = tensorShape(op.attributes.val?.type);
  if (type === undefined || !CANDIDATE_TYPES.has(type.dataType)) return undefined;
  const { dataType, shape } = type;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count < MIN_BLOB_ELEMENTS) return undefined;
  const name = opNameOf(op);
  const config = constConfig(name, consumers, context.config);
  if (config === null || consumers.length === 0) return undefined;
  if (consumers.some(({ op: consumer }) => consumer.type.startsWith("constexpr_"))) return undefined;
  if (shape.length <= 1 || count <= config.weightThreshold) return undefined;
  const values = constElements(op, context.blobs);
  if (values === undefined) return undefined;
  if (values.some((v) => v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY)) {
    context.skipped.push({ name, reason: "it holds an infinity" });
    return undefined;
  }
  if (dataType === DataType.UINT8 || dataType === DataType.INT8) {
    // The reference leaves integer consts of a narrow range alone and refuses the others.
    if (Math.max(...values) - Math.min(...values) < 2) return undefined;
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: only float weights can be quantized; leave this ${shape.join("x")} integer const out by naming it in opNameConfigs`,
    );
  }
  const iOS18 = Number(/^CoreML(\d+)$/.exec(context.opset)?.[1] ?? 0) >= FIRST_INPUT_OPSET;
  if (!iOS18 && LINEAR_DTYPES[config.dtype].bits === 4) {
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: 4-bit quantization needs an iOS18 program (opset CoreML8), this one is ${context.opset}; re-convert for iOS18 or use int8/uint8`,
    );
  }
  if (!iOS18 && config.granularity === "per_block") {
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: per_block quantization needs an iOS18 program (opset CoreML8), this one is ${context.opset}; re-convert for iOS18 or use per_channel`,
    );
  }
  const blockSizes = blockSizesOf(name, shape, config, consumers, producers);
  if (typeof blockSizes === "string") {
    context.skipped.push({ name, reason: blockSizes });
    return undefined;
  }
  const bad = blockSizes.findIndex((size, axis) => size > 0 && (shape[axis] as number) % size !== 0);
  if (bad >= 0) {
    context.skipped.push({ name, reason: `block size ${blockSizes[bad]} does not divide axis ${bad} of size ${shape[bad]}` });
    return undefined;
  }
  const float = dataType === DataType.FLOAT16 ? "float16" : "float32";
  const quantized = quantizeBlockwise(values, shape, { mode: config.mode, dtype: config.dtype, blockSizes, float });
  const write = iOS18 ? shiftScaleOp : affineDequantizeOp;
  return write(`${name}${QUANTIZED_SUFFIX}`, dataType, shape, quantized, DTYPE_CODES[config.dtype], context.newBlobs);
}

/** iOS18: `constexpr_blockwise_shift_scale(data, scale[, offset])`, parameters as value-bound inputs. */
function shiftScaleOp(name: string, float: DataType, shape: readonly number[], q: BlockwiseQuantized, dtype: DataType, newBlobs: NewBlobs): Operation {
  const inputs: [string, Value][] = [
    ["data", constantValue(dtype, shape, q.data, newBlobs)],
    ["scale", constantValue(float, q.scaleShape, q.scale, newBlobs)],
  ];
  if (q.offset !== undefined) inputs.push(["offset", constantValue(dtype, q.scaleShape, q.offset, newBlobs)]);
  return create(OperationSchema, {
    type: "constexpr_blockwise_shift_scale",
    inputs: Object.fromEntries(inputs.map(([key, value]) => [key, { arguments: [{ binding: { case: "value" as const, value } }] }])),
    outputs: [namedOutput(name, float, shape)],
    attributes: { name: inlineValue(DataType.STRING, [], [name]) },
  });
}

/**
 * iOS16/17: `constexpr_affine_dequantize`, parameters as attributes; scale and zero
 * point squeezed to rank 0 or 1 along the one axis with more than one block
 * (`ios18_quant_params_to_ios16`), zero point zeros when the mode has none.
 */
function affineDequantizeOp(name: string, float: DataType, shape: readonly number[], q: BlockwiseQuantized, dtype: DataType, newBlobs: NewBlobs): Operation {
  const axis = Math.max(
    0,
    q.scaleShape.findIndex((blocks) => blocks > 1),
  );
  const squeezed = q.scale.length === 1 ? [] : [q.scale.length];
  return create(OperationSchema, {
    type: "constexpr_affine_dequantize",
    outputs: [namedOutput(name, float, shape)],
    attributes: {
      quantized_data: constantValue(dtype, shape, q.data, newBlobs),
      zero_point: constantValue(dtype, squeezed, q.offset ?? new Int32Array(q.scale.length), newBlobs),
      scale: constantValue(float, squeezed, q.scale, newBlobs),
      axis: inlineValue(DataType.INT32, [], [axis]),
      name: inlineValue(DataType.STRING, [], [name]),
    },
  });
}

/**
 * Palettization of an ML Program's weights, as coremltools' `palettize_weights`:
 * each qualifying `const` becomes `constexpr_lut_to_dense` (iOS16/17: one LUT,
 * parameters as attributes; iOS18: LUTs per channel group, vector LUTs,
 * parameters as inputs), with a `constexpr_blockwise_shift_scale` before it for a
 * per-channel scale; weight.bin is written again in program order. Modes `uniform`
 * and `unique` are computed as the reference does; `kmeans` by an optimal 1-D
 * k-means (the reference's own for float16 groups of 10,000 or more elements,
 * never worse than its scikit-learn one elsewhere), vector k-means by a seeded
 * k-means++ with restarts (never worse than the reference's on the golden set).
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { QuantizeError } from "../errors.js";
import { DataType, OperationSchema, ValueSchema, type Operation, type Value } from "../gen/MIL_pb.js";
import { floatRounding } from "./blockwise-linear.js";
import type { CompressionConfig } from "./compression-config.js";
import {
  compressProgram,
  isIos18Opset,
  selectConst,
  resolveCompressionConfig,
  type BlockContext,
  type CompressionOptions,
  type CompressionResult,
  type ConstConsumer,
  type ResolvedCompressionConfig,
  type SkippedWeight,
} from "./compression-pass.js";
import { consumerChannelAxes } from "./consumer-axes.js";
import { LUT_INDEX_TYPES } from "./lut-index-types.js";
import { checkJointOpset, jointReplacement, type JointCompressors, type JointContext } from "./joint-compression.js";
import { float32ConstView, type FloatElements } from "./float32-const-view.js";
import type { MlPackage } from "./ml-package.js";
import { resolvePalettizerConfig, type PalettizerConfig, type ResolvedPalettizerConfig } from "./palettize-config.js";
import { broadcastTensor, palettizeTensor, type PalettizedTensor } from "./palettize-tensor.js";
import { constantValue, constElements, inlineValue, namedOutput, tensorType, type NewBlobs } from "./program-values.js";
import { packSubByte } from "./sub-byte.js";

/** What {@link palettizeWeights} gives. */
export type PalettizeResult = CompressionResult;

/** The LUT sizes the iOS16 `constexpr_lut_to_dense` accepts. */
const IOS16_LUT_SIZES: ReadonlySet<number> = new Set([2, 4, 16, 64, 256]);
/** Equal constants of at least this many elements are merged into the first (the pipeline's `const_deduplication`). */
const MIN_DEDUPLICATED_ELEMENTS = 100;
/** The suffix of the names of the ops the reference writes. */
const PALETTIZED_SUFFIX = "_palettized";
/** The suffix of the LUT op's name when a per-channel scale precedes it. */
const PER_CHANNEL_SCALE_SUFFIX = "_pcs";

/** What one block's pass needs besides the block. */
interface PassContext extends BlockContext {
  readonly config: ResolvedCompressionConfig<ResolvedPalettizerConfig>;
  readonly skipped: SkippedWeight[];
  /** The new constants of at least {@link MIN_DEDUPLICATED_ELEMENTS} elements, by type, shape and values. */
  readonly shared: Map<string, Value>;
}

/**
 * Palettizes an ML Program's weights, as coremltools' `palettize_weights` with
 * `OpPalettizerConfig`s does: same choice of weights, same ops and names,
 * weight.bin byte for byte. A config is picked per `const`: its own name in
 * `opNameConfigs`, else its consumers' (name, then type, then `global`), which
 * must agree.
 *
 * @param pkg - the package; not modified
 * @param config - op configs: global, by consumer op type, by op name (`null` skips)
 * @param options - `jointCompression: true` compresses what a former pass wrote (iOS18, MLPROGRAM.md section 12)
 * @returns the new package and the weights skipped
 * @throws {@link QuantizeError} `invalid-option` for a config the reference refuses
 *   (a field out of range, a `const` op type key, ops sharing a weight with
 *   different configs);
 *   `unsupported-model` for grouped, vector, per-channel-scale or 3-bit LUTs reaching
 *   a weight of an iOS16/17 program, or a model that is not an ML Program;
 *   `invalid-option` also for joint palettization with `clusterDim > 1` or a per-channel scale;
 *   `unsupported-model` also for joint compression of a program older than iOS18 or of 4-bit quantized data (defect D7)
 * @example
 * ```ts
 * const { package: small } = palettizeWeights(pkg, { global: { mode: "uniform", nbits: 4 } });
 * ```
 */
export function palettizeWeights(pkg: MlPackage, config: CompressionConfig<PalettizerConfig>, options: CompressionOptions = {}): PalettizeResult {
  const resolved = resolveCompressionConfig(config, resolvePalettizerConfig);
  const skipped: SkippedWeight[] = [];
  const shared = new Map<string, Value>();
  const generatedNames = new Map<string, number>();
  const compressed = compressProgram(pkg, (block) => {
    const context: PassContext = { ...block, config: resolved, skipped, shared };
    if (options.jointCompression === true) checkJointOpset(block.opset, isIos18Opset(block.opset));
    const joint: JointContext<ResolvedPalettizerConfig> = {
      ...context,
      generatedNames,
      constant: (dataType, shape, values) => sharedConstant(dataType, shape, Float64Array.from(values), context),
    };
    return (op, consumers, producers) => {
      if (op.type === "const") return palettizeConst(op, consumers, producers, context);
      return options.jointCompression === true ? jointReplacement("palettize", op, consumers, producers, joint, palettizeForJoint) : undefined;
    };
  });
  return { package: compressed, skipped };
}

/** The palettization of a tensor joint compression asks for: scalar LUTs without a per-channel scale; integer data in float64. */
const palettizeForJoint: JointCompressors<ResolvedPalettizerConfig>["palettize"] = (tensor, config) => {
  const { name, values, shape, dataType } = tensor;
  if (config.clusterDim > 1 || config.enablePerChannelScale) {
    throw new QuantizeError(
      "invalid-option",
      `${name}: joint palettization with clusterDim > 1 or enablePerChannelScale is not supported yet; use clusterDim 1 without a per-channel scale`,
    );
  }
  const grouping = tensor.consumers === undefined ? { axis: 0, groupSize: shape[0] as number } : groupingOf(shape, config, tensor.consumers, tensor.producers);
  if (typeof grouping === "string") return grouping;
  const float = dataType === DataType.FLOAT16 ? "float16" : dataType === DataType.FLOAT32 ? "float32" : "float64";
  const palettized = palettizeTensor(values, shape, { mode: config.mode, nbits: config.nbits ?? 0, ...grouping, vector: 1, float });
  if (typeof palettized === "string") return palettized;
  const lutShape = shape.map((_size, k) => (k === grouping.axis ? palettized.groups : 1)).concat([2 ** palettized.nbits, 1]);
  return { palettized, lutShape };
};

/** The output axis of a weight as one consumer reads it, possibly negative. */
function outputAxis(consumer: ConstConsumer, producers: ReadonlyMap<string, Operation>): number {
  return consumerChannelAxes(consumer, producers)[0];
}

/** An axis counted from the front, for one possibly negative. */
function normalAxis(axis: number, rank: number): number {
  return ((axis % rank) + rank) % rank;
}

/** The grouping axis and group size (`blockwise_compress`), or a reason to skip the weight. */
function groupingOf(
  shape: readonly number[],
  config: ResolvedPalettizerConfig,
  consumers: readonly ConstConsumer[],
  producers: ReadonlyMap<string, Operation>,
): { readonly axis: number; readonly groupSize: number } | string {
  const rank = shape.length;
  const axes = consumers.map((consumer) => normalAxis(outputAxis(consumer, producers), rank));
  const [output] = axes;
  if (output === undefined || axes.some((axis) => axis !== output)) return "its consumers read it along different channel axes";
  const blockAxis = config.channelAxis === null ? output : ((config.channelAxis % rank) + rank) % rank;
  const blockSize = config.granularity === "per_grouped_channel" ? config.groupSize : 0;
  const length = shape[blockAxis] as number;
  let axis: number;
  let groupSize: number;
  if (blockSize !== 0 && blockSize !== length) [axis, groupSize] = [blockAxis, blockSize];
  else if (config.clusterDim > 1) [axis, groupSize] = [output, shape[output] as number];
  else [axis, groupSize] = [0, shape[0] as number];
  const axisLength = shape[axis] as number;
  if (axisLength % groupSize !== 0) return `the number of channels at axis ${axis} (${axisLength}) is not divisible by the group size (${groupSize})`;
  if (groupSize % config.clusterDim !== 0) return `the channels per group (${groupSize}) are not divisible by cluster_dim (${config.clusterDim})`;
  return { axis, groupSize };
}

/** The op chain replacing a const, or undefined when the const stays (`need_compress_const` and the pass's skips). */
function palettizeConst(
  op: Operation,
  consumers: readonly ConstConsumer[],
  producers: ReadonlyMap<string, Operation>,
  context: PassContext,
): Operation[] | undefined {
  const selected = selectConst(op, consumers, context.config);
  if (selected === undefined) return undefined;
  const { name, dataType, shape, config } = selected;
  if (dataType !== DataType.FLOAT16 && dataType !== DataType.FLOAT32) return undefined;
  const iOS18 = isIos18Opset(context.opset);
  const needs18 = (what: string) =>
    new QuantizeError("unsupported-model", `const ${name}: ${what} needs an iOS18 program (opset CoreML8), this one is ${context.opset}; re-convert for iOS18`);
  if (!iOS18 && config.granularity === "per_grouped_channel") throw needs18("per_grouped_channel palettization");
  if (!iOS18 && config.clusterDim > 1) throw needs18("vector palettization (clusterDim > 1)");
  const grouping = groupingOf(shape, config, consumers, producers);
  if (typeof grouping === "string") {
    context.skipped.push({ name, reason: grouping });
    return undefined;
  }
  const values = float32ConstView(op, context.blobs) ?? constElements(op, context.blobs);
  if (values === undefined) return undefined;
  const float = dataType === DataType.FLOAT16 ? "float16" : "float32";
  // Reduced over the output axis (conv_transpose: 1), whatever the grouping axis; the consumers agree on it (groupingOf).
  const scaleAxis = normalAxis(outputAxis(consumers[0] as ConstConsumer, producers), shape.length);
  const scale = config.enablePerChannelScale ? perChannelScale(values, shape, scaleAxis, float) : undefined;
  const palettized = palettizeTensor(scale?.scaled ?? values, shape, {
    mode: config.mode,
    nbits: config.nbits ?? 0,
    axis: grouping.axis,
    groupSize: grouping.groupSize,
    vector: config.clusterDim,
    float,
  });
  if (typeof palettized === "string") {
    context.skipped.push({ name, reason: palettized });
    return undefined;
  }
  if (scale !== undefined && !iOS18) throw needs18("palettization with a per-channel scale");
  const lutShape = shape.map((_size, k) => (k === grouping.axis ? palettized.groups : 1)).concat([2 ** palettized.nbits, config.clusterDim]);
  const lutName = `${name}${PALETTIZED_SUFFIX}`;
  if (!iOS18) {
    checkIos16LutSize(name, palettized.nbits, context.opset);
    return [lutToDense16(lutName, dataType, shape, palettized, context.newBlobs)];
  }
  const vectorAxis = config.clusterDim > 1 ? grouping.axis : undefined;
  if (scale === undefined)
    return [
      lutToDense18(
        lutName,
        dataType,
        shape,
        palettized,
        { lut: valueArgument(constantValue(dataType, lutShape, palettized.lut, context.newBlobs)), vectorAxis },
        context.newBlobs,
      ),
    ];
  // The per-channel scale as the pipeline canonicalizes it: the LUT broadcast to the scale's shape and scaled first.
  const scaleShape = [...scale.shape, 1, 1];
  const dataShape = lutShape.map((size, k) => Math.max(size, scaleShape[k] as number));
  const shiftScale = create(OperationSchema, {
    type: "constexpr_blockwise_shift_scale",
    inputs: {
      data: valueArgument(sharedConstant(dataType, dataShape, broadcastTensor(palettized.lut, lutShape, dataShape), context)),
      scale: valueArgument(constantValue(dataType, scaleShape, scale.values, context.newBlobs)),
    },
    outputs: [namedOutput(lutName, dataType, dataShape)],
    attributes: { name: inlineValue(DataType.STRING, [], [lutName]) },
  });
  const lut = { arguments: [{ binding: { case: "name" as const, value: lutName } }] };
  return [shiftScale, lutToDense18(`${lutName}${PER_CHANNEL_SCALE_SUFFIX}`, dataType, shape, palettized, { lut, vectorAxis }, context.newBlobs)];
}

/** Refuses a LUT size the iOS16 `constexpr_lut_to_dense` cannot hold (3-bit: defect D10 for unique). */
function checkIos16LutSize(name: string, nbits: number, opset: string): void {
  if (IOS16_LUT_SIZES.has(2 ** nbits)) return;
  throw new QuantizeError(
    "unsupported-model",
    `const ${name}: a ${nbits}-bit LUT needs an iOS18 program (iOS16 takes 1, 2, 4, 6 or 8 bits), this one is ${opset}; choose another nbits`,
  );
}

/** `s = max |w|` over the grouping axis (kept as size 1), zeros replaced by 1, and `w / s` in the weight's float type. */
function perChannelScale(values: FloatElements, shape: readonly number[], axis: number, float: "float16" | "float32") {
  const fl = floatRounding(float);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const length = shape[axis] as number;
  const scale = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < length; c++)
      for (let i = 0; i < inner; i++) scale[o * inner + i] = Math.max(scale[o * inner + i] as number, Math.abs(values[(o * length + c) * inner + i] as number));
  for (let k = 0; k < scale.length; k++) if (scale[k] === 0) scale[k] = 1;
  const scaled = new Float64Array(values.length);
  for (let index = 0; index < values.length; index++) {
    scaled[index] = fl((values[index] as number) / (scale[Math.floor(index / (length * inner)) * inner + (index % inner)] as number));
  }
  return { values: scale, shape: shape.map((size, k) => (k === axis ? 1 : size)), scaled };
}

/**
 * A constant as {@link constantValue} makes it, or an equal one this pass made
 * before: the reference's pipeline merges equal constants (exact equality here,
 * where it allows 1e-12, or 6e-8 for float16).
 */
function sharedConstant(dataType: DataType, shape: readonly number[], values: Float64Array, context: PassContext): Value {
  if (values.length < MIN_DEDUPLICATED_ELEMENTS) return constantValue(dataType, shape, values, context.newBlobs);
  const key = `${dataType}|${shape.join("x")}|${values.join(",")}`;
  const earlier = context.shared.get(key);
  if (earlier !== undefined) return earlier;
  const value = constantValue(dataType, shape, values, context.newBlobs);
  context.shared.set(key, value);
  return value;
}

/** An op input bound to a value or to another op's output. */
type Argument = {
  readonly arguments: { readonly binding: { readonly case: "value"; readonly value: Value } | { readonly case: "name"; readonly value: string } }[];
};

function valueArgument(value: Value): Argument {
  return { arguments: [{ binding: { case: "value", value } }] };
}

/** iOS18: `constexpr_lut_to_dense(indices, lut[, vector_axis])`, parameters as inputs. */
function lutToDense18(
  name: string,
  float: DataType,
  shape: readonly number[],
  p: PalettizedTensor,
  parts: { readonly lut: Argument; readonly vectorAxis: number | undefined },
  newBlobs: NewBlobs,
): Operation {
  const inputs: Record<string, Argument> = {
    indices: valueArgument(constantValue(LUT_INDEX_TYPES[p.nbits] as DataType, p.indicesShape, p.indices, newBlobs)),
    lut: parts.lut,
  };
  if (parts.vectorAxis !== undefined) inputs.vector_axis = valueArgument(inlineValue(DataType.INT32, [], [parts.vectorAxis]));
  return create(OperationSchema, {
    type: "constexpr_lut_to_dense",
    inputs,
    outputs: [namedOutput(name, float, shape)],
    attributes: { name: inlineValue(DataType.STRING, [], [name]) },
  });
}

/** iOS16/17: `constexpr_lut_to_dense(indices packed into bytes, lut [2^n], shape UINT32)`, parameters as attributes. */
function lutToDense16(name: string, float: DataType, shape: readonly number[], p: PalettizedTensor, newBlobs: NewBlobs): Operation {
  const packed = packSubByte(p.indices, p.nbits);
  const shapeValue = create(ValueSchema, {
    type: tensorType(DataType.UINT32, [shape.length]),
    value: {
      case: "immediateValue",
      value: { value: { case: "tensor", value: { value: { case: "bytes", value: { values: new Uint8Array(Uint32Array.from(shape).buffer) } } } } },
    },
  });
  return create(OperationSchema, {
    type: "constexpr_lut_to_dense",
    outputs: [namedOutput(name, float, shape)],
    attributes: {
      indices: constantValue(DataType.UINT8, [packed.length], packed, newBlobs),
      lut: constantValue(float, [2 ** p.nbits], p.lut, newBlobs),
      shape: shapeValue,
      name: inlineValue(DataType.STRING, [], [name]),
    },
  });
}

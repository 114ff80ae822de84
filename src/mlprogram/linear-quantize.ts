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
import { DataType, OperationSchema, type Operation, type Value } from "../gen/MIL_pb.js";
import { quantizeBlockwise, type BlockwiseQuantized } from "./blockwise-linear.js";
import {
  LINEAR_DTYPES,
  resolveLinearQuantizerConfig,
  type CompressionConfig,
  type LinearDtype,
  type LinearQuantizerConfig,
  type ResolvedLinearQuantizerConfig,
} from "./compression-config.js";
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
import { checkJointOpset, jointReplacement, type JointCompressors, type JointContext } from "./joint-compression.js";
import { float32ConstView, type FloatElements } from "./float32-const-view.js";
import type { MlPackage } from "./ml-package.js";
import { constantValue, constElements, inlineValue, namedOutput, type NewBlobs } from "./program-values.js";

export type { CompressionOptions, SkippedWeight } from "./compression-pass.js";

/** What {@link linearQuantizeWeights} gives. */
export type LinearQuantizeResult = CompressionResult;

/** The MIL type of each quantized dtype. */
const DTYPE_CODES: Readonly<Record<LinearDtype, DataType>> = { int8: DataType.INT8, uint8: DataType.UINT8, int4: DataType.INT4, uint4: DataType.UINT4 };
/** Why a weight holding an infinity is skipped (the reference cannot quantize it). */
const INFINITY_REASON = "it holds an infinity";
// Read once: a global lookup in a hot loop is slow.
const INFINITY = Number.POSITIVE_INFINITY;
/** What the ops the reference writes are called, and the suffix of their names. */
const QUANTIZED_SUFFIX = "_quantized";

/** What one block's pass needs besides the block. */
interface PassContext extends BlockContext {
  readonly config: ResolvedCompressionConfig<ResolvedLinearQuantizerConfig>;
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
 * @param options - `jointCompression: true` compresses what a former pass wrote (iOS18, MLPROGRAM.md section 12)
 * @returns the new package and the weights skipped
 * @throws {@link QuantizeError} `invalid-option` for a config the reference refuses
 *   (a field out of range, a `const` op type key, ops sharing a weight with
 *   different configs, a block size list of the wrong length);
 *   `unsupported-model` for a 4-bit or per-block config reaching a weight of an
 *   iOS16/17 program, an integer const, a model that is not an ML Program;
 *   `invalid-option` also for joint compression of a LUT with another granularity than `per_tensor`;
 *   `unsupported-model` also for joint compression of a program older than iOS18
 * @example
 * ```ts
 * const { package: small } = linearQuantizeWeights(pkg, { global: { dtype: "int4", granularity: "per_block", blockSize: 32 } });
 * ```
 */
export function linearQuantizeWeights(
  pkg: MlPackage,
  config: CompressionConfig<LinearQuantizerConfig>,
  options: CompressionOptions = {},
): LinearQuantizeResult {
  const resolved = resolveCompressionConfig(config, resolveLinearQuantizerConfig);
  const skipped: SkippedWeight[] = [];
  const generatedNames = new Map<string, number>();
  const compressed = compressProgram(pkg, (block) => {
    const context: PassContext = { ...block, config: resolved, skipped };
    const iOS18 = isIos18Opset(block.opset);
    if (options.jointCompression === true) checkJointOpset(block.opset, iOS18);
    const joint: JointContext<ResolvedLinearQuantizerConfig> = {
      ...context,
      generatedNames,
      constant: (dataType, shape, values) => constantValue(dataType, shape, values, block.newBlobs),
    };
    return (op, consumers, producers) => {
      if (op.type !== "const") {
        return options.jointCompression === true ? jointReplacement("quantize", op, consumers, producers, joint, quantizeForJoint) : undefined;
      }
      const replacement = quantizeConst(op, consumers, producers, context);
      return replacement === undefined ? undefined : [replacement];
    };
  });
  return { package: compressed, skipped };
}

/** The quantization of a tensor joint compression asks for (a LUT: per tensor only, as the reference allows). */
const quantizeForJoint: JointCompressors<ResolvedLinearQuantizerConfig>["quantize"] = (tensor, config) => {
  if (tensor.consumers === undefined && config.granularity !== "per_tensor") {
    throw new QuantizeError(
      "invalid-option",
      `${tensor.name}: a LUT is quantized on its own axes, not the weight's, so only granularity "per_tensor" applies; set it for joint compression`,
    );
  }
  if (hasInfinity(tensor.values)) return INFINITY_REASON;
  const quantized = quantizeValues(tensor.name, tensor.values, tensor.shape, tensor.dataType, config, tensor.consumers, tensor.producers);
  return typeof quantized === "string" ? quantized : { quantized, dtype: DTYPE_CODES[config.dtype] };
};

/** The block size along each axis (0 = whole axis), or a reason to skip the weight. */
function blockSizesOf(
  name: string,
  shape: readonly number[],
  config: ResolvedLinearQuantizerConfig,
  consumers: readonly ConstConsumer[],
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
  const axes = consumers.map((consumer) => consumerChannelAxes(consumer, producers).map((axis) => ((axis % rank) + rank) % rank));
  const [first] = axes;
  if (first === undefined || axes.some(([output, input]) => output !== first[0] || input !== first[1]))
    return "its consumers read it along different channel axes";
  const sizes = shape.map(() => 0);
  if (config.granularity !== "per_tensor") sizes[first[0] as number] = 1;
  if (config.granularity === "per_block") sizes[first[1] as number] = config.blockSize as number;
  return sizes;
}

/** The constexpr op replacing a const, or undefined when the const stays (`need_compress_const` and the pass's skips). */
function quantizeConst(
  op: Operation,
  consumers: readonly ConstConsumer[],
  producers: ReadonlyMap<string, Operation>,
  context: PassContext,
): Operation | undefined {
  const selected = selectConst(op, consumers, context.config);
  if (selected === undefined) return undefined;
  const { name, dataType, shape, config } = selected;
  const values = float32ConstView(op, context.blobs) ?? constElements(op, context.blobs);
  if (values === undefined) return undefined;
  // The reference skips a weight holding an infinity before anything else. Scanning
  // for one costs a pass over the weight, so it is made only where the weight would
  // otherwise be refused or skipped, or where a block's scale is not finite, which
  // any infinity makes it (integer consts hold none).
  const skipInfinite = (): boolean => {
    if (!hasInfinity(values)) return false;
    context.skipped.push({ name, reason: INFINITY_REASON });
    return true;
  };
  if (dataType === DataType.UINT8 || dataType === DataType.INT8) {
    // The reference leaves integer consts of a narrow range alone and refuses the others.
    if (Math.max(...values) - Math.min(...values) < 2) return undefined;
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: only float weights can be quantized; leave this ${shape.join("x")} integer const out by naming it in opNameConfigs`,
    );
  }
  const iOS18 = isIos18Opset(context.opset);
  if (!iOS18 && LINEAR_DTYPES[config.dtype].bits === 4) {
    if (skipInfinite()) return undefined;
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: 4-bit quantization needs an iOS18 program (opset CoreML8), this one is ${context.opset}; re-convert for iOS18 or use int8/uint8`,
    );
  }
  if (!iOS18 && config.granularity === "per_block") {
    if (skipInfinite()) return undefined;
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: per_block quantization needs an iOS18 program (opset CoreML8), this one is ${context.opset}; re-convert for iOS18 or use per_channel`,
    );
  }
  let quantized: BlockwiseQuantized | string;
  try {
    quantized = quantizeValues(name, values, shape, dataType, config, consumers, producers);
  } catch (error) {
    if (skipInfinite()) return undefined;
    throw error;
  }
  if ((typeof quantized === "string" || !quantized.scale.every(Number.isFinite)) && skipInfinite()) return undefined;
  if (typeof quantized === "string") {
    context.skipped.push({ name, reason: quantized });
    return undefined;
  }
  const write = iOS18 ? shiftScaleOp : affineDequantizeOp;
  return write(`${name}${QUANTIZED_SUFFIX}`, dataType, shape, quantized, DTYPE_CODES[config.dtype], context.newBlobs);
}

/**
 * A float tensor quantized with a config, its blocks along the axes its consumers
 * read (one block when there are none), or a reason to skip it. An infinity is
 * not looked for here: callers skip such tensors (before, or from the scales after).
 */
function quantizeValues(
  name: string,
  values: FloatElements,
  shape: readonly number[],
  dataType: DataType,
  config: ResolvedLinearQuantizerConfig,
  consumers: readonly ConstConsumer[] | undefined,
  producers: ReadonlyMap<string, Operation>,
): BlockwiseQuantized | string {
  const blockSizes = consumers === undefined ? shape.map(() => 0) : blockSizesOf(name, shape, config, consumers, producers);
  if (typeof blockSizes === "string") return blockSizes;
  const bad = blockSizes.findIndex((size, axis) => size > 0 && (shape[axis] as number) % size !== 0);
  if (bad >= 0) return `block size ${blockSizes[bad]} does not divide axis ${bad} of size ${shape[bad]}`;
  const float = dataType === DataType.FLOAT16 ? "float16" : "float32";
  return quantizeBlockwise(values, shape, { mode: config.mode, dtype: config.dtype, blockSizes, float });
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

/** Whether any value is +-Infinity: a loop, as this runs over every weight. */
function hasInfinity(values: FloatElements): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === INFINITY || v === -INFINITY) return true;
  }
  return false;
}

/**
 * Pruning of an ML Program's weights, as coremltools' `prune_weights`: each
 * qualifying `const` becomes `constexpr_sparse_to_dense` (iOS16/17: nonzero data,
 * packed mask and shape as attributes; iOS18: nonzero data and a UINT1 mask as
 * inputs), computed in the weight's own float type.
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { QuantizeError } from "../errors.js";
import { DataType, OperationSchema, TensorValue_RepeatedBytesSchema, ValueSchema, type Operation, type Value } from "../gen/MIL_pb.js";
import { floatRounding, type ArithmeticFloat } from "./blockwise-linear.js";
import { castFloat64 } from "./cast-float64.js";
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
import { checkJointOpset, jointReplacement, type JointCompressors, type JointContext } from "./joint-compression.js";
import type { MlPackage } from "./ml-package.js";
import { constantValue, constElements, inlineValue, namedOutput, opNameOf, tensorType, type NewBlobs } from "./program-values.js";
import {
  checkOpTypeConfigs,
  isStructuredPruning,
  resolvePrunerConfig,
  STRUCTURED_PRUNING_OP_TYPES,
  type PrunerConfig,
  type ResolvedMagnitudePrunerConfig,
  type ResolvedPrunerConfig,
} from "./prune-config.js";
import { packSubByte } from "./sub-byte.js";

/** What {@link pruneWeights} gives. */
export type PruneResult = CompressionResult;

/** The suffix of the names of the ops the reference writes. */
const SPARSIFIED_SUFFIX = "_sparsified";

type ResolvedConfig = ResolvedCompressionConfig<ResolvedPrunerConfig>;

/** What one block's pass needs besides the block. */
interface PassContext extends BlockContext {
  readonly config: ResolvedConfig;
  readonly skipped: SkippedWeight[];
}

/**
 * Prunes an ML Program's weights, as coremltools' `prune_weights` with
 * `OpMagnitudePrunerConfig`s and `OpThresholdPrunerConfig`s does: same choice of
 * weights, same ops and names, weight.bin byte for byte. A config is picked per
 * `const` as `linearQuantizeWeights` picks one.
 *
 * @param pkg - the package; not modified
 * @param config - op configs: global, by consumer op type, by op name (`null` skips)
 * @param options - `jointCompression: true` compresses what a former pass wrote (iOS18, MLPROGRAM.md section 12)
 * @returns the new package and the weights skipped
 * @throws {@link QuantizeError} `invalid-option` for a config the reference refuses
 *   (a field out of range, a `const` op type key, block or n:m under another op type
 *   than conv/linear, ops sharing a weight with different configs);
 *   `unsupported-model` for block or n:m pruning of a weight that an op reads among
 *   several values (the reference crashes), a model that is not an ML Program;
 *   `unsupported-model` also for joint compression of a program older than iOS18, or joint block or n:m pruning (defect D2)
 * @example
 * ```ts
 * const { package: sparse } = pruneWeights(pkg, { global: { kind: "magnitude", targetSparsity: 0.5 } });
 * ```
 */
export function pruneWeights(pkg: MlPackage, config: CompressionConfig<PrunerConfig>, options: CompressionOptions = {}): PruneResult {
  const resolved = resolveCompressionConfig(config, resolvePrunerConfig);
  checkOpTypeConfigs(resolved.opTypeConfigs);
  const skipped: SkippedWeight[] = [];
  const generatedNames = new Map<string, number>();
  const compressed = compressProgram(pkg, (block) => {
    const context: PassContext = { ...block, config: resolved, skipped };
    if (options.jointCompression !== true) {
      return (op, consumers) => {
        const replacement = op.type === "const" ? pruneConst(op, consumers, context) : undefined;
        return replacement === undefined ? undefined : [replacement];
      };
    }
    // Joint pruning looks only at the constexpr ops a former pass wrote, and leaves plain consts alone.
    checkJointOpset(block.opset, isIos18Opset(block.opset));
    const joint: JointContext<ResolvedPrunerConfig> = {
      ...context,
      generatedNames,
      constant: (dataType, shape, values) => constantValue(dataType, shape, values, block.newBlobs),
    };
    return (op, consumers, producers) => jointReplacement("prune", op, consumers, producers, joint, pruneForJoint);
  });
  return { package: compressed, skipped };
}

/** The pruning of a dense weight joint compression asks for; block and n:m pruning are refused (the reference crashes: defect D2). */
const pruneForJoint: JointCompressors<ResolvedPrunerConfig>["prune"] = (tensor, config) => {
  if (isStructuredPruning(config)) {
    throw new QuantizeError(
      "unsupported-model",
      `${tensor.name}: block and n:m pruning of an already compressed weight fail in coremltools; prune by targetSparsity or threshold, or prune before compressing`,
    );
  }
  return pruneValues(tensor.values, tensor.shape, config, tensor.dataType === DataType.FLOAT16 ? "float16" : "float32");
};

/**
 * Whether block or n:m pruning applies to a const (`_check_const_op_is_valid`): every
 * consumer a conv or linear reading it as `weight`, unless the const is named in
 * opNameConfigs.
 */
function structureApplies(name: string, consumers: readonly ConstConsumer[], config: ResolvedConfig): boolean {
  if (Object.hasOwn(config.opNameConfigs, name)) return true;
  const tuple = consumers.find((consumer) => consumer.inTuple);
  if (tuple !== undefined) {
    throw new QuantizeError(
      "unsupported-model",
      `const ${name}: ${opNameOf(tuple.op)} reads it among several values, where block and n:m pruning fail in coremltools; name the const in opNameConfigs with null, or use targetSparsity alone`,
    );
  }
  return consumers.every(({ op, input }) => STRUCTURED_PRUNING_OP_TYPES.includes(op.type) && input === "weight");
}

/** The constexpr op replacing a const, or undefined when the const stays. */
function pruneConst(op: Operation, consumers: readonly ConstConsumer[], context: PassContext): Operation | undefined {
  const selected = selectConst(op, consumers, context.config);
  if (selected === undefined) return undefined;
  const { name, dataType, shape, config } = selected;
  const skip = (reason: string): undefined => {
    context.skipped.push({ name, reason });
    return undefined;
  };
  if (isStructuredPruning(config) && !structureApplies(name, consumers, context.config))
    return skip("block and n:m pruning apply to conv and linear weights only");
  const values = constElements(op, context.blobs);
  if (values === undefined) return undefined;
  const pruned = pruneValues(values, shape, config, dataType === DataType.FLOAT16 ? "float16" : "float32");
  if (typeof pruned === "string") return skip(pruned);
  const iOS18 = isIos18Opset(context.opset);
  return sparseToDenseOp(`${name}${SPARSIFIED_SUFFIX}`, dataType, shape, pruned, iOS18, context.newBlobs);
}

/** A weight pruned by a config, computed in the weight's float type; or a reason to skip it. */
function pruneValues(values: Float64Array, shape: readonly number[], config: ResolvedPrunerConfig, float: ArithmeticFloat): Float64Array | string {
  // float64 thresholds meet the weight's type by numpy's one-rounding cast.
  const cast = (x: number) => castFloat64(float, x);
  if (config.kind === "threshold") return pruneByThreshold(values, cast(config.threshold), config.minimumSparsityPercentile);
  return pruneByMagnitude(values, shape, config, floatRounding(float), cast);
}

/** Zeroes `|w| <= threshold`; a reason to skip when too few zeros result. */
function pruneByThreshold(values: Float64Array, threshold: number, minimumSparsity: number): Float64Array | string {
  const pruned = values.map((v) => (Math.abs(v) <= threshold ? 0 : v));
  const sparsity = pruned.reduce((zeros, v) => zeros + (v === 0 ? 1 : 0), 0) / pruned.length;
  return sparsity < minimumSparsity ? `sparsity ${sparsity} is below minimumSparsityPercentile ${minimumSparsity}` : pruned;
}

function pruneByMagnitude(
  values: Float64Array,
  shape: readonly number[],
  config: ResolvedMagnitudePrunerConfig,
  round: (x: number) => number,
  cast: (x: number) => number,
): Float64Array | string {
  const dim = config.dim ?? 0;
  if (config.nMRatio !== null) return pruneNM(values, shape, config.nMRatio, dim);
  const magnitudes = config.blockSize === null ? values.map(Math.abs) : blockNorms(values, shape, config.blockSize, dim, round);
  if (typeof magnitudes === "string") return magnitudes;
  const sparsity = config.targetSparsity ?? 0;
  if (sparsity === 1) return new Float64Array(values.length);
  if (sparsity === 0) return values.slice();
  const threshold = cast(percentile(magnitudes, sparsity, round));
  return values.map((v, i) => ((magnitudes[i] as number) <= threshold ? 0 : v));
}

/** numpy's linear percentile of the magnitudes at `sparsity`, the difference rounded in the weight's type. */
function percentile(magnitudes: Float64Array, sparsity: number, round: (x: number) => number): number {
  const sorted = magnitudes.slice().sort();
  const n = sorted.length;
  const v = (n - 1) * ((sparsity * 100) / 100);
  const k = Math.floor(v);
  const t = v - k;
  if (k >= n - 1) return sorted[n - 1] as number;
  const a = sorted[k] as number;
  const b = sorted[k + 1] as number;
  const d = round(b - a);
  return t < 0.5 ? a + d * t : b - d * (1 - t);
}

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = shape.map(() => 1);
  for (let axis = shape.length - 2; axis >= 0; axis--) strides[axis] = (strides[axis + 1] as number) * (shape[axis + 1] as number);
  return strides;
}

/** Each entry replaced by the L2 norm of its block of `size` along `dim`, in the weight's type; or a reason to skip. */
function blockNorms(values: Float64Array, shape: readonly number[], size: number, dim: 0 | 1, round: (x: number) => number): Float64Array | string {
  const channel = shape[dim] as number;
  if (size > channel / 2) return `blockSize ${size} is more than half of axis ${dim} (${channel})`;
  const stride = stridesOf(shape)[dim] as number;
  const norms = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const position = Math.floor(i / stride) % channel;
    if (position % size !== 0) continue;
    let sum = 0;
    const end = Math.min(size, channel - position);
    for (let j = 0; j < end; j++) {
      const w = values[i + j * stride] as number;
      sum = round(sum + round(w * w));
    }
    const norm = round(Math.sqrt(sum));
    for (let j = 0; j < end; j++) norms[i + j * stride] = norm;
  }
  return norms;
}

/** Zeroes the n smallest of every m consecutive entries along `dim` (ties to the lower position); or a reason to skip. */
function pruneNM(values: Float64Array, shape: readonly number[], [n, m]: readonly [number, number], dim: 0 | 1): Float64Array | string {
  const channel = shape[dim] as number;
  if (m > channel / 2) return `m ${m} is more than half of axis ${dim} (${channel})`;
  const stride = stridesOf(shape)[dim] as number;
  const pruned = values.slice();
  for (let i = 0; i < values.length; i++) {
    const position = Math.floor(i / stride) % channel;
    if (position % m !== 0) continue;
    // Padding past the axis end takes part with magnitude 0, after the real entries.
    const group = Array.from({ length: m }, (_, j) => (position + j < channel ? Math.abs(values[i + j * stride] as number) : 0));
    const order = group.map((_, j) => j).sort((x, y) => (group[x] as number) - (group[y] as number) || x - y);
    for (const j of order.slice(0, n)) if (position + j < channel) pruned[i + j * stride] = 0;
  }
  return pruned;
}

/** `constexpr_sparse_to_dense`: iOS18 with inputs (nonzero data, UINT1 mask), iOS16/17 with attributes (nonzero data, packed mask, shape). */
function sparseToDenseOp(name: string, float: DataType, shape: readonly number[], pruned: Float64Array, iOS18: boolean, newBlobs: NewBlobs): Operation {
  const mask = Uint8Array.from(pruned, (v) => (v === 0 ? 0 : 1));
  const nonzero = pruned.filter((v) => v !== 0);
  const nonzeroData = constantValue(float, [nonzero.length], nonzero, newBlobs);
  const output = namedOutput(name, float, shape);
  const nameAttribute = inlineValue(DataType.STRING, [], [name]);
  if (iOS18) {
    const inputs: [string, Value][] = [
      ["nonzero_data", nonzeroData],
      ["mask", constantValue(DataType.UINT1, shape, mask, newBlobs)],
    ];
    return create(OperationSchema, {
      type: "constexpr_sparse_to_dense",
      inputs: Object.fromEntries(inputs.map(([key, value]) => [key, { arguments: [{ binding: { case: "value" as const, value } }] }])),
      outputs: [output],
      attributes: { name: nameAttribute },
    });
  }
  const packed = packSubByte(mask, 1);
  return create(OperationSchema, {
    type: "constexpr_sparse_to_dense",
    outputs: [output],
    attributes: {
      nonzero_data: nonzeroData,
      mask: constantValue(DataType.UINT8, [packed.length], packed, newBlobs),
      shape: uint32Value(shape),
      name: nameAttribute,
    },
  });
}

/** An inline UINT32 vector, stored as little-endian bytes as the reference stores it. */
function uint32Value(values: readonly number[]): Value {
  const bytes = new Uint8Array(new Uint32Array(values).buffer);
  return create(ValueSchema, {
    type: tensorType(DataType.UINT32, [values.length]),
    value: {
      case: "immediateValue",
      value: { value: { case: "tensor", value: { value: { case: "bytes", value: create(TensorValue_RepeatedBytesSchema, { values: bytes }) } } } },
    },
  });
}

/**
 * What the ML Program compression passes (linear quantization, palettization,
 * pruning) share: resolving their op configs, picking a const's config as the
 * reference does, walking every block of every function, replacing consts and
 * rebinding their consumers, and writing weight.bin again in program order.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { DataType, type Block, type Operation, type Value } from "../gen/MIL_pb.js";
import type { CompressionConfig } from "./compression-config.js";
import { type BlockContext, rewriteProgramBlocks } from "./lay-out-blobs.js";
import type { MlPackage } from "./ml-package.js";
import { MIN_BLOB_ELEMENTS, opNameOf, tensorShape } from "./program-values.js";

/** The first opset (iOS18) whose constexpr ops take their parameters as inputs (and have 4-bit, per-block, grouped and vector forms). */
const FIRST_INPUT_OPSET = 8;
/** The const types the reference considers (`is_valid_op`). */
const CANDIDATE_TYPES: ReadonlySet<DataType> = new Set([DataType.FLOAT16, DataType.FLOAT32, DataType.UINT8, DataType.INT8]);

/** A weight left as it was, and why (the reference logs a warning for each). */
export interface SkippedWeight {
  /** The `const` op's name. */
  readonly name: string;
  /** Why, in a line. */
  readonly reason: string;
}

/** What a compression pass gives. */
export interface CompressionResult {
  /** The new package. */
  readonly package: MlPackage;
  /** Weights a config selected but that were left as they were, in program order. */
  readonly skipped: readonly SkippedWeight[];
}

/** A config with every field present: `null` where no config applies. */
export type ResolvedCompressionConfig<C> = Required<CompressionConfig<C>>;

/** An op reading a const, and through which input. */
export interface ConstConsumer {
  /** The consuming op. */
  readonly op: Operation;
  /** The input it reads the const through. */
  readonly input: string;
  /** Whether the const is one of several values of the input (a tuple: concat `values`, einsum). */
  readonly inTuple: boolean;
}

/** What a pass needs, besides its own state, to rewrite one block specialization. */
export type { BlockContext } from "./lay-out-blobs.js";

/**
 * The ops replacing a `const` or a constexpr op (the last one's outputs take the
 * op's outputs' places, in order), or undefined when the op stays.
 */
export type ConstReplacer = (
  op: Operation,
  consumers: readonly ConstConsumer[],
  producers: ReadonlyMap<string, Operation>,
  consumersOf: ReadonlyMap<string, readonly ConstConsumer[]>,
) => Operation[] | undefined;

/** How a compression pass runs, besides its op configs. */
export interface CompressionOptions {
  /**
   * Compress the already compressed weights further, as coremltools'
   * `joint_compression=True` does (iOS18 programs only): the parameters of the
   * constexpr ops a former pass wrote become the candidates (MLPROGRAM.md section 12).
   * @defaultValue false
   */
  readonly jointCompression?: boolean;
}

/**
 * Resolves every config of a {@link CompressionConfig} with the pass's own resolver.
 *
 * @param config - the configs as given
 * @param resolveOne - resolves one config; `where` names it in errors
 * @returns global, by op type and by op name, `null` where a config skips
 * @throws what `resolveOne` throws
 */
export function resolveCompressionConfig<C, R>(config: CompressionConfig<C>, resolveOne: (config: C, where: string) => R): ResolvedCompressionConfig<R> {
  const one = (c: C | null | undefined, where: string): R | null => (c === null || c === undefined ? null : resolveOne(c, where));
  const byKey = (configs: Readonly<Record<string, C | null>> | undefined, where: string) =>
    Object.fromEntries(Object.entries(configs ?? {}).map(([key, c]) => [key, one(c, `${where}.${key}`)]));
  return {
    global: one(config.global, "global"),
    opTypeConfigs: byKey(config.opTypeConfigs, "opTypeConfigs"),
    opNameConfigs: byKey(config.opNameConfigs, "opNameConfigs"),
  };
}

/**
 * Rewrites every block specialization of every function of an ML Program, then
 * writes weight.bin again in program order.
 *
 * @param pkg - the package; not modified
 * @param replacerFor - the const replacer of one block specialization
 * @returns the new package
 * @throws {@link QuantizeError} `unsupported-model` for a model that is not an ML Program
 */
export function compressProgram(pkg: MlPackage, replacerFor: (context: BlockContext) => ConstReplacer): MlPackage {
  return rewriteProgramBlocks(pkg, (block, context) => replaceConsts(block, replacerFor(context)));
}

/** One block (its nested blocks first): each const or constexpr op offered to `replace`, replaced in place, its consumers rebound to the replacement's end. */
function replaceConsts(block: Block, replace: ConstReplacer): Block {
  const operations = block.operations.map((op) => (op.blocks.length === 0 ? op : { ...op, blocks: op.blocks.map((nested) => replaceConsts(nested, replace)) }));
  const consumers = new Map<string, ConstConsumer[]>();
  const producers = new Map<string, Operation>();
  for (const op of operations) {
    for (const output of op.outputs) producers.set(output.name, op);
    for (const [input, argument] of Object.entries(op.inputs)) {
      for (const { binding } of argument.arguments) {
        if (binding.case === "name") {
          const consumer = { op, input, inTuple: argument.arguments.length > 1 };
          consumers.set(binding.value, [...(consumers.get(binding.value) ?? []), consumer]);
        }
      }
    }
  }
  const renamed = new Map<string, string>();
  const replaced = operations.flatMap((op) => {
    const output = op.outputs[0]?.name ?? "";
    const chain = op.type === "const" || op.type.startsWith("constexpr_") ? replace(op, consumers.get(output) ?? [], producers, consumers) : undefined;
    if (chain === undefined) return [op];
    const last = chain.at(-1)?.outputs ?? [];
    op.outputs.forEach(({ name }, i) => {
      const now = last[i]?.name ?? "";
      if (now !== name) renamed.set(name, now);
    });
    return chain;
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

/**
 * The config of a const, as the reference picks it (`_get_const_op_config`): its
 * own name in `opNameConfigs`, else its consumers' (name, then type, then
 * `global`), which must agree.
 *
 * @param name - the const op's name
 * @param consumers - the ops reading it
 * @param config - the resolved configs
 * @returns the config, or `null` to leave the const as it is
 * @throws {@link QuantizeError} `invalid-option` for a `const` op type key, or
 *   consumers resolving to different configs
 */
export function constConfig<R>(name: string, consumers: readonly ConstConsumer[], config: ResolvedCompressionConfig<R>): R | null {
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
    const [a, b] = [consumers[0], consumers[other]].map((consumer) => opNameOf((consumer as ConstConsumer).op));
    throw new QuantizeError(
      "invalid-option",
      `const ${name}: ops ${a} and ${b} share it and resolve to different configs; give them the same config, or name the const in opNameConfigs`,
    );
  }
  return first;
}

/**
 * A bool parameter of an op (`transpose_y`), inline or from a const.
 *
 * @param op - the op
 * @param input - the parameter's input name
 * @param producers - the block's ops by output name
 * @returns the parameter, false when absent
 */
export function boolParameter(op: Operation, input: string, producers: ReadonlyMap<string, Operation>): boolean {
  const binding = op.inputs[input]?.arguments[0]?.binding;
  const value: Value | undefined =
    binding?.case === "value" ? binding.value : binding?.case === "name" ? producers.get(binding.value)?.attributes.val : undefined;
  if (value?.value.case !== "immediateValue" || value.value.value.value.case !== "tensor") return false;
  const tensor = value.value.value.value.value.value;
  return tensor.case === "bools" && tensor.value.values[0] === true;
}

/** A const the reference would compress (`need_compress_const`), with its config. */
export interface SelectedConst<R> {
  /** The const op's name. */
  readonly name: string;
  /** Its element type. */
  readonly dataType: DataType;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its config. */
  readonly config: R;
}

/**
 * Whether a const is compressed, as the reference decides before the pass's own
 * checks: a float or 8-bit integer tensor stored in weight.bin, of rank 2 or more,
 * above the config's weight threshold, read by ops none of which is a constexpr.
 *
 * @param op - the const op
 * @param consumers - the ops reading it
 * @param config - the resolved configs
 * @returns the const and its config, or undefined when it stays
 * @throws what {@link constConfig} throws
 */
export function selectConst<R extends { readonly weightThreshold: number }>(
  op: Operation,
  consumers: readonly ConstConsumer[],
  config: ResolvedCompressionConfig<R>,
): SelectedConst<R> | undefined {
  const type = tensorShape(op.attributes.val?.type);
  if (type === undefined || !CANDIDATE_TYPES.has(type.dataType)) return undefined;
  const { dataType, shape } = type;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count < MIN_BLOB_ELEMENTS) return undefined;
  const name = opNameOf(op);
  const picked = constConfig(name, consumers, config);
  if (picked === null || consumers.length === 0) return undefined;
  if (consumers.some(({ op: consumer }) => consumer.type.startsWith("constexpr_"))) return undefined;
  if (shape.length <= 1 || count <= picked.weightThreshold) return undefined;
  return { name, dataType, shape, config: picked };
}

/**
 * Whether an opset is iOS18 or later, whose constexpr ops take their parameters as
 * inputs (and have 4-bit, per-block, grouped and vector forms).
 *
 * @param opset - a block specialization's opset (`CoreML8`)
 * @returns whether it is `CoreML8` or later
 */
export function isIos18Opset(opset: string): boolean {
  return Number(/^CoreML(\d+)$/.exec(opset)?.[1] ?? 0) >= FIRST_INPUT_OPSET;
}

/**
 * The walker for ML Programs: every constant value of a program (a `const` op's
 * `val`, a parameter written into an op as an attribute or a value-bound input, as
 * the constexpr ops hold their data), with its shape, type and where its bytes
 * are, and every op input fed by a weight (a `const` or a chain of constexpr ops).
 * Functions, every block specialization and nested blocks are walked in order.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import type { Block, NamedValueType, Operation, Program, TensorValue, Value, ValueType } from "../gen/MIL_pb.js";
import type { BlobDataType } from "./blob-data-types.js";
import { milDataType } from "./mil-data-types.js";
import { blobElementCount, blobsByOffset, BLOB_ALIGNMENT, WEIGHT_BIN_NAME, type WeightBin, type WeightBlob } from "./weight-bin.js";

/** Where an op is: its function, block specialization and position. */
export interface OpLocation {
  /** The function's name, e.g. `main`. */
  readonly function: string;
  /** The block specialization (opset) the op belongs to, e.g. `CoreML6`. */
  readonly opset: string;
  /** e.g. `main/CoreML8/operations[3] "fc1"`, nested blocks as `.../blocks[0]/operations[1] "x"`. */
  readonly path: string;
  /** The op's type, e.g. `const`, `linear`, `constexpr_lut_to_dense`. */
  readonly opType: string;
  /** The op's `name` attribute (its first output's name when it has none). */
  readonly opName: string;
}

/** Where a constant's bytes are. */
export type ConstantStorage =
  | {
      /** Inside model.mlmodel, as an immediate value. */
      readonly kind: "inline";
      /** The `TensorValue` field holding it: `floats`, `ints`, `bytes`, ... */
      readonly field: NonNullable<TensorValue["value"]["case"]>;
      /** Bytes of the values (the field's payload, without protobuf framing). */
      readonly byteLength: number;
    }
  | {
      /** In weight.bin. */
      readonly kind: "blob";
      /** Offset of the blob's metadata record (what the program holds). */
      readonly offset: number;
      /** The blob's element type. */
      readonly blobDataType: BlobDataType;
      /** Bytes of the blob's data. */
      readonly byteLength: number;
    };

/** An op input reading a constant (or a weight, see {@link WeightInput}). */
export interface ConsumerInput extends OpLocation {
  /** The input's parameter name, e.g. `weight`. */
  readonly input: string;
  /** Position among the input's bindings (tuple inputs such as `concat.values`), 0 for most. */
  readonly index: number;
}

/** One constant value of a program. */
export interface ProgramConstant extends OpLocation {
  /** Which parameter of the op holds it: `val` for a `const`, else e.g. `lut`, `indices`. */
  readonly param: string;
  /** Whether the op holds it as an attribute or as a value-bound input. */
  readonly via: "attribute" | "input";
  /** The name consumers bind to: a `const`'s output; undefined for a parameter value. */
  readonly output: string | undefined;
  /** Dimensions; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Element type, as coremltools names it (`float16`, `uint4`, `int32`). */
  readonly dataType: string;
  /** Number of elements. */
  readonly count: number;
  /** Where its bytes are. */
  readonly storage: ConstantStorage;
  /** The inputs reading it: the ops binding a `const`'s output; for a parameter value, the op holding it. */
  readonly consumers: readonly ConsumerInput[];
}

/** An op input fed by a weight: a `const`'s output or a chain of constexpr ops. */
export interface WeightInput extends ConsumerInput {
  /** The op producing the bound value (the `const`, or the last constexpr op of the chain). */
  readonly producer: string;
  /** The constexpr ops' types from the chain's start to the producer, in program order; `[]` for a `const`. */
  readonly chain: readonly string[];
  /**
   * The paths of the ops whose constants make the value, in program order: the
   * `const`, or the chain's constexpr ops and the consts they read. The
   * {@link ProgramConstant}s with these paths are where the value is stored.
   */
  readonly sources: readonly string[];
  /** The value's dimensions. */
  readonly shape: readonly number[];
  /** The value's element type. */
  readonly dataType: string;
}

/** What {@link walkProgram} finds. */
export interface ProgramWalk {
  /** Every constant value, in program order. */
  readonly constants: readonly ProgramConstant[];
  /** Every input of an op that is not a constexpr op fed by a const or a constexpr chain, in program order. */
  readonly weights: readonly WeightInput[];
}

/**
 * Blocks nested in ops (`cond`, `while_loop`) followed this deep at most. A
 * decoded program cannot nest deeper (the decoder's recursion limit); the limit
 * turns a hand-built program nested beyond it into an error instead of a stack
 * overflow.
 */
export const MAX_BLOCK_NESTING = 100;
/** The prefix of the op types that compute a constant at load time (decompression ops). */
const CONSTEXPR_PREFIX = "constexpr_";

interface OpEntry {
  readonly op: Operation;
  readonly location: OpLocation;
  /** Program order within the function. */
  readonly order: number;
}

/**
 * Walks a program: its constants (with storage checked against `weights`) and the
 * op inputs they feed.
 *
 * @param program - the ML Program
 * @param weights - the package's decoded weight.bin, or undefined when it has none
 * @returns the constants and the weight inputs
 * @throws {@link QuantizeError} `invalid-weights` naming the op when a blob
 *   reference is misaligned, points at no blob, or at a blob of another type or
 *   element count than the value declares, or an inline value does not hold as many
 *   elements as its shape; `unsupported-model` when a value refers to another file
 *   than weight.bin, to weight.bin in a package without one, a constant's type is
 *   not a tensor of known dimensions, or blocks nest deeper than {@link MAX_BLOCK_NESTING}
 * @example
 * ```ts
 * const { constants, weights } = walkProgram(packageProgram(pkg), pkg.weights);
 * ```
 */
export function walkProgram(program: Program, weights: WeightBin | undefined): ProgramWalk {
  const blobs = weights === undefined ? undefined : blobsByOffset(weights);
  const constants: ProgramConstant[] = [];
  const weightInputs: WeightInput[] = [];
  for (const [functionName, fn] of Object.entries(program.functions)) {
    for (const [opset, block] of Object.entries(fn.blockSpecializations)) {
      const ops: OpEntry[] = [];
      collectOps(block, `${functionName}/${opset}`, functionName, opset, ops, 0);
      const producers = new Map<string, OpEntry>();
      for (const entry of ops) for (const output of entry.op.outputs) producers.set(output.name, entry);
      const consumersOf = new Map<string, ConsumerInput[]>();
      for (const entry of ops) {
        forEachNameBinding(entry.op, (input, index, name) => {
          const list = consumersOf.get(name) ?? [];
          list.push({ ...entry.location, input, index });
          consumersOf.set(name, list);
        });
      }
      for (const entry of ops) constants.push(...opConstants(entry, consumersOf, blobs));
      for (const entry of ops) {
        if (entry.op.type.startsWith(CONSTEXPR_PREFIX)) continue;
        forEachNameBinding(entry.op, (input, index, name) => {
          const producer = producers.get(name);
          if (producer === undefined || !isWeightProducer(producer.op)) return;
          const type = producer.op.outputs.find((output) => output.name === name)?.type;
          // A const of a list, tuple or dictionary is no weight.
          if (type?.type.case !== "tensorType") return;
          const tensor = tensorTypeOf(type, `${producer.location.path} output ${name}`);
          const sources = sourceOps(producer, producers);
          weightInputs.push({
            ...entry.location,
            input,
            index,
            producer: producer.location.opName,
            chain: sources.filter((source) => source.op.type.startsWith(CONSTEXPR_PREFIX)).map((source) => source.op.type),
            sources: sources.map((source) => source.location.path),
            shape: tensor.shape,
            dataType: tensor.dataType,
          });
        });
      }
    }
  }
  return { constants, weights: weightInputs };
}

/** Every op of a block and of the blocks nested in its ops, in program order. */
function collectOps(block: Block, blockPath: string, fn: string, opset: string, into: OpEntry[], depth: number): void {
  if (depth > MAX_BLOCK_NESTING) {
    // The path of a block this deep is long: its middle is left out, so the message stays one readable line.
    const shown = blockPath.length > 160 ? `${blockPath.slice(0, 70)}…${blockPath.slice(-70)}` : blockPath;
    throw new QuantizeError("unsupported-model", `${shown}: blocks nested more than ${MAX_BLOCK_NESTING} deep`);
  }
  block.operations.forEach((op, i) => {
    const opName = opNameOf(op);
    const path = `${blockPath}/operations[${i}] ${JSON.stringify(opName)}`;
    into.push({ op, location: { function: fn, opset, path, opType: op.type, opName }, order: into.length });
    op.blocks.forEach((nested, b) => collectOps(nested, `${path}/blocks[${b}]`, fn, opset, into, depth + 1));
  });
}

function opNameOf(op: Operation): string {
  const value = op.attributes.name?.value;
  const tensor = value?.case === "immediateValue" && value.value.value.case === "tensor" ? value.value.value.value.value : undefined;
  if (tensor?.case === "strings" && tensor.value.values.length === 1) return tensor.value.values[0] as string;
  return op.outputs[0]?.name ?? "";
}

function forEachNameBinding(op: Operation, visit: (input: string, index: number, name: string) => void): void {
  for (const [input, argument] of Object.entries(op.inputs)) {
    argument.arguments.forEach((binding, index) => {
      if (binding.binding.case === "name") visit(input, index, binding.binding.value);
    });
  }
}

function isWeightProducer(op: Operation): boolean {
  return op.type === "const" || op.type.startsWith(CONSTEXPR_PREFIX);
}

/**
 * `producer` and the ops it depends on through name bindings, in program order:
 * for a constexpr op, the constexpr ops and consts upstream of it; a const stops
 * the walk.
 */
function sourceOps(producer: OpEntry, producers: ReadonlyMap<string, OpEntry>): OpEntry[] {
  const seen = new Set<OpEntry>();
  const visit = (entry: OpEntry): void => {
    if (seen.has(entry) || !isWeightProducer(entry.op)) return;
    seen.add(entry);
    if (!entry.op.type.startsWith(CONSTEXPR_PREFIX)) return;
    forEachNameBinding(entry.op, (_input, _index, name) => {
      const upstream = producers.get(name);
      if (upstream !== undefined) visit(upstream);
    });
  };
  visit(producer);
  return [...seen].sort((a, b) => a.order - b.order);
}

/** The constant values an op holds: a const's `val`, and any tensor attribute or value-bound input but `name`. */
function opConstants(
  entry: OpEntry,
  consumersOf: ReadonlyMap<string, readonly ConsumerInput[]>,
  blobs: ReadonlyMap<number, WeightBlob> | undefined,
): ProgramConstant[] {
  const { op, location } = entry;
  const found: ProgramConstant[] = [];
  const isConst = op.type === "const";
  const add = (param: string, via: "attribute" | "input", value: Value, index: number): void => {
    if (!holdsTensor(value)) return;
    const where = `${location.path} ${via === "attribute" ? "attribute" : "input"} ${param}${index > 0 ? `[${index}]` : ""}`;
    const tensor = tensorTypeOf(value.type, where);
    const storage = storageOf(value, tensor, where, blobs);
    const output = isConst && param === "val" ? op.outputs[0]?.name : undefined;
    const consumers = output !== undefined ? (consumersOf.get(output) ?? []) : [{ ...location, input: param, index }];
    found.push({ ...location, param, via, output, shape: tensor.shape, dataType: tensor.dataType, count: tensor.count, storage, consumers });
  };
  for (const [param, value] of Object.entries(op.attributes)) {
    if (param !== "name") add(param, "attribute", value, 0);
  }
  for (const [param, argument] of Object.entries(op.inputs)) {
    argument.arguments.forEach((binding, index) => {
      if (binding.binding.case === "value") add(param, "input", binding.binding.value, index);
    });
  }
  return found;
}

/** Tensor values only: tuples, lists and dictionaries hold no weights. */
function holdsTensor(value: Value): boolean {
  const v = value.value;
  return v.case === "blobFileValue" || (v.case === "immediateValue" && v.value.value.case === "tensor");
}

interface TensorFacts {
  readonly shape: number[];
  readonly count: number;
  readonly dataType: string;
  readonly code: number;
}

function tensorTypeOf(type: ValueType | NamedValueType["type"], where: string): TensorFacts {
  const tensor = type?.type.case === "tensorType" ? type.type.value : undefined;
  if (tensor === undefined) throw new QuantizeError("unsupported-model", `${where}: the value's type is not a tensor type`);
  const info = milDataType(tensor.dataType);
  if (info === undefined) throw new QuantizeError("unsupported-model", `${where}: unknown data type code ${tensor.dataType}`);
  const shape = tensor.dimensions.map((dimension, i) => {
    if (dimension.dimension.case !== "constant") throw new QuantizeError("unsupported-model", `${where}: dimension ${i} is not a constant size`);
    const size = dimension.dimension.value.size;
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuantizeError("unsupported-model", `${where}: dimension ${i} is ${size}, beyond 2^53`);
    return Number(size);
  });
  if (BigInt(shape.length) !== tensor.rank) {
    throw new QuantizeError("unsupported-model", `${where}: rank ${tensor.rank} with ${shape.length} dimensions`);
  }
  return { shape, count: shape.reduce((a, b) => a * b, 1), dataType: info.name, code: tensor.dataType };
}

function storageOf(value: Value, tensor: TensorFacts, where: string, blobs: ReadonlyMap<number, WeightBlob> | undefined): ConstantStorage {
  const v = value.value;
  if (v.case === "blobFileValue") {
    const { fileName } = v.value;
    if (fileName !== WEIGHT_BIN_NAME) {
      throw new QuantizeError("unsupported-model", `${where}: refers to ${JSON.stringify(fileName)}; a package's blobs are in ${WEIGHT_BIN_NAME}`);
    }
    if (blobs === undefined) throw new QuantizeError("unsupported-model", `${where}: refers to weight.bin, which the package lacks`);
    const offset = v.value.offset;
    if (offset % BigInt(BLOB_ALIGNMENT) !== 0n) {
      throw new QuantizeError(
        "invalid-weights",
        `${where}: blob offset ${offset} is not a multiple of ${BLOB_ALIGNMENT} (misaligned): no blob record can start there`,
      );
    }
    const blob = offset > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : blobs.get(Number(offset));
    if (blob === undefined)
      throw new QuantizeError("invalid-weights", `${where}: no blob record at offset ${offset} of weight.bin (out of range, or inside another blob)`);
    const expected = milDataType(tensor.code)?.blob;
    if (expected !== blob.dataType) {
      throw new QuantizeError("invalid-weights", `${where}: the value is ${tensor.dataType} but the blob at offset ${offset} holds ${blob.dataType}`);
    }
    const count = blobElementCount(blob);
    if (count !== tensor.count) {
      throw new QuantizeError(
        "invalid-weights",
        `${where}: shape [${tensor.shape.join(", ")}] has ${tensor.count} elements but the blob at offset ${offset} holds ${count}`,
      );
    }
    return { kind: "blob", offset: blob.offset, blobDataType: blob.dataType, byteLength: blob.data.length };
  }
  const immediate = v.case === "immediateValue" && v.value.value.case === "tensor" ? v.value.value.value.value : undefined;
  if (immediate === undefined || immediate.case === undefined) {
    throw new QuantizeError("invalid-weights", `${where}: the tensor value holds no data`);
  }
  const bits = milDataType(tensor.code)?.bits ?? 0;
  let byteLength: number;
  let count: number | undefined;
  switch (immediate.case) {
    case "floats":
    case "ints":
      count = immediate.value.values.length;
      byteLength = count * 4;
      break;
    case "doubles":
    case "longInts":
      count = immediate.value.values.length;
      byteLength = count * 8;
      break;
    case "bools":
      count = immediate.value.values.length;
      byteLength = count;
      break;
    case "strings":
      count = immediate.value.values.length;
      byteLength = immediate.value.values.reduce((sum, s) => sum + new TextEncoder().encode(s).length, 0);
      break;
    case "bytes":
      byteLength = immediate.value.values.length;
      // Packed elements: the byte count follows from the element count.
      if (bits > 0 && byteLength !== Math.ceil((tensor.count * bits) / 8)) {
        throw new QuantizeError(
          "invalid-weights",
          `${where}: ${tensor.count} ${tensor.dataType} elements take ${Math.ceil((tensor.count * bits) / 8)} bytes, the value holds ${byteLength}`,
        );
      }
      break;
  }
  if (count !== undefined && count !== tensor.count) {
    throw new QuantizeError(
      "invalid-weights",
      `${where}: shape [${tensor.shape.join(", ")}] has ${tensor.count} elements, the value holds ${count} ${immediate.case}`,
    );
  }
  return { kind: "inline", field: immediate.case, byteLength };
}

/**
 * The bytes a set of constants takes in the package: inline values, and each
 * weight.bin blob once however many of them read it.
 *
 * @param constants - constants of one program
 * @returns the bytes
 */
export function storedBytes(constants: readonly ProgramConstant[]): number {
  const blobs = new Set<number>();
  let bytes = 0;
  for (const c of constants) {
    if (c.storage.kind === "blob") {
      if (blobs.has(c.storage.offset)) continue;
      blobs.add(c.storage.offset);
    }
    bytes += c.storage.byteLength;
  }
  return bytes;
}

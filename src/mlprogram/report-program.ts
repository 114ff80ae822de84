/**
 * How an ML Program's weights changed under compression: each op input a weight
 * feeds, paired between the original and the compressed program, with its storage
 * before and after, its bytes, and how far the decompressed values are from the
 * original's (SNR, sum of squared errors), as `weightReport` does for neural
 * networks.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import type { Block, Operation } from "../gen/MIL_pb.js";
import { tensorError, type TensorError } from "../measure/tensor-error.js";
import { blockValues, constantTensor, type TensorData } from "./evaluate-constexpr.js";
import { packageProgram, type MlPackage } from "./ml-package.js";
import { opNameOf } from "./program-values.js";
import { storedBytes, walkProgram, type ProgramConstant, type WeightInput } from "./walk-program.js";
import { blobsByOffset, type WeightBlob } from "./weight-bin.js";

/**
 * The element types of weights: an op input fed a tensor of one of these (of rank
 * 1 or more), or fed through constexpr ops, is a weight. Other constant inputs
 * (axes, shapes, flags, scalars) are not.
 */
const WEIGHT_DATA_TYPES: ReadonlySet<string> = new Set(["float16", "float32", "float64", "bfloat16", "float8e4m3fn", "float8e5m2"]);

/** How one side stores a weight. */
export interface ProgramWeightStorage {
  /** The constexpr ops decompressing it, from the chain's start; `[]` for a plain `const`. */
  readonly chain: readonly string[];
  /** The element type of its largest constant: the value's own type for a `const`, e.g. `uint4` for 4-bit palettization. */
  readonly storedDataType: string;
  /** Bytes of every constant making it (a blob several of them read counted once). */
  readonly bytes: number;
}

/** One op input a weight feeds, in both programs. */
export interface ProgramWeightReport {
  /** The function. */
  readonly function: string;
  /** The block specialization (opset), e.g. `CoreML8`. */
  readonly opset: string;
  /** The consuming op's name. */
  readonly opName: string;
  /** The consuming op's type. */
  readonly opType: string;
  /** The input, e.g. `weight`. */
  readonly input: string;
  /** Position among the input's bindings (0 for most). */
  readonly index: number;
  /** The consuming op's path in the original (see {@link OpLocation}). */
  readonly path: string;
  /** The value's dimensions. */
  readonly shape: readonly number[];
  /** The value's element type. */
  readonly dataType: string;
  /** How the original stores it. */
  readonly before: ProgramWeightStorage;
  /** How the compressed program stores it. */
  readonly after: ProgramWeightStorage;
  /** The decompressed values against the original's (SNR, PSNR, largest error, cosine). */
  readonly error: TensorError;
  /** The sum of squared errors over the finite pairs, in float64. */
  readonly sse: number;
}

/** Sums over every paired weight. */
export interface ProgramReportTotals {
  /** Weights paired. */
  readonly weights: number;
  /** Of which compressed: stored through constexpr ops in the compressed program and not in the original. */
  readonly compressed: number;
  /** Of which exact: every value came back unchanged. */
  readonly exact: number;
  /** Bytes of every constant of the original (each blob once). */
  readonly bytesBefore: number;
  /** Bytes of every constant of the compressed program (each blob once). */
  readonly bytesAfter: number;
  /** The sum of every weight's `sse`. */
  readonly sse: number;
  /** `10 log10(Σx² / Σn²)` over every weight; `null` when infinite (no error, or no signal). */
  readonly snrDb: number | null;
}

/** What {@link programReport} gives. */
export interface ProgramReport {
  /** Every weight input of both programs, in the original's program order. */
  readonly weights: readonly ProgramWeightReport[];
  /** Weight inputs of one program only (`function/opset/op.input`), which cannot be compared. */
  readonly unpaired: readonly string[];
  /** Sums. */
  readonly totals: ProgramReportTotals;
}

/**
 * Whether an op input is a weight: a float tensor of rank 1 or more, or anything
 * constexpr ops decompress (not an axis, shape, flag or scalar).
 *
 * @param input - an op input from `walkProgram`
 * @returns whether it is a weight
 */
export function isWeightInput(input: WeightInput): boolean {
  return input.chain.length > 0 || (input.shape.length > 0 && WEIGHT_DATA_TYPES.has(input.dataType));
}

/**
 * Compares a compressed ML Program with its original weight input by weight
 * input: the compressed values are computed from its constexpr ops as Core ML
 * computes them at load time. Inputs are paired by function, opset, op name,
 * input and position.
 *
 * @param original - the uncompressed package
 * @param compressed - the package to judge
 * @returns the report
 * @throws {@link index!QuantizeError} as `walkProgram` and the constexpr evaluator (an
 *   unknown constexpr op, parameters that do not fit); `invalid-weights` when a
 *   paired weight's element counts differ
 * @example
 * ```ts
 * const { totals } = programReport(pkg, palettizeWeights(pkg, { global: { nbits: 4 } }).package);
 * ```
 */
export function programReport(original: MlPackage, compressed: MlPackage): ProgramReport {
  const before = weightsOf(original);
  const after = weightsOf(compressed);
  const weights: ProgramWeightReport[] = [];
  const unpaired: string[] = [];
  let signal = 0;
  for (const [key, b] of before.inputs) {
    const a = after.inputs.get(key);
    if (a === undefined) {
      unpaired.push(key);
      continue;
    }
    const x = b.values();
    const y = a.values();
    if (x.length !== y.length) {
      throw new QuantizeError("invalid-weights", `${key}: ${x.length} values in the original, ${y.length} in the compressed program`);
    }
    const error = tensorError(Float32Array.from(x), Float32Array.from(y));
    for (const v of x) if (Number.isFinite(v)) signal += v * v;
    weights.push({
      function: b.input.function,
      opset: b.input.opset,
      opName: b.input.opName,
      opType: b.input.opType,
      input: b.input.input,
      index: b.input.index,
      path: b.input.path,
      shape: b.input.shape,
      dataType: b.input.dataType,
      before: b.storage,
      after: a.storage,
      error,
      sse: sumOfSquaredErrors(x, y),
    });
  }
  for (const key of after.inputs.keys()) if (!before.inputs.has(key)) unpaired.push(key);
  const sse = weights.reduce((sum, w) => sum + w.sse, 0);
  const snrDb = 10 * Math.log10(signal / sse);
  return {
    weights,
    unpaired,
    totals: {
      weights: weights.length,
      compressed: weights.filter((w) => w.before.chain.length === 0 && w.after.chain.length > 0).length,
      exact: weights.filter((w) => w.error.exact).length,
      bytesBefore: before.bytes,
      bytesAfter: after.bytes,
      sse,
      snrDb: Number.isFinite(snrDb) ? snrDb : null,
    },
  };
}

/** A program's weight inputs by pairing key, each with its storage and a way to compute its values. */
interface ProgramWeights {
  readonly inputs: ReadonlyMap<string, { readonly input: WeightInput; readonly storage: ProgramWeightStorage; readonly values: () => Float64Array }>;
  /** Bytes of every constant, each blob once. */
  readonly bytes: number;
}

function weightsOf(pkg: MlPackage): ProgramWeights {
  const program = packageProgram(pkg);
  const walk = walkProgram(program, pkg.weights);
  const blobs = pkg.weights === undefined ? new Map<number, WeightBlob>() : blobsByOffset(pkg.weights);
  const byPath = new Map<string, ProgramConstant[]>();
  for (const c of walk.constants) byPath.set(c.path, [...(byPath.get(c.path) ?? []), c]);
  // Each specialization's ops by name, nested blocks included (the walker pairs names across them too), and its values.
  const specializations = new Map<string, { readonly ops: ReadonlyMap<string, Operation>; readonly valueOf: (name: string) => TensorData | undefined }>();
  for (const [fnName, fn] of Object.entries(program.functions)) {
    for (const [opset, block] of Object.entries(fn.blockSpecializations)) {
      const operations = flatten(block);
      specializations.set(`${fnName}/${opset}`, { ops: new Map(operations.map((op) => [opNameOf(op), op])), valueOf: blockValues(operations, blobs) });
    }
  }
  const inputs = new Map<string, { input: WeightInput; storage: ProgramWeightStorage; values: () => Float64Array }>();
  for (const input of walk.weights.filter(isWeightInput)) {
    const constants = input.sources.flatMap((path) => byPath.get(path) ?? []);
    const values = (): Float64Array => {
      const specialization = specializations.get(`${input.function}/${input.opset}`);
      const binding = specialization?.ops.get(input.opName)?.inputs[input.input]?.arguments[input.index]?.binding;
      const where = `${input.path} input ${input.input}`;
      if (binding?.case === "value") return constantTensor(binding.value, blobs, where).values;
      const value = binding?.case === "name" ? specialization?.valueOf(binding.value) : undefined;
      // The walker found this input bound to a weight: its value is there.
      if (value === undefined)
        throw new QuantizeError("invalid-weights", `${where}: bound to ${JSON.stringify(binding?.value)}, which no const or constexpr op gives`);
      return value.values;
    };
    inputs.set(pairingKey(input), { input, storage: storageOf(input, constants), values });
  }
  return { inputs, bytes: storedBytes(walk.constants) };
}

/** `main/CoreML8/fc1.weight`, `.../concat_0.values[1]`. */
function pairingKey(input: WeightInput): string {
  return `${input.function}/${input.opset}/${input.opName}.${input.input}${input.index === 0 ? "" : `[${input.index}]`}`;
}

function flatten(block: Block): Operation[] {
  return block.operations.flatMap((op) => [op, ...op.blocks.flatMap(flatten)]);
}

function storageOf(input: WeightInput, constants: readonly ProgramConstant[]): ProgramWeightStorage {
  let largest: ProgramConstant | undefined;
  for (const c of constants) if (largest === undefined || c.storage.byteLength > largest.storage.byteLength) largest = c;
  return { chain: input.chain, storedDataType: largest?.dataType ?? input.dataType, bytes: storedBytes(constants) };
}

/** Σ(y − x)² over the pairs where both are finite, in float64. */
function sumOfSquaredErrors(x: Float64Array, y: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i] as number;
    const b = y[i] as number;
    if (Number.isFinite(a) && Number.isFinite(b)) sum += (b - a) * (b - a);
  }
  return sum;
}

/**
 * A summary of an ML Program package: its functions, its constants with their
 * storage, and the op inputs weights feed, as `inspectModel` summarises a neural
 * network.
 *
 * @packageDocumentation
 */
import type { Block } from "../gen/MIL_pb.js";
import { packageProgram, type MlPackage } from "./ml-package.js";
import { walkProgram, type ProgramConstant, type WeightInput } from "./walk-program.js";

/** One function of a {@link ProgramSummary}. */
export interface FunctionSummary {
  /** The function's name, e.g. `main`. */
  readonly name: string;
  /** The opset of each block specialization, e.g. `["CoreML8"]`. */
  readonly opsets: readonly string[];
  /** Number of operations over every specialization, nested blocks included. */
  readonly operations: number;
}

/** Byte and element counts of constants. */
export interface ConstantTotals {
  /** Number of constants. */
  readonly constants: number;
  /** Number of elements. */
  readonly values: number;
  /** Bytes their values take (each blob counted once, however many values refer to it). */
  readonly bytes: number;
}

/** What {@link inspectProgram} reports. */
export interface ProgramSummary {
  /** `Model.specificationVersion` (7 = iOS16, 8 = iOS17, 9 = iOS18). */
  readonly specificationVersion: number;
  /** Every function. */
  readonly functions: readonly FunctionSummary[];
  /** Every constant value, in program order. */
  readonly constants: readonly ProgramConstant[];
  /** Every op input (of an op that is not constexpr) a weight feeds, in program order. */
  readonly weights: readonly WeightInput[];
  /** Blobs in weight.bin (0 without one). */
  readonly blobs: number;
  /** Sums over `constants`. */
  readonly totals: ConstantTotals & {
    /** Constants stored inline in model.mlmodel. */
    readonly inline: ConstantTotals;
    /** Constants stored in weight.bin. */
    readonly blob: ConstantTotals;
    /** Per element type (`float16`, `uint4`, ...). */
    readonly byDataType: Readonly<Record<string, ConstantTotals>>;
  };
}

/**
 * Lists the functions, constants and weight inputs of an ML Program package, with
 * shapes, types and storage.
 *
 * @param pkg - a decoded package
 * @returns the summary
 * @throws {@link index!QuantizeError} as `walkProgram` (a blob reference that is
 *   misaligned or points at no blob, a value that does not fit its type)
 * @example
 * ```ts
 * const { totals } = inspectProgram(decodeMlPackage(files));
 * console.log(`${totals.constants} constants, ${totals.blob.bytes} bytes in weight.bin`);
 * ```
 */
export function inspectProgram(pkg: MlPackage): ProgramSummary {
  const program = packageProgram(pkg);
  const { constants, weights } = walkProgram(program, pkg.weights);
  const functions = Object.entries(program.functions).map(([name, fn]) => {
    let operations = 0;
    const count = (block: Block): void => {
      for (const op of block.operations) {
        operations++;
        op.blocks.forEach(count);
      }
    };
    Object.values(fn.blockSpecializations).forEach(count);
    return { name, opsets: Object.keys(fn.blockSpecializations), operations };
  });
  const inline = constants.filter((c) => c.storage.kind === "inline");
  const blob = constants.filter((c) => c.storage.kind === "blob");
  const byDataType: Record<string, ConstantTotals> = {};
  for (const dataType of new Set(constants.map((c) => c.dataType))) byDataType[dataType] = totalsOf(constants.filter((c) => c.dataType === dataType));
  return {
    specificationVersion: pkg.model.specificationVersion,
    functions,
    constants,
    weights,
    blobs: pkg.weights?.blobs.length ?? 0,
    totals: { ...totalsOf(constants), inline: totalsOf(inline), blob: totalsOf(blob), byDataType },
  };
}

/** Counts and bytes, a blob shared by several constants counted once. */
function totalsOf(constants: readonly ProgramConstant[]): ConstantTotals {
  const seenBlobs = new Set<number>();
  let bytes = 0;
  let values = 0;
  for (const constant of constants) {
    values += constant.count;
    if (constant.storage.kind === "blob") {
      if (seenBlobs.has(constant.storage.offset)) continue;
      seenBlobs.add(constant.storage.offset);
    }
    bytes += constant.storage.byteLength;
  }
  return { constants: constants.length, values, bytes };
}

/**
 * `decompress_weights`: every constexpr decompression op of an ML Program replaced
 * by consts of the values it computes, as coremltools' `WeightDecompressor` does
 * (MLPROGRAM.md section 13).
 *
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import { DataType, OperationSchema, type Block, type Operation } from "../gen/MIL_pb.js";
import { blockValues, isConstexprOp, type TensorData } from "./evaluate-constexpr.js";
import { rewriteProgramBlocks } from "./lay-out-blobs.js";
import type { MlPackage } from "./ml-package.js";
import { constantValue, inlineValue, namedOutput, type NewBlobs, tensorShape } from "./program-values.js";
import type { WeightBlob } from "./weight-bin.js";

/** What {@link decompressWeights} gives. */
export interface DecompressResult {
  /** The new package: dense weights only. */
  readonly package: MlPackage;
}

/**
 * Decompresses every weight of an ML Program: each constexpr op (quantized,
 * palettized, sparse, and their joint chains), in block order, becomes one `const`
 * per output, named like the output and holding its value in the output's type;
 * consts no longer read are then removed, and weight.bin is written again in
 * program order. Values of fewer than 10 elements are written inline.
 *
 * @param pkg - the package; not modified
 * @returns the decompressed package
 * @throws `QuantizeError` `unsupported-model` for a model that is not an ML
 *   Program or a constexpr op of a type this library does not know;
 *   `invalid-weights` when an op's parameters do not fit together
 * @example
 * ```ts
 * const { package: dense } = decompressWeights(decodeMlPackage(files));
 * ```
 */
export function decompressWeights(pkg: MlPackage): DecompressResult {
  return { package: rewriteProgramBlocks(pkg, (block, { blobs, newBlobs }) => decompressBlock(block, blobs, newBlobs)) };
}

/** One block (nested blocks first): constexpr ops replaced by consts, then the consts nothing reads removed. */
function decompressBlock(block: Block, blobs: ReadonlyMap<number, WeightBlob>, newBlobs: NewBlobs): Block {
  const operations = block.operations.map((op) =>
    op.blocks.length === 0 ? op : { ...op, blocks: op.blocks.map((nested) => decompressBlock(nested, blobs, newBlobs)) },
  );
  const valueNamed = blockValues(operations, blobs);
  const replaced = operations.flatMap((op) => {
    if (!isConstexprOp(op.type)) return [op];
    return op.outputs.map((output) => {
      const value = valueNamed(output.name) as TensorData;
      // The output keeps its declared type; the values were computed in it.
      const declared = tensorShape(output.type);
      return constOp(output.name, declared?.dataType ?? value.dataType, value, newBlobs);
    });
  });
  const read = new Set<string>(block.outputs);
  const collectReads = (ops: readonly Operation[]): void => {
    for (const op of ops) {
      for (const argument of Object.values(op.inputs)) for (const { binding } of argument.arguments) if (binding.case === "name") read.add(binding.value);
      for (const nested of op.blocks) {
        for (const name of nested.outputs) read.add(name);
        collectReads(nested.operations);
      }
    }
  };
  collectReads(replaced);
  return { ...block, operations: replaced.filter((op) => op.type !== "const" || op.outputs.some((output) => read.has(output.name))) };
}

function constOp(name: string, dataType: DataType, value: TensorData, newBlobs: NewBlobs): Operation {
  return create(OperationSchema, {
    type: "const",
    outputs: [namedOutput(name, dataType, value.shape)],
    attributes: { name: inlineValue(DataType.STRING, [], [name]), val: constantValue(dataType, value.shape, value.values, newBlobs) },
  });
}

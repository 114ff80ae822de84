/**
 * weight.bin written again after a compression pass, in the reference's write
 * order: the block's ops in order, a `const`'s `val`, a constexpr op's parameters
 * in its parameter order; a blob referred to twice is written once.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import type { Block, Program, Value } from "../gen/MIL_pb.js";
import type { MlPackage } from "./ml-package.js";
import type { NewBlobs } from "./program-values.js";
import { blobOffsets, blobsByOffset, type BlobContents, type WeightBin, type WeightBlob } from "./weight-bin.js";

/** Each constexpr op's parameters in the order the reference writes their blobs (MLPROGRAM.md 3.2). */
const PARAMETER_ORDER: Readonly<Record<string, readonly string[]>> = {
  constexpr_affine_dequantize: ["quantized_data", "zero_point", "scale", "axis"],
  constexpr_blockwise_shift_scale: ["data", "scale", "offset"],
  constexpr_lut_to_dense: ["indices", "lut", "shape", "vector_axis"],
  constexpr_sparse_to_dense: ["nonzero_data", "mask", "shape"],
  constexpr_sparse_blockwise_shift_scale: ["data_mask", "nonzero_data", "scale", "offset"],
  constexpr_lut_to_sparse: ["indices_mask", "indices_nonzero_data", "lut", "vector_axis"],
};

/**
 * Lays out the blobs a program's values refer to, old (by offset into the input's
 * weight.bin) and new (in `newBlobs`), and points each value at its blob's offset.
 *
 * @param functions - the program's functions; not modified
 * @param oldBlobs - the input weight.bin's blobs by offset
 * @param newBlobs - blobs of values made by the pass
 * @returns the functions with offsets set, and the new weight.bin
 * @throws {@link QuantizeError} `invalid-weights` when a value refers to an offset where no blob is
 */
export function layOutBlobs(
  functions: Program["functions"],
  oldBlobs: ReadonlyMap<number, WeightBlob>,
  newBlobs: NewBlobs,
): { readonly functions: Program["functions"]; readonly weights: WeightBin } {
  const contents: BlobContents[] = [];
  const blobIndex = new Map<Value, number>();
  const oldIndex = new Map<number, number>();
  const visitValue = (value: Value | undefined): void => {
    if (value?.value.case !== "blobFileValue") return;
    // A new value that several ops share (the reference merges equal new constants) is one blob.
    if (blobIndex.has(value)) return;
    const fresh = newBlobs.get(value);
    if (fresh !== undefined) {
      blobIndex.set(value, contents.push(fresh) - 1);
      return;
    }
    const offset = Number(value.value.value.offset);
    let index = oldIndex.get(offset);
    if (index === undefined) {
      const blob = oldBlobs.get(offset);
      if (blob === undefined) throw new QuantizeError("invalid-weights", `a value refers to weight.bin offset ${offset}, where no blob is`);
      index = contents.push(blob) - 1;
      oldIndex.set(offset, index);
    }
    blobIndex.set(value, index);
  };
  const visitBlock = (block: Block): void => {
    for (const op of block.operations) {
      if (op.type === "const") visitValue(op.attributes.val);
      else if (op.type.startsWith("constexpr_")) {
        for (const param of PARAMETER_ORDER[op.type] ?? [...Object.keys(op.attributes), ...Object.keys(op.inputs)]) {
          visitValue(op.attributes[param]);
          const binding = op.inputs[param]?.arguments[0]?.binding;
          if (binding?.case === "value") visitValue(binding.value);
        }
      }
      for (const nested of op.blocks) visitBlock(nested);
    }
  };
  for (const fn of Object.values(functions)) for (const block of Object.values(fn.blockSpecializations)) visitBlock(block);
  const offsets = blobOffsets(contents);
  const placed = (value: Value): Value => {
    const index = blobIndex.get(value);
    if (index === undefined || value.value.case !== "blobFileValue") return value;
    const offset = BigInt(offsets[index] as number);
    return value.value.value.offset === offset ? value : { ...value, value: { case: "blobFileValue", value: { ...value.value.value, offset } } };
  };
  const placeBlock = (block: Block): Block => ({
    ...block,
    operations: block.operations.map((op) => ({
      ...op,
      attributes: Object.fromEntries(Object.entries(op.attributes).map(([key, value]) => [key, placed(value)])),
      inputs: Object.fromEntries(
        Object.entries(op.inputs).map(([key, argument]) => [
          key,
          {
            ...argument,
            arguments: argument.arguments.map((b) =>
              b.binding.case === "value" ? { ...b, binding: { case: "value" as const, value: placed(b.binding.value) } } : b,
            ),
          },
        ]),
      ),
      blocks: op.blocks.map(placeBlock),
    })),
  });
  const placedFunctions = Object.fromEntries(
    Object.entries(functions).map(([name, fn]) => [
      name,
      { ...fn, blockSpecializations: Object.fromEntries(Object.entries(fn.blockSpecializations).map(([opset, block]) => [opset, placeBlock(block)])) },
    ]),
  );
  const blobs = contents.map((blob, i) => ({ dataType: blob.dataType, data: blob.data, paddingBits: blob.paddingBits ?? 0, offset: offsets[i] as number }));
  return { functions: placedFunctions, weights: { blobs } };
}

/** What a rewrite of one block specialization is given besides the block. */
export interface BlockContext {
  /** The opset of the block specialization (`CoreML7`, ...). */
  readonly opset: string;
  /** The blobs of the package's weight.bin, by offset. */
  readonly blobs: ReadonlyMap<number, WeightBlob>;
  /** The blobs the rewrite writes, gathered for {@link layOutBlobs}. */
  readonly newBlobs: NewBlobs;
}

/**
 * Rewrites every block specialization of every function of an ML Program, then
 * lays out weight.bin again ({@link layOutBlobs}). The Program attributes are
 * dropped, as the reference's output has none (buildInfo is lost on the way). A
 * package without weight.bin stays without one when no value needs a blob, since
 * its manifest may have no weights item.
 *
 * @param pkg - the package; not modified
 * @param rewrite - the new block for each block specialization
 * @returns the new package
 * @throws {@link QuantizeError} `unsupported-model` for a model that is not an ML Program
 */
export function rewriteProgramBlocks(pkg: MlPackage, rewrite: (block: Block, context: BlockContext) => Block): MlPackage {
  const type = pkg.model.Type;
  if (type.case !== "mlProgram") throw new QuantizeError("unsupported-model", `the package's model is a ${type.case ?? "empty"} model, not an ML Program`);
  const blobs = pkg.weights === undefined ? new Map<number, WeightBlob>() : blobsByOffset(pkg.weights);
  const newBlobs: NewBlobs = new Map();
  const functions: Program["functions"] = {};
  for (const [name, fn] of Object.entries(type.value.functions)) {
    const blockSpecializations = Object.fromEntries(
      Object.entries(fn.blockSpecializations).map(([opset, block]) => [opset, rewrite(block, { opset, blobs, newBlobs })]),
    );
    functions[name] = { ...fn, blockSpecializations };
  }
  const laidOut = layOutBlobs(functions, blobs, newBlobs);
  const weights = pkg.weights === undefined && laidOut.weights.blobs.length === 0 ? undefined : laidOut.weights;
  const value: Program = { ...type.value, functions: laidOut.functions, attributes: {} };
  return { ...pkg, model: { ...pkg.model, Type: { case: "mlProgram", value } }, weights };
}

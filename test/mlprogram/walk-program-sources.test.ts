/**
 * `WeightInput.sources`: the ops whose constants make a weight, checked against
 * weight.bin read independently: the blobs of a weight's sources are the blobs the
 * reference wrote for it.
 */
import { decodeMlPackage, packageProgram } from "../../src/mlprogram/ml-package.js";
import { walkProgram } from "../../src/mlprogram/walk-program.js";
import { fixturePackages, independentBlobs, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

function walk(relative: string) {
  const files = packageFiles(relative);
  const pkg = decodeMlPackage(files);
  return { files, ...walkProgram(packageProgram(pkg), pkg.weights) };
}

test("a const weight: its const alone", () => {
  const { weights } = walk("models/mlp_fp32_ios16.mlpackage");
  const fc1 = weights.find((w) => w.opName === "fc1" && w.input === "weight");
  expect(fc1?.sources).toEqual(['main/CoreML6/operations[0] "fc1_weight_0"']);
});

test("iOS18 joint compression: the chain's three constexpr ops, in program order, holding every blob of the weight", () => {
  const { weights, constants } = walk("expected/attn_fp32_ios18__joint_prune50_pal4_then_lq_int8.mlpackage");
  const q = weights.find((w) => w.opName === "q_proj" && w.input === "y");
  expect(q?.sources).toEqual([
    'main/CoreML8/operations[9] "q_proj_y_0_sparsified_nonzero_data_0_palettized_lut_0_quantized"',
    'main/CoreML8/operations[10] "q_proj_y_0_sparsified_nonzero_data_0_palettized"',
    'main/CoreML8/operations[11] "q_proj_y_0_sparsified"',
  ]);
  // The quantized table (int8), the mask and the nonzero indices: blobs held by the constexpr ops as value-bound inputs.
  const held = constants
    .filter((c) => q?.sources.includes(c.path) && c.storage.kind === "blob")
    .map((c) => `${c.param}:${c.dataType}`)
    .sort();
  expect(held).toEqual(["data:int8", "indices_mask:uint1", "indices_nonzero_data:uint4"]);
});

describe("every blob of weight.bin belongs to the sources of some weight", () => {
  test.each(fixturePackages())("%s", (relative) => {
    const { files, weights, constants } = walk(relative);
    const sourced = new Set(weights.flatMap((w) => w.sources));
    const blobOffsets = new Set(constants.filter((c) => sourced.has(c.path) && c.storage.kind === "blob").map((c) => (c.storage as { offset: number }).offset));
    expect([...blobOffsets].sort((a, b) => a - b)).toEqual(independentBlobs(files.get(WEIGHT_BIN_PATH) as Uint8Array).map((b) => b.offset));
  });
});

/**
 * Every joint-compression golden case (`joint_compression=True`: the second step
 * of two, run on the reference's first-step output; see golden-cases.ts), one
 * set per pass.
 */
import { linearQuantizerConfigFromJson } from "../../src/mlprogram/compression-config.js";
import { decodeMlPackage, encodeMlPackage, type MlPackage, packageProgram } from "../../src/mlprogram/index.js";
import { linearQuantizeWeights } from "../../src/mlprogram/linear-quantize.js";
import { palettizerConfigFromJson } from "../../src/mlprogram/palettize-config.js";
import { palettizeWeights } from "../../src/mlprogram/palettize.js";
import { pruneWeights } from "../../src/mlprogram/prune.js";
import { prunerConfigFromJson } from "../../src/mlprogram/prune-config.js";
import { packageFiles } from "./fixtures.js";
import { describeGoldenCases } from "./golden-cases.js";

const JOINT = { jointCompression: true } as const;

describeGoldenCases({
  name: "linearQuantizeWeights",
  function: "linear_quantize_weights",
  joint: true,
  caseCount: 36,
  configFromJson: linearQuantizerConfigFromJson,
  compress: (pkg, config) => linearQuantizeWeights(pkg, config, JOINT),
  skipWarning: /^Cannot perform quantization on (\S+)\. Skipped this op\.$/,
  callErrors: ["invalid-option", "unsupported-model"],
  knownFailing: {},
});

describeGoldenCases({
  name: "palettizeWeights",
  function: "palettize_weights",
  joint: true,
  caseCount: 15,
  configFromJson: palettizerConfigFromJson,
  compress: (pkg, config) => palettizeWeights(pkg, config, JOINT),
  skipWarning: /^Cannot perform palettization on (\S+)\. Skipped this op\.$/,
  callErrors: ["invalid-option", "unsupported-model"],
  knownFailing: {},
});

describeGoldenCases({
  name: "pruneWeights",
  function: "prune_weights",
  joint: true,
  caseCount: 9,
  configFromJson: prunerConfigFromJson,
  compress: (pkg, config) => pruneWeights(pkg, config, JOINT),
  skipWarning: /^op named (\S+) not applicable for Op\w+PrunerConfig\(/,
  callErrors: ["invalid-option", "unsupported-model"],
  knownFailing: {},
});

describe("joint compression", () => {
  const pruned = () => decodeMlPackage(packageFiles("expected/mlp_fp32_ios18__prune_mag_50.mlpackage"));
  const quantized = () => decodeMlPackage(packageFiles("expected/mlp_fp32_ios18__lq_sym_int8_per_channel.mlpackage"));
  /** Each op's type and name, in program order. */
  const ops = (pkg: MlPackage) =>
    Object.values(packageProgram(pkg).functions).flatMap((fn) =>
      Object.values(fn.blockSpecializations).flatMap((block) => block.operations.map((op) => `${op.type} ${op.outputs.map((o) => o.name).join(",")}`)),
    );

  it("leaves its input untouched", () => {
    const input = pruned();
    const before = encodeMlPackage(input);
    linearQuantizeWeights(input, { global: { dtype: "int8" } }, JOINT);
    const after = encodeMlPackage(input);
    for (const [path, bytes] of before) expect(Buffer.from(after.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it("leaves the constexpr ops of a former pass alone without the option", () => {
    const input = pruned();
    const plain = linearQuantizeWeights(input, { global: { dtype: "int8" } });
    expect(ops(plain.package)).toEqual(ops(input));
    const joint = linearQuantizeWeights(input, { global: { dtype: "int8" } }, JOINT);
    expect(ops(joint.package)).toContain(
      "constexpr_sparse_blockwise_shift_scale fc1_weight_0_sparsified_nonzero_data_0_quantized_0,fc1_weight_0_sparsified_nonzero_data_0_quantized_1",
    );
  });

  it("records a quantized weight that a threshold pruner skips under the op's name", () => {
    const result = pruneWeights(quantized(), { global: { kind: "threshold", threshold: 1e-9, minimumSparsityPercentile: 0.9 } }, JOINT);
    expect(result.skipped.map((weight) => weight.name)).toEqual([
      "fc1_weight_0_quantized",
      "fc2_weight_0_quantized",
      "odd_weight_0_quantized",
      "lat_weight_0_quantized",
    ]);
    expect(ops(result.package)).toEqual(ops(quantized()));
  });

  it("refuses to prune a weight palettized with vector LUTs (one index stands for several weights)", () => {
    const vectors = decodeMlPackage(packageFiles("expected/mlp_fp32_ios18__pal_kmeans_4b_cluster_dim2.mlpackage"));
    expect(() => pruneWeights(vectors, { global: { kind: "magnitude", targetSparsity: 0.5 } }, JOINT)).toThrow(
      expect.objectContaining({ code: "unsupported-model", message: expect.stringMatching(/joint compression of vector LUTs is not supported/) }),
    );
  });

  it("names the pruned ops it creates by type, counting from 0 within each call", () => {
    const names = (pkg: MlPackage) => ops(pkg).filter((op) => op.startsWith("constexpr_sparse_blockwise_shift_scale "));
    const first = pruneWeights(quantized(), { global: { kind: "magnitude", targetSparsity: 0.5 } }, JOINT).package;
    const second = pruneWeights(quantized(), { global: { kind: "magnitude", targetSparsity: 0.5 } }, JOINT).package;
    expect(names(first)[0]).toBe(
      "constexpr_sparse_blockwise_shift_scale constexpr_sparse_blockwise_shift_scale_0_0,constexpr_sparse_blockwise_shift_scale_0_1",
    );
    expect(names(second)).toEqual(names(first));
  });
});

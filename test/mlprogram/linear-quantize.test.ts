/**
 * Every `linear_quantize_weights` golden case without joint compression (see
 * golden-cases.ts), and the pass's own behaviour.
 */
import { type LinearQuantizerConfig, linearQuantizerConfigFromJson } from "../../src/mlprogram/compression-config.js";
import { linearQuantizeWeights } from "../../src/mlprogram/linear-quantize.js";
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/index.js";
import { packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";
import { describeGoldenCases, type GoldenCase, goldenCases } from "./golden-cases.js";

describeGoldenCases({
  name: "linearQuantizeWeights",
  function: "linear_quantize_weights",
  caseCount: 126,
  configFromJson: linearQuantizerConfigFromJson,
  compress: linearQuantizeWeights,
  skipWarning: /^Cannot perform quantization on (\S+)\. Skipped this op\.$/,
  callErrors: ["invalid-option", "unsupported-model"],
  // Cases that cannot pass yet, with the reason. Empty: every case passes.
  knownFailing: {},
});

describe("linearQuantizeWeights", () => {
  const [withOutput] = goldenCases("linear_quantize_weights").filter((c) => c.expected !== undefined);

  it("leaves its input untouched", () => {
    const c = withOutput as GoldenCase;
    const input = decodeMlPackage(packageFiles(c.input));
    const before = encodeMlPackage(input);
    linearQuantizeWeights(input, linearQuantizerConfigFromJson(c.config));
    const after = encodeMlPackage(input);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, bytes] of before) expect(Buffer.from(after.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it("skips weights holding an infinity before any other skip or refusal", () => {
    const cases: [string, LinearQuantizerConfig][] = [
      // iOS18: per block, where odd_weight_0's block size would not divide.
      ["models/mlp_fp32_ios18.mlpackage", { mode: "linear", dtype: "uint4", granularity: "per_block", blockSize: 16 }],
      // iOS16: int4, which the program's opset refuses.
      ["models/mlp_fp32_ios16.mlpackage", { dtype: "int4" }],
    ];
    for (const [model, global] of cases) {
      const files = packageFiles(model);
      const weightBin = new Uint8Array(files.get(WEIGHT_BIN_PATH) as Uint8Array);
      for (const blob of decodeMlPackage(files).weights?.blobs ?? []) {
        if (blob.dataType === "float32") new DataView(weightBin.buffer).setFloat32(blob.offset + 64, Number.POSITIVE_INFINITY, true);
      }
      files.set(WEIGHT_BIN_PATH, weightBin);
      const { skipped } = linearQuantizeWeights(decodeMlPackage(files), { global });
      expect(skipped.length).toBeGreaterThan(1);
      expect(skipped.map((weight) => weight.reason)).toEqual(skipped.map(() => "it holds an infinity"));
    }
  });

  it("takes camelCase configs equal to coremltools' JSON", () => {
    const input = decodeMlPackage(packageFiles("models/mlp_fp32_ios18.mlpackage"));
    const fromJson = linearQuantizeWeights(
      input,
      linearQuantizerConfigFromJson({
        global_config: { config_type: "OpLinearQuantizerConfig", mode: "LINEAR", dtype: "uint4", granularity: "per_block", block_size: 16 },
        op_name_configs: { lat: null },
      }),
    );
    const camel = linearQuantizeWeights(input, {
      global: { mode: "linear", dtype: "uint4", granularity: "per_block", blockSize: 16 },
      opNameConfigs: { lat: null },
    });
    const [a, b] = [fromJson, camel].map((result) => encodeMlPackage(result.package).get(WEIGHT_BIN_PATH) as Uint8Array);
    expect(Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array))).toBe(true);
    expect(camel.skipped.map((weight) => weight.name)).toEqual(["odd_weight_0"]);
  });

  it("refuses configs coremltools does not know", () => {
    const op = { config_type: "OpLinearQuantizerConfig" };
    expect(() => linearQuantizerConfigFromJson({ global_config: { ...op, lut_dtype: "int8" } })).toThrow(/unknown field lut_dtype/);
    expect(() => linearQuantizerConfigFromJson({ global_config: { ...op, block_size: [1, -2] } })).toThrow(/blockSize/);
    expect(() => linearQuantizerConfigFromJson({ global: op })).toThrow(/unknown fields global/);
    expect(() => linearQuantizeWeights(decodeMlPackage(packageFiles("models/mlp_fp32_ios18.mlpackage")), { global: { weightThreshold: 1.5 } })).toThrow(
      /weightThreshold/,
    );
  });
});

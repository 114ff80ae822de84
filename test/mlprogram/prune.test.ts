/**
 * Every `prune_weights` golden case without joint compression (see
 * golden-cases.ts), and the pass's own behaviour.
 */
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/index.js";
import { pruneWeights } from "../../src/mlprogram/prune.js";
import { prunerConfigFromJson } from "../../src/mlprogram/prune-config.js";
import { packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";
import { describeGoldenCases, type GoldenCase, goldenCases } from "./golden-cases.js";

describeGoldenCases({
  name: "pruneWeights",
  function: "prune_weights",
  caseCount: 74,
  configFromJson: prunerConfigFromJson,
  compress: pruneWeights,
  skipWarning: /^op named (\S+) not applicable for Op\w+PrunerConfig\(/,
  callErrors: ["invalid-option", "unsupported-model"],
  // Cases that cannot pass yet, with the reason. Empty: every case passes (cases.json is read with
  // parseConfigJson, so the integer threshold of cfg_thr_int_threshold is refused as coremltools refuses it).
  knownFailing: {},
});

describe("pruneWeights", () => {
  const [withOutput] = goldenCases("prune_weights").filter((c) => c.expected !== undefined);

  it("leaves its input untouched", () => {
    const c = withOutput as GoldenCase;
    const input = decodeMlPackage(packageFiles(c.input));
    const before = encodeMlPackage(input);
    pruneWeights(input, prunerConfigFromJson(c.config));
    const after = encodeMlPackage(input);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, bytes] of before) expect(Buffer.from(after.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it("takes camelCase configs equal to coremltools' JSON", () => {
    const input = decodeMlPackage(packageFiles("models/conv_fp32_ios18.mlpackage"));
    const fromJson = pruneWeights(
      input,
      prunerConfigFromJson({
        global_config: { config_type: "OpMagnitudePrunerConfig", n_m_ratio: [2, 4], dim: 0 },
        op_name_configs: { conv1_weight_0: { config_type: "OpThresholdPrunerConfig", threshold: 0.05, minimum_sparsity_percentile: 0.1 } },
      }),
    );
    const camel = pruneWeights(input, {
      global: { kind: "magnitude", nMRatio: [2, 4], dim: 0 },
      opNameConfigs: { conv1_weight_0: { kind: "threshold", threshold: 0.05, minimumSparsityPercentile: 0.1 } },
    });
    const [a, b] = [fromJson, camel].map((result) => encodeMlPackage(result.package).get(WEIGHT_BIN_PATH) as Uint8Array);
    expect(Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array))).toBe(true);
    expect(camel.skipped.map((weight) => weight.name)).toEqual(fromJson.skipped.map((weight) => weight.name));
  });

  it("refuses configs coremltools does not know", () => {
    const magnitude = { config_type: "OpMagnitudePrunerConfig", target_sparsity: 0.5 };
    expect(() => prunerConfigFromJson({ global_config: { ...magnitude, threshold: 0.1 } })).toThrow(/unknown field threshold/);
    expect(() => prunerConfigFromJson({ global_config: { ...magnitude, block_size: 2, n_m_ratio: [2, 4], target_sparsity: null } })).toThrow(
      /blockSize and nMRatio/,
    );
    expect(() => prunerConfigFromJson({ op_type_configs: { const: magnitude } })).not.toThrow();
    expect(() =>
      pruneWeights(decodeMlPackage(packageFiles("models/mlp_fp32_ios18.mlpackage")), prunerConfigFromJson({ op_type_configs: { const: magnitude } })),
    ).toThrow(/const ops cannot be chosen by type/);
    expect(() =>
      pruneWeights(decodeMlPackage(packageFiles("models/mlp_fp32_ios18.mlpackage")), {
        global: { kind: "magnitude", targetSparsity: 0.5, weightThreshold: -1 },
      }),
    ).toThrow(/weightThreshold/);
  });
});

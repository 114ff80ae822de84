/**
 * Every `palettize_weights` golden case without joint compression (see
 * golden-cases.ts), and the pass's own behaviour.
 */
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/index.js";
import { palettizerConfigFromJson } from "../../src/mlprogram/palettize-config.js";
import { palettizeWeights } from "../../src/mlprogram/palettize.js";
import { packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";
import { describeGoldenCases } from "./golden-cases.js";

/**
 * Cases that cannot pass yet, with the reason. A case listed here must fail, so
 * the list stays true. The scikit-learn k-means cases (scalar and vector) pass by
 * the quality rule (golden-cases.ts): our k-means is never worse than theirs.
 */
const KNOWN_FAILING: Readonly<Record<string, string>> = {};

describeGoldenCases({
  name: "palettizeWeights",
  function: "palettize_weights",
  caseCount: 140,
  configFromJson: palettizerConfigFromJson,
  compress: palettizeWeights,
  skipWarning: /^Cannot perform palettization on (\S+)\. Skipped this op\.$/,
  callErrors: ["unsupported-model"],
  knownFailing: KNOWN_FAILING,
});

describe("palettizeWeights", () => {
  const input = () => decodeMlPackage(packageFiles("models/mlp_fp32_ios18.mlpackage"));

  it("leaves its input untouched", () => {
    const pkg = input();
    const before = encodeMlPackage(pkg);
    palettizeWeights(pkg, { global: { mode: "uniform", nbits: 4, enablePerChannelScale: true } });
    const after = encodeMlPackage(pkg);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, bytes] of before) expect(Buffer.from(after.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it("takes camelCase configs equal to coremltools' JSON", () => {
    const fromJson = palettizeWeights(
      input(),
      palettizerConfigFromJson({
        global_config: { config_type: "OpPalettizerConfig", mode: "UNIFORM", nbits: 2, granularity: "per_grouped_channel", group_size: 8 },
        op_name_configs: { lat: null },
      }),
    );
    const camel = palettizeWeights(input(), {
      global: { mode: "uniform", nbits: 2, granularity: "per_grouped_channel", groupSize: 8 },
      opNameConfigs: { lat: null },
    });
    const [a, b] = [fromJson, camel].map((result) => encodeMlPackage(result.package).get(WEIGHT_BIN_PATH) as Uint8Array);
    expect(Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array))).toBe(true);
    expect(camel.skipped.map((weight) => weight.name)).toEqual(["fc2_weight_0", "odd_weight_0"]);
  });

  it("refuses configs coremltools refuses", () => {
    const op = { config_type: "OpPalettizerConfig", mode: "kmeans", nbits: 4 };
    expect(() => palettizerConfigFromJson({ global_config: { ...op, lut_dtype: "int8" } })).toThrow(/unknown field lut_dtype/);
    expect(() => palettizerConfigFromJson({ global_config: { ...op, nbits: 5 } })).toThrow(/nbits 5/);
    expect(() => palettizerConfigFromJson({ global_config: { ...op, mode: "unique" } })).toThrow(/nbits is chosen by unique mode/);
    expect(() => palettizerConfigFromJson({ global_config: { ...op, granularity: "per_channel" } })).toThrow(/granularity/);
    expect(() => palettizeWeights(input(), { global: { mode: "uniform" } })).toThrow(/nbits is required/);
    expect(() => palettizeWeights(input(), { global: { mode: "uniform", nbits: 4, weightThreshold: 1.5 } })).toThrow(/weightThreshold/);
  });
});

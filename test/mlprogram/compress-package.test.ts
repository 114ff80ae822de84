/**
 * The request -> pass mapping the CLI and the page share: the flags mean
 * coremltools' default config of the mode, a config object runs its function,
 * bad requests fail before any package is read.
 */
import { isQuantizeError } from "../../src/errors.js";
import { compressPackage, packageCompression, packageNbits, type PackageMode } from "../../src/mlprogram/compress-package.js";
import { linearQuantizeWeights } from "../../src/mlprogram/linear-quantize.js";
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/ml-package.js";
import { palettizeWeights } from "../../src/mlprogram/palettize.js";
import { pruneWeights } from "../../src/mlprogram/prune.js";
import { packageFiles } from "./fixtures.js";

const pkg = decodeMlPackage(packageFiles("models/mlp_fp32_ios16.mlpackage"));
const filesOf = (result: { package: Parameters<typeof encodeMlPackage>[0] }): Map<string, Uint8Array> => encodeMlPackage(result.package);

test.each<[PackageMode, readonly number[]]>([
  ["linear", [8, 4]],
  ["linear_symmetric", [8, 4]],
  ["kmeans_lut", [8, 6, 4, 3, 2, 1]],
  ["linear_lut", [8, 6, 4, 3, 2, 1]],
])("packageNbits(%s) is %j", (mode, expected) => {
  expect(packageNbits(mode)).toEqual(expected);
});

test.each<[PackageMode, number, () => unknown]>([
  ["linear", 8, () => linearQuantizeWeights(pkg, { global: { mode: "linear", dtype: "int8" } })],
  ["linear_symmetric", 4, () => linearQuantizeWeights(pkg, { global: { mode: "linear_symmetric", dtype: "int4" } })],
  ["linear_lut", 2, () => palettizeWeights(pkg, { global: { mode: "uniform", nbits: 2 } })],
])("--mode %s --nbits %d is the pass with the mode's default config", (mode, nbits, direct) => {
  const request = { kind: "flags", mode, nbits } as const;
  expect(packageCompression(request).function).toBe(mode === "linear_lut" ? "palettize_weights" : "linear_quantize_weights");
  // iOS16 and 4 bits: the pass's own refusal, the same either way.
  let expected: unknown;
  try {
    expected = filesOf(direct() as { package: typeof pkg });
  } catch (error) {
    expect(() => compressPackage(pkg, request)).toThrow((error as Error).message);
    return;
  }
  expect(filesOf(compressPackage(pkg, request))).toEqual(expected);
});

test.each<[PackageMode, number, string]>([
  ["linear", 6, "--mode linear stores an ML Program's weights in 8 or 4 bits (int8, int4), not 6; use --nbits 8 or 4"],
  ["kmeans_lut", 5, "--mode kmeans_lut palettizes an ML Program's weights with 1, 2, 3, 4, 6, 8 bits, not 5"],
  ["nope" as PackageMode, 8, 'mode "nope"; an ML Program takes linear, linear_symmetric, kmeans_lut, linear_lut'],
])("--mode %s --nbits %d is refused before any package is read", (mode, nbits, message) => {
  expect(() => packageCompression({ kind: "flags", mode, nbits })).toThrow(message);
});

test("a config object runs its function; a list runs each in order; messages name the source", () => {
  const prune = {
    function: "prune_weights",
    joint_compression: false,
    config: { global_config: { config_type: "OpMagnitudePrunerConfig", target_sparsity: 0.5 } },
  };
  const one = compressPackage(pkg, { kind: "config", config: prune });
  expect(filesOf(one)).toEqual(filesOf(pruneWeights(pkg, { global: { kind: "magnitude", targetSparsity: 0.5 } })));
  expect(filesOf(one)).not.toEqual(filesOf({ package: pkg }));
  const list = packageCompression({ kind: "config", config: [prune, prune] });
  expect(list.function).toBe("prune_weights, prune_weights");
  const caught = (() => {
    try {
      packageCompression({ kind: "config", config: [prune, { function: "nope", config: {} }], source: "mine.json" });
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  expect(isQuantizeError(caught) && caught.code === "invalid-option" && caught.message).toBe(
    'mine.json[1]: function "nope"; use one of linear_quantize_weights, palettize_weights, prune_weights',
  );
  expect(() => packageCompression({ kind: "config", config: [] })).toThrow("config: an empty list");
});

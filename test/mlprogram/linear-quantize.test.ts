/**
 * Every `linear_quantize_weights` golden case without joint compression: the
 * output's weight.bin byte for byte, its model equal after parsing (conversion
 * date aside) and its manifest's items, the weights skipped as the reference
 * warns, or the refusal the reference makes, at the stage it makes it.
 */
import { equals } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import { isQuantizeError } from "../../src/errors.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { linearQuantizerConfigFromJson } from "../../src/mlprogram/compression-config.js";
import { linearQuantizeWeights } from "../../src/mlprogram/linear-quantize.js";
import { decodeMlPackage, encodeMlPackage, MANIFEST_PATH } from "../../src/mlprogram/index.js";
import { casesFile, MODEL_PATH, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

interface LinearCase {
  readonly id: string;
  readonly function: string;
  readonly joint_compression: boolean;
  readonly input: string;
  readonly config: unknown;
  readonly config_given: unknown;
  readonly expected?: string;
  readonly error?: { readonly message: string; readonly stage: "config" | "call" };
  readonly warnings?: readonly string[];
}

const CONVERSION_DATE = "com.github.apple.coremltools.conversion_date";
/** The reference's warning for each weight it skips. */
const SKIP_WARNING = /^Cannot perform quantization on (\S+)\. Skipped this op\.$/;

/**
 * Cases that cannot pass yet, with the reason. Empty: every case passes. A case
 * listed here must fail, so the list stays true.
 */
const KNOWN_FAILING: Readonly<Record<string, string>> = {};

const cases = (casesFile().cases as unknown as LinearCase[]).filter((c) => c.function === "linear_quantize_weights" && !c.joint_compression);

function comparableModel(bytes: Uint8Array | undefined) {
  if (bytes === undefined) return undefined;
  const model = decodeModel(bytes);
  delete model.description?.metadata?.userDefined[CONVERSION_DATE];
  return model;
}

/** The manifest's items without their random identifiers, the root model's first. */
function manifestItems(bytes: Uint8Array | undefined): unknown {
  if (bytes === undefined) return undefined;
  const manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as { itemInfoEntries: Record<string, unknown>; rootModelIdentifier: string };
  const { [manifest.rootModelIdentifier]: root, ...others } = manifest.itemInfoEntries;
  return [root, ...Object.values(others).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))];
}

/** Why a case does not reproduce the reference with the given config JSON, or undefined when it does. */
function mismatch(c: LinearCase, configJson: unknown): string | undefined {
  let config: ReturnType<typeof linearQuantizerConfigFromJson>;
  try {
    config = linearQuantizerConfigFromJson(configJson);
  } catch (error) {
    // A config of another class is refused by the reference at the call, here when read: both before any output.
    if (c.error !== undefined && isQuantizeError(error, "invalid-option")) return undefined;
    return `config refused: ${String(error)}`;
  }
  if (c.error?.stage === "config") return `config accepted; the reference refuses it: ${c.error.message}`;
  let result: ReturnType<typeof linearQuantizeWeights>;
  try {
    result = linearQuantizeWeights(decodeMlPackage(packageFiles(c.input)), config);
  } catch (error) {
    if (c.error !== undefined && isQuantizeError(error) && (error.code === "invalid-option" || error.code === "unsupported-model")) return undefined;
    return `threw ${String(error)}`;
  }
  if (c.error !== undefined) return `did not refuse; the reference does: ${c.error.message.slice(0, 100)}`;
  const files = encodeMlPackage(result.package);
  const expected = packageFiles(c.expected as string);
  const bin = files.get(WEIGHT_BIN_PATH);
  const expectedBin = expected.get(WEIGHT_BIN_PATH);
  if (bin === undefined || expectedBin === undefined || !Buffer.from(bin).equals(Buffer.from(expectedBin))) return "weight.bin differs";
  const model = comparableModel(files.get(MODEL_PATH));
  const expectedModel = comparableModel(expected.get(MODEL_PATH));
  if (model === undefined || expectedModel === undefined || !equals(ModelSchema, model as never, expectedModel as never)) return "model.mlmodel differs";
  if (JSON.stringify(manifestItems(files.get(MANIFEST_PATH))) !== JSON.stringify(manifestItems(expected.get(MANIFEST_PATH)))) return "Manifest.json differs";
  const warned = (c.warnings ?? []).flatMap((warning) => SKIP_WARNING.exec(warning)?.[1] ?? []);
  const skipped = result.skipped.map((weight) => weight.name);
  if (JSON.stringify(skipped) !== JSON.stringify(warned)) return `skipped ${skipped.join(", ")}; the reference skipped ${warned.join(", ")}`;
  return undefined;
}

describe("linearQuantizeWeights on the golden cases", () => {
  it("has every non-joint linear_quantize_weights case of the set", () => {
    expect(cases.length).toBe(126);
    expect(Object.keys(KNOWN_FAILING).filter((id) => !cases.some((c) => c.id === id))).toEqual([]);
  });

  it.each(cases.map((c) => [c.id, c] as const))("%s", (id, c) => {
    // The resolved config (`config`, null for refused configs) and the fields as given must both reproduce the case.
    const failures = [c.config ?? c.config_given, c.config_given].map((json) => mismatch(c, json)).filter((failure) => failure !== undefined);
    if (Object.hasOwn(KNOWN_FAILING, id)) expect(failures).not.toEqual([]);
    else expect(failures).toEqual([]);
  });
});

describe("linearQuantizeWeights", () => {
  const [withOutput] = cases.filter((c) => c.expected !== undefined);

  it("leaves its input untouched", () => {
    const c = withOutput as LinearCase;
    const input = decodeMlPackage(packageFiles(c.input));
    const before = encodeMlPackage(input);
    linearQuantizeWeights(input, linearQuantizerConfigFromJson(c.config));
    const after = encodeMlPackage(input);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, bytes] of before) expect(Buffer.from(after.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
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

/**
 * The golden-case runner the ML Program compression passes share: every case of a
 * coremltools function without joint compression, checked as the output's
 * weight.bin byte for byte, its model equal after parsing (conversion date aside)
 * and its manifest's items, the weights skipped as the reference warns, or the
 * refusal the reference makes, at the stage it makes it.
 */
import { equals } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import { type ErrorCode, isQuantizeError } from "../../src/errors.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { decodeMlPackage, encodeMlPackage, MANIFEST_PATH, type MlPackage } from "../../src/mlprogram/index.js";
import { casesFile, MODEL_PATH, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

/** One case of the set, as the generator writes it. */
export interface GoldenCase {
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

/** A compression pass under test, and how its reference case set looks. */
export interface GoldenPass<C> {
  /** The pass's name in test titles (`pruneWeights`). */
  readonly name: string;
  /** The coremltools function whose cases are run (`prune_weights`). */
  readonly function: string;
  /** Whether the cases run are the joint ones (`joint_compression: true`, the second step of two); default false. */
  readonly joint?: boolean;
  /** How many cases the set has for it (joint or not, as `joint` says). */
  readonly caseCount: number;
  /** Reads coremltools' config JSON. */
  readonly configFromJson: (json: unknown) => C;
  /** Runs the pass. */
  readonly compress: (pkg: MlPackage, config: C) => { readonly package: MlPackage; readonly skipped: readonly { readonly name: string }[] };
  /** The reference's warning for each weight it skips; group 1 is the const's name. */
  readonly skipWarning: RegExp;
  /** The error codes that match a refusal at the call. */
  readonly callErrors: readonly ErrorCode[];
  /** Cases that cannot pass yet, with the reason; each must fail, so the list stays true. */
  readonly knownFailing: Readonly<Record<string, string>>;
}

const CONVERSION_DATE = "com.github.apple.coremltools.conversion_date";

/** The cases of one coremltools function, joint (the second step of two) or not. */
export function goldenCases(fn: string, joint = false): GoldenCase[] {
  return (casesFile().cases as unknown as GoldenCase[]).filter((c) => c.function === fn && c.joint_compression === joint);
}

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
function mismatch<C>(pass: GoldenPass<C>, c: GoldenCase, configJson: unknown): string | undefined {
  let config: C;
  try {
    config = pass.configFromJson(configJson);
  } catch (error) {
    // A config of another class is refused by the reference at the call, here when read: both before any output.
    if (c.error !== undefined && isQuantizeError(error, "invalid-option")) return undefined;
    return `config refused: ${String(error)}`;
  }
  if (c.error?.stage === "config") return `config accepted; the reference refuses it: ${c.error.message}`;
  let result: ReturnType<GoldenPass<C>["compress"]>;
  try {
    result = pass.compress(decodeMlPackage(packageFiles(c.input)), config);
  } catch (error) {
    if (c.error !== undefined && isQuantizeError(error) && pass.callErrors.includes(error.code)) return undefined;
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
  const warned = (c.warnings ?? []).flatMap((warning) => pass.skipWarning.exec(warning)?.[1] ?? []);
  const skipped = result.skipped.map((weight) => weight.name);
  if (JSON.stringify(skipped) !== JSON.stringify(warned)) return `skipped ${skipped.join(", ")}; the reference skipped ${warned.join(", ")}`;
  return undefined;
}

/** Declares the golden-case tests of a pass: the set's size, then one test per case. */
export function describeGoldenCases<C>(pass: GoldenPass<C>): void {
  const joint = pass.joint ?? false;
  const cases = goldenCases(pass.function, joint);
  describe(`${pass.name} on the ${joint ? "joint " : ""}golden cases`, () => {
    it(`has every ${joint ? "joint" : "non-joint"} ${pass.function} case of the set`, () => {
      expect(cases.length).toBe(pass.caseCount);
      expect(Object.keys(pass.knownFailing).filter((id) => !cases.some((c) => c.id === id))).toEqual([]);
    });

    it.each(cases.map((c) => [c.id, c] as const))("%s", (id, c) => {
      // The resolved config (`config`, null for refused configs) and the fields as given must both reproduce the case.
      const failures = [c.config ?? c.config_given, c.config_given].map((json) => mismatch(pass, c, json)).filter((failure) => failure !== undefined);
      if (Object.hasOwn(pass.knownFailing, id)) expect(failures).not.toEqual([]);
      else expect(failures).toEqual([]);
    });
  });
}

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
import type { Block, Operation, Value } from "../../src/gen/MIL_pb.js";
import { type Model, ModelSchema } from "../../src/gen/Model_pb.js";
import { blockValues } from "../../src/mlprogram/evaluate-constexpr.js";
import { blobsByOffset, decodeMlPackage, encodeMlPackage, MANIFEST_PATH, type MlPackage } from "../../src/mlprogram/index.js";
import { opNameOf } from "../../src/mlprogram/program-values.js";
import { casesFileWithConfigText, MODEL_PATH, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

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
  /** One record per weight input; `match: "quality"` for those scikit-learn's k-means chose. */
  readonly weights?: readonly WeightRecord[];
}

/** A case's record of one weight input (cases.json `weights`). */
export interface WeightRecord {
  /** `<op>.<param>`, `[i]` for a tuple input's i-th value. */
  readonly input: string;
  /** `quality`: its LUT and indices may differ, its squared error must not be above `sse`. */
  readonly match: "exact" | "quality";
  /** Sum over elements of (input value - output value)^2, both decompressed. */
  readonly sse: number;
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
  return (casesFileWithConfigText().cases as unknown as GoldenCase[]).filter((c) => c.function === fn && c.joint_compression === joint);
}

function comparableModel(bytes: Uint8Array | undefined): Model | undefined {
  if (bytes === undefined) return undefined;
  // The typed weight views the codec adds are of no use here: the program is compared as a message.
  const model = decodeModel(bytes) as unknown as Model;
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
  let bin = files.get(WEIGHT_BIN_PATH);
  let expectedBin = expected.get(WEIGHT_BIN_PATH);
  const model = comparableModel(files.get(MODEL_PATH));
  const expectedModel = comparableModel(expected.get(MODEL_PATH));
  const quality = (c.weights ?? []).filter((weight) => weight.match === "quality").map((weight) => weight.input);
  if (quality.length > 0) {
    const worse = qualityShortfall(c, result.package);
    if (worse !== undefined) return worse;
    // Their LUTs' and indices' values aside, both sides must be equal: blobs, offsets, program.
    if (model !== undefined && bin !== undefined) bin = withoutFreeValues(model, bin, quality);
    if (expectedModel !== undefined && expectedBin !== undefined) expectedBin = withoutFreeValues(expectedModel, expectedBin, quality);
  }
  if (bin === undefined || expectedBin === undefined || !Buffer.from(bin).equals(Buffer.from(expectedBin))) return "weight.bin differs";
  if (model === undefined || expectedModel === undefined || !equals(ModelSchema, model as never, expectedModel as never)) return "model.mlmodel differs";
  if (JSON.stringify(manifestItems(files.get(MANIFEST_PATH))) !== JSON.stringify(manifestItems(expected.get(MANIFEST_PATH)))) return "Manifest.json differs";
  const warned = (c.warnings ?? []).flatMap((warning) => pass.skipWarning.exec(warning)?.[1] ?? []);
  const skipped = result.skipped.map((weight) => weight.name);
  if (JSON.stringify(skipped) !== JSON.stringify(warned)) return `skipped ${skipped.join(", ")}; the reference skipped ${warned.join(", ")}`;
  return undefined;
}

/** `<op>.<param>` or `<op>.<param>[i]`. */
const WEIGHT_INPUT = /^(.+)\.([^.[\]]+)(?:\[(\d+)\])?$/;

/** The op named in a weight record, the block holding it, and the name its input binds. */
function weightBinding(blocks: readonly Block[], input: string): { readonly operations: readonly Operation[]; readonly name: string } | undefined {
  const [, opName, param, index] = WEIGHT_INPUT.exec(input) ?? [];
  for (const block of blocks) {
    for (const op of block.operations) {
      const binding = op.inputs[param as string]?.arguments[Number(index ?? 0)]?.binding;
      if (opNameOf(op) === opName && binding?.case === "name") return { operations: block.operations, name: binding.value };
      const nested = weightBinding(op.blocks, input);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

function programBlocks(model: Model | MlPackage["model"]): Block[] {
  const type = (model as Model).Type;
  if (type.case !== "mlProgram") return [];
  return Object.values(type.value.functions).flatMap((fn) => Object.values(fn.blockSpecializations));
}

/** The decompressed value of a weight input of a package. */
function weightValues(pkg: MlPackage, input: string): Float64Array | undefined {
  const found = weightBinding(programBlocks(pkg.model), input);
  if (found === undefined) return undefined;
  const blobs = pkg.weights === undefined ? new Map() : blobsByOffset(pkg.weights);
  return blockValues(found.operations, blobs)(found.name)?.values;
}

/** Quality rule 2: each quality weight's squared error against the input's weight, at most the reference's. */
function qualityShortfall(c: GoldenCase, output: MlPackage): string | undefined {
  const input = decodeMlPackage(packageFiles(c.input));
  for (const weight of c.weights ?? []) {
    if (weight.match !== "quality") continue;
    const ours = weightValues(output, weight.input);
    const original = weightValues(input, weight.input);
    if (ours === undefined || original === undefined || ours.length !== original.length) return `${weight.input}: no weight of the input's size`;
    let sse = 0;
    for (let i = 0; i < ours.length; i++) sse += ((original[i] as number) - (ours[i] as number)) ** 2;
    // The reference's sum was taken in another order: a relative 1e-6 covers that, nothing more.
    if (sse > weight.sse * (1 + 1e-6)) return `${weight.input}: squared error ${sse}, the reference's ${weight.sse}`;
  }
  return undefined;
}

/** Whether a constexpr parameter holds a LUT's or its indices' values (what scikit-learn's k-means chose). */
function isFreeParameter(op: Operation, param: string, readers: ReadonlyMap<string, readonly string[]>): boolean {
  if (param === "lut" || param === "indices" || param === "indices_nonzero_data") return true;
  // A LUT scaled or quantized after palettization: the shift-scale op's data is the LUT.
  return op.type === "constexpr_blockwise_shift_scale" && param === "data" && op.outputs.some((output) => readers.get(output.name)?.includes("lut"));
}

/**
 * Quality rule 1: the LUT and index values of the given weight inputs cleared
 * (blob data zeroed in a copy of weight.bin, inline values emptied in `model`,
 * which is modified), so that the rest compares exactly.
 */
function withoutFreeValues(model: Model, bin: Uint8Array, inputs: readonly string[]): Uint8Array {
  const cleared = new Uint8Array(bin);
  const view = new DataView(cleared.buffer);
  const clear = (value: Value): void => {
    if (value.value.case === "blobFileValue") {
      const offset = Number(value.value.value.offset);
      if (offset + 64 > cleared.length) return;
      const size = Number(view.getBigUint64(offset + 8, true));
      cleared.fill(0, offset + 64, Math.min(cleared.length, offset + 64 + size));
    } else if (value.value.case === "immediateValue" && value.value.value.value.case === "tensor") {
      value.value.value.value.value.value = { case: undefined };
    }
  };
  for (const input of inputs) {
    const found = weightBinding(programBlocks(model), input);
    if (found === undefined) continue;
    const producers = new Map<string, Operation>();
    const readers = new Map<string, string[]>();
    for (const op of found.operations) {
      for (const output of op.outputs) producers.set(output.name, op);
      for (const [param, argument] of Object.entries(op.inputs)) {
        for (const { binding } of argument.arguments) if (binding.case === "name") readers.set(binding.value, [...(readers.get(binding.value) ?? []), param]);
      }
    }
    const seen = new Set<Operation>();
    const visit = (name: string): void => {
      const op = producers.get(name);
      if (op === undefined || seen.has(op) || !op.type.startsWith("constexpr_")) return;
      seen.add(op);
      for (const [param, value] of Object.entries(op.attributes)) if (isFreeParameter(op, param, readers)) clear(value);
      for (const [param, argument] of Object.entries(op.inputs)) {
        const binding = argument.arguments[0]?.binding;
        if (binding?.case === "value" && isFreeParameter(op, param, readers)) clear(binding.value);
        else if (binding?.case === "name") {
          const producer = producers.get(binding.value);
          const val = producer?.type === "const" ? producer.attributes.val : undefined;
          if (val !== undefined && isFreeParameter(op, param, readers)) clear(val);
          visit(binding.value);
        }
      }
    };
    visit(found.name);
  }
  return cleared;
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

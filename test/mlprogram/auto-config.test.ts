/**
 * `chooseProgramConfig` on the fixture packages: every weight it compresses keeps
 * the target (measured again on the applied package with `programReport`), a
 * higher target never gives a smaller package, the two passes commute, iOS16/17
 * programs never get what their ops cannot hold, and an exhaustive search
 * written here (every candidate through a global config, the smallest meeting
 * the target) agrees with it.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isQuantizeError } from "../../src/errors.js";
import type { Block, Operation } from "../../src/gen/MIL_pb.js";
import { applyProgramAutoPlan, chooseProgramConfig, PROGRAM_AUTO_MODES, type ProgramAutoMode, type ProgramAutoPlan } from "../../src/mlprogram/auto-config.js";
import { constantTensor } from "../../src/mlprogram/evaluate-constexpr.js";
import { linearQuantizeWeights } from "../../src/mlprogram/linear-quantize.js";
import { encodeMlPackage, packageProgram, type MlPackage } from "../../src/mlprogram/ml-package.js";
import { palettizeWeights } from "../../src/mlprogram/palettize.js";
import { opNameOf } from "../../src/mlprogram/program-values.js";
import { programReport } from "../../src/mlprogram/report-program.js";
import { walkProgram } from "../../src/mlprogram/walk-program.js";
import { blobsByOffset } from "../../src/mlprogram/weight-bin.js";
import { readMlPackage } from "../../src/node/mlpackage-files.js";
import { FIXTURES } from "./fixtures.js";

const MODELS = readdirSync(join(FIXTURES, "models"))
  .filter((name) => name.endsWith(".mlpackage"))
  .sort();
const packages = new Map<string, MlPackage>();
function fixture(name: string): MlPackage {
  let pkg = packages.get(name);
  if (pkg === undefined) {
    pkg = readMlPackage(join(FIXTURES, "models", name));
    packages.set(name, pkg);
  }
  return pkg;
}
const isIos16 = (name: string): boolean => name.includes("_ios16");

function operations(block: Block): Operation[] {
  return block.operations.flatMap((op) => [op, ...op.blocks.flatMap(operations)]);
}

/** Σx² of a const's values, read straight from the program. */
function signalOf(pkg: MlPackage, name: string): number {
  const blobs = pkg.weights === undefined ? new Map() : blobsByOffset(pkg.weights);
  for (const fn of Object.values(packageProgram(pkg).functions)) {
    for (const block of Object.values(fn.blockSpecializations)) {
      const op = operations(block).find((o) => o.type === "const" && opNameOf(o) === name);
      if (op?.attributes.val !== undefined) return constantTensor(op.attributes.val, blobs, name).values.reduce((sum, v) => sum + v * v, 0);
    }
  }
  throw new Error(`no const ${name}`);
}

/** Per const fed to an op input: its name, whether the compressed package compresses it, its bytes there and its SNR, from `programReport`. */
function measure(original: MlPackage, compressed: MlPackage): Map<string, { compressed: boolean; bytes: number; snrDb: number }> {
  const producers = new Map(walkProgram(packageProgram(original), original.weights).weights.map((w) => [`${w.opName}.${w.input}[${w.index}]`, w.producer]));
  const out = new Map<string, { compressed: boolean; bytes: number; snrDb: number }>();
  for (const w of programReport(original, compressed).weights) {
    const name = producers.get(`${w.opName}.${w.input}[${w.index}]`) as string;
    if (w.after.chain.length === 0) {
      out.set(name, { compressed: false, bytes: w.after.bytes, snrDb: Number.POSITIVE_INFINITY });
      continue;
    }
    const snrDb = w.sse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signalOf(original, name) / w.sse);
    out.set(name, { compressed: w.after.chain.length > 0, bytes: w.after.bytes, snrDb });
  }
  return out;
}

function bytesOf(pkg: MlPackage): number {
  return [...encodeMlPackage(pkg).values()].reduce((sum, file) => sum + file.length, 0);
}

/** A plan's choice per const name: `palettize kmeans 4`, `linear linear_symmetric int8 per_channel`, `kept`. */
function choices(plan: ProgramAutoPlan): Record<string, string> {
  return Object.fromEntries(
    plan.weights.map((w) => [
      w.name,
      w.pass === "kept"
        ? "kept"
        : w.pass === "palettize"
          ? `palettize ${w.config.mode} ${w.config.nbits}`
          : `linear ${w.config.mode} ${w.config.dtype} ${w.config.granularity}`,
    ]),
  );
}

/** The targets every fixture is planned at: low, middle and high for these weights (4-bit tables keep about 20 dB, int8 about 44). */
const TARGETS = [15, 30, 45] as const;
const DEFAULT_MODES: readonly ProgramAutoMode[] = ["kmeans_lut", "linear_symmetric"];

const plans = new Map<string, ProgramAutoPlan>();
function planOf(model: string, targetSnrDb: number, modes = DEFAULT_MODES): ProgramAutoPlan {
  const key = JSON.stringify([model, targetSnrDb, modes]);
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = chooseProgramConfig(fixture(model), { targetSnrDb, modes });
    plans.set(key, plan);
  }
  return plan;
}

describe.each(MODELS)("%s", (model) => {
  test.each(TARGETS)("every compressed weight keeps %d dB, measured on the applied package", (target) => {
    const pkg = fixture(model);
    const plan = planOf(model, target);
    const measured = measure(pkg, applyProgramAutoPlan(pkg, plan).package);
    expect(plan.weights.length).toBeGreaterThan(0);
    for (const w of plan.weights) {
      const m = measured.get(w.name);
      expect({ name: w.name, compressed: m?.compressed }).toEqual({ name: w.name, compressed: w.pass !== "kept" });
      if (w.pass === "kept" || m === undefined) continue;
      expect(m.snrDb).toBeGreaterThanOrEqual(target);
      expect({ bytes: m.bytes, snrDb: m.snrDb }).toEqual({ bytes: w.bytes, snrDb: w.snrDb });
    }
  });

  test("a higher target never gives a smaller package", () => {
    const pkg = fixture(model);
    const sizes = TARGETS.map((target) => bytesOf(applyProgramAutoPlan(pkg, planOf(model, target)).package));
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThanOrEqual(sizes[i - 1] as number);
    // The targets span the choices: the package is not the same at all of them.
    expect(sizes[TARGETS.length - 1]).toBeGreaterThan(sizes[0] as number);
  });

  test("an exhaustive search agrees at every target", () => {
    const measured = exhaustiveMeasures(fixture(model), DEFAULT_MODES, isIos16(model));
    for (const target of TARGETS) expect({ target, choices: choices(planOf(model, target)) }).toEqual({ target, choices: exhaustiveChoices(measured, target) });
  });
});

/** The candidates in size order (fewest bits first), each as a global config of its pass; `ios18` when iOS16/17 programs cannot hold it. */
function oracleCandidates(modes: readonly ProgramAutoMode[]) {
  const candidates: { key: string; ios18: boolean; run: (pkg: MlPackage) => MlPackage }[] = [];
  for (const nbits of [1, 2, 3, 4, 6, 8] as const) {
    for (const mode of modes) {
      if (mode === "kmeans_lut" || mode === "linear_lut") {
        const lutMode = mode === "kmeans_lut" ? "kmeans" : "uniform";
        candidates.push({
          key: `palettize ${lutMode} ${nbits}`,
          ios18: nbits === 3,
          run: (pkg) => palettizeWeights(pkg, { global: { mode: lutMode, nbits } }).package,
        });
        continue;
      }
      const forms =
        nbits === 4
          ? ([
              ["int4", "per_channel"],
              ["int4", "per_block"],
            ] as const)
          : nbits === 8
            ? ([["int8", "per_channel"]] as const)
            : [];
      for (const [dtype, granularity] of forms) {
        candidates.push({
          key: `linear ${mode} ${dtype} ${granularity}`,
          ios18: dtype === "int4",
          run: (pkg) => linearQuantizeWeights(pkg, { global: { mode, dtype, granularity, blockSize: 32 } }).package,
        });
      }
    }
  }
  return candidates;
}

type Measures = { readonly key: string; readonly measured: ReturnType<typeof measure> }[];

/** Every candidate the program's opsets take, run on every weight and measured. */
function exhaustiveMeasures(pkg: MlPackage, modes: readonly ProgramAutoMode[], ios16: boolean): Measures {
  return oracleCandidates(modes)
    .filter((candidate) => !(candidate.ios18 && ios16))
    .map((candidate) => ({ key: candidate.key, measured: measure(pkg, candidate.run(pkg)) }));
}

/** Per weight the smallest candidate meeting the target (the first on a tie), else kept. */
function exhaustiveChoices(measures: Measures, target: number): Record<string, string> {
  const best = new Map<string, { key: string; bytes: number }>();
  const names = new Set<string>();
  for (const { key, measured } of measures) {
    for (const [name, m] of measured) {
      if (!m.compressed) continue;
      names.add(name);
      const now = best.get(name);
      if (m.snrDb >= target && (now === undefined || m.bytes < now.bytes)) best.set(name, { key, bytes: m.bytes });
    }
  }
  return Object.fromEntries([...names].map((name) => [name, best.get(name)?.key ?? "kept"]));
}

describe("an exhaustive search agrees with every mode", () => {
  test.each(["mlp_fp16_ios18.mlpackage", "conv_fp32_ios16.mlpackage"])("%s", (model) => {
    const measured = exhaustiveMeasures(fixture(model), PROGRAM_AUTO_MODES, isIos16(model));
    for (const target of [12, 30]) {
      expect({ target, choices: choices(planOf(model, target, PROGRAM_AUTO_MODES)) }).toEqual({ target, choices: exhaustiveChoices(measured, target) });
    }
  });
});

describe("iOS16/17 programs", () => {
  test.each(MODELS.filter(isIos16))("%s never gets a 3-bit table or 4-bit linear data", (model) => {
    for (const target of [12, 18]) {
      for (const w of planOf(model, target, PROGRAM_AUTO_MODES).weights) {
        if (w.pass === "palettize") expect(w.config.nbits).not.toBe(3);
        if (w.pass === "linear") expect(w.config.dtype).toBe("int8");
      }
    }
  });

  test("the passes refuse those there, and an iOS18 program takes them (the search leaves out no more than it must)", () => {
    const ios16 = fixture("mlp_fp32_ios16.mlpackage");
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isQuantizeError(error) ? error.code : "other";
      }
      return "none";
    };
    expect(refusal(() => palettizeWeights(ios16, { global: { nbits: 3 } }))).toBe("unsupported-model");
    expect(refusal(() => linearQuantizeWeights(ios16, { global: { dtype: "int4" } }))).toBe("unsupported-model");
    expect(refusal(() => linearQuantizeWeights(ios16, { global: { granularity: "per_block" } }))).toBe("unsupported-model");
    const picked = [12, 18].flatMap((target) => Object.values(choices(planOf("mlp_fp32_ios18.mlpackage", target, PROGRAM_AUTO_MODES))));
    expect(picked.some((key) => key.endsWith(" 3") || key.includes("int4"))).toBe(true);
  });
});

describe("the plan's passes", () => {
  test("commute: palettization and linear quantization name different consts", () => {
    const pkg = fixture("mlp_fp32_ios18.mlpackage");
    const plan = planOf("mlp_fp32_ios18.mlpackage", 40);
    expect(plan.passes.map((pass) => pass.function)).toEqual(["palettize_weights", "linear_quantize_weights"]);
    const forward = encodeMlPackage(applyProgramAutoPlan(pkg, plan).package);
    const backward = encodeMlPackage(applyProgramAutoPlan(pkg, { passes: [...plan.passes].reverse() }).package);
    expect([...backward.keys()]).toEqual([...forward.keys()]);
    for (const [path, bytes] of forward) expect(Buffer.from(backward.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  test("name only the consts chosen, with a null global config", () => {
    const pkg = fixture("attn_fp32_ios18.mlpackage");
    const plan = chooseProgramConfig(pkg, { targetSnrDb: 25 });
    const named = plan.passes.flatMap((pass) => Object.keys(pass.config.op_name_configs)).sort();
    expect(named).toEqual(
      plan.weights
        .filter((w) => w.pass !== "kept")
        .map((w) => w.name)
        .sort(),
    );
    for (const pass of plan.passes) expect(pass.config.global_config).toBeNull();
  });

  test("when no weight keeps the target: one palettization naming none, every weight as it was", () => {
    const pkg = fixture("conv_fp32_ios18.mlpackage");
    const plan = chooseProgramConfig(pkg, { targetSnrDb: 200 });
    expect(plan.weights.every((w) => w.pass === "kept")).toBe(true);
    expect(plan.passes).toEqual([
      { function: "palettize_weights", joint_compression: false, config: { global_config: null, op_type_configs: {}, op_name_configs: {} } },
    ]);
    expect([...measure(pkg, applyProgramAutoPlan(pkg, plan).package).values()].every((m) => !m.compressed)).toBe(true);
  });
});

test.each([
  [{ targetSnrDb: Number.NaN }, "targetSnrDb"],
  [{ modes: [] }, "modes"],
  [{ modes: ["kmeans"] as unknown as ProgramAutoMode[] }, "kmeans_lut"],
])("%j is refused, naming the option", (options, part) => {
  expect(() => chooseProgramConfig(fixture("mlp_fp32_ios18.mlpackage"), options)).toThrow(part);
});

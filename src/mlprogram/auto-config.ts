/**
 * `nbits: "auto"` for ML Programs: per weight, the smallest storage the
 * compression passes can give that keeps a target SNR, written as coremltools
 * configs (a palettization pass and a linear quantization pass, each naming its
 * consts in `op_name_configs`) so that a Python user can replay the choice.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { DataType, type Operation } from "../gen/MIL_pb.js";
import { kmeansBoundPays, kmeansErrorLowerBound, MAX_GROUPS_PER_CLUSTER } from "../quantizer/kmeans-bound.js";
import { prepareKmeans, type KmeansInput } from "../quantizer/kmeans-lut.js";
import { linearQuantizerConfigFromJson, resolveLinearQuantizerConfig } from "./compression-config.js";
import { compressProgram, isIos18Opset, resolveCompressionConfig, selectConst, type CompressionResult } from "./compression-pass.js";
import { linearQuantizeWeights } from "./linear-quantize.js";
import { packageProgram, type MlPackage } from "./ml-package.js";
import { palettizeWeights } from "./palettize.js";
import { palettizerConfigFromJson } from "./palettize-config.js";
import { constElements, opNameOf } from "./program-values.js";
import { programReport } from "./report-program.js";
import { walkProgram } from "./walk-program.js";
import { AUTO_WIDTHS, autoCandidates, type AutoCandidate } from "./auto-candidates.js";

/** The modes {@link chooseProgramConfig} may pick from, named as the CLI's `--modes` names them. */
export const PROGRAM_AUTO_MODES = ["kmeans_lut", "linear_lut", "linear", "linear_symmetric"] as const;
/** A mode {@link chooseProgramConfig} may pick from. */
export type ProgramAutoMode = (typeof PROGRAM_AUTO_MODES)[number];
/** The modes tried when none are given: k-means tables and coremltools' default linear mode. */
export const DEFAULT_PROGRAM_AUTO_MODES: readonly ProgramAutoMode[] = ["kmeans_lut", "linear_symmetric"];
/** The SNR every weight keeps when no target is given, in dB (as `nbits: "auto"` for neural networks). */
export const DEFAULT_PROGRAM_TARGET_SNR_DB = 40;

/** coremltools' `OpPalettizerConfig` as {@link chooseProgramConfig} writes it (JSON, coremltools' names). */
export interface PalettizerOpConfigJson {
  /** The op config's class. */
  readonly config_type: "OpPalettizerConfig";
  /** How the table is chosen: k-means clusters, or evenly spaced over the range. */
  readonly mode: "kmeans" | "uniform";
  /** Index bits: 1, 2, 3 (iOS18), 4, 6 or 8. */
  readonly nbits: number;
  /** One table per tensor. */
  readonly granularity: "per_tensor";
}

/** coremltools' `OpLinearQuantizerConfig` as {@link chooseProgramConfig} writes it (JSON, coremltools' names). */
export interface LinearOpConfigJson {
  /** The op config's class. */
  readonly config_type: "OpLinearQuantizerConfig";
  /** With a zero point (`linear`) or symmetric around 0. */
  readonly mode: "linear" | "linear_symmetric";
  /** The stored integers: int4 (iOS18) or int8. */
  readonly dtype: "int4" | "int8";
  /** One scale per output channel, or per block of `block_size` input elements (iOS18). */
  readonly granularity: "per_channel" | "per_block";
  /** For `per_block`: elements per block along the input axis. */
  readonly block_size?: number;
}

/**
 * One pass of a plan as the CLI's `--config` reads it and coremltools' Python
 * API takes it (`OptimizationConfig.from_dict(config)`, then the function): only
 * the named consts are compressed, the global config is null.
 */
export type ProgramConfigFile =
  | {
      /** coremltools' palettization function. */
      readonly function: "palettize_weights";
      /** Always false: the two passes compress different consts. */
      readonly joint_compression: false;
      /** The op configs by const name. */
      readonly config: ProgramConfigJson<PalettizerOpConfigJson>;
    }
  | {
      /** coremltools' linear quantization function. */
      readonly function: "linear_quantize_weights";
      /** Always false: the two passes compress different consts. */
      readonly joint_compression: false;
      /** The op configs by const name. */
      readonly config: ProgramConfigJson<LinearOpConfigJson>;
    };

/** coremltools' `OptimizationConfig` as a dict: here always op configs by const name. */
export interface ProgramConfigJson<C> {
  /** None: only the consts named below are compressed. */
  readonly global_config: null;
  /** None. */
  readonly op_type_configs: Readonly<Record<string, never>>;
  /** Each chosen const's op config, by the const's name. */
  readonly op_name_configs: Readonly<Record<string, C>>;
}

/** What {@link chooseProgramConfig} decided for one const (by name: every const of that name in the program). */
export type ProgramAutoWeight = {
  /** The const op's name. */
  readonly name: string;
  /** Its dimensions. */
  readonly shape: readonly number[];
  /** Bytes of its values as they are. */
  readonly bytesBefore: number;
} & (
  | {
      /** Palettized. */
      readonly pass: "palettize";
      /** Its op config. */
      readonly config: PalettizerOpConfigJson;
      /** Bytes of the constants storing it once compressed. */
      readonly bytes: number;
      /** The lowest SNR of its decompressed values against the original, in dB. */
      readonly snrDb: number;
    }
  | {
      /** Linearly quantized. */
      readonly pass: "linear";
      /** Its op config. */
      readonly config: LinearOpConfigJson;
      /** Bytes of the constants storing it once compressed. */
      readonly bytes: number;
      /** The lowest SNR of its decompressed values against the original, in dB. */
      readonly snrDb: number;
    }
  | {
      /** Left as it is: no candidate kept the target. */
      readonly pass: "kept";
    }
);

/** What {@link chooseProgramConfig} gives. */
export interface ProgramAutoPlan {
  /** The target each compressed weight keeps, in dB. */
  readonly targetSnrDb: number;
  /** Every const a pass would compress, in program order. */
  readonly weights: readonly ProgramAutoWeight[];
  /**
   * The passes to run, in order (see {@link applyProgramAutoPlan}): palettization
   * then linear quantization, each present when it names a const; when none
   * does, one palettization naming none (it only writes weight.bin again).
   */
  readonly passes: readonly ProgramConfigFile[];
}

/** How {@link chooseProgramConfig} chooses. */
export interface ProgramAutoOptions {
  /** The SNR every compressed weight must keep, in dB. @defaultValue 40 */
  readonly targetSnrDb?: number;
  /** The modes to try. @defaultValue `["kmeans_lut", "linear_symmetric"]` */
  readonly modes?: readonly ProgramAutoMode[];
}

/** The passes a plan runs, by coremltools' function name, each reading its JSON config as `--config` does. */
const PLAN_PASSES: Readonly<Record<ProgramConfigFile["function"], (pkg: MlPackage, config: unknown) => CompressionResult>> = {
  palettize_weights: (pkg, config) => palettizeWeights(pkg, palettizerConfigFromJson(config)),
  linear_quantize_weights: (pkg, config) => linearQuantizeWeights(pkg, linearQuantizerConfigFromJson(config)),
};

/** One const of the program (a name may occur in several functions or specializations). */
interface ConstOccurrence {
  readonly function: string;
  readonly opset: string;
  /** FLOAT16 or FLOAT32. */
  readonly dataType: DataType;
  readonly values: Float64Array;
  /** Σx² of the values, in float64. */
  readonly signal: number;
  /** The values sorted for the k-means bound, prepared once on first use (every width reads them). */
  readonly kmeansInput: () => KmeansInput;
}

/** Every occurrence of a const name a pass would compress. */
interface ConstGroup {
  readonly name: string;
  readonly shape: readonly number[];
  readonly occurrences: ConstOccurrence[];
}

/** What one candidate gave one const: bytes and lowest SNR over its occurrences, undefined when a pass left one as it was. */
type Outcome = { readonly bytes: number; readonly snrDb: number } | undefined;

/**
 * Chooses, for every const the compression passes would compress (a float
 * weight of rank 2 or more above 2048 elements, read by no constexpr op), the
 * smallest storage whose decompressed values keep `targetSnrDb` against the
 * original (SNR in float64, as {@link programReport} measures): palettization
 * per tensor at 1, 2, 3 (iOS18), 4, 6 and 8 bits, linear quantization int4 per
 * channel and per block of 32 (iOS18) and int8 per channel, in the modes asked
 * for. Widths are tried fewest bits first (a storage of fewer bits is always
 * smaller), every candidate of a width, the smallest meeting the target kept; a
 * lookup table no k-means can make meet the target (by the proven lower bound of
 * `kmeansErrorLowerBound`) is not tried. A const no candidate keeps the target
 * is left as it is.
 *
 * @param pkg - the package; not modified
 * @param options - the target SNR and the modes
 * @returns the choice per const, and the passes replaying it ({@link applyProgramAutoPlan})
 * @throws {@link QuantizeError} `invalid-option` for a target that is not a finite
 *   number or modes that are empty or unknown; `unsupported-model` for a model that
 *   is not an ML Program; what the passes throw
 * @example
 * ```ts
 * const plan = chooseProgramConfig(pkg, { targetSnrDb: 35 });
 * const { package: small } = applyProgramAutoPlan(pkg, plan);
 * ```
 */
export function chooseProgramConfig(pkg: MlPackage, options: ProgramAutoOptions = {}): ProgramAutoPlan {
  const targetSnrDb = options.targetSnrDb ?? DEFAULT_PROGRAM_TARGET_SNR_DB;
  const modes = options.modes ?? DEFAULT_PROGRAM_AUTO_MODES;
  if (typeof targetSnrDb !== "number" || !Number.isFinite(targetSnrDb)) {
    throw new QuantizeError("invalid-option", `targetSnrDb ${String(targetSnrDb)}: give a finite number of dB`);
  }
  const unknown = modes.filter((mode) => !(PROGRAM_AUTO_MODES as readonly string[]).includes(mode));
  if (modes.length === 0 || unknown.length > 0) {
    throw new QuantizeError("invalid-option", `modes ${JSON.stringify(modes)}: give some of ${PROGRAM_AUTO_MODES.join(", ")}`);
  }
  const groups = selectedConsts(pkg);
  const producers = constProducers(pkg);
  const chosen = new Map<string, { readonly candidate: AutoCandidate; readonly outcome: NonNullable<Outcome> }>();
  const undecided = new Set(groups.keys());
  for (const bits of AUTO_WIDTHS) {
    const candidates = autoCandidates(modes, bits);
    const outcomes = candidates.map((candidate) => {
      const names = [...undecided].filter((name) => allows(groups.get(name) as ConstGroup, candidate, targetSnrDb));
      return names.length === 0 ? new Map<string, Outcome>() : evaluateAutoCandidate(pkg, candidate, names, groups, producers);
    });
    for (const name of [...undecided]) {
      let best: { readonly candidate: AutoCandidate; readonly outcome: NonNullable<Outcome> } | undefined;
      candidates.forEach((candidate, i) => {
        const outcome = outcomes[i]?.get(name);
        if (outcome === undefined || outcome.snrDb < targetSnrDb) return;
        if (best === undefined || outcome.bytes < best.outcome.bytes) best = { candidate, outcome };
      });
      if (best === undefined) continue;
      chosen.set(name, best);
      undecided.delete(name);
    }
  }
  const weights = [...groups.values()].map((group): ProgramAutoWeight => {
    const bytesBefore = group.occurrences.reduce((sum, o) => sum + o.values.length * (o.dataType === DataType.FLOAT16 ? 2 : 4), 0);
    const base = { name: group.name, shape: group.shape, bytesBefore };
    const pick = chosen.get(group.name);
    if (pick === undefined) return { ...base, pass: "kept" };
    const measured = { bytes: pick.outcome.bytes, snrDb: pick.outcome.snrDb };
    return pick.candidate.op.pass === "palettize"
      ? { ...base, ...measured, pass: "palettize", config: pick.candidate.op.config }
      : { ...base, ...measured, pass: "linear", config: pick.candidate.op.config };
  });
  return { targetSnrDb, weights, passes: planPasses(weights) };
}

/**
 * Runs a plan's passes in order, as `--config` runs the config files
 * {@link chooseProgramConfig} writes: the same package byte for byte.
 *
 * @param pkg - the package the plan was chosen for; not modified
 * @param plan - the plan
 * @returns the compressed package and the weights the passes skipped
 * @throws what the passes throw
 */
export function applyProgramAutoPlan(pkg: MlPackage, plan: Pick<ProgramAutoPlan, "passes">): CompressionResult {
  let result: CompressionResult = { package: pkg, skipped: [] };
  for (const pass of plan.passes) {
    const next = PLAN_PASSES[pass.function](result.package, pass.config);
    result = { package: next.package, skipped: [...result.skipped, ...next.skipped] };
  }
  return result;
}

/** The passes naming each chosen const: palettization first (order does not matter: a compressed const is no plain const for the other pass). */
function planPasses(weights: readonly ProgramAutoWeight[]): ProgramConfigFile[] {
  const palettized: Record<string, PalettizerOpConfigJson> = {};
  const linear: Record<string, LinearOpConfigJson> = {};
  for (const w of weights) {
    if (w.pass === "palettize") palettized[w.name] = w.config;
    else if (w.pass === "linear") linear[w.name] = w.config;
  }
  const frame = <C>(named: Record<string, C>): ProgramConfigJson<C> => ({ global_config: null, op_type_configs: {}, op_name_configs: named });
  const passes: ProgramConfigFile[] = [];
  const hasLinear = Object.keys(linear).length > 0;
  if (Object.keys(palettized).length > 0 || !hasLinear) passes.push({ function: "palettize_weights", joint_compression: false, config: frame(palettized) });
  if (hasLinear) passes.push({ function: "linear_quantize_weights", joint_compression: false, config: frame(linear) });
  return passes;
}

/** Whether a const may take a candidate: its programs' opsets take it, and no k-means bound rules the table out. */
function allows(group: ConstGroup, candidate: AutoCandidate, targetSnrDb: number): boolean {
  if (candidate.iOS18Only && !group.occurrences.every((o) => isIos18Opset(o.opset))) return false;
  if (!candidate.lut) return true;
  return !group.occurrences.some((o) => lutRuledOut(o, 2 ** candidate.bits, targetSnrDb));
}

/**
 * Whether no `k`-entry table can keep the target on these values: any table's
 * squared error is at least the k-means optimum, which `kmeansErrorLowerBound`
 * bounds from below (coarse first, finer while it still costs well under k-means).
 */
function lutRuledOut(occurrence: ConstOccurrence, k: number, targetSnrDb: number): boolean {
  const { values, signal } = occurrence;
  if (!values.every(Number.isFinite)) return false;
  const input = occurrence.kmeansInput();
  for (let groupsPerCluster = 2; groupsPerCluster <= MAX_GROUPS_PER_CLUSTER; groupsPerCluster *= 2) {
    if (!kmeansBoundPays(input, k, groupsPerCluster)) return false;
    const bound = kmeansErrorLowerBound(input, k, groupsPerCluster);
    if (bound > 0 && snrDb(signal, bound) < targetSnrDb) return true;
  }
  return false;
}

/**
 * Runs a candidate's pass on the named consts alone and measures each: bytes of
 * the constants storing it and the lowest SNR over its occurrences.
 */
function evaluateAutoCandidate(
  pkg: MlPackage,
  candidate: AutoCandidate,
  names: readonly string[],
  groups: ReadonlyMap<string, ConstGroup>,
  producers: ReadonlyMap<string, string>,
): Map<string, Outcome> {
  const { op } = candidate;
  const passes: ProgramConfigFile[] = [
    op.pass === "palettize"
      ? {
          function: "palettize_weights",
          joint_compression: false,
          config: { global_config: null, op_type_configs: {}, op_name_configs: named(names, op.config) },
        }
      : {
          function: "linear_quantize_weights",
          joint_compression: false,
          config: { global_config: null, op_type_configs: {}, op_name_configs: named(names, op.config) },
        },
  ];
  const report = programReport(pkg, applyProgramAutoPlan(pkg, { passes }).package);
  // Each occurrence once (a const read by several ops is paired once per op input).
  const measured = new Map<string, { readonly bytes: number; readonly sse: number }>();
  for (const w of report.weights) {
    if (w.before.chain.length > 0 || w.after.chain.length === 0) continue;
    const name = producers.get(occurrenceKey(w.function, w.opset, `${w.opName}.${w.input}[${w.index}]`));
    if (name !== undefined) measured.set(occurrenceKey(w.function, w.opset, name), { bytes: w.after.bytes, sse: w.sse });
  }
  const outcomes = new Map<string, Outcome>();
  for (const name of names) {
    const group = groups.get(name) as ConstGroup;
    let bytes = 0;
    let lowest = Number.POSITIVE_INFINITY;
    let complete = true;
    for (const o of group.occurrences) {
      const m = measured.get(occurrenceKey(o.function, o.opset, name));
      if (m === undefined) {
        complete = false;
        break;
      }
      bytes += m.bytes;
      lowest = Math.min(lowest, snrDb(o.signal, m.sse));
    }
    outcomes.set(name, complete ? { bytes, snrDb: lowest } : undefined);
  }
  return outcomes;
}

function named<C>(names: readonly string[], config: C): Record<string, C> {
  return Object.fromEntries(names.map((name) => [name, config]));
}

/** `10 log10(Σx² / Σn²)`: +Infinity without error. */
function snrDb(signal: number, sse: number): number {
  return sse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / sse);
}

function occurrenceKey(fn: string, opset: string, name: string): string {
  return JSON.stringify([fn, opset, name]);
}

/** The const op feeding each op input that reads a plain const, by function, opset and `op.input[index]`. */
function constProducers(pkg: MlPackage): Map<string, string> {
  const walk = walkProgram(packageProgram(pkg), pkg.weights);
  const producers = new Map<string, string>();
  for (const w of walk.weights) {
    if (w.chain.length === 0) producers.set(occurrenceKey(w.function, w.opset, `${w.opName}.${w.input}[${w.index}]`), w.producer);
  }
  return producers;
}

/** The passes' own default config: it selects the consts they would compress. */
const SELECTION = resolveCompressionConfig({ global: {} }, resolveLinearQuantizerConfig);

/**
 * Every float const the passes would compress, grouped by name, in program order:
 * the passes' own walk and selection (`selectConst`), run without replacing anything.
 */
function selectedConsts(pkg: MlPackage): Map<string, ConstGroup> {
  const program = packageProgram(pkg);
  // compressProgram asks for one replacer per function and specialization, in this order.
  const blocks = Object.entries(program.functions).flatMap(([fn, f]) => Object.keys(f.blockSpecializations).map((opset) => ({ fn, opset })));
  const groups = new Map<string, ConstGroup>();
  let next = 0;
  compressProgram(pkg, ({ opset, blobs }) => {
    const block = blocks[next++];
    if (block === undefined || block.opset !== opset) throw new QuantizeError("unsupported-model", `function specializations out of order at ${opset}`);
    return (op: Operation, consumers) => {
      if (op.type !== "const") return undefined;
      const selected = selectConst(op, consumers, SELECTION);
      if (selected === undefined || (selected.dataType !== DataType.FLOAT16 && selected.dataType !== DataType.FLOAT32)) return undefined;
      const values = constElements(op, blobs);
      if (values === undefined) return undefined;
      const name = opNameOf(op);
      let signal = 0;
      for (const v of values) signal += v * v;
      const group = groups.get(name) ?? { name, shape: selected.shape, occurrences: [] };
      let input: KmeansInput | undefined;
      const kmeansInput = (): KmeansInput => (input ??= prepareKmeans(Float32Array.from(values)));
      group.occurrences.push({ function: block.fn, opset, dataType: selected.dataType, values, signal, kmeansInput });
      groups.set(name, group);
      return undefined;
    };
  });
  return groups;
}

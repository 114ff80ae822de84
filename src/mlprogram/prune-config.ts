/**
 * Pruning configs for ML Programs, as coremltools' `OpMagnitudePrunerConfig` and
 * `OpThresholdPrunerConfig` hold them, in camelCase; {@link prunerConfigFromJson}
 * reads coremltools' own snake_case JSON.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { compressionConfigFromJson, isRecord, type CompressionConfig } from "./compression-config.js";
import { configFieldValue } from "./config-json.js";

/** coremltools' `OpMagnitudePrunerConfig`: prune the smallest weights, elementwise, by block or n:m. */
export interface MagnitudePrunerConfig {
  /** Which pruner: `OpMagnitudePrunerConfig`. */
  readonly kind: "magnitude";
  /** Fraction of the weight to zero, in [0, 1]; exactly one of this and `nMRatio`. @defaultValue `null` */
  readonly targetSparsity?: number | null;
  /** Prune whole blocks of this many entries along `dim` (an integer > 1), ranked by their L2 norm. @defaultValue `null` */
  readonly blockSize?: number | null;
  /** `[n, m]`: zero the n smallest of every m consecutive entries along `dim`. @defaultValue `null` */
  readonly nMRatio?: readonly [number, number] | null;
  /** The axis of blocks or n:m groups, 0 or 1; only with `blockSize` or `nMRatio`. @defaultValue 0 for blocks, 1 for n:m */
  readonly dim?: 0 | 1 | null;
  /** Weights of at most this many elements are left as they are. @defaultValue 2048 */
  readonly weightThreshold?: number;
}

/** coremltools' `OpThresholdPrunerConfig`: zero every entry of magnitude at most `threshold`. */
export interface ThresholdPrunerConfig {
  /** Which pruner: `OpThresholdPrunerConfig`. */
  readonly kind: "threshold";
  /** Entries with `|w| <= threshold` go. @defaultValue 1e-12 */
  readonly threshold?: number;
  /** A weight ending with a smaller fraction of zeros is left as it is, in [0, 1]. @defaultValue 0.5 */
  readonly minimumSparsityPercentile?: number;
  /** Weights of at most this many elements are left as they are. @defaultValue 2048 */
  readonly weightThreshold?: number;
}

/** A pruning op config. */
export type PrunerConfig = MagnitudePrunerConfig | ThresholdPrunerConfig;

/** A {@link MagnitudePrunerConfig} with its defaults filled in and `dim` resolved. */
export interface ResolvedMagnitudePrunerConfig {
  /** See {@link MagnitudePrunerConfig.kind}. */
  readonly kind: "magnitude";
  /** See {@link MagnitudePrunerConfig.targetSparsity}. */
  readonly targetSparsity: number | null;
  /** See {@link MagnitudePrunerConfig.blockSize}. */
  readonly blockSize: number | null;
  /** See {@link MagnitudePrunerConfig.nMRatio}. */
  readonly nMRatio: readonly [number, number] | null;
  /** See {@link MagnitudePrunerConfig.dim}: resolved, `null` for elementwise pruning. */
  readonly dim: 0 | 1 | null;
  /** See {@link MagnitudePrunerConfig.weightThreshold}. */
  readonly weightThreshold: number;
}

/** A {@link ThresholdPrunerConfig} with its defaults filled in. */
export type ResolvedThresholdPrunerConfig = Required<ThresholdPrunerConfig>;

/** A pruning op config with every default filled in. */
export type ResolvedPrunerConfig = ResolvedMagnitudePrunerConfig | ResolvedThresholdPrunerConfig;

/** The op types block and n:m pruning apply to. */
export const STRUCTURED_PRUNING_OP_TYPES: readonly string[] = ["conv", "linear"];

/**
 * Whether a resolved config prunes by block or n:m (only for `conv`/`linear` weights).
 *
 * @param config - the config
 * @returns true for block or n:m pruning
 */
export function isStructuredPruning(config: ResolvedPrunerConfig): boolean {
  return config.kind === "magnitude" && (config.blockSize !== null || config.nMRatio !== null);
}

/**
 * Fills in a pruner config's defaults and checks its fields, as coremltools does when
 * the config is built.
 *
 * @param config - the config
 * @param where - what the config is, in messages
 * @returns the config with every field set
 * @throws {@link QuantizeError} `invalid-option` naming the field and the values it takes
 */
export function resolvePrunerConfig(config: PrunerConfig, where = "config"): ResolvedPrunerConfig {
  const fail = (message: string): QuantizeError => new QuantizeError("invalid-option", `${where}: ${message}`);
  const weightThreshold = config.weightThreshold ?? 2048;
  if (!Number.isInteger(weightThreshold) || weightThreshold < 0) throw fail(`weightThreshold ${JSON.stringify(weightThreshold)}; use a non-negative integer`);
  if (config.kind === "threshold") {
    const threshold = config.threshold ?? 1e-12;
    const minimumSparsityPercentile = config.minimumSparsityPercentile ?? 0.5;
    if (typeof threshold !== "number" || !(threshold >= 0)) throw fail(`threshold ${JSON.stringify(threshold)}; use a number >= 0`);
    if (typeof minimumSparsityPercentile !== "number" || !(minimumSparsityPercentile >= 0 && minimumSparsityPercentile <= 1)) {
      throw fail(`minimumSparsityPercentile ${JSON.stringify(minimumSparsityPercentile)}; use a number in [0, 1]`);
    }
    return Object.freeze({ kind: "threshold", threshold, minimumSparsityPercentile, weightThreshold });
  }
  if (config.kind !== "magnitude") throw fail(`kind ${JSON.stringify((config as { kind: unknown }).kind)}; use "magnitude" or "threshold"`);
  const targetSparsity = config.targetSparsity ?? null;
  const nMRatio = config.nMRatio ?? null;
  const blockSize = config.blockSize ?? null;
  if ((targetSparsity === null) === (nMRatio === null)) throw fail("set exactly one of targetSparsity and nMRatio");
  if (targetSparsity !== null && !(typeof targetSparsity === "number" && targetSparsity >= 0 && targetSparsity <= 1)) {
    throw fail(`targetSparsity ${JSON.stringify(targetSparsity)}; use a number in [0, 1]`);
  }
  if (nMRatio !== null) {
    const [n, m] = Array.isArray(nMRatio) ? nMRatio : [];
    if (nMRatio.length !== 2 || !Number.isInteger(n) || !Number.isInteger(m) || (n as number) < 0 || (n as number) > (m as number) || (m as number) < 1) {
      throw fail(`nMRatio ${JSON.stringify(nMRatio)}; use two integers [n, m] with 0 <= n <= m`);
    }
  }
  if (blockSize !== null && (!Number.isInteger(blockSize) || blockSize <= 1)) throw fail(`blockSize ${JSON.stringify(blockSize)}; use an integer > 1`);
  if (blockSize !== null && nMRatio !== null) throw fail("blockSize and nMRatio cannot both be set; choose block or n:m pruning");
  const dim = config.dim ?? null;
  if (dim !== null && blockSize === null && nMRatio === null) throw fail("dim is only taken with blockSize or nMRatio");
  if (dim !== null && dim !== 0 && dim !== 1) throw fail(`dim ${JSON.stringify(dim)}; use 0 or 1`);
  const resolvedDim = dim ?? (blockSize !== null ? 0 : nMRatio !== null ? 1 : null);
  return Object.freeze({ kind: "magnitude", targetSparsity, blockSize, nMRatio, dim: resolvedDim, weightThreshold });
}

/**
 * coremltools' class names by our kinds, their fields by ours, and the fields it
 * takes only as Python floats (`instance_of(float)`: an integer literal is refused).
 */
const PRUNER_JSON = {
  magnitude: {
    className: "OpMagnitudePrunerConfig",
    fields: { targetSparsity: "target_sparsity", blockSize: "block_size", nMRatio: "n_m_ratio", dim: "dim", weightThreshold: "weight_threshold" },
    floatOnly: ["target_sparsity"],
  },
  threshold: {
    className: "OpThresholdPrunerConfig",
    fields: { threshold: "threshold", minimumSparsityPercentile: "minimum_sparsity_percentile", weightThreshold: "weight_threshold" },
    floatOnly: ["threshold", "minimum_sparsity_percentile"],
  },
} as const;

/**
 * Reads a pruning config written as coremltools writes one: `{global_config,
 * op_type_configs, op_name_configs}`, each op config `{config_type:
 * "OpMagnitudePrunerConfig" | "OpThresholdPrunerConfig", ...fields}`, `null` to skip.
 *
 * @param json - the parsed JSON
 * @returns the config, every op config resolved
 * @throws {@link QuantizeError} `invalid-option` when an op config is of another class,
 *   has a field coremltools does not know, a field is out of range, or a block or n:m
 *   config is given for an op type other than `conv` and `linear`
 * @example
 * ```ts
 * const config = prunerConfigFromJson({ global_config: { config_type: "OpMagnitudePrunerConfig", target_sparsity: 0.5 } });
 * ```
 */
export function prunerConfigFromJson(json: unknown): CompressionConfig<ResolvedPrunerConfig> {
  const config = compressionConfigFromJson(json, opConfigFromJson);
  checkOpTypeConfigs(config.opTypeConfigs);
  return config;
}

/**
 * Refuses block and n:m configs under op types they do not apply to, as coremltools
 * does when the config is built.
 *
 * @param opTypeConfigs - configs by op type
 * @throws {@link QuantizeError} `invalid-option` naming the op type
 */
export function checkOpTypeConfigs(opTypeConfigs: Readonly<Record<string, ResolvedPrunerConfig | null>>): void {
  for (const [type, config] of Object.entries(opTypeConfigs)) {
    if (config !== null && isStructuredPruning(config) && !STRUCTURED_PRUNING_OP_TYPES.includes(type)) {
      throw new QuantizeError(
        "invalid-option",
        `opTypeConfigs.${type}: block and n:m pruning apply to ${STRUCTURED_PRUNING_OP_TYPES.join(" and ")} weights only; use targetSparsity alone for ${type}`,
      );
    }
  }
}

function opConfigFromJson(json: unknown, where: string): ResolvedPrunerConfig | null {
  if (json === null) return null;
  if (!isRecord(json)) throw new QuantizeError("invalid-option", `${where} is not an op config object`);
  const { config_type: type, ...fields } = json;
  const kind = (Object.keys(PRUNER_JSON) as (keyof typeof PRUNER_JSON)[]).find((k) => PRUNER_JSON[k].className === type);
  if (kind === undefined) {
    const classes = Object.values(PRUNER_JSON).map((c) => c.className);
    throw new QuantizeError("invalid-option", `${where}: pruning takes ${classes.join(" or ")}, got ${JSON.stringify(type)}`);
  }
  const names = Object.entries(PRUNER_JSON[kind].fields);
  const config: Record<string, unknown> = { kind };
  for (const [key, value] of Object.entries(fields)) {
    const ours = names.find(([, theirs]) => theirs === key)?.[0];
    if (ours === undefined) {
      throw new QuantizeError("invalid-option", `${where}: unknown field ${key}; ${PRUNER_JSON[kind].className} takes ${names.map(([, t]) => t).join(", ")}`);
    }
    config[ours] = configFieldValue(value, (PRUNER_JSON[kind].floatOnly as readonly string[]).includes(key), `${where}: ${key}`);
  }
  return resolvePrunerConfig(config as unknown as PrunerConfig, where);
}

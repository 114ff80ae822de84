/**
 * coremltools' `OpPalettizerConfig` in camelCase, its defaults and checks, and a
 * reader of coremltools' own snake_case JSON for it.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { compressionConfigFromJson, isRecord, type CompressionConfig } from "./compression-config.js";
import { configFieldValue } from "./config-json.js";

/** How a LUT is chosen: k-means clusters, evenly spaced values over the range, or the distinct values. */
export const PALETTIZE_MODES = ["kmeans", "uniform", "unique"] as const;
/** A palettization mode. */
export type PalettizeMode = (typeof PALETTIZE_MODES)[number];

/** The index widths the reference accepts (`constexpr_lut_to_dense` has no 5- or 7-bit indices). */
export const PALETTIZE_NBITS = [1, 2, 3, 4, 6, 8] as const;

/** Whether a weight has one LUT or one per group of output channels. */
export const PALETTIZE_GRANULARITIES = ["per_tensor", "per_grouped_channel"] as const;
/** A palettization granularity. */
export type PalettizeGranularity = (typeof PALETTIZE_GRANULARITIES)[number];

/** coremltools' `OpPalettizerConfig`, in camelCase (`custom` mode and `lut_function` are not supported). */
export interface PalettizerConfig {
  /** @defaultValue `"kmeans"` */
  readonly mode?: PalettizeMode;
  /** Index bits; required for kmeans and uniform, forbidden for unique. @defaultValue `null` */
  readonly nbits?: number | null;
  /** @defaultValue `"per_tensor"` */
  readonly granularity?: PalettizeGranularity;
  /** For `per_grouped_channel`: output channels sharing a LUT. @defaultValue 32 */
  readonly groupSize?: number;
  /** The axis groups are taken along; `null` = the consumer's output axis. @defaultValue `null` */
  readonly channelAxis?: number | null;
  /** Entries of a LUT vector (vector palettization when above 1). @defaultValue 1 */
  readonly clusterDim?: number;
  /** Scale each weight by its largest magnitude before palettizing (iOS18). @defaultValue false */
  readonly enablePerChannelScale?: boolean;
  /** Processes for k-means in the reference; the result does not depend on it. @defaultValue 1 */
  readonly numKmeansWorkers?: number;
  /** Weights of at most this many elements are left as they are. @defaultValue 2048 */
  readonly weightThreshold?: number;
}

/** A {@link PalettizerConfig} with every default filled in. */
export type ResolvedPalettizerConfig = Required<PalettizerConfig>;

const PALETTIZER_DEFAULTS: ResolvedPalettizerConfig = Object.freeze({
  mode: "kmeans",
  nbits: null,
  granularity: "per_tensor",
  groupSize: 32,
  channelAxis: null,
  clusterDim: 1,
  enablePerChannelScale: false,
  numKmeansWorkers: 1,
  weightThreshold: 2048,
});

/**
 * Fills in a palettizer config's defaults and checks its fields, as coremltools
 * does when the config is built.
 *
 * @param config - the config
 * @param where - what the config is, in messages
 * @returns the config with every field set
 * @throws {@link QuantizeError} `invalid-option` naming the field and the values it takes
 */
export function resolvePalettizerConfig(config: PalettizerConfig, where = "config"): ResolvedPalettizerConfig {
  const resolved = { ...PALETTIZER_DEFAULTS, ...config };
  const fail = (message: string): QuantizeError => new QuantizeError("invalid-option", `${where}: ${message}`);
  if (!(PALETTIZE_MODES as readonly string[]).includes(resolved.mode))
    throw fail(`mode ${JSON.stringify(resolved.mode)}; use one of ${PALETTIZE_MODES.join(", ")}`);
  if (resolved.mode === "unique" && resolved.nbits !== null) throw fail("nbits is chosen by unique mode; leave it out");
  if (resolved.mode !== "unique" && resolved.nbits === null)
    throw fail(`nbits is required for ${resolved.mode} mode; give one of ${PALETTIZE_NBITS.join(", ")}`);
  if (resolved.nbits !== null && !(PALETTIZE_NBITS as readonly number[]).includes(resolved.nbits)) {
    throw fail(`nbits ${JSON.stringify(resolved.nbits)}; use one of ${PALETTIZE_NBITS.join(", ")}`);
  }
  if (!(PALETTIZE_GRANULARITIES as readonly string[]).includes(resolved.granularity)) {
    throw fail(`granularity ${JSON.stringify(resolved.granularity)}; use one of ${PALETTIZE_GRANULARITIES.join(", ")}`);
  }
  const positive = { groupSize: resolved.groupSize, clusterDim: resolved.clusterDim, numKmeansWorkers: resolved.numKmeansWorkers };
  for (const [field, value] of Object.entries(positive)) {
    if (!Number.isInteger(value) || value < 1) throw fail(`${field} ${JSON.stringify(value)}; use a positive integer`);
  }
  if (resolved.channelAxis !== null && !Number.isInteger(resolved.channelAxis))
    throw fail(`channelAxis ${JSON.stringify(resolved.channelAxis)}; use an integer or null`);
  if (typeof resolved.enablePerChannelScale !== "boolean")
    throw fail(`enablePerChannelScale ${JSON.stringify(resolved.enablePerChannelScale)}; use true or false`);
  if (!Number.isInteger(resolved.weightThreshold) || resolved.weightThreshold < 0) {
    throw fail(`weightThreshold ${JSON.stringify(resolved.weightThreshold)}; use a non-negative integer`);
  }
  return Object.freeze(resolved);
}

/** coremltools' field names of `OpPalettizerConfig`, by ours (`lut_function` is read and must be null). */
const PALETTIZER_JSON_FIELDS = {
  mode: "mode",
  nbits: "nbits",
  granularity: "granularity",
  groupSize: "group_size",
  channelAxis: "channel_axis",
  clusterDim: "cluster_dim",
  enablePerChannelScale: "enable_per_channel_scale",
  numKmeansWorkers: "num_kmeans_workers",
  weightThreshold: "weight_threshold",
} as const satisfies Record<keyof PalettizerConfig, string>;

/**
 * Reads a palettization config written as coremltools writes one: `{global_config,
 * op_type_configs, op_name_configs}`, each op config `{config_type:
 * "OpPalettizerConfig", mode, nbits, granularity, group_size, ...}` (any field may be
 * left out), `null` to skip.
 *
 * @param json - the parsed JSON
 * @returns the config, every op config resolved
 * @throws {@link QuantizeError} `invalid-option` when an op config is of another
 *   class, has a field coremltools does not know, or a field is out of range
 * @example
 * ```ts
 * const config = palettizerConfigFromJson({ global_config: { config_type: "OpPalettizerConfig", mode: "uniform", nbits: 4 } });
 * ```
 */
export function palettizerConfigFromJson(json: unknown): CompressionConfig<ResolvedPalettizerConfig> {
  return compressionConfigFromJson(json, opConfigFromJson);
}

function opConfigFromJson(json: unknown, where: string): ResolvedPalettizerConfig | null {
  if (json === null) return null;
  if (!isRecord(json)) throw new QuantizeError("invalid-option", `${where} is not an op config object`);
  const { config_type: type, lut_function: lutFunction, ...fields } = json;
  if (type !== "OpPalettizerConfig") {
    throw new QuantizeError("invalid-option", `${where}: palettization takes OpPalettizerConfig, got ${JSON.stringify(type)}`);
  }
  if (lutFunction !== undefined && lutFunction !== null)
    throw new QuantizeError("invalid-option", `${where}: lut_function (custom mode) cannot be given in JSON`);
  const config: Record<string, unknown> = {};
  const names = Object.entries(PALETTIZER_JSON_FIELDS);
  for (const [key, value] of Object.entries(fields)) {
    const ours = names.find(([, theirs]) => theirs === key)?.[0];
    if (ours === undefined) {
      throw new QuantizeError("invalid-option", `${where}: unknown field ${key}; OpPalettizerConfig takes ${Object.values(PALETTIZER_JSON_FIELDS).join(", ")}`);
    }
    // No field of OpPalettizerConfig is float-only.
    const read = configFieldValue(value, false, `${where}: ${key}`);
    config[ours] = typeof read === "string" ? read.toLowerCase() : read;
  }
  return resolvePalettizerConfig(config as PalettizerConfig, where);
}

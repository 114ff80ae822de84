/**
 * Compression configs for ML Programs, as coremltools' `OptimizationConfig` holds
 * them: one op config for every weight (`global`), overridden by the type of the
 * op consuming a weight and by an op's name (`null` skips). In camelCase here;
 * {@link linearQuantizerConfigFromJson} reads coremltools' own snake_case JSON.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { configFieldValue } from "./config-json.js";

/** The linear quantization modes: `linear` has a zero point, `linear_symmetric` a range symmetric around 0. */
export const LINEAR_MODES = ["linear", "linear_symmetric"] as const;
/** A linear quantization mode. */
export type LinearMode = (typeof LINEAR_MODES)[number];

/** The integer types linear quantization writes; {@link LINEAR_DTYPES} has an entry for each. */
export const LINEAR_DTYPE_NAMES = ["int8", "uint8", "int4", "uint4"] as const;
/** An integer type of quantized data. */
export type LinearDtype = (typeof LINEAR_DTYPE_NAMES)[number];
/** What an integer type of quantized data is. */
export interface LinearDtypeInfo {
  /** Bits per element. */
  readonly bits: 8 | 4;
  /** Whether it holds negative numbers. */
  readonly signed: boolean;
}
/** The integer types linear quantization writes, with their bits and signedness. */
export const LINEAR_DTYPES: Readonly<Record<LinearDtype, LinearDtypeInfo>> = {
  int8: { bits: 8, signed: true },
  uint8: { bits: 8, signed: false },
  int4: { bits: 4, signed: true },
  uint4: { bits: 4, signed: false },
};

/** How weights are split into blocks sharing one scale. */
export const LINEAR_GRANULARITIES = ["per_tensor", "per_channel", "per_block"] as const;
/** A linear quantization granularity. */
export type LinearGranularity = (typeof LINEAR_GRANULARITIES)[number];

/** coremltools' `OpLinearQuantizerConfig`, in camelCase. */
export interface LinearQuantizerConfig {
  /** @defaultValue `"linear_symmetric"` */
  readonly mode?: LinearMode;
  /** @defaultValue `"int8"` */
  readonly dtype?: LinearDtype;
  /** @defaultValue `"per_channel"` */
  readonly granularity?: LinearGranularity;
  /** For `per_block`: elements per block along the input axis (0 = the whole axis), or one size per weight axis. @defaultValue 32 */
  readonly blockSize?: number | readonly number[];
  /** Weights of at most this many elements are left as they are. @defaultValue 2048 */
  readonly weightThreshold?: number;
}

/** A {@link LinearQuantizerConfig} with every default filled in. */
export type ResolvedLinearQuantizerConfig = Required<LinearQuantizerConfig>;

/** One op config for each weight: global, overridden by consumer op type, overridden by op name; `null` skips. */
export interface CompressionConfig<C> {
  /** For every weight no override names. @defaultValue `null` */
  readonly global?: C | null;
  /** By the type of the op consuming the weight (`linear`, `conv`, `matmul`, ...). @defaultValue `{}` */
  readonly opTypeConfigs?: Readonly<Record<string, C | null>>;
  /** By the name of the op consuming the weight, or of the `const` holding it. @defaultValue `{}` */
  readonly opNameConfigs?: Readonly<Record<string, C | null>>;
}

const LINEAR_DEFAULTS: ResolvedLinearQuantizerConfig = Object.freeze({
  mode: "linear_symmetric",
  dtype: "int8",
  granularity: "per_channel",
  blockSize: 32,
  weightThreshold: 2048,
});

/**
 * Fills in a linear quantizer config's defaults and checks its fields, as
 * coremltools does when the config is built.
 *
 * @param config - the config
 * @param where - what the config is, in messages
 * @returns the config with every field set
 * @throws {@link QuantizeError} `invalid-option` naming the field and the values it takes
 */
export function resolveLinearQuantizerConfig(config: LinearQuantizerConfig, where = "config"): ResolvedLinearQuantizerConfig {
  const resolved = { ...LINEAR_DEFAULTS, ...config };
  const fail = (message: string): QuantizeError => new QuantizeError("invalid-option", `${where}: ${message}`);
  if (!(LINEAR_MODES as readonly string[]).includes(resolved.mode)) throw fail(`mode ${JSON.stringify(resolved.mode)}; use one of ${LINEAR_MODES.join(", ")}`);
  if (!Object.hasOwn(LINEAR_DTYPES, resolved.dtype)) throw fail(`dtype ${JSON.stringify(resolved.dtype)}; use one of ${Object.keys(LINEAR_DTYPES).join(", ")}`);
  if (!(LINEAR_GRANULARITIES as readonly string[]).includes(resolved.granularity)) {
    throw fail(`granularity ${JSON.stringify(resolved.granularity)}; use one of ${LINEAR_GRANULARITIES.join(", ")}`);
  }
  const sizes = typeof resolved.blockSize === "number" ? [resolved.blockSize] : resolved.blockSize;
  if (!Array.isArray(sizes) || sizes.some((size) => !Number.isInteger(size) || size < 0)) {
    throw fail(`blockSize ${JSON.stringify(resolved.blockSize)}; use a non-negative integer or a list of one per weight axis`);
  }
  if (!Number.isInteger(resolved.weightThreshold) || resolved.weightThreshold < 0) {
    throw fail(`weightThreshold ${JSON.stringify(resolved.weightThreshold)}; use a non-negative integer`);
  }
  return Object.freeze(resolved);
}

/** coremltools' field names of `OpLinearQuantizerConfig`, by ours. */
const LINEAR_JSON_FIELDS = {
  mode: "mode",
  dtype: "dtype",
  granularity: "granularity",
  blockSize: "block_size",
  weightThreshold: "weight_threshold",
} as const satisfies Record<keyof LinearQuantizerConfig, string>;

/**
 * Reads a linear quantization config written as coremltools writes one: `{global_config,
 * op_type_configs, op_name_configs}`, each op config `{config_type:
 * "OpLinearQuantizerConfig", mode, dtype, granularity, block_size, weight_threshold}`
 * (any field may be left out), `null` to skip.
 *
 * @param json - the parsed JSON
 * @returns the config, every op config resolved
 * @throws {@link QuantizeError} `invalid-option` when an op config is of another
 *   class, has a field coremltools does not know, or a field is out of range
 * @example
 * ```ts
 * const config = linearQuantizerConfigFromJson({ global_config: { config_type: "OpLinearQuantizerConfig", dtype: "int4" } });
 * ```
 */
export function linearQuantizerConfigFromJson(json: unknown): CompressionConfig<ResolvedLinearQuantizerConfig> {
  return compressionConfigFromJson(json, opConfigFromJson);
}

function opConfigFromJson(json: unknown, where: string): ResolvedLinearQuantizerConfig | null {
  if (json === null) return null;
  if (!isRecord(json)) throw new QuantizeError("invalid-option", `${where} is not an op config object`);
  const { config_type: type, ...fields } = json;
  if (type !== "OpLinearQuantizerConfig") {
    throw new QuantizeError("invalid-option", `${where}: linear quantization takes OpLinearQuantizerConfig, got ${JSON.stringify(type)}`);
  }
  const config: Record<string, unknown> = {};
  const names = Object.entries(LINEAR_JSON_FIELDS);
  for (const [key, value] of Object.entries(fields)) {
    const ours = names.find(([, theirs]) => theirs === key)?.[0];
    if (ours === undefined)
      throw new QuantizeError(
        "invalid-option",
        `${where}: unknown field ${key}; OpLinearQuantizerConfig takes ${Object.values(LINEAR_JSON_FIELDS).join(", ")}`,
      );
    // No field of OpLinearQuantizerConfig is float-only.
    const read = configFieldValue(value, false, `${where}: ${key}`);
    config[ours] = typeof read === "string" && ours !== "dtype" ? read.toLowerCase() : read;
  }
  return resolveLinearQuantizerConfig(config as LinearQuantizerConfig, where);
}

/**
 * Reads the `{global_config, op_type_configs, op_name_configs}` frame coremltools
 * writes around its op configs, each op config read by the pass's own reader.
 *
 * @param json - the parsed JSON
 * @param opConfigFromJson - reads one op config (`null` to skip); `where` names it in errors
 * @returns the config, every op config read
 * @throws {@link QuantizeError} `invalid-option` when the frame is not an object, has
 *   unknown fields, or a by-key field is not an object; what `opConfigFromJson` throws
 */
export function compressionConfigFromJson<R>(json: unknown, opConfigFromJson: (json: unknown, where: string) => R | null): Required<CompressionConfig<R>> {
  if (!isRecord(json)) throw new QuantizeError("invalid-option", "the config is not a JSON object with global_config, op_type_configs, op_name_configs");
  const known = ["global_config", "op_type_configs", "op_name_configs"];
  const unknown = Object.keys(json).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new QuantizeError("invalid-option", `the config has unknown fields ${unknown.join(", ")}; it takes ${known.join(", ")}`);
  const byKey = (field: string): Record<string, R | null> => {
    const value = json[field] ?? {};
    if (!isRecord(value)) throw new QuantizeError("invalid-option", `${field} is not an object of op configs`);
    return Object.fromEntries(Object.entries(value).map(([key, op]) => [key, opConfigFromJson(op, `${field}.${key}`)]));
  };
  return {
    global: opConfigFromJson(json.global_config ?? null, "global_config"),
    opTypeConfigs: byKey("op_type_configs"),
    opNameConfigs: byKey("op_name_configs"),
  };
}

/**
 * Whether a parsed JSON value is an object (not null, not an array).
 *
 * @param value - the value
 * @returns whether its fields can be read
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

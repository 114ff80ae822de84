/**
 * What a compression request names — a mode and a bit width, or a coremltools
 * config object (`{function, joint_compression, config}`) — turned into the
 * pass that runs it. The CLI's `--nbits`/`--mode` and `--config` and the
 * browser page share it, so both give the same package for the same request.
 *
 * @packageDocumentation
 */
import { isQuantizeError, QuantizeError } from "../errors.js";
import { isRecord, type LinearDtype, linearQuantizerConfigFromJson } from "./compression-config.js";
import type { CompressionOptions, CompressionResult } from "./compression-pass.js";
import { linearQuantizeWeights } from "./linear-quantize.js";
import type { MlPackage } from "./ml-package.js";
import { palettizeWeights } from "./palettize.js";
import { PALETTIZE_NBITS, type PalettizeMode, palettizerConfigFromJson } from "./palettize-config.js";
import { pruneWeights } from "./prune.js";
import { prunerConfigFromJson } from "./prune-config.js";

/** A coremltools compression function a config object may name. */
export type CompressionFunction = "linear_quantize_weights" | "palettize_weights" | "prune_weights";

/** The coremltools functions a config object may name, each reading its config and giving the pass to run. */
export const COMPRESSION_FUNCTIONS = {
  linear_quantize_weights: (json: unknown, options: CompressionOptions) => {
    const config = linearQuantizerConfigFromJson(json);
    return (pkg: MlPackage) => linearQuantizeWeights(pkg, config, options);
  },
  palettize_weights: (json: unknown, options: CompressionOptions) => {
    const config = palettizerConfigFromJson(json);
    return (pkg: MlPackage) => palettizeWeights(pkg, config, options);
  },
  prune_weights: (json: unknown, options: CompressionOptions) => {
    const config = prunerConfigFromJson(json);
    return (pkg: MlPackage) => pruneWeights(pkg, config, options);
  },
} as const satisfies Record<CompressionFunction, (configJson: unknown, options: CompressionOptions) => (pkg: MlPackage) => CompressionResult>;

/** The fields of a config object: one case of the reference set without its bookkeeping. */
const CONFIG_OBJECT_FIELDS = ["function", "joint_compression", "config"] as const;

/** A mode as the CLI's `--mode` names it. */
export type PackageMode = "linear" | "linear_symmetric" | "kmeans_lut" | "linear_lut";

/**
 * What each mode is for an ML Program: the pass and its mode. The linear modes
 * store int8 (or int4 with 4 bits), coremltools' default dtype; a zero point
 * makes `linear` asymmetric.
 */
export const PACKAGE_MODES = {
  linear: { function: "linear_quantize_weights", mode: "linear" },
  linear_symmetric: { function: "linear_quantize_weights", mode: "linear_symmetric" },
  kmeans_lut: { function: "palettize_weights", mode: "kmeans" },
  linear_lut: { function: "palettize_weights", mode: "uniform" },
} as const satisfies Record<
  PackageMode,
  | { readonly function: "linear_quantize_weights"; readonly mode: "linear" | "linear_symmetric" }
  | { readonly function: "palettize_weights"; readonly mode: PalettizeMode }
>;

/** The dtype of each bit width the linear modes take. */
const LINEAR_DTYPE_OF_NBITS: Readonly<Record<number, LinearDtype>> = { 8: "int8", 4: "int4" };

/**
 * The bit widths a mode takes on an ML Program: 8 and 4 for the linear modes
 * (int8, int4), the palettizer's LUT sizes for the LUT modes.
 *
 * @param mode - a mode as the CLI's `--mode` names it
 * @returns the bit widths, largest first
 */
export function packageNbits(mode: PackageMode): readonly number[] {
  const widths = PACKAGE_MODES[mode].function === "linear_quantize_weights" ? Object.keys(LINEAR_DTYPE_OF_NBITS).map(Number) : [...PALETTIZE_NBITS];
  return widths.sort((a, b) => b - a);
}

/** A mode and a bit width to run on a package, as the CLI's `--mode` and `--nbits` say it. */
export interface PackageFlagsRequest {
  /** A mode and a bit width (`--mode`, `--nbits`). */
  readonly kind: "flags";
  /** The mode. */
  readonly mode: PackageMode;
  /** The bit width: 8 or 4 for the linear modes; one of `PALETTIZE_NBITS` (1, 2, 3, 4, 6, 8) for the LUT modes. */
  readonly nbits: number;
}

/** What to run on a package: a mode and bit width, as the CLI's flags say it, or a coremltools config object. */
export type PackageCompressionRequest =
  | PackageFlagsRequest
  | {
      /** A coremltools config (`--config`). */
      readonly kind: "config";
      /**
       * The parsed JSON (read it with `parseConfigJson`, which keeps integer
       * literals apart from floats): one `{function, joint_compression, config}`
       * object, or a list of them run in order.
       */
      readonly config: unknown;
      /**
       * Names the config in messages (a file name).
       * @defaultValue `"config"`
       */
      readonly source?: string;
    };

/** A request checked and ready to run. */
export interface PackageCompression {
  /** The coremltools functions run, comma-separated, for a summary. */
  readonly function: string;
  /** Runs the pass (or passes) on a package; never mutates it. */
  readonly compress: (pkg: MlPackage) => CompressionResult;
}

/**
 * Checks a request and gives the pass it names, before any package is read:
 * a bad request fails at once.
 *
 * @param request - a mode and bit width, or a config object
 * @returns the function names and the pass
 * @throws {@link QuantizeError} `invalid-option` for a bit width the mode does not
 *   take, or a config object that is not one coremltools reads (naming the
 *   source and field)
 */
export function packageCompression(request: PackageCompressionRequest): PackageCompression {
  if (request.kind === "flags") return compressionOfFlags(request.mode, request.nbits);
  const source = request.source ?? "config";
  const json = request.config;
  if (!Array.isArray(json)) return compressionOfConfigObject(json, source);
  if (json.length === 0) throw new QuantizeError("invalid-option", `${source}: an empty list; give one or more {"function": ..., "config": {...}} objects`);
  const passes = json.map((item, i) => compressionOfConfigObject(item, `${source}[${i}]`));
  return {
    function: passes.map((pass) => pass.function).join(", "),
    compress: (pkg) =>
      passes.reduce<CompressionResult>(
        (done, pass) => {
          const next = pass.compress(done.package);
          return { package: next.package, skipped: [...done.skipped, ...next.skipped] };
        },
        { package: pkg, skipped: [] },
      ),
  };
}

/**
 * Compresses a package as a request says: the CLI's `quantize` on an ML Program,
 * as a function.
 *
 * @param pkg - the package (not mutated)
 * @param request - a mode and bit width, or a config object
 * @returns the new package and the weights left as they were
 * @throws {@link QuantizeError} for a bad request (see {@link packageCompression}) and what the pass throws
 * @example
 * ```ts
 * const { package: small } = compressPackage(pkg, { kind: "flags", mode: "linear", nbits: 8 });
 * ```
 */
export function compressPackage(pkg: MlPackage, request: PackageCompressionRequest): CompressionResult {
  return packageCompression(request).compress(pkg);
}

/** A mode and a bit width as one pass. */
function compressionOfFlags(mode: PackageMode, nbits: number): PackageCompression {
  const row = PACKAGE_MODES[mode];
  if (row === undefined) {
    throw new QuantizeError("invalid-option", `mode ${JSON.stringify(mode)}; an ML Program takes ${Object.keys(PACKAGE_MODES).join(", ")}`);
  }
  if (row.function === "linear_quantize_weights") {
    const dtype = LINEAR_DTYPE_OF_NBITS[nbits];
    if (dtype === undefined) {
      throw new QuantizeError("invalid-option", `--mode ${mode} stores an ML Program's weights in 8 or 4 bits (int8, int4), not ${nbits}; use --nbits 8 or 4`);
    }
    const config = { global: { mode: row.mode, dtype } } as const;
    return { function: row.function, compress: (pkg) => linearQuantizeWeights(pkg, config) };
  }
  if (!(PALETTIZE_NBITS as readonly number[]).includes(nbits)) {
    throw new QuantizeError("invalid-option", `--mode ${mode} palettizes an ML Program's weights with ${PALETTIZE_NBITS.join(", ")} bits, not ${nbits}`);
  }
  const config = { global: { mode: row.mode, nbits: nbits as (typeof PALETTIZE_NBITS)[number] } } as const;
  return { function: row.function, compress: (pkg) => palettizeWeights(pkg, config) };
}

/** One `{function, joint_compression, config}` object; `source` names it in messages. */
function compressionOfConfigObject(json: unknown, source: string): PackageCompression {
  const fail = (message: string): QuantizeError => new QuantizeError("invalid-option", `${source}: ${message}`);
  if (!isRecord(json)) throw fail(`not a JSON object; write {"function": ..., "joint_compression": false, "config": {...}}`);
  const unknown = Object.keys(json).filter((key) => !(CONFIG_OBJECT_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw fail(`unknown field ${unknown.join(", ")}; a config file holds ${CONFIG_OBJECT_FIELDS.join(", ")}`);
  const name = json.function;
  if (name === "decompress_weights") throw fail("decompress_weights is the dequantize command: coreml-quantize dequantize IN -o OUT");
  if (typeof name !== "string" || !Object.hasOwn(COMPRESSION_FUNCTIONS, name)) {
    throw fail(`function ${JSON.stringify(name)}; use one of ${Object.keys(COMPRESSION_FUNCTIONS).join(", ")}`);
  }
  const joint = json.joint_compression ?? false;
  if (typeof joint !== "boolean") throw fail(`joint_compression ${JSON.stringify(joint)}; use true or false`);
  if (!Object.hasOwn(json, "config")) throw fail(`no config; add "config": {"global_config": ..., "op_type_configs": {}, "op_name_configs": {}}`);
  const fn = name as CompressionFunction;
  try {
    return { function: fn, compress: COMPRESSION_FUNCTIONS[fn](json.config, { jointCompression: joint }) };
  } catch (error) {
    if (isQuantizeError(error)) throw new QuantizeError(error.code, `${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

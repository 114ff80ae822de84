/**
 * Command-line parsing: argv -> a typed command, or a usage error.
 *
 * @packageDocumentation
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { QUANTIZABLE_LAYER_TYPES, type AdvancedSelectorOptions, type MatrixMultiplySelectorOptions } from "../selectors.js";

/** Bad command-line usage: the CLI prints the usage text and exits with 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * The most samples `--random` draws: they are all drawn before the first runs and
 * held in memory (a 224x224 RGB image is 150 KB); characterising a model takes
 * tens or hundreds, so more is most likely a typo.
 */
export const MAX_RANDOM_SAMPLES = 1000;

/** The seed of `--random` when `--seed` is not given: the same samples every run. */
export const DEFAULT_SEED = 0;

/** The usage text. */
export const USAGE = `Usage:
  coreml-quantize inspect MODEL [--json]
  coreml-quantize quantize IN -o OUT --nbits N [--mode linear|linear_symmetric|linear_lut|kmeans_lut]
      [--skip-layer-types a,b] [--min-conv-kernel-channels N] [--min-conv-weight-count N] [--no-fuse]
      [--fp16-overflow error|keep-float32|clamp] [--report FILE.json|-] [--sample-data PATH]
  coreml-quantize quantize IN -o OUT --nbits auto [--target-snr DB] [--modes linear,kmeans_lut] [...]
  coreml-quantize dequantize IN -o OUT
  coreml-quantize int8-matmul IN -o OUT [--min-weight-count N] [--min-input-channels N]
      [--min-output-channels N] [--max-input-channels N] [--max-output-channels N] [--layers a,b]
  coreml-quantize report ORIGINAL QUANTIZED [--json]
  coreml-quantize predict MODEL --input NAME=FILE [--input NAME=FILE ...] [--json] [-o DIR]
  coreml-quantize compare ORIGINAL QUANTIZED (--samples PATH | --random N [--seed N])
      [--layers] [--json]
  coreml-quantize --help | --version

Commands:
  inspect      list the networks, layers and weights of MODEL with their shapes,
               storage (float32, float16, n-bit linear, n-bit LUT, int8) and bytes
  quantize     compress the weights: --nbits 16 for half precision (--mode is then
               ignored), 1..8 for n-bit storage (default mode linear), auto for
               the fewest bits per tensor that keep --target-snr (default 40 dB);
               prints a per-layer table with the SNR each tensor kept
  dequantize   turn quantized and half-precision weights back into float32
  int8-matmul  store innerProduct and batchedMatmul weights as int8 and run them
               as int8 x int8 products (specification version 5: iOS 14, macOS 11)
  report       compare QUANTIZED with ORIGINAL weight by weight: storage, bytes,
               SNR (and, with --json, PSNR, max error, cosine); fused layers are
               compared against the original's fused weights
  predict      run MODEL on one sample and print each output (labels; the top 5
               of a probability dictionary; an array's shape and first values),
               or with -o DIR write DIR/<output>.npy for arrays and images (the
               float blob) and DIR/<output>.json for labels and dictionaries
  compare      run ORIGINAL and QUANTIZED on the same samples and compare their
               predictions output by output: SNR and PSNR (coremltools' figures
               and without its noise floor), max error, cosine, label agreement

Options:
  -o, --output FILE   where to write the result (never the input, unless --force);
                      for predict a directory, created if missing
  --input NAME=FILE   predict: the value of input NAME, one --input an input: a .npy
                      array (any numeric type) or, for an image input, an image file
                      (.png .jpg .jpeg .bmp, resized) or a .npy of uint8 [H, W, 3] RGB
  --samples PATH      compare: a directory holding one sub-directory a sample (with
                      <input>.npy or image files), a directory of images (one image
                      input), or a .json file of samples
  --random N          compare: N seeded random samples instead (1..${MAX_RANDOM_SAMPLES})
  --seed N            with --random: the seed, any integer (default ${DEFAULT_SEED})
  --layers            compare: also compare every layer's output, and each layer run
                      alone (int8-matmul: --layers a,b names the layers to convert)
  --sample-data PATH  quantize: then compare the output's predictions with the
                      input's on these samples (PATH as for --samples)
  --skip-layer-types, --min-conv-kernel-channels, --min-conv-weight-count
                      select layers like coremltools' AdvancedQuantizedLayerSelector
                      (defaults 4 and 4096 for the two minimums)
  --no-fuse           do not fold batchnorm/scale/bias layers into the layer before
  --fp16-overflow     at 16 bits, values beyond ±65504: error (default), keep-float32
                      (those tensors stay float32) or clamp (saturate to ±65504)
  --report FILE       also write the per-tensor report as JSON (- for stdout)
  --target-snr DB     with --nbits auto: the SNR every tensor must keep (default 40)
  --modes a,b         with --nbits auto: the modes to try (default linear,kmeans_lut)
  --force             allow OUT to be the input file
  --json              machine-readable output (inspect, report, predict, compare)
  --debug             print stack traces
  -h, --help          show this text
  -v, --version       show the version
`;

/** Selector flags of `quantize`; any given switches to the advanced selector. */
export type AdvancedSelectorFlags = AdvancedSelectorOptions;

/** Selector flags of `int8-matmul`. */
export type MatmulSelectorFlags = MatrixMultiplySelectorOptions;

/** The values of `--fp16-overflow`. */
export const FLOAT16_OVERFLOWS = ["error", "keep-float32", "clamp"] as const;
type Float16Overflow = (typeof FLOAT16_OVERFLOWS)[number];

/** The CLI's quantization modes. */
export const CLI_MODES = ["linear", "linear_symmetric", "linear_lut", "kmeans_lut"] as const;

/** Where `compare` takes its samples from. */
export type SampleSource =
  | { readonly kind: "files"; readonly path: string }
  | { readonly kind: "random"; readonly count: number; readonly seed: number };

/** One `--input NAME=FILE` of `predict`. */
export interface InputFile {
  readonly name: string;
  readonly file: string;
}

/** A parsed command line. */
export type Command =
  | { readonly command: "help" }
  | { readonly command: "version" }
  | { readonly command: "inspect"; readonly model: string; readonly json: boolean }
  | {
    readonly command: "quantize"; readonly input: string; readonly output: string; readonly force: boolean;
    readonly nbits: number | "auto"; readonly mode: (typeof CLI_MODES)[number]; readonly fuse: boolean;
    readonly targetSnrDb?: number; readonly modes?: readonly (typeof CLI_MODES)[number][];
    readonly float16Overflow?: Float16Overflow; readonly report?: string;
    readonly selector: AdvancedSelectorFlags | undefined;
    /** `--sample-data`: compare the output with the input on these samples once written. */
    readonly sampleData?: string;
  }
  | { readonly command: "dequantize"; readonly input: string; readonly output: string; readonly force: boolean }
  | { readonly command: "report"; readonly original: string; readonly quantized: string; readonly json: boolean }
  | {
    readonly command: "int8-matmul"; readonly input: string; readonly output: string; readonly force: boolean;
    readonly selector: MatmulSelectorFlags;
  }
  | {
    readonly command: "predict"; readonly model: string; readonly inputs: readonly InputFile[]; readonly json: boolean;
    /** `-o DIR`: write one file an output there. */
    readonly outputDir?: string;
  }
  | {
    readonly command: "compare"; readonly original: string; readonly quantized: string; readonly samples: SampleSource;
    readonly layers: boolean; readonly json: boolean;
  };

const options = {
  output: { type: "string", short: "o" },
  nbits: { type: "string" },
  "target-snr": { type: "string" },
  modes: { type: "string" },
  "fp16-overflow": { type: "string" },
  report: { type: "string" },
  "sample-data": { type: "string" },
  input: { type: "string", multiple: true },
  samples: { type: "string" },
  random: { type: "string" },
  seed: { type: "string" },
  mode: { type: "string" },
  "skip-layer-types": { type: "string" },
  "min-conv-kernel-channels": { type: "string" },
  "min-conv-weight-count": { type: "string" },
  "no-fuse": { type: "boolean" },
  "min-weight-count": { type: "string" },
  "min-input-channels": { type: "string" },
  "min-output-channels": { type: "string" },
  "max-input-channels": { type: "string" },
  "max-output-channels": { type: "string" },
  layers: { type: "string" },
  force: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies ParseArgsConfig["options"];

/**
 * compare's options: `--layers` is a flag there, while int8-matmul's `--layers`
 * takes a list. One parseArgs configuration cannot hold both, so the command
 * (the first operand) picks its configuration.
 */
const compareOptions = { ...options, layers: { type: "boolean" } } as const satisfies ParseArgsConfig["options"];

type OptionName = keyof typeof options;
type OptionValue<K extends OptionName> = (typeof options)[K] extends { readonly multiple: true } ? string[]
  : (typeof options)[K]["type"] extends "string" ? string : boolean;
type Values = { [K in Exclude<OptionName, "layers">]?: OptionValue<K> } & {
  /** A list for int8-matmul, a flag for compare. */
  layers?: string | boolean;
};

/** Which options each command takes (besides --help / --version). */
const ALLOWED: Record<Exclude<Command["command"], "help" | "version">, readonly OptionName[]> = {
  inspect: ["json"],
  quantize: [
    "output", "force", "nbits", "mode", "skip-layer-types", "min-conv-kernel-channels", "min-conv-weight-count", "no-fuse",
    "target-snr", "modes", "fp16-overflow", "report", "sample-data",
  ],
  dequantize: ["output", "force"],
  "int8-matmul": ["output", "force", "min-weight-count", "min-input-channels", "min-output-channels", "max-input-channels", "max-output-channels", "layers"],
  report: ["json"],
  predict: ["input", "json", "output"],
  compare: ["samples", "random", "seed", "layers", "json"],
};

/**
 * Parses the arguments after the program name.
 *
 * @param argv - e.g. `["quantize", "in.mlmodel", "-o", "out.mlmodel", "--nbits", "8"]`
 * @returns the command
 * @throws {@link UsageError} for unknown commands or options, options of another
 *   command, missing operands and malformed numbers
 */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    const config = commandOf(argv) === "compare" ? compareOptions : options;
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  const values = parsed.values as Values;
  if (values.help === true) return { command: "help" };
  if (values.version === true) return { command: "version" };
  const [command, ...operands] = parsed.positionals;
  if (command === undefined) throw new UsageError("no command given");
  if (!Object.hasOwn(ALLOWED, command)) throw new UsageError(`unknown command ${quoteLong(command)}`);
  const name = command as keyof typeof ALLOWED;
  for (const option of Object.keys(values) as OptionName[]) {
    if (option !== "help" && option !== "version" && !ALLOWED[name].includes(option)) {
      throw new UsageError(`${name} does not take --${option}`);
    }
  }
  if (name === "report") return reportCommand(operands, values);
  if (name === "compare") return compareCommand(operands, values);
  if (name === "predict") return predictCommand(operands, values);
  const [file, ...extra] = operands;
  if (file === undefined) throw new UsageError(`${name} needs ${name === "inspect" ? "a MODEL" : "an IN"} file`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  if (name === "inspect") return { command: "inspect", model: file, json: values.json === true };
  if (values.output === undefined || values.output === "") throw new UsageError(`${name} needs -o OUT`);
  const io = { input: file, output: values.output, force: values.force === true };
  switch (name) {
    case "quantize":
      return { command: "quantize", ...io, ...quantizeFlags(values) };
    case "dequantize":
      return { command: "dequantize", ...io };
    case "int8-matmul":
      return { command: "int8-matmul", ...io, selector: matmulFlags(values) };
  }
}

/** The command word: the first operand, as the common options read the line (errors are left to the strict parse). */
function commandOf(argv: readonly string[]): string | undefined {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: false }).positionals[0];
  } catch {
    return undefined;
  }
}

function predictCommand(operands: readonly string[], values: Values): Extract<Command, { command: "predict" }> {
  const [model, ...extra] = operands;
  if (model === undefined) throw new UsageError("predict needs a MODEL file");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  const inputs = (values.input ?? []).map((text): InputFile => {
    const at = text.indexOf("=");
    if (at <= 0 || at === text.length - 1) throw new UsageError(`--input needs NAME=FILE, got ${quoteLong(text)}`);
    return { name: text.slice(0, at), file: text.slice(at + 1) };
  });
  if (inputs.length === 0) throw new UsageError("predict needs --input NAME=FILE for each input of the model");
  const names = new Set<string>();
  for (const { name } of inputs) {
    if (names.has(name)) throw new UsageError(`--input ${quoteLong(name)} is given twice`);
    names.add(name);
  }
  if (values.output === "") throw new UsageError("-o needs a DIR");
  return {
    command: "predict", model, inputs, json: values.json === true,
    ...(values.output === undefined ? {} : { outputDir: values.output }),
  };
}

function compareCommand(operands: readonly string[], values: Values): Extract<Command, { command: "compare" }> {
  const [original, quantized, ...extra] = operands;
  if (original === undefined || quantized === undefined) throw new UsageError("compare needs an ORIGINAL and a QUANTIZED file");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  if (values.samples !== undefined && values.random !== undefined) throw new UsageError("give --samples PATH or --random N, not both");
  if (values.seed !== undefined && values.random === undefined) throw new UsageError("--seed goes with --random");
  let samples: SampleSource;
  if (values.samples !== undefined) {
    if (values.samples === "") throw new UsageError("--samples needs a PATH");
    samples = { kind: "files", path: values.samples };
  } else if (values.random !== undefined) {
    const count = integer("random", values.random);
    if (count < 1 || count > MAX_RANDOM_SAMPLES) {
      throw new UsageError(`--random takes 1 to ${MAX_RANDOM_SAMPLES} samples (MAX_RANDOM_SAMPLES), got ${count}`);
    }
    samples = { kind: "random", count, seed: values.seed === undefined ? DEFAULT_SEED : signedInteger("seed", values.seed) };
  } else {
    throw new UsageError("compare needs --samples PATH or --random N");
  }
  return { command: "compare", original, quantized, samples, layers: values.layers === true, json: values.json === true };
}

function reportCommand(operands: readonly string[], values: Values): Extract<Command, { command: "report" }> {
  const [original, quantized, ...extra] = operands;
  if (original === undefined || quantized === undefined) throw new UsageError("report needs an ORIGINAL and a QUANTIZED file");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  return { command: "report", original, quantized, json: values.json === true };
}

type QuantizeFlags = Omit<Extract<Command, { command: "quantize" }>, "command" | "input" | "output" | "force">;

function quantizeFlags(values: Values): QuantizeFlags {
  if (values.nbits === undefined) throw new UsageError("quantize needs --nbits (16, 1..8 or auto)");
  const nbits = values.nbits === "auto" ? "auto" : integer("nbits", values.nbits);
  if (nbits !== "auto" && nbits !== 16 && (nbits < 1 || nbits > 8)) throw new UsageError(`--nbits must be 16, 1..8 or auto, got ${nbits}`);
  if (nbits !== "auto" && (values["target-snr"] !== undefined || values.modes !== undefined)) {
    throw new UsageError("--target-snr and --modes go with --nbits auto");
  }
  const overflow = values["fp16-overflow"];
  if (overflow !== undefined && !(FLOAT16_OVERFLOWS as readonly string[]).includes(overflow)) {
    throw new UsageError(`--fp16-overflow must be one of ${FLOAT16_OVERFLOWS.join(", ")}, got ${quoteLong(overflow)}`);
  }
  const target = values["target-snr"];
  if (target !== undefined && (!/^-?\d+(\.\d+)?$/.test(target) || !Number.isFinite(Number(target)))) {
    throw new UsageError(`--target-snr needs a finite number of dB, got ${quoteLong(target)}`);
  }
  const modes = values.modes === undefined ? undefined : list(values.modes);
  if (modes !== undefined && (modes.length === 0 || modes.some((m) => !(CLI_MODES as readonly string[]).includes(m)))) {
    throw new UsageError(`--modes takes some of ${CLI_MODES.join(", ")}, got ${quoteLong(values.modes ?? "")}`);
  }
  if (values.report === "") throw new UsageError("--report needs a FILE (or - for stdout)");
  if (values["sample-data"] === "") throw new UsageError("--sample-data needs a PATH");
  const extras = {
    ...(target === undefined ? {} : { targetSnrDb: Number(target) }),
    ...(modes === undefined ? {} : { modes: modes as (typeof CLI_MODES)[number][] }),
    ...(overflow === undefined ? {} : { float16Overflow: overflow as Float16Overflow }),
    ...(values.report === undefined ? {} : { report: values.report }),
    ...(values["sample-data"] === undefined ? {} : { sampleData: values["sample-data"] }),
  };
  const mode = values.mode ?? "linear";
  if (!(CLI_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`--mode must be one of ${CLI_MODES.join(", ")}, got ${quoteLong(mode)}`);
  }
  const selector: AdvancedSelectorFlags = {
    ...(values["skip-layer-types"] === undefined ? {} : { skipLayerTypes: skipTypes(values["skip-layer-types"]) }),
    ...optionalInteger("minimumConvKernelChannels", "min-conv-kernel-channels", values),
    ...optionalInteger("minimumConvWeightCount", "min-conv-weight-count", values),
  };
  return {
    nbits,
    mode: mode as (typeof CLI_MODES)[number],
    fuse: values["no-fuse"] !== true,
    selector: Object.keys(selector).length === 0 ? undefined : selector,
    ...extras,
  };
}

function matmulFlags(values: Values): MatmulSelectorFlags {
  return {
    ...optionalInteger("minimumWeightCount", "min-weight-count", values),
    ...optionalInteger("minimumInputChannels", "min-input-channels", values),
    ...optionalInteger("minimumOutputChannels", "min-output-channels", values),
    ...optionalInteger("maximumInputChannels", "max-input-channels", values),
    ...optionalInteger("maximumOutputChannels", "max-output-channels", values),
    ...(typeof values.layers === "string" ? { includeLayersWithNames: list(values.layers) } : {}),
  };
}

function optionalInteger<K extends string>(key: K, option: OptionName, values: Values): { [P in K]?: number } {
  const text = values[option];
  return typeof text === "string" ? ({ [key]: integer(option, text) } as { [P in K]: number }) : {};
}

function integer(option: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${option} needs a whole number, got ${quoteLong(text)}`);
  const value = Number(text);
  // Beyond 2^53 - 1 a number no longer reads back as written (400 digits read as Infinity).
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${option} needs a whole number up to ${Number.MAX_SAFE_INTEGER}, got ${quoteLong(text)}`);
  return value;
}

/** An integer that may be negative (a seed). */
function signedInteger(option: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${option} needs an integer, got ${quoteLong(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${option} needs an integer within ±${Number.MAX_SAFE_INTEGER}, got ${quoteLong(text)}`);
  return value;
}

/** A value quoted for a message, its middle elided when it is long (a 400-digit number stays one short line). */
function quoteLong(text: string): string {
  return JSON.stringify(text.length <= 40 ? text : `${text.slice(0, 20)}…${text.slice(-10)} (${text.length} characters)`);
}

function skipTypes(text: string): string[] {
  const types = list(text);
  const unknown = types.filter((t) => !(QUANTIZABLE_LAYER_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    throw new UsageError(`--skip-layer-types: unknown layer type ${unknown.join(", ")}; valid: ${QUANTIZABLE_LAYER_TYPES.join(", ")}`);
  }
  return types;
}

function list(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

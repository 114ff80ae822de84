/**
 * Command-line parsing: argv -> a typed command, or a usage error.
 *
 * @packageDocumentation
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { AUTO_MODES, type AutoMode } from "../quantize/auto-bits.js";
import { QUANTIZABLE_LAYER_TYPES, type AdvancedSelectorOptions, type MatrixMultiplySelectorOptions } from "../selectors.js";
import { FLOAT16_OVERFLOWS, type Float16Overflow } from "../quantize/tensor-plans.js";
import { MAX_RANDOM_SAMPLES } from "../predict/random-inputs.js";

/**
 * Bad command-line usage: the CLI prints the message and where to read the
 * usage (of `command` when known), and exits with 2.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";

  /**
   * @param message - what is wrong, one line
   * @param command - the command the line runs, when known (the pointer then names its help)
   */
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

/** The most samples `--random` draws (the library's limit, re-exported for the help and tests). */
export { MAX_RANDOM_SAMPLES };

/** The seed of `--random` when `--seed` is not given: the same samples every run. */
export const DEFAULT_SEED = 0;

/** Selector flags of `quantize`; any given switches to the advanced selector. */
export type AdvancedSelectorFlags = AdvancedSelectorOptions;

/** Selector flags of `int8-matmul`. */
export type MatmulSelectorFlags = MatrixMultiplySelectorOptions;

/**
 * The CLI's quantization modes: those of the mode table that need no code from
 * the caller (the modes `nbits: "auto"` may use; custom_lut needs a function).
 */
export const CLI_MODES: readonly CliMode[] = AUTO_MODES;

/** A mode `--mode` and `--modes` take. */
export type CliMode = AutoMode;

/** Where `compare` takes its samples from. */
export type SampleSource = { readonly kind: "files"; readonly path: string } | { readonly kind: "random"; readonly count: number; readonly seed: number };

/** One `--input NAME=FILE` of `predict`. */
export interface InputFile {
  readonly name: string;
  readonly file: string;
}

/**
 * How `quantize` is told what to do with flags: `--nbits`, `--mode` and the rest.
 * An ML Program package takes `--nbits` and `--mode` only (see the help).
 */
export interface QuantizeFlagSettings {
  readonly nbits: number | "auto";
  readonly mode: CliMode;
  readonly fuse: boolean;
  readonly targetSnrDb?: number;
  readonly modes?: readonly CliMode[];
  /** `--write-config FILE.json` (an ML Program with `--nbits auto`): also write the chosen configs, as `--config` reads them. */
  readonly writeConfig?: string;
  readonly float16Overflow?: Float16Overflow;
  readonly report?: string;
  readonly selector: AdvancedSelectorFlags | undefined;
  /** `--sample-data`: compare the output with the input on these samples once written. */
  readonly sampleData?: string;
  /** Absent: the settings are the flags (see {@link QuantizeConfigSettings}). */
  readonly config?: undefined;
}

/** `quantize --config FILE.json`: an ML Program package compressed as the file says (coremltools' config). */
export interface QuantizeConfigSettings {
  /** The config file: `{function, joint_compression, config}`, as coremltools names them. */
  readonly config: string;
  /** No selector: the file's op configs choose the weights. */
  readonly selector?: undefined;
}

/** A parsed command line. */
export type Command =
  | {
      readonly command: "help";
      /** The command whose help to print (`quantize --help`, `help quantize`); absent: the whole usage. */
      readonly topic?: CommandName;
    }
  | { readonly command: "version" }
  | {
      readonly command: "inspect";
      /** The model file; {@link STDIO} for standard input (so for every model operand below). */
      readonly model: string;
      readonly json: boolean;
    }
  | ({
      readonly command: "quantize";
      readonly input: string;
      /** The model's destination; {@link STDIO} for standard output (so for every `output` below). */
      readonly output: string;
      readonly force: boolean;
      /** `--quiet`: nothing printed on success but the data asked for (so for every `quiet` below). */
      readonly quiet: boolean;
    } & (QuantizeFlagSettings | QuantizeConfigSettings))
  | { readonly command: "dequantize"; readonly input: string; readonly output: string; readonly force: boolean; readonly quiet: boolean }
  | { readonly command: "report"; readonly original: string; readonly quantized: string; readonly json: boolean }
  | {
      readonly command: "int8-matmul";
      readonly input: string;
      readonly output: string;
      readonly force: boolean;
      readonly quiet: boolean;
      readonly selector: MatmulSelectorFlags;
    }
  | {
      readonly command: "predict";
      readonly model: string;
      readonly inputs: readonly InputFile[];
      readonly json: boolean;
      /** `-o DIR`: write one file an output there. */
      readonly outputDir?: string;
      /** `--quiet` (with `-o DIR`): no list of the files written. */
      readonly quiet: boolean;
    }
  | {
      readonly command: "compare";
      readonly original: string;
      readonly quantized: string;
      readonly samples: SampleSource;
      readonly layers: boolean;
      readonly json: boolean;
    };

/** The operand, or `-o` value, that names standard input (or output) instead of a file. */
export const STDIO = "-";

const options = {
  output: { type: "string", short: "o" },
  nbits: { type: "string" },
  config: { type: "string" },
  "target-snr": { type: "string" },
  modes: { type: "string" },
  "write-config": { type: "string" },
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
  quiet: { type: "boolean", short: "q" },
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
type OptionValue<K extends OptionName> = (typeof options)[K] extends { readonly multiple: true }
  ? string[]
  : (typeof options)[K]["type"] extends "string"
    ? string
    : boolean;
type Values = { [K in Exclude<OptionName, "layers">]?: OptionValue<K> } & {
  /** A list for int8-matmul, a flag for compare. */
  layers?: string | boolean;
};

/** One command's help: its synopsis lines, its description, the options it takes. */
interface CommandHelp {
  /** The synopsis lines after `coreml-quantize ` (continuation lines start with spaces). */
  readonly synopsis: readonly string[];
  /** The description lines, unindented. */
  readonly description: readonly string[];
  /** The options it takes (besides --help / --version): the one list parsing checks and help prints. */
  readonly options: readonly OptionName[];
}

/** The commands: the one source of the usage text, the per-command help and the options each command takes. */
const COMMANDS = {
  inspect: {
    synopsis: ["inspect MODEL [--json]"],
    description: [
      "list the networks, layers and weights of MODEL with their shapes,",
      "storage (float32, float16, n-bit linear, n-bit LUT, int8) and bytes;",
      "MODEL may also be an ML Program: an .mlpackage folder or a zip of one",
      "(its ops' weights, element types, storage in weight.bin or inline)",
    ],
    options: ["json"],
  },
  quantize: {
    synopsis: [
      "quantize IN -o OUT --nbits N",
      `    [--mode ${CLI_MODES.join("|")}] [--no-fuse]`,
      "    [--skip-layer-types a,b] [--min-conv-kernel-channels N] [--min-conv-weight-count N]",
      `    [--fp16-overflow ${FLOAT16_OVERFLOWS.join("|")}] [--report FILE.json|-] [--sample-data PATH]`,
      "quantize IN -o OUT --nbits auto [--target-snr DB] [--modes a,b] [...]",
      "quantize PKG.mlpackage -o OUT (--nbits N --mode MODE | --config FILE.json)",
      "quantize PKG.mlpackage -o OUT --nbits auto [--target-snr DB] [--modes a,b]",
      "    [--write-config FILE.json]",
    ],
    description: [
      "compress the weights: --nbits 16 for half precision (--mode is then",
      "ignored), 1..8 for n-bit storage (default mode linear), auto for",
      "the fewest bits per tensor that keep --target-snr (default 40 dB);",
      "prints a per-layer table with the SNR each tensor kept.",
      "An ML Program (.mlpackage folder, or a zip of one: OUT.zip writes a",
      "zip) is compressed as coremltools.optimize.coreml does, weights over",
      "2048 elements: --mode linear or linear_symmetric with --nbits 8 or 4",
      "(int8, int4 per channel; int4 on iOS18 programs only), kmeans_lut or",
      "linear_lut with --nbits 1, 2, 3, 4, 6 or 8 (palettization, one table",
      "per tensor); or --config FILE.json for any config of",
      "linear_quantize_weights, palettize_weights or prune_weights; or",
      "--nbits auto: per weight the smallest of those storages (and int4",
      "per block) that keeps --target-snr, --write-config saving the choice",
    ],
    options: [
      "output",
      "force",
      "nbits",
      "config",
      "mode",
      "skip-layer-types",
      "min-conv-kernel-channels",
      "min-conv-weight-count",
      "no-fuse",
      "target-snr",
      "modes",
      "write-config",
      "fp16-overflow",
      "report",
      "sample-data",
      "quiet",
    ],
  },
  dequantize: {
    synopsis: ["dequantize IN -o OUT"],
    description: [
      "turn quantized and half-precision weights back into float32; an ML",
      "Program's compressed weights back into plain consts (as",
      "coremltools.optimize.coreml.decompress_weights)",
    ],
    options: ["output", "force", "quiet"],
  },
  "int8-matmul": {
    synopsis: [
      "int8-matmul IN -o OUT [--min-weight-count N] [--min-input-channels N]",
      "    [--min-output-channels N] [--max-input-channels N] [--max-output-channels N] [--layers a,b]",
    ],
    description: ["store innerProduct and batchedMatmul weights as int8 and run them", "as int8 x int8 products (specification version 5: iOS 14, macOS 11)"],
    options: [
      "output",
      "force",
      "min-weight-count",
      "min-input-channels",
      "min-output-channels",
      "max-input-channels",
      "max-output-channels",
      "layers",
      "quiet",
    ],
  },
  report: {
    synopsis: ["report ORIGINAL QUANTIZED [--json]"],
    description: [
      "compare QUANTIZED with ORIGINAL weight by weight: storage, bytes,",
      "SNR (and, with --json, PSNR, max error, cosine); fused layers are",
      "compared against the original's fused weights; for ML Programs",
      "(packages or zips), each weight input with its op chain and, with",
      "--json, its sum of squared errors (sse)",
    ],
    options: ["json"],
  },
  predict: {
    synopsis: ["predict MODEL --input NAME=FILE [--input NAME=FILE ...] [--json] [-o DIR]"],
    description: [
      "run MODEL on one sample and print each output (labels; the top 5",
      "of a probability dictionary; an array's shape and first values),",
      "or with -o DIR write DIR/<output>.npy for arrays and images (the",
      "float blob) and DIR/<output>.json for labels and dictionaries",
    ],
    options: ["input", "json", "output", "quiet"],
  },
  compare: {
    synopsis: ["compare ORIGINAL QUANTIZED (--samples PATH | --random N [--seed N])", "    [--layers] [--json]"],
    description: [
      "run ORIGINAL and QUANTIZED on the same samples and compare their",
      "predictions output by output: SNR and PSNR (coremltools' figures",
      "and without its noise floor), max error, cosine, label agreement",
    ],
    options: ["samples", "random", "seed", "layers", "json"],
  },
} as const satisfies Record<string, CommandHelp>;

/** A command that does something (not help or version). */
export type CommandName = keyof typeof COMMANDS;

/** The command names, in the usage's order. */
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/**
 * The Options section, entry by entry: the options an entry documents (a
 * command's help prints the entries of its options), and the entry's lines.
 * "*" marks the entries every command's help prints.
 */
const OPTION_HELP: readonly { readonly options: readonly (OptionName | "*")[]; readonly lines: string }[] = [
  {
    options: ["output"],
    lines: `  -o, --output FILE   where to write the result (never the input, unless --force);
                      - for standard output (the summary then goes to stderr);
                      for predict a directory, created if missing`,
  },
  {
    options: ["input"],
    lines: `  --input NAME=FILE   predict: the value of input NAME, one --input an input: a .npy
                      array (any numeric type) or, for an image input, an image file
                      (.png .jpg .jpeg .bmp, resized) or a .npy of uint8 [H, W, 3] RGB`,
  },
  {
    options: ["samples"],
    lines: `  --samples PATH      compare: a directory holding one sub-directory a sample (with
                      <input>.npy or image files), a directory of images (one image
                      input), or a .json file of samples`,
  },
  { options: ["random"], lines: `  --random N          compare: N seeded random samples instead (1..${MAX_RANDOM_SAMPLES})` },
  { options: ["seed"], lines: `  --seed N            with --random: the seed, any integer (default ${DEFAULT_SEED})` },
  {
    options: ["layers"],
    lines: `  --layers            compare: also compare every layer's output, and each layer run
                      alone (int8-matmul: --layers a,b names the layers to convert)`,
  },
  {
    options: ["sample-data"],
    lines: `  --sample-data PATH  quantize: then compare the output's predictions with the
                      input's on these samples (PATH as for --samples)`,
  },
  {
    options: ["skip-layer-types", "min-conv-kernel-channels", "min-conv-weight-count"],
    lines: `  --skip-layer-types, --min-conv-kernel-channels, --min-conv-weight-count
                      select layers like coremltools' AdvancedQuantizedLayerSelector
                      (defaults 4 and 4096 for the two minimums)`,
  },
  {
    options: ["min-weight-count", "min-input-channels", "min-output-channels", "max-input-channels", "max-output-channels"],
    lines: `  --min-weight-count, --min-input-channels, --min-output-channels,
  --max-input-channels, --max-output-channels
                      select layers like coremltools' MatrixMultiplyLayerSelector`,
  },
  { options: ["nbits"], lines: "  --nbits N           16 (half precision), 1..8 (n-bit storage) or auto" },
  {
    options: ["mode"],
    lines: `  --mode MODE         with --nbits 1..8: ${CLI_MODES.join(", ")}
                      (default linear; kmeans is short for kmeans_lut); for an
                      ML Program: linear (int8/int4 with a zero point),
                      linear_symmetric, kmeans_lut, linear_lut`,
  },
  {
    options: ["config"],
    lines: `  --config FILE.json  an ML Program package: compress as the file says, one object
                      {function, joint_compression, config} in coremltools' names
                      (function: linear_quantize_weights, palettize_weights or
                      prune_weights; config: {global_config, op_type_configs,
                      op_name_configs}), or a list of them run in order;
                      instead of --nbits and --mode`,
  },
  { options: ["no-fuse"], lines: "  --no-fuse           do not fold batchnorm/scale/bias layers into the layer before" },
  {
    options: ["fp16-overflow"],
    lines: `  --fp16-overflow     at 16 bits, values beyond ±65504: error (default), keep-float32
                      (those tensors stay float32) or clamp (saturate to ±65504)`,
  },
  { options: ["report"], lines: "  --report FILE       also write the per-tensor report as JSON (- for stdout)" },
  { options: ["target-snr"], lines: "  --target-snr DB     with --nbits auto: the SNR every tensor must keep (default 40)" },
  {
    options: ["modes"],
    lines: `  --modes a,b         with --nbits auto: the modes to try (default linear,kmeans_lut;
                      for an ML Program kmeans_lut,linear_symmetric)`,
  },
  {
    options: ["write-config"],
    lines: `  --write-config FILE.json
                      with --nbits auto on an ML Program: also write the configs
                      chosen, as --config reads them (coremltools' names)`,
  },
  { options: ["force"], lines: "  --force             allow OUT to be the input file" },
  { options: ["json"], lines: "  --json              machine-readable output (inspect, report, predict, compare)" },
  {
    options: ["quiet"],
    lines: `  -q, --quiet         print nothing on success (no summary, no table, no list of files
                      written); data asked for (--report -, -o -) and errors still print,
                      and, for an ML Program, the count of weights left as they were`,
  },
  {
    options: ["*"],
    lines: `  -                   as IN, MODEL, ORIGINAL or QUANTIZED: read that model from
                      standard input (one operand at most)`,
  },
  { options: ["*"], lines: "  --debug             print stack traces" },
  { options: ["*"], lines: "  -h, --help          show this text" },
  { options: [], lines: "  -v, --version       show the version" },
];

/** A command's synopsis lines as the usage prints them (continuation lines indented under the first). */
function synopsisLines(name: CommandName): string {
  return COMMANDS[name].synopsis.map((line) => (line.startsWith(" ") ? `  ${line}\n` : `  coreml-quantize ${line}\n`)).join("");
}

/** The usage text. */
export const USAGE = `Usage:
${COMMAND_NAMES.map(synopsisLines).join("")}  coreml-quantize --help | --version

Commands:
${COMMAND_NAMES.map((name) => COMMANDS[name].description.map((line, i) => `  ${(i === 0 ? name : "").padEnd(13)}${line}\n`).join("")).join("")}
Options:
${OPTION_HELP.map((entry) => `${entry.lines}\n`).join("")}`;

/**
 * The help text: one command's synopsis, description and options, or the whole
 * usage without a command.
 *
 * @param command - the command to describe; undefined for the whole usage
 */
export function helpText(command?: CommandName): string {
  if (command === undefined) return USAGE;
  const takes = COMMANDS[command].options as readonly string[];
  const entries = OPTION_HELP.filter((entry) => entry.options.some((option) => option === "*" || takes.includes(option)));
  return `Usage:
${synopsisLines(command)}
${COMMANDS[command].description.map((line) => `  ${line}\n`).join("")}
Options:
${entries.map((entry) => `${entry.lines}\n`).join("")}`;
}

/** The line after a usage error: where to read the usage of `command` (or the whole usage). */
export function usagePointer(command?: string): string {
  return command !== undefined && isCommandName(command) ? `Run 'coreml-quantize ${command} --help' for usage.` : "Run 'coreml-quantize --help' for usage.";
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/**
 * Parses the arguments after the program name.
 *
 * @param argv - e.g. `["quantize", "in.mlmodel", "-o", "out.mlmodel", "--nbits", "8"]`
 * @returns the command
 * @throws {@link UsageError} for unknown commands or options, options of another
 *   command, missing operands and malformed numbers
 */
export function parseCommand(argv: readonly string[]): Command {
  const word = commandOf(argv);
  const known = word !== undefined && isCommandName(word) ? word : undefined;
  try {
    return parseKnown(argv, known);
  } catch (error) {
    if (error instanceof UsageError && error.command === undefined && known !== undefined) throw new UsageError(error.message, known);
    throw error;
  }
}

function parseKnown(argv: readonly string[], known: CommandName | undefined): Command {
  const parsed = (() => {
    try {
      const config = known === "compare" ? compareOptions : options;
      return parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true, tokens: true });
    } catch (cause) {
      throw new UsageError(parseErrorMessage(cause as Error & { code?: string }, known));
    }
  })();
  for (const token of parsed.tokens) {
    // parseArgs reads -o=x as -o with the value "=x": a file named "=x".
    if (token.kind === "option" && token.inlineValue === true && token.rawName.length === 2 && token.value?.startsWith("=") === true) {
      const long = `--${token.name}`;
      throw new UsageError(
        `${token.rawName}${token.value} reads as ${token.rawName} ${quoteLong(token.value)}: write ${token.rawName} ${token.value.slice(1)} or ${long}${token.value}`,
      );
    }
  }
  const values = parsed.values as Values;
  if (values.help === true) return known === undefined ? { command: "help" } : { command: "help", topic: known };
  if (values.version === true) return { command: "version" };
  const [command, ...operands] = parsed.positionals;
  if (command === undefined) throw new UsageError("no command given");
  if (command === "help") return helpCommand(operands, values);
  if (!isCommandName(command)) throw new UsageError(`unknown command ${quoteLong(command)}${suggestion(command, ["help", ...COMMAND_NAMES], "")}`);
  const name = command;
  const allowed = COMMANDS[name].options as readonly OptionName[];
  for (const option of Object.keys(values) as OptionName[]) {
    if (option !== "help" && option !== "version" && !allowed.includes(option)) {
      throw new UsageError(`${name} does not take --${option}`);
    }
  }
  if (name === "report") return reportCommand(operands, values);
  if (name === "compare") return compareCommand(operands, values);
  if (name === "predict") return predictCommand(operands, values);
  const [file, ...extra] = operands;
  if (file === undefined) throw new UsageError(`${name} needs ${name === "inspect" ? "a MODEL" : "an IN"} file`);
  if (extra[0] !== undefined) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  if (name === "inspect") return { command: "inspect", model: file, json: values.json === true };
  if (values.output === undefined || values.output === "") throw new UsageError(`${name} needs -o OUT`);
  if (values.output === STDIO && values.report === STDIO) {
    throw new UsageError("-o - and --report - would both write to standard output; name a file for one of them");
  }
  const io = { input: file, output: values.output, force: values.force === true, quiet: values.quiet === true };
  switch (name) {
    case "quantize":
      return { command: "quantize", ...io, ...quantizeFlags(values) };
    case "dequantize":
      return { command: "dequantize", ...io };
    case "int8-matmul":
      return { command: "int8-matmul", ...io, selector: matmulFlags(values) };
  }
}

/** `help [COMMAND]`. */
function helpCommand(operands: readonly string[], values: Values): Extract<Command, { command: "help" }> {
  const option = Object.keys(values)[0];
  if (option !== undefined) throw new UsageError(`help does not take --${option}`);
  const [topic, ...extra] = operands;
  if (extra[0] !== undefined) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  if (topic === undefined || topic === "help") return { command: "help" };
  if (!isCommandName(topic)) throw new UsageError(`unknown command ${quoteLong(topic)}${suggestion(topic, COMMAND_NAMES, "")}`);
  return { command: "help", topic };
}

/** parseArgs' error as a usage message: an unknown option gets the closest option of the command. */
function parseErrorMessage(error: Error & { code?: string }, known: CommandName | undefined): string {
  const unknown = error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '(--[^']+)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return error.message;
  const candidates: readonly string[] = known === undefined ? Object.keys(options) : [...COMMANDS[known].options, "help", "version"];
  const hint = suggestion(unknown.slice(2), candidates, "--");
  return hint === "" ? error.message : `unknown option ${unknown}${hint}`;
}

/** "; did you mean X?" for the candidate closest to `word` (edit distance at most 2), or "". */
function suggestion(word: string, candidates: readonly string[], prefix: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined || best === word ? "" : `; did you mean ${prefix}${best}?`;
}

/** The edit distance of two words: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 100 || b.length > 100) return Math.abs(a.length - b.length) + 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  // Every index below is in range: d has a.length + 1 rows of b.length + 1 entries.
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const above = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
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
  if (extra[0] !== undefined) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
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
  if (values.output === STDIO) throw new UsageError("predict -o takes a DIR, not - (standard output); print the outputs with --json instead");
  if (values.quiet === true && values.output === undefined) throw new UsageError("--quiet goes with -o DIR: without it, the outputs are what predict prints");
  return {
    command: "predict",
    model,
    inputs,
    json: values.json === true,
    quiet: values.quiet === true,
    ...(values.output === undefined ? {} : { outputDir: values.output }),
  };
}

function compareCommand(operands: readonly string[], values: Values): Extract<Command, { command: "compare" }> {
  const [original, quantized, ...extra] = operands;
  if (original === undefined || quantized === undefined) throw new UsageError("compare needs an ORIGINAL and a QUANTIZED file");
  if (extra[0] !== undefined) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  refuseTwoFromStdin(original, quantized);
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
  if (extra[0] !== undefined) throw new UsageError(`unexpected argument ${quoteLong(extra[0])}`);
  refuseTwoFromStdin(original, quantized);
  return { command: "report", original, quantized, json: values.json === true };
}

/** Standard input holds one model: ORIGINAL and QUANTIZED cannot both be read from it. */
function refuseTwoFromStdin(original: string, quantized: string): void {
  if (original === STDIO && quantized === STDIO) throw new UsageError("ORIGINAL and QUANTIZED are both - (standard input); at most one model can come from it");
}

type QuantizeFlags = QuantizeFlagSettings | QuantizeConfigSettings;

function quantizeFlags(values: Values): QuantizeFlags {
  if (values.config !== undefined) return { config: configFlag(values) };
  if (values.nbits === undefined) throw new UsageError("quantize needs --nbits (16, 1..8 or auto)");
  const nbits = values.nbits === "auto" ? "auto" : integer("nbits", values.nbits);
  if (nbits !== "auto" && nbits !== 16 && (nbits < 1 || nbits > 8)) throw new UsageError(`--nbits must be 16, 1..8 or auto, got ${nbits}`);
  if (nbits !== "auto" && (values["target-snr"] !== undefined || values.modes !== undefined || values["write-config"] !== undefined)) {
    throw new UsageError("--target-snr, --modes and --write-config go with --nbits auto");
  }
  if (values["write-config"] === "") throw new UsageError("--write-config needs a FILE.json");
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
    ...(modes === undefined ? {} : { modes: modes as CliMode[] }),
    ...(values["write-config"] === undefined ? {} : { writeConfig: values["write-config"] }),
    ...(overflow === undefined ? {} : { float16Overflow: overflow as Float16Overflow }),
    ...(values.report === undefined ? {} : { report: values.report }),
    ...(values["sample-data"] === undefined ? {} : { sampleData: values["sample-data"] }),
  };
  // kmeans: the library's alias of kmeans_lut.
  const mode = values.mode === "kmeans" ? "kmeans_lut" : (values.mode ?? "linear");
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
    mode: mode as CliMode,
    fuse: values["no-fuse"] !== true,
    selector: Object.keys(selector).length === 0 ? undefined : selector,
    ...extras,
  };
}

/** The options of `quantize` that still apply with `--config`: where the output goes and how much is printed. */
const CONFIG_KEEPS: readonly OptionName[] = ["output", "force", "config", "quiet"];

/** The options `--config` replaces: with it, the file says everything. */
const CONFIG_EXCLUDES: readonly OptionName[] = COMMANDS.quantize.options.filter((option) => !CONFIG_KEEPS.includes(option));

function configFlag(values: Values): string {
  const config = values.config ?? "";
  if (config === "") throw new UsageError("--config needs a FILE.json");
  const clash = CONFIG_EXCLUDES.find((option) => values[option as Exclude<OptionName, "layers">] !== undefined);
  if (clash !== undefined) throw new UsageError(`--config FILE says how to compress; --${clash} does not go with it`);
  return config;
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
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

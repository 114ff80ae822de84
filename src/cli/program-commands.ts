/**
 * `quantize` and `dequantize` on ML Program packages (an `.mlpackage` folder or
 * a zip of one): the flags or a `--config` file turned into one of the
 * compression passes, the output written whole or not at all.
 *
 * @packageDocumentation
 */
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { isQuantizeError, QuantizeError } from "../errors.js";
import { applyProgramAutoPlan, chooseProgramConfig, type ProgramAutoMode, type ProgramAutoPlan } from "../mlprogram/auto-config.js";
import type { CompressionResult } from "../mlprogram/compression-pass.js";
import { packageCompression } from "../mlprogram/compress-package.js";
import { parseConfigJson } from "../mlprogram/config-json.js";
import { decompressWeights } from "../mlprogram/decompress.js";
import type { MlPackage } from "../mlprogram/ml-package.js";
import { PALETTIZE_NBITS } from "../mlprogram/palettize-config.js";
import { encodeMlPackageZip } from "../mlprogram/zip-archive.js";
import { ioFailure } from "../node/io-failure.js";
import { checkPackageDestination, writeMlPackage } from "../node/mlpackage-files.js";
import { isSameFile, resolveOutputTarget } from "../node/output-target.js";
import { commitFiles, stageFile } from "../node/staged-file.js";
import { programReport } from "../mlprogram/report-program.js";
import { formatProgramReport } from "../report/format-program-report.js";
import { escapeForTerminal } from "../report/terminal-text.js";
import { STDIO, type CliMode, type Command, type QuantizeFlagSettings } from "./args.js";
import type { CliIo } from "./run.js";

/** The largest `--config` file read: a config is a few hundred bytes; a bigger file is not one. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** What the flags or a config file ask for. */
interface ProgramCompression {
  /** The coremltools functions run, for the summary. */
  readonly function: string;
  /** Runs it; `--nbits auto` also gives the plan it chose. */
  readonly compress: (pkg: MlPackage) => CompressionResult & { readonly plan?: ProgramAutoPlan };
}

/** The pass modes `--nbits auto --modes` names, by CLI mode. */
const AUTO_MODES_OF_CLI = {
  linear: "linear",
  linear_symmetric: "linear_symmetric",
  kmeans_lut: "kmeans_lut",
  linear_lut: "linear_lut",
} as const satisfies Record<CliMode, ProgramAutoMode>;

/** The `.mlmodel` flags an ML Program does not take, with the field each sets. */
const MODEL_ONLY_FLAGS: readonly (readonly [string, (flags: QuantizeFlagSettings) => boolean])[] = [
  ["--no-fuse", (f) => !f.fuse],
  ["--skip-layer-types, --min-conv-kernel-channels and --min-conv-weight-count", (f) => f.selector !== undefined],
  ["--fp16-overflow", (f) => f.float16Overflow !== undefined],
  ["--report", (f) => f.report !== undefined],
  ["--sample-data", (f) => f.sampleData !== undefined],
];

type ProgramCommand = Extract<Command, { command: "quantize" | "dequantize" }>;

/**
 * Runs `quantize` or `dequantize` on an ML Program package: the settings are
 * read and the output checked first, then the package is read, compressed and
 * written (a folder, or a zip when OUT ends in `.zip`), whole or not at all.
 *
 * @param command - the parsed command
 * @param readInput - reads the input package
 * @param io - where to print
 * @returns the exit code
 * @throws {@link QuantizeError} for settings an ML Program does not take, a bad config
 *   file, an output that cannot be written, and what the pass throws
 */
export async function runProgramCommand(command: ProgramCommand, readInput: () => Promise<MlPackage>, io: CliIo): Promise<number> {
  const compression = command.command === "quantize" ? compressionOf(command) : DECOMPRESSION;
  const toZip = checkProgramOutput(command);
  const configFile = command.command === "quantize" && command.config === undefined ? command.writeConfig : undefined;
  if (configFile !== undefined) checkConfigDestination(configFile, command);
  const input = await readInput();
  const result = compression.compress(input);
  // Measured before anything is written: a report that fails leaves no output behind.
  const report = command.quiet ? undefined : programReport(input, result.package);
  await writeProgramOutput(command.output, result.package, toZip);
  if (configFile !== undefined && result.plan !== undefined) await writeConfigFile(configFile, result.plan);
  if (report === undefined) {
    if (result.skipped.length > 0)
      io.stderr(
        `${plural(result.skipped.length, "weight")} left as ${result.skipped.length === 1 ? "it was" : "they were"} (run without --quiet to list them)\n`,
      );
    return 0;
  }
  const lines = result.skipped.map((weight) => `left ${escapeForTerminal(weight.name)} as it was: ${escapeForTerminal(weight.reason)}`);
  for (const weight of result.plan?.weights ?? []) {
    if (weight.pass === "kept") lines.push(`left ${escapeForTerminal(weight.name)} as it was: no storage keeps ${result.plan?.targetSnrDb} dB`);
  }
  lines.push(
    `${escapeForTerminal(command.output)}: ${result.plan === undefined ? compression.function : autoSummary(result.plan)}`,
    "",
    formatProgramReport(report),
  );
  io.stdout(`${lines.join("\n")}`);
  return 0;
}

/** `dequantize`: coremltools' decompress_weights, which leaves no weight aside. */
const DECOMPRESSION: ProgramCompression = {
  function: "decompress_weights",
  compress: (pkg) => ({ package: decompressWeights(pkg).package, skipped: [] }),
};

/** What the flags, or the config file, ask for. */
function compressionOf(command: Extract<Command, { command: "quantize" }>): ProgramCompression {
  if (command.config !== undefined) return compressionOfConfigFile(command.config);
  const modelOnly = MODEL_ONLY_FLAGS.find(([, given]) => given(command));
  if (modelOnly !== undefined) {
    throw new QuantizeError("invalid-option", `${modelOnly[0]} apply to .mlmodel files; an ML Program takes --nbits and --mode, or --config FILE.json`);
  }
  const { nbits } = command;
  if (nbits === "auto") return autoCompression(command);
  if (nbits === 16) {
    throw new QuantizeError(
      "invalid-option",
      `--nbits ${nbits} applies to .mlmodel files; an ML Program takes --nbits 8 or 4 with --mode linear or linear_symmetric, ${PALETTIZE_NBITS.join(", ")} with kmeans_lut or linear_lut, or auto`,
    );
  }
  return packageCompression({ kind: "flags", mode: command.mode, nbits });
}

/** What `--nbits auto` chose, in a line: `palettize_weights on 3 weights, linear_quantize_weights on 1; each keeps 40 dB`. */
function autoSummary(plan: ProgramAutoPlan): string {
  const passes = (["palettize", "linear"] as const).flatMap((pass) => {
    const count = plan.weights.filter((w) => w.pass === pass).length;
    return count === 0 ? [] : [`${pass === "palettize" ? "palettize_weights" : "linear_quantize_weights"} on ${plural(count, "weight")}`];
  });
  return `nbits auto: ${passes.length === 0 ? "no weight compressed" : passes.join(", ")}; each keeps ${plan.targetSnrDb} dB`;
}

/** `--nbits auto`: per weight the smallest storage keeping the target, as {@link chooseProgramConfig} picks it. */
function autoCompression(command: Extract<Command, { command: "quantize" }> & QuantizeFlagSettings): ProgramCompression {
  const options = {
    ...(command.targetSnrDb === undefined ? {} : { targetSnrDb: command.targetSnrDb }),
    ...(command.modes === undefined ? {} : { modes: command.modes.map((mode) => AUTO_MODES_OF_CLI[mode]) }),
  };
  return {
    function: "nbits auto",
    compress: (pkg) => {
      const plan = chooseProgramConfig(pkg, options);
      return { ...applyProgramAutoPlan(pkg, plan), plan };
    },
  };
}

/**
 * Reads a `--config` file: `{function, joint_compression, config}` as the
 * reference set's cases hold them, the config in coremltools' names; or a list
 * of them, run in order (as `--write-config` writes two passes).
 */
function compressionOfConfigFile(file: string): ProgramCompression {
  return packageCompression({ kind: "config", config: readConfigFile(file), source: file });
}

/** The config file's JSON (integer literals as bigints, see `parseConfigJson`), read within {@link MAX_CONFIG_BYTES}. */
function readConfigFile(file: string): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES)
      throw new QuantizeError("invalid-option", `${file} is ${size} bytes; a config file is at most ${MAX_CONFIG_BYTES} (MAX_CONFIG_BYTES)`);
    text = readFileSync(file, "utf8");
  } catch (cause) {
    if (isQuantizeError(cause)) throw cause;
    throw ioFailure("read", file, cause);
  }
  try {
    // Integer literals kept apart from floats: coremltools refuses an int where it takes a float.
    return parseConfigJson(text);
  } catch (cause) {
    if (isQuantizeError(cause)) throw new QuantizeError(cause.code, `${file} is not JSON: ${cause.message}`, { cause });
    throw cause;
  }
}

/**
 * Refuses, before any work, an output the package cannot go to: standard output,
 * a name not ending in `.mlpackage` or `.zip`, the input itself (unless `--force`),
 * a destination that cannot be written.
 *
 * @returns whether the output is a zip (OUT ends in `.zip`)
 */
function checkProgramOutput(command: ProgramCommand): boolean {
  const { input, output } = command;
  if (output === STDIO) throw new QuantizeError("invalid-option", "-o -: a package is a folder; name an .mlpackage folder or a .zip file");
  if (!command.force && isSameFile(input, output))
    throw new QuantizeError("invalid-option", `-o ${output} is the input package; write elsewhere or pass --force`);
  const toZip = /\.zip$/i.test(output);
  // A package written under any other name would be a folder that Xcode and coremltools do not take for a model.
  if (!toZip && !/\.mlpackage\/*$/i.test(output))
    throw new QuantizeError("invalid-option", `-o ${output}: an ML Program is written as a folder named *.mlpackage, or a zip of one named *.zip`);
  if (toZip) resolveOutputTarget(output);
  else checkPackageDestination(output);
  return toZip;
}

/** Refuses, before any work, a `--write-config` file that cannot be written or that is the input or the output. */
function checkConfigDestination(file: string, command: ProgramCommand): void {
  if (file === STDIO) throw new QuantizeError("invalid-option", "--write-config -: name a FILE.json");
  for (const other of [command.input, command.output]) {
    if (isSameFile(file, other)) throw new QuantizeError("invalid-option", `--write-config ${file} is also ${other}; name another file`);
  }
  resolveOutputTarget(file);
}

/** The plan's passes as `--config` reads them: one object, or a list when there are two. */
async function writeConfigFile(file: string, plan: ProgramAutoPlan): Promise<void> {
  const json = plan.passes.length === 1 ? plan.passes[0] : plan.passes;
  const staged = stageFile(file, new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`));
  try {
    await commitFiles([staged]);
  } catch (error) {
    staged.discard();
    throw error;
  }
}

/** Writes the package as a folder, or as a zip holding the folder named after OUT. */
async function writeProgramOutput(output: string, pkg: MlPackage, toZip: boolean): Promise<void> {
  if (!toZip) {
    writeMlPackage(output, pkg);
    return;
  }
  // Unzipping small.mlpackage.zip gives small.mlpackage, as zipping a package folder does.
  const stem = basename(output).replace(/\.zip$/i, "");
  const folder = /\.mlpackage$/i.test(stem) ? stem : `${stem}.mlpackage`;
  const staged = stageFile(output, encodeMlPackageZip(pkg, { folder }));
  try {
    await commitFiles([staged]);
  } catch (error) {
    staged.discard();
    throw error;
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

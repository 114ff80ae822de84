/**
 * The CLI as a function: arguments and injected I/O in, exit code out. Only
 * main.ts touches `process`.
 *
 * @packageDocumentation
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { encodeModelChunks } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { isQuantizeError, QuantizeError } from "../errors.js";
import { inspectModel } from "../inspect-model.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";
import { ioFailure } from "../node/io-failure.js";
import { decodeModelFile, readModelBytes, readModelStream } from "../node/model-files.js";
import { readMlPackage } from "../node/mlpackage-files.js";
import { inspectProgram } from "../mlprogram/inspect-program.js";
import { MANIFEST_PATH, type MlPackage } from "../mlprogram/ml-package.js";
import { decodeMlPackageZip } from "../mlprogram/zip-archive.js";
import { isSameFile, resolveOutputTarget } from "../node/output-target.js";
import { commitFiles, stageFile } from "../node/staged-file.js";
import {
  activateInt8Int8MatrixMultiplications,
  dequantizeWeights,
  quantizeWeights,
  type Progress,
  type QuantizeOptions,
  type TensorDecision,
  type TensorLeft,
} from "../quantize/quantize-weights.js";
import { AdvancedQuantizedLayerSelector, MatrixMultiplyLayerSelector } from "../selectors.js";
import { formatProgramSummary } from "../report/format-program-summary.js";
import { formatReport, reportJson } from "../report/format-report.js";
import { weightReport, type WeightReport } from "../report/weight-report.js";
import { withDecisions } from "../report/with-decisions.js";
import { helpText, parseCommand, STDIO, usagePointer, UsageError, type Command, type CommandName, type QuantizeConfigSettings } from "./args.js";
import { runProgramCommand } from "./program-commands.js";
import { programReport } from "../mlprogram/report-program.js";
import { formatProgramReport, programReportJson } from "../report/format-program-report.js";
import { formatChange, leftNotes, overflowNotes } from "../report/format-change.js";
import { formatSummary } from "../report/format-summary.js";
import { escapeForTerminal, escapeJsonForTerminal } from "../report/terminal-text.js";
import { compareWithProgress, loadSampleData, runCompare } from "./compare-command.js";
import { formatComparison } from "../report/format-comparison.js";
import { runPredict } from "./predict-command.js";
import { progressBar } from "./progress-bar.js";

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The package version, for `--version`. */
  readonly version: string;
  /** Print stack traces of unexpected errors. @defaultValue false */
  readonly debug?: boolean;
  /** Whether stderr is a terminal (a progress bar is drawn only then). @defaultValue false */
  readonly stderrIsTty?: boolean;
  /**
   * What runs `quantize`; main.ts passes the worker-thread variant.
   * @defaultValue {@link quantizeWeights}, on this thread
   */
  readonly quantize?: (model: Model, options: QuantizeOptions) => Model | Promise<Model>;
  /**
   * A model file read ahead of time (main.ts starts reading the command's first
   * model while the program loads): used when the command reads that same path.
   * Its bytes are undefined when the read did not succeed; the file is then read
   * again, and any error reported, as usual.
   */
  readonly prefetched?: { readonly path: string; readonly bytes: Promise<Uint8Array | undefined> };
  /**
   * Standard input, for a model operand `-`; read to its end (within
   * MAX_MODEL_BYTES) by the command. Absent: `-` is refused.
   */
  readonly stdin?: () => AsyncIterable<Uint8Array>;
  /** Whether standard input is a terminal: `-` is then refused rather than waiting for typing. @defaultValue false */
  readonly stdinIsTty?: boolean;
  /**
   * Writes a model's bytes to standard output (`-o -`), settling once they are
   * handed to the operating system; called once, after everything that can fail
   * has succeeded. Absent: `-o -` is refused.
   */
  readonly stdoutBytes?: (chunks: readonly Uint8Array[]) => Promise<void>;
  /** Whether standard output is a terminal: `-o -` is then refused (a binary model would garble it). @defaultValue false */
  readonly stdoutIsTty?: boolean;
}

/** How messages name `-` as an input and as an output. */
const STDIN_NAME = "standard input";
const STDOUT_NAME = "standard output";

/** Exit codes: 0 success, 1 bad input or failure, 2 bad usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Runs one command line.
 *
 * @param argv - the arguments after the program name
 * @param io - output streams and the version
 * @returns the exit code
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`coreml-quantize: ${escapeForTerminal(error.message)}\n${usagePointer(error.command)}\n`);
    return EXIT.usage;
  }
  try {
    return await execute(command, io);
  } catch (error) {
    if (isQuantizeError(error)) {
      io.stderr(`coreml-quantize: ${escapeForTerminal(error.message)}\n`);
      if (io.debug === true && error.stack !== undefined) io.stderr(`${error.stack}\n`);
      return EXIT.failure;
    }
    io.stderr(`coreml-quantize: internal error: ${escapeForTerminal(error instanceof Error ? error.message : String(error))}\n`);
    if (io.debug === true && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
    return EXIT.failure;
  }
}

async function execute(command: Command, io: CliIo): Promise<number> {
  switch (command.command) {
    case "help":
      io.stdout(helpText(command.topic));
      return EXIT.ok;
    case "version":
      io.stdout(`${io.version}\n`);
      return EXIT.ok;
    case "inspect": {
      const operand = await readOperand(command.model, io);
      if (operand.kind !== "model") {
        const summary = inspectProgram(await readPackage(command.model, operand));
        io.stdout(command.json ? `${escapeJsonForTerminal(JSON.stringify(summary, null, 2))}\n` : formatProgramSummary(command.model, summary));
        return EXIT.ok;
      }
      const model = decodeModelFile(inputName(command.model), operand.bytes);
      validateWeights(model);
      const summary = inspectModel(model);
      io.stdout(command.json ? `${escapeJsonForTerminal(JSON.stringify(summary, null, 2))}\n` : formatSummary(inputName(command.model), summary));
      return EXIT.ok;
    }
    case "predict":
      return runPredict(command, await readInput(command.model, io, "predict"), io);
    case "compare":
      return runCompare(command, await readInput(command.original, io, "compare"), await readInput(command.quantized, io, "compare"), io);
    case "report": {
      const programs = [command.original, command.quantized].map((path) => (path === STDIO ? undefined : packageKindOf(path)));
      if (programs.some((kind) => kind !== undefined)) {
        const notProgram = [command.original, command.quantized].find((_, i) => programs[i] === undefined);
        if (notProgram !== undefined) {
          throw new QuantizeError(
            "invalid-option",
            `${inputName(notProgram)} is not an ML Program package; report compares two packages (or zips of them), or two .mlmodel files`,
          );
        }
        const original = await readPackage(command.original, await readOperand(command.original, io));
        const quantized = await readPackage(command.quantized, await readOperand(command.quantized, io));
        const report = programReport(original, quantized);
        io.stdout(command.json ? programReportJson(report) : formatProgramReport(report));
        return EXIT.ok;
      }
      const report = weightReport(await readInput(command.original, io, "report"), await readInput(command.quantized, io, "report"));
      io.stdout(command.json ? reportJson(report) : formatReport(report));
      return EXIT.ok;
    }
    case "quantize":
    case "dequantize":
    case "int8-matmul": {
      // Before the outputs are looked at: an .mlpackage given as IN decides what the command does.
      const kind = command.input === STDIO ? undefined : packageKindOf(command.input);
      if (kind !== undefined) {
        if (command.command === "int8-matmul") throw packageRefusal(command.input, kind, command.command);
        return runProgramCommand(command, async () => readPackage(command.input, await readOperand(command.input, io)), io);
      }
      if (isConfigQuantize(command)) {
        throw new QuantizeError(
          "invalid-option",
          `--config FILE.json compresses ML Program packages; ${inputName(command.input)} is not one: give --nbits (and --mode) instead`,
        );
      }
      if (command.command === "quantize" && command.writeConfig !== undefined) {
        throw new QuantizeError(
          "invalid-option",
          `--write-config writes the coremltools configs --nbits auto chose for an ML Program package; ${inputName(command.input)} is not one: leave it out`,
        );
      }
      return transformModel(command, io);
    }
  }
}

/** `quantize --config`: for packages only. */
function isConfigQuantize(command: Transforming): command is Extract<Transforming, QuantizeConfigSettings> {
  return command.command === "quantize" && command.config !== undefined;
}

/** `quantize`, `dequantize` and `int8-matmul` on a neural-network model. */
async function transformModel(command: ModelTransforming, io: CliIo): Promise<number> {
  {
    const reportFile = command.command === "quantize" && command.report !== STDIO ? command.report : undefined;
    const toStdout = command.output === STDIO;
    refuseClashingPaths(command.input, command.output, reportFile, command.force);
    const stdoutWriter = toStdout ? stdoutWriterOf(io) : undefined;
    // Refused now rather than after the work: a directory, a device that is never
    // replaced, a missing or read-only directory. Looked at again when writing.
    if (!toStdout) resolveOutputTarget(command.output);
    if (reportFile !== undefined) resolveOutputTarget(reportFile);
    const input = await readInput(command.input, io, command.command);
    // Checking the weights against their layers is the library's first step.
    assertHasNetwork(input);
    // Read (and the model checked runnable) before any work, so bad samples write nothing.
    const samples = command.command === "quantize" && command.sampleData !== undefined ? await loadSampleData(command.sampleData, input) : undefined;
    // --quiet: no bar either (it is drawn on a terminal's stderr only).
    const bar = progressBar(command.quiet ? { stderr: io.stderr } : io, "tensors");
    const decisions = new Map<string, TensorDecision>();
    const left: TensorLeft[] = [];
    let output: Model;
    try {
      output = await transform(
        command,
        input,
        bar.onProgress,
        io.quantize ?? quantizeWeights,
        (d) => decisions.set(d.path, d),
        (l) => left.push(l),
      );
    } finally {
      bar.finish();
    }
    // Never write a model that is not self-consistent, whatever produced it.
    validateWeights(output);
    const encoded = encodeModelChunks(output);
    // The model's bytes go to a temporary file now and reach the disk while the
    // report is built. The model and the report file are renamed into place
    // together, once both are written and flushed: a report that cannot be written
    // leaves no model behind either. Nothing is printed before both are in place.
    // With -o -, the model goes to standard output only after that: a refusal
    // writes none of it (what is written there cannot be taken back).
    const staged = toStdout ? [] : [stageFile(command.output, encoded)];
    let report: WeightReport | undefined;
    try {
      if (command.command === "quantize") {
        report = withDecisions(weightReport(input, output), decisions);
        if (reportFile !== undefined) staged.push(stageFile(reportFile, new TextEncoder().encode(reportJson(report))));
      }
      await commitFiles(staged);
    } catch (error) {
      staged.forEach((file) => file.discard());
      throw error;
    }
    if (stdoutWriter !== undefined) await writeStdout(stdoutWriter, encoded.chunks);
    const summary = formatChange(toStdout ? STDOUT_NAME : command.output, inspectModel(input), inspectModel(output), encoded.byteLength);
    // With -o - or --report -, stdout carries the data alone; the people's view goes to stderr.
    const people = toStdout || (command.command === "quantize" && command.report === STDIO) ? io.stderr : io.stdout;
    if (report === undefined) {
      if (!command.quiet) people(summary);
      return EXIT.ok;
    }
    if (!command.quiet) people(`${summary}\n${formatReport(report)}${overflowNotes(decisions)}${leftNotes(left)}`);
    if (command.command === "quantize" && command.report === STDIO) io.stdout(reportJson(report));
    // As coremltools' quantize_weights(sample_data=): the predictions compared once the output is written.
    // Asked for by name, so printed even with --quiet (without the blank line that parts it from the table).
    if (samples !== undefined)
      people(`${command.quiet ? "" : "\n"}${formatComparison(compareWithProgress(input, output, samples, false, command.quiet ? { stderr: io.stderr } : io))}`);
    return EXIT.ok;
  }
}

/**
 * What a model operand holds: a model file's bytes, an `.mlpackage` folder, or a
 * zip archive (which only an `.mlpackage` zipped would be; `inspect` reads one).
 */
type Operand = { readonly kind: "model"; readonly bytes: Uint8Array } | { readonly kind: "package" } | { readonly kind: "zip"; readonly bytes: Uint8Array };

/**
 * Reads a model operand: a folder that is a package is only named (read by
 * `readMlPackage` when wanted), anything else is read whole, from the bytes read
 * ahead of time when they are of this path; `-` reads standard input to its end
 * (a model file only: packages are read from a file or folder).
 */
async function readOperand(path: string, io: CliIo): Promise<Operand> {
  if (path === STDIO) {
    if (io.stdin === undefined) throw new QuantizeError("io", `cannot read a model from ${STDIN_NAME} here; name a file`);
    if (io.stdinIsTty === true) {
      throw new QuantizeError("io", `- reads the model from ${STDIN_NAME}, which is a terminal; redirect it (< model.mlmodel) or name a file`);
    }
    const bytes = await readModelStream(io.stdin(), STDIN_NAME);
    if (isZipArchive(bytes)) {
      throw new QuantizeError("unsupported-model", `${STDIN_NAME} holds a zip archive; - reads .mlmodel files only: name the zipped .mlpackage as a file`);
    }
    return { kind: "model", bytes };
  }
  if (isPackageFolder(path)) return { kind: "package" };
  const bytes = (io.prefetched?.path === path ? await io.prefetched.bytes : undefined) ?? readModelBytes(path);
  return isZipArchive(bytes) ? { kind: "zip", bytes } : { kind: "model", bytes };
}

/** Reads a model operand as a model file; an ML Program package is refused with what `command` can do instead. */
async function readInput(path: string, io: CliIo, command: Exclude<CommandName, "inspect">): Promise<Model> {
  const operand = await readOperand(path, io);
  if (operand.kind !== "model") throw packageRefusal(path, operand.kind, command);
  return decodeModelFile(inputName(path), operand.bytes);
}

/** The package of a folder or zip operand; a refusal names the operand first. */
async function readPackage(path: string, operand: Operand): Promise<MlPackage> {
  if (operand.kind === "model")
    throw new QuantizeError("unsupported-model", `${path} is no longer an ML Program package or a zip of one; it changed while being read`);
  if (operand.kind === "package") return readMlPackage(path);
  try {
    return await decodeMlPackageZip(operand.bytes);
  } catch (error) {
    if (isQuantizeError(error)) throw new QuantizeError(error.code, error.message, { path, cause: error });
    throw error;
  }
}

/**
 * A folder read as a package: one named `*.mlpackage`, or holding a
 * `Manifest.json`. Other folders (and paths that cannot be looked at) are left to
 * the model file reader, which says what is wrong.
 */
function isPackageFolder(path: string): boolean {
  try {
    if (!statSync(path).isDirectory()) return false;
    return /\.mlpackage\/*$/i.test(path) || statSync(join(path, MANIFEST_PATH)).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether a path names an ML Program: a package folder, or a file starting as a
 * zip archive does (only its first bytes are read).
 */
function packageKindOf(path: string): "package" | "zip" | undefined {
  if (isPackageFolder(path)) return "package";
  let fd: number | undefined;
  try {
    // Only a regular file is looked into: opening a FIFO or a device would take bytes the model reader must get.
    if (!statSync(path).isFile()) return undefined;
    fd = openSync(path, "r");
    const head = new Uint8Array(ZIP_SIGNATURE_LENGTH);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && isZipArchive(head) ? "zip" : undefined;
  } catch {
    // Left to the model file reader, which says what is wrong.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How many bytes {@link ZIP_SIGNATURES} look at. */
const ZIP_SIGNATURE_LENGTH = 4;

/** A zip archive's first four bytes: a local file header, or the end record of an empty archive. No model starts so (field number 0 follows). */
const ZIP_SIGNATURES: readonly (readonly number[])[] = [
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06],
];

function isZipArchive(bytes: Uint8Array): boolean {
  return ZIP_SIGNATURES.some((signature) => signature.every((byte, i) => bytes[i] === byte));
}

/**
 * What each command that reads model files says of an ML Program package, the
 * compression commands with where to compress one today. `inspect` reads packages.
 */
const PACKAGE_REFUSALS: Readonly<Record<Exclude<CommandName, "inspect">, string>> = {
  // A package reaches these three only when it changed while being read: they read packages given as a folder or a zip file.
  quantize: "quantize reads packages given as a folder or a zip file",
  dequantize: "dequantize reads packages given as a folder or a zip file",
  report: "report reads packages given as a folder or a zip file",
  "int8-matmul":
    "int8-matmul converts neuralNetwork layers; for an ML Program use quantize (--mode linear_symmetric --nbits 8: int8 weights, dequantized at load time)",
  predict: "running ML Programs is not supported (inspect reads them)",
  compare: "running ML Programs is not supported (inspect reads them)",
};

function packageRefusal(path: string, kind: "package" | "zip", command: Exclude<CommandName, "inspect">): QuantizeError {
  const what = kind === "package" ? "an ML Program package (.mlpackage)" : "a zip archive, not an .mlmodel file (a zipped .mlpackage?)";
  return new QuantizeError("unsupported-model", `${path} is ${what}: ${PACKAGE_REFUSALS[command]}`);
}

/** How messages and summaries name an input operand. */
function inputName(path: string): string {
  return path === STDIO ? STDIN_NAME : path;
}

/** What writes a model to standard output for `-o -`; refused where it cannot take one: not available, or a terminal. */
function stdoutWriterOf(io: CliIo): NonNullable<CliIo["stdoutBytes"]> {
  if (io.stdoutBytes === undefined) throw new QuantizeError("io", `cannot write a model to ${STDOUT_NAME} here; name a file with -o`);
  if (io.stdoutIsTty === true) {
    throw new QuantizeError("invalid-option", `-o - would print a binary model on the terminal; redirect ${STDOUT_NAME} (> out.mlmodel, | …) or name a file`);
  }
  return io.stdoutBytes;
}

/** The model's bytes to standard output; a failure to write them is one line naming it. */
async function writeStdout(write: NonNullable<CliIo["stdoutBytes"]>, chunks: readonly Uint8Array[]): Promise<void> {
  try {
    await write(chunks);
  } catch (cause) {
    if (isQuantizeError(cause)) throw cause;
    throw ioFailure("write", STDOUT_NAME, cause);
  }
}

type Transforming = Extract<Command, { command: "quantize" | "dequantize" | "int8-matmul" }>;
/** The transforming commands as they apply to neural-network models (no `--config`). */
type ModelTransforming = Exclude<Transforming, QuantizeConfigSettings>;

async function transform(
  command: ModelTransforming,
  model: Model,
  onProgress: ((p: Progress) => void) | undefined,
  quantize: NonNullable<CliIo["quantize"]>,
  onTensor: (decision: TensorDecision) => void,
  onTensorLeft: (left: TensorLeft) => void,
): Promise<Model> {
  const progress = onProgress === undefined ? {} : { onProgress };
  switch (command.command) {
    case "quantize": {
      const selector = command.selector === undefined ? {} : { selector: new AdvancedQuantizedLayerSelector(command.selector) };
      const { targetSnrDb, modes, float16Overflow } = command;
      const extra = {
        onTensor,
        onTensorLeft,
        ...(targetSnrDb === undefined ? {} : { targetSnrDb }),
        ...(modes === undefined ? {} : { modes }),
        ...(float16Overflow === undefined ? {} : { float16Overflow }),
      };
      return quantize(model, {
        ...extra,
        nbits: command.nbits,
        mode: command.nbits === 16 || command.nbits === "auto" ? "linear" : command.mode,
        fuse: command.fuse,
        ...selector,
        ...progress,
      });
    }
    case "dequantize":
      return dequantizeWeights(model, progress);
    case "int8-matmul":
      return activateInt8Int8MatrixMultiplications(model, { selector: new MatrixMultiplyLayerSelector(command.selector), ...progress });
  }
}

/**
 * Refuses outputs that would destroy a file the command needs: `-o` naming the
 * input (unless `--force`: the input is read whole before the output replaces it),
 * and `--report` naming the input or the model output (always). Files are compared
 * by device and inode, so a hard link or a symbolic link counts; a name that does
 * not exist yet, by its resolved path.
 */
function refuseClashingPaths(input: string, output: string, report: string | undefined, force: boolean): void {
  // `-` names standard input or output, no file: it clashes with nothing.
  if (!force && input !== STDIO && output !== STDIO && isSameFile(input, output)) {
    throw new QuantizeError("invalid-option", `-o ${output} is the input file; write elsewhere or pass --force`);
  }
  if (report === undefined) return;
  if (input !== STDIO && isSameFile(report, input)) {
    throw new QuantizeError("invalid-option", `--report ${report} is the input file ${input}; name another file for the report`);
  }
  if (output !== STDIO && isSameFile(report, output)) {
    throw new QuantizeError("invalid-option", `--report ${report} is the model output -o ${output}; name another file for the report`);
  }
}

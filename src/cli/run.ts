/**
 * The CLI as a function: arguments and injected I/O in, exit code out. Only
 * main.ts touches `process`.
 *
 * @packageDocumentation
 */
import { encodeModelChunks } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { isQuantizeError, QuantizeError } from "../errors.js";
import { inspectModel, type ModelSummary } from "../inspect-model.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";
import { readModelFile } from "../node/model-files.js";
import { isSameFile, resolveOutputTarget } from "../node/output-target.js";
import { commitFiles, stageFile } from "../node/staged-file.js";
import {
  activateInt8Int8MatrixMultiplications, dequantizeWeights, quantizeWeights, type Progress, type QuantizeOptions,
  type TensorDecision, type TensorLeft,
} from "../quantize-weights.js";
import { AdvancedQuantizedLayerSelector, MatrixMultiplyLayerSelector } from "../selectors.js";
import { formatReport, reportJson } from "../report/format-report.js";
import { weightReport, type WeightReport } from "../report/weight-report.js";
import { helpText, parseCommand, usagePointer, UsageError, type Command } from "./args.js";
import { formatBytes, formatTable, storageLabel } from "../report/format-table.js";
import { escapeForTerminal, escapeJsonForTerminal } from "../report/terminal-text.js";
import { compareWithProgress, loadSampleData, runCompare } from "./compare-command.js";
import { formatComparison } from "../predict/format-comparison.js";
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
}

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
      const model = await readInput(command.model, io);
      validateWeights(model);
      const summary = inspectModel(model);
      io.stdout(command.json ? `${escapeJsonForTerminal(JSON.stringify(summary, null, 2))}\n` : formatSummary(command.model, summary));
      return EXIT.ok;
    }
    case "predict":
      return runPredict(command, await readInput(command.model, io), io);
    case "compare":
      return runCompare(command, await readInput(command.original, io), readModelFile(command.quantized), io);
    case "report": {
      const report = weightReport(await readInput(command.original, io), readModelFile(command.quantized));
      io.stdout(command.json ? reportJson(report) : formatReport(report));
      return EXIT.ok;
    }
    case "quantize":
    case "dequantize":
    case "int8-matmul": {
      const reportFile = command.command === "quantize" && command.report !== "-" ? command.report : undefined;
      refuseClashingPaths(command.input, command.output, reportFile, command.force);
      // Refused now rather than after the work: a directory, a device that is never
      // replaced, a missing or read-only directory. Looked at again when writing.
      resolveOutputTarget(command.output);
      if (reportFile !== undefined) resolveOutputTarget(reportFile);
      const input = await readInput(command.input, io);
      // Checking the weights against their layers is the library's first step.
      assertHasNetwork(input);
      // Read (and the model checked runnable) before any work, so bad samples write nothing.
      const samples = command.command === "quantize" && command.sampleData !== undefined ? await loadSampleData(command.sampleData, input) : undefined;
      const bar = progressBar(io, "tensors");
      const decisions = new Map<string, TensorDecision>();
      const left: TensorLeft[] = [];
      let output: Model;
      try {
        output = await transform(command, input, bar.onProgress, io.quantize ?? quantizeWeights, (d) => decisions.set(d.path, d), (l) => left.push(l));
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
      const staged = [stageFile(command.output, encoded)];
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
      const summary = formatChange(command.output, inspectModel(input), inspectModel(output), encoded.byteLength);
      if (report === undefined) {
        io.stdout(summary);
        return EXIT.ok;
      }
      // With --report -, stdout carries the JSON alone; the people's view goes to stderr.
      const people = command.command === "quantize" && command.report === "-" ? io.stderr : io.stdout;
      people(`${summary}\n${formatReport(report)}${overflowNotes(decisions)}${leftNotes(left)}`);
      if (command.command === "quantize" && command.report === "-") io.stdout(reportJson(report));
      // As coremltools' quantize_weights(sample_data=): the predictions compared once the output is written.
      if (samples !== undefined) people(`\n${formatComparison(compareWithProgress(input, output, samples, false, io))}`);
      return EXIT.ok;
    }
  }
}

/** Reads a model file, from the bytes read ahead of time when they are of this path. */
async function readInput(path: string, io: CliIo): Promise<Model> {
  const bytes = io.prefetched?.path === path ? await io.prefetched.bytes : undefined;
  return readModelFile(path, bytes);
}

type Transforming = Extract<Command, { command: "quantize" | "dequantize" | "int8-matmul" }>;

async function transform(
  command: Transforming,
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
      return quantize(model, { ...extra, nbits: command.nbits, mode: command.nbits === 16 || command.nbits === "auto" ? "linear" : command.mode, fuse: command.fuse, ...selector, ...progress });
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
  if (!force && isSameFile(input, output)) {
    throw new QuantizeError("invalid-option", `-o ${output} is the input file; write elsewhere or pass --force`);
  }
  if (report === undefined) return;
  if (isSameFile(report, input)) {
    throw new QuantizeError("invalid-option", `--report ${report} is the input file ${input}; name another file for the report`);
  }
  if (isSameFile(report, output)) {
    throw new QuantizeError("invalid-option", `--report ${report} is the model output -o ${output}; name another file for the report`);
  }
}

/** The report with each tensor's decision (auto choice, overflow handling) attached. */
function withDecisions(report: WeightReport, decisions: ReadonlyMap<string, TensorDecision>): WeightReport {
  if (decisions.size === 0) return report;
  return {
    ...report,
    tensors: report.tensors.map((t) => {
      const decision = decisions.get(`${t.layerPath}/${t.field}`);
      // Object.assign, not `{ ...t, decision }`: see withStorage in codec/weight-storage.ts.
      return decision === undefined ? t : Object.assign({}, t, { decision });
    }),
  };
}

function overflowNotes(decisions: ReadonlyMap<string, TensorDecision>): string {
  const kept = [...decisions.values()].filter((d) => d.overflow === "kept-float32").map((d) => d.path);
  const clamped = [...decisions.values()].filter((d) => d.overflow === "clamped").map((d) => d.path);
  const lines = [
    ...(kept.length === 0 ? [] : [`kept float32 (values beyond ±65504): ${escapeForTerminal(kept.join(", "))}`]),
    ...(clamped.length === 0 ? [] : [`clamped to ±65504: ${escapeForTerminal(clamped.join(", "))}`]),
  ];
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** The selected tensors left as they are (already quantized, …), each with why. */
function leftNotes(left: readonly TensorLeft[]): string {
  if (left.length === 0) return "";
  return `left as they are: ${escapeForTerminal(left.map((l) => `${l.path} (${l.reason})`).join(", "))}\n`;
}

function formatChange(file: string, before: ModelSummary, after: ModelSummary, fileBytes: number): string {
  let changed = 0;
  const layers = new Set<string>();
  // Keyed by layer name, not index: fusion removes layers and shifts the indices.
  // The weights of a layer come together and share its path: it is stripped once per layer.
  let lastPath = "";
  let stripped = "";
  const key = (w: ModelSummary["weights"][number]): string => {
    if (w.layerPath !== lastPath) {
      lastPath = w.layerPath;
      stripped = w.layerPath.replace(/layers\[\d+\] /g, "");
    }
    return `${stripped}/${w.field}`;
  };
  const previous = new Map(before.weights.map((w) => [key(w), w]));
  for (const w of after.weights) {
    const old = previous.get(key(w));
    if (old === undefined || old.storage !== w.storage || old.bytes !== w.bytes) {
      changed++;
      layers.add(w.layerPath);
    }
  }
  // A newer version is a newer Core ML the model needs: said when it changed.
  const version = before.specificationVersion === after.specificationVersion
    ? ""
    : `; specification version ${before.specificationVersion} -> ${after.specificationVersion}`;
  return `wrote ${escapeForTerminal(file)}: ${layers.size} layers (${changed} tensors) changed; weights ${formatBytes(before.totals.bytes)} -> ${formatBytes(after.totals.bytes)}; file ${formatBytes(fileBytes)}${version}\n`;
}


/** The people's view of {@link inspectModel}. */
export function formatSummary(file: string, summary: ModelSummary): string {
  const lines = [
    `${escapeForTerminal(file)}: ${summary.modelType}, specification version ${summary.specificationVersion}`,
    ...summary.networks.map((n) => `  network ${escapeForTerminal(n.path)}: ${n.layers} layers`),
  ];
  if (summary.networks.length === 0) lines.push("  no neural network");
  if (summary.weights.length > 0) {
    lines.push("");
    const rows = summary.weights.map((w) => [
      w.layerPath.replace(/^model\//, ""), w.kind, w.field, `[${w.shape.join(", ")}]`, String(w.count),
      storageLabel(w) + (w.quantizable ? "" : " *"), formatBytes(w.bytes),
    ]);
    lines.push(formatTable([
      { header: "layer" }, { header: "kind" }, { header: "field" }, { header: "shape" },
      { header: "count", align: "right" }, { header: "storage" }, { header: "bytes", align: "right" },
    ], rows));
    if (summary.weights.some((w) => !w.quantizable)) lines.push("* not quantized by quantize (the reference leaves it alone)");
  }
  const { totals } = summary;
  const byStorage = Object.entries(totals.bytesByStorage).map(([k, v]) => `${k} ${formatBytes(v)}`).join(", ");
  lines.push("", `total: ${totals.tensors} tensors, ${totals.values} values, ${formatBytes(totals.bytes)}${byStorage === "" ? "" : ` (${byStorage})`}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The CLI as a function: arguments and injected I/O in, exit code out. Only
 * main.ts touches `process`.
 *
 * @packageDocumentation
 */
import { isQuantizeError } from "../errors.js";
import { inspectModel, type ModelSummary } from "../inspect-model.js";
import { readModelFile } from "../node/model-files.js";
import { parseCommand, UsageError, USAGE, type Command } from "./args.js";
import { formatBytes, formatTable } from "./format-table.js";

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The package version, for `--version`. */
  readonly version: string;
  /** Print stack traces of unexpected errors. @defaultValue false */
  readonly debug?: boolean;
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
    io.stderr(`coreml-quantize: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await execute(command, io);
  } catch (error) {
    if (isQuantizeError(error)) {
      io.stderr(`coreml-quantize: ${error.message}\n`);
      if (io.debug === true && error.stack !== undefined) io.stderr(`${error.stack}\n`);
      return EXIT.failure;
    }
    io.stderr(`coreml-quantize: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (io.debug === true && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
    return EXIT.failure;
  }
}

async function execute(command: Command, io: CliIo): Promise<number> {
  switch (command.command) {
    case "help":
      io.stdout(USAGE);
      return EXIT.ok;
    case "version":
      io.stdout(`${io.version}\n`);
      return EXIT.ok;
    case "inspect": {
      const summary = inspectModel(readModelFile(command.model));
      io.stdout(command.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(command.model, summary));
      return EXIT.ok;
    }
  }
}

function storageLabel(w: ModelSummary["weights"][number]): string {
  switch (w.storage) {
    case "linear":
      return `${w.nbits}-bit linear`;
    case "lut":
      return `${w.nbits}-bit LUT`;
    default:
      return w.storage;
  }
}

/** The people's view of {@link inspectModel}. */
export function formatSummary(file: string, summary: ModelSummary): string {
  const lines = [
    `${file}: ${summary.modelType}, specification version ${summary.specificationVersion}`,
    ...summary.networks.map((n) => `  network ${n.path}: ${n.layers} layers`),
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

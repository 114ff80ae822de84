/**
 * A {@link ProgramReport} for people (a table) and for programs (JSON).
 *
 * @packageDocumentation
 */
import type { ProgramReport, ProgramWeightReport, ProgramWeightStorage } from "../mlprogram/report-program.js";
import { shortenOpPath, wrapItems } from "./format-program-summary.js";
import { formatBytes, formatTable } from "./format-table.js";
import { escapeForTerminal, escapeJsonForTerminal } from "./terminal-text.js";

/** An op's position in a walker path, left out of the table: people (and coremltools' op_name_configs) know ops by name. */
const OPERATION_INDEX = /operations\[\d+\] "/g;

/**
 * The report as a table — op input, op type, shape, storage before and after
 * (element type, and the chain of constexpr ops numbered and listed below),
 * bytes before and after, SNR — then the totals. The table fits 100 columns
 * (long op names lose their middle; {@link programReportJson} has them whole).
 * An infinite SNR reads `exact` when every value came back unchanged.
 *
 * @param report - from `programReport`
 * @returns the text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(formatProgramReport(programReport(original, compressed)));
 * ```
 */
export function formatProgramReport(report: ProgramReport): string {
  const lines: string[] = [];
  const { weights } = report;
  // One function of one opset: the rows leave out its `main/CoreML8/`.
  const places = new Set(weights.map((w) => `${w.function}/${w.opset}/`));
  const prefix = places.size === 1 ? ([...places][0] ?? "") : "";
  const chains = [
    ...new Set(
      weights
        .flatMap((w) => [w.before.chain, w.after.chain])
        .filter((c) => c.length > 0)
        .map((c) => c.join(" > ")),
    ),
  ];
  const storage = (s: ProgramWeightStorage): string =>
    s.chain.length === 0 ? s.storedDataType : `${s.storedDataType} #${chains.indexOf(s.chain.join(" > ")) + 1}`;
  if (weights.length === 0) {
    lines.push("no weight in both programs");
  } else {
    const rows = weights.map((w) => [
      opCell(w, prefix),
      w.opType,
      `[${w.shape.join(", ")}]`,
      `${storage(w.before)} -> ${storage(w.after)}`,
      `${formatBytes(w.before.bytes)} -> ${formatBytes(w.after.bytes)}`,
      snrLabel(w),
    ]);
    lines.push(
      formatTable(
        [
          { header: "op.input", shorten: shortenOpPath },
          { header: "type" },
          { header: "shape" },
          { header: "storage" },
          { header: "bytes", align: "right" },
          { header: "SNR", align: "right" },
        ],
        rows,
      ),
    );
    chains.forEach((chain, i) => lines.push(wrapItems(`#${i + 1}: `, escapeForTerminal(chain).split(" > "), " > ")));
  }
  if (report.unpaired.length > 0) {
    lines.push(wrapItems("in one program only (not compared): ", report.unpaired.map(escapeForTerminal), ", "));
  }
  const t = report.totals;
  const parts = [
    `${plural(t.weights, "weight")} (${t.compressed} compressed, ${t.exact} exact)`,
    `constants ${formatBytes(t.bytesBefore)} -> ${formatBytes(t.bytesAfter)}${ratioLabel(t.bytesBefore, t.bytesAfter)}`,
  ];
  if (t.snrDb !== null) parts.push(`SNR ${t.snrDb.toFixed(1)} dB over every weight`);
  lines.push("", wrapItems("total: ", parts, "; "));
  return `${lines.join("\n")}\n`;
}

/**
 * The report as JSON, two-space indented, ending with a newline: the report
 * itself, infinite ratios `null`, characters a terminal would act on escaped.
 *
 * @param report - from `programReport`
 * @returns the JSON text
 */
export function programReportJson(report: ProgramReport): string {
  return `${escapeJsonForTerminal(JSON.stringify(report, null, 2))}\n`;
}

/** `"fc1".weight`, the function and opset left out when every row shares them. */
function opCell(w: ProgramWeightReport, prefix: string): string {
  const path = w.path.startsWith(prefix) ? w.path.slice(prefix.length) : w.path;
  return `${path.replace(OPERATION_INDEX, '"')}.${w.input}${w.index === 0 ? "" : `[${w.index}]`}`;
}

function snrLabel(w: ProgramWeightReport): string {
  if (w.error.snrDb !== null) return `${w.error.snrDb.toFixed(1)} dB`;
  if (w.error.exact) return "exact";
  return w.error.maxAbsError === 0 ? "inf" : "-inf";
}

/** ` (4.00x smaller)`, or ` (1.2x larger)`; nothing without bytes before. */
function ratioLabel(before: number, after: number): string {
  if (before === 0 || after === 0) return "";
  return after <= before ? ` (${(before / after).toFixed(2)}x smaller)` : ` (${(after / before).toFixed(1)}x larger)`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

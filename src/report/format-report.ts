/**
 * A {@link WeightReport} for people (a table) and for programs (JSON).
 *
 * @packageDocumentation
 */
import { formatBytes, formatTable, storageLabel, TABLE_WIDTH } from "./format-table.js";
import { shortenLayerPath } from "./shorten-layer-path.js";
import { escapeJsonForTerminal } from "./terminal-text.js";
import type { TensorReport, WeightReport } from "./weight-report.js";

/**
 * The report as a table — layer, field, storage before and after, bytes before
 * and after, SNR — then a totals line. The table fits 100 columns
 * (long layer names lose their middle; {@link reportJson} has them whole), and
 * the totals wrap at `; ` to fit it too. An infinite SNR reads `exact` when every
 * value came back unchanged, `inf` when only non-finite values differ, `-inf`
 * when the original is all zeros and the quantized tensor is not.
 *
 * @param report - from {@link weightReport}
 * @returns the text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(formatReport(weightReport(model, quantizeWeights(model, { nbits: 8 }))));
 * ```
 */
export function formatReport(report: WeightReport): string {
  const lines: string[] = [];
  if (report.tensors.length === 0) {
    lines.push("no weight tensor in both models");
  } else {
    const rows = report.tensors.map((t) => [
      t.layerPath.replace(/^model\//, "") + (t.fused ? " *" : ""),
      t.field,
      `${storageLabel(t.before)} -> ${storageLabel(t.after)}`,
      `${formatBytes(t.before.bytes)} -> ${formatBytes(t.after.bytes)}`,
      snrLabel(t),
    ]);
    lines.push(
      formatTable(
        [
          { header: "layer", shorten: shortenLayerPath },
          { header: "field" },
          { header: "storage" },
          { header: "bytes", align: "right" },
          { header: "SNR", align: "right" },
        ],
        rows,
      ),
    );
    if (report.tensors.some((t) => t.fused)) {
      lines.push("* fused layer: compared against the original's weights with batchnorm/scale/bias folded in");
    }
    const nonFinite = report.tensors.filter((t) => t.nonFinite > 0).length;
    if (nonFinite > 0) lines.push(`${plural(nonFinite, "tensor")} with NaN or infinite values: those values are left out of the SNR`);
  }
  lines.push("", totalsLine(report));
  return `${lines.join("\n")}\n`;
}

/**
 * The report as JSON, two-space indented, ending with a newline. Infinite ratios
 * are `null` (see {@link TensorError}); the object is otherwise the report itself.
 * Characters a terminal would act on (C1 controls, bidirectional overrides) are
 * written as `\u` escapes, so the text is safe to print.
 *
 * @param report - from {@link weightReport}
 * @returns the JSON text
 */
export function reportJson(report: WeightReport): string {
  return `${escapeJsonForTerminal(JSON.stringify(report, null, 2))}\n`;
}

function totalsLine(report: WeightReport): string {
  const t = report.totals;
  const parts = [
    `${plural(t.tensors, "tensor")} (${t.exactTensors} exact)`,
    `weights ${formatBytes(t.bytesBefore)} -> ${formatBytes(t.bytesAfter)}${ratioLabel(t.ratio)}`,
  ];
  if (t.meanSnrDb !== null && t.minSnrDb !== null) {
    parts.push(`SNR ${t.meanSnrDb.toFixed(1)} dB mean by size (exact tensors left out), ${t.minSnrDb.toFixed(1)} dB lowest`);
  }
  return wrapParts("total: ", parts, TABLE_WIDTH);
}

/**
 * `prefix` then the parts joined by `; `, a new line (indented under the first
 * part) before any part that would pass `width` columns.
 */
function wrapParts(prefix: string, parts: readonly string[], width: number): string {
  const indent = " ".repeat(prefix.length);
  let text = prefix;
  let line = prefix.length;
  parts.forEach((part, i) => {
    const joint = i === 0 ? "" : ";";
    if (i > 0 && line + joint.length + 1 + part.length > width) {
      text += `${joint}\n${indent}${part}`;
      line = indent.length + part.length;
    } else {
      text += i === 0 ? part : `${joint} ${part}`;
      line += (i === 0 ? 0 : joint.length + 1) + part.length;
    }
  });
  return text;
}

/** ` (4.00x smaller)`; below 1, the inverse: ` (7.7x larger)`; nothing when there is no ratio. */
function ratioLabel(ratio: number | null): string {
  if (ratio === null) return "";
  if (ratio >= 1) return ` (${ratio.toFixed(2)}x smaller)`;
  // 0 bytes before: larger by no finite factor.
  return ratio === 0 ? " (larger)" : ` (${(1 / ratio).toFixed(1)}x larger)`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function snrLabel(t: TensorReport): string {
  if (t.snrDb !== null) return `${t.snrDb.toFixed(1)} dB`;
  if (t.exact) return "exact";
  return t.maxAbsError === 0 ? "inf" : "-inf";
}

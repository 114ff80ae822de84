/**
 * A {@link ModelSummary} for people: the networks, a table of the weights, and the
 * totals by storage.
 *
 * @packageDocumentation
 */
import type { ModelSummary } from "../inspect-model.js";
import { formatBytes, formatTable, storageLabel } from "./format-table.js";
import { shortenLayerPath } from "./shorten-layer-path.js";
import { escapeForTerminal } from "./terminal-text.js";

/**
 * The people's view of a model's summary (`inspectModel`); its table fits 100 columns (long layer
 * names lose their middle; `--json` has them whole).
 *
 * @param file - the model's name, as the person gave it
 * @param summary - the model's summary
 * @returns the text, ending in a newline
 */
export function formatSummary(file: string, summary: ModelSummary): string {
  const lines = [
    `${escapeForTerminal(file)}: ${summary.modelType}, specification version ${summary.specificationVersion}`,
    ...summary.networks.map((n) => `  network ${escapeForTerminal(n.path)}: ${n.layers} layers`),
  ];
  if (summary.networks.length === 0) lines.push("  no neural network");
  if (summary.weights.length > 0) {
    lines.push("");
    const rows = summary.weights.map((w) => [
      w.layerPath.replace(/^model\//, ""),
      w.kind,
      w.field,
      `[${w.shape.join(", ")}]`,
      String(w.count),
      storageLabel(w) + (w.quantizable ? "" : " *"),
      formatBytes(w.bytes),
    ]);
    lines.push(
      formatTable(
        [
          { header: "layer", shorten: shortenLayerPath },
          { header: "kind" },
          { header: "field" },
          { header: "shape" },
          { header: "count", align: "right" },
          { header: "storage" },
          { header: "bytes", align: "right" },
        ],
        rows,
      ),
    );
    if (summary.weights.some((w) => !w.quantizable)) lines.push("* not quantized by quantize (the reference leaves it alone)");
  }
  const { totals } = summary;
  const byStorage = Object.entries(totals.bytesByStorage)
    .map(([k, v]) => `${k} ${formatBytes(v)}`)
    .join(", ");
  lines.push("", `total: ${totals.tensors} tensors, ${totals.values} values, ${formatBytes(totals.bytes)}${byStorage === "" ? "" : ` (${byStorage})`}`);
  return `${lines.join("\n")}\n`;
}

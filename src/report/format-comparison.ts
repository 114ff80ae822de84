/**
 * A {@link ModelComparison} for people (tables) and for programs (JSON).
 *
 * @packageDocumentation
 */
import { shortenMiddle } from "./display-width.js";
import { formatTable } from "./format-table.js";
import { escapeJsonForTerminal } from "./terminal-text.js";
import type { ComparedLayer, LayerComparison, LayerRef } from "../predict/compare-layers.js";
import { COREMLTOOLS_NOISE_FLOOR, MEANINGFUL_CEILING_DB } from "../predict/compare-metrics.js";
import type { ModelComparison, OutputComparison } from "../predict/compare-models.js";

/**
 * The comparison as text: one table of outputs (agreement for labels and
 * dictionaries; SNR, PSNR, coremltools' figures as `mean ± variance`, largest
 * error, cosine similarity and worst sample for arrays and images), notes on
 * outputs too small for coremltools' SNR, then one table of blobs in run order
 * (the layer writing each, its SNR, and its SNR run alone on the original's
 * inputs) and the layers that lose the most on their own. An infinite SNR reads `exact`.
 *
 * @param comparison - from {@link compareModels}
 * @returns the text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(formatComparison(compareModels(model, quantized, randomInputs(model, 8, 1))));
 * ```
 */
export function formatComparison(comparison: ModelComparison): string {
  const lines = [`compared on ${comparison.samples} sample${comparison.samples === 1 ? "" : "s"}`, ""];
  // Two tables of the same rows, so that each fits a terminal of 100 columns: how
  // far the outputs agree, then the signal-to-noise ratios, ours beside coremltools'.
  const rows = comparison.outputs.map(outputCells);
  lines.push(
    formatTable(
      [
        { header: "output", shorten: shortenMiddle },
        { header: "kind" },
        { header: "agreement" },
        { header: "max |err|", align: "right" },
        { header: "cosine", align: "right" },
        { header: "worst sample", align: "right" },
      ],
      rows.map((r) => [r.name, r.kind, r.agreement, r.maxError, r.cosine, r.worst]),
    ),
    "",
  );
  lines.push(
    formatTable(
      [
        { header: "output", shorten: shortenMiddle },
        { header: "SNR", align: "right" },
        { header: "PSNR", align: "right" },
        { header: "coremltools SNR (mean ± var)", align: "right" },
        { header: "coremltools PSNR (mean ± var)", align: "right" },
      ],
      rows.map((r) => [r.name, r.snr, r.psnr, r.coremltoolsSnr, r.coremltoolsPsnr]),
    ),
  );
  for (const o of comparison.outputs) {
    if ((o.kind === "array" || o.kind === "image") && o.floorDominated) {
      lines.push(
        `'${o.name}' is small (mean square ${fmtNumber(10 ** (o.coremltoolsCeilingDb / 10) * COREMLTOOLS_NOISE_FLOOR)}): ` +
          `coremltools' +1e-7 noise floor caps its SNR at ${fmtDb(o.coremltoolsCeilingDb)} (below ${MEANINGFUL_CEILING_DB} dB), so that figure says little; read SNR`,
      );
    }
  }
  if (comparison.layers.length > 0) {
    lines.push("", formatLayers(comparison.layers));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The comparison as JSON, two-space indented, ending with a newline. Infinite
 * and NaN numbers are written as the strings `"Infinity"`, `"-Infinity"` and
 * `"NaN"` (JSON has no such numbers; `Number()` reads them back), int64 labels
 * as decimal strings. Characters a terminal would act on are `\u` escapes.
 *
 * @param comparison - from {@link compareModels}
 * @returns the JSON text
 */
export function comparisonJson(comparison: ModelComparison): string {
  const json = JSON.stringify(
    comparison,
    (_key, value: unknown) => {
      if (typeof value === "bigint") return value.toString();
      if (typeof value === "number" && !Number.isFinite(value)) return String(value);
      return value;
    },
    2,
  );
  return `${escapeJsonForTerminal(json)}\n`;
}

/** One output's cells, by column. */
interface OutputCells {
  readonly name: string;
  readonly kind: string;
  readonly agreement: string;
  readonly snr: string;
  readonly psnr: string;
  readonly coremltoolsSnr: string;
  readonly coremltoolsPsnr: string;
  readonly maxError: string;
  readonly cosine: string;
  readonly worst: string;
}

function outputCells(o: OutputComparison): OutputCells {
  const none = { snr: "", psnr: "", coremltoolsSnr: "", coremltoolsPsnr: "", maxError: "", cosine: "" };
  switch (o.kind) {
    case "label":
      return { ...none, name: o.name, kind: o.kind, agreement: `${fmtPercent(o.agreement)} top-1`, worst: fmtSample(o.worstSample) };
    case "dictionary":
      return {
        ...none,
        name: o.name,
        kind: o.kind,
        agreement: `${fmtPercent(o.agreement)} top-${o.topK}, ${fmtPercent(o.top1Agreement)} top-1`,
        maxError: fmtNumber(o.maxAbsError),
        worst: fmtSample(o.worstSample),
      };
    case "array":
    case "image":
      return {
        name: o.name,
        kind: o.kind,
        agreement: "",
        snr: fmtDb(o.snrDb),
        psnr: fmtDb(o.psnrDb),
        coremltoolsSnr: `${fmtDb(o.coremltools.snrDb.mean)} ± ${fmtVar(o.coremltools.snrDb.variance)}`,
        coremltoolsPsnr: `${fmtDb(o.coremltools.psnrDb.mean)} ± ${fmtVar(o.coremltools.psnrDb.variance)}`,
        maxError: fmtNumber(o.maxAbsError),
        cosine: o.cosineSimilarity.toFixed(6),
        worst: fmtSample(o.worstSample),
      };
    default: {
      const never: never = o;
      throw new Error(`unknown output kind ${String(never)}`);
    }
  }
}

function formatLayers(rows: readonly LayerComparison[]): string {
  const networks = new Set(rows.map((r) => r.network));
  const many = networks.size > 1;
  const cells = rows.map((r) => {
    const network = many ? [r.network.replace(/^model\//, "")] : [];
    switch (r.status) {
      case "compared":
        return [
          ...network,
          layerName(r.layer) + (r.fused ? ` * (+ ${r.originalLayer?.name ?? "?"})` : ""),
          r.layer?.kind ?? "",
          r.blob,
          fmtDb(r.snrDb),
          r.aloneSnrDb === undefined ? "" : fmtDb(r.aloneSnrDb),
          fmtNumber(r.maxAbsError),
        ];
      case "removed":
        return [
          ...network,
          layerName(r.originalLayer),
          r.originalLayer?.kind ?? "",
          r.blob,
          r.fusedInto === undefined ? "only in the original" : `fused: see ${r.fusedInto}`,
          "",
          "",
        ];
      case "shape-mismatch":
        return [
          ...network,
          layerName(r.layer),
          r.layer?.kind ?? "",
          r.blob,
          `shape [${r.originalShape.join(", ")}] vs [${r.quantizedShape.join(", ")}]`,
          "",
          "",
        ];
      default: {
        const never: never = r;
        return [String(never)];
      }
    }
  });
  const columns = [
    ...(many ? [{ header: "network", shorten: shortenMiddle }] : []),
    { header: "layer", shorten: shortenMiddle },
    { header: "kind" },
    { header: "blob", shorten: shortenMiddle },
    { header: "SNR", align: "right" as const },
    { header: "SNR alone", align: "right" as const },
    { header: "max |err|", align: "right" as const },
  ];
  const lines = [formatTable(columns, cells)];
  if (rows.some((r) => r.status === "compared" && r.fused)) {
    lines.push("* fused layer: its output is compared with the original's output of the whole fused group");
  }
  const worst = worstAlone(rows);
  if (worst.length > 0) {
    lines.push(
      `lowest SNR alone (the layer's own loss, on the original's inputs): ${worst
        .map((r) => `'${r.layer?.name ?? ""}' ${fmtDb(r.aloneSnrDb ?? NaN)}`)
        .join(", ")}`,
    );
  }
  return lines.join("\n");
}

/** How many layers the summary line names. */
const WORST_SHOWN = 3;

/** The compared layers with the lowest SNR alone, lowest first (exact ones left out). */
function worstAlone(rows: readonly LayerComparison[]): ComparedLayer[] {
  const measured = rows.filter((r): r is ComparedLayer => r.status === "compared" && r.aloneSnrDb !== undefined && r.aloneSnrDb !== Infinity);
  // One entry per layer: its lowest blob.
  const byLayer = new Map<string, ComparedLayer>();
  for (const r of measured) {
    const key = r.layer?.path ?? r.blob;
    const seen = byLayer.get(key);
    if (seen === undefined || (r.aloneSnrDb as number) < (seen.aloneSnrDb as number)) byLayer.set(key, r);
  }
  return [...byLayer.values()].sort((a, b) => (a.aloneSnrDb as number) - (b.aloneSnrDb as number)).slice(0, WORST_SHOWN);
}

function layerName(layer: LayerRef | undefined): string {
  return layer === undefined ? "(input)" : layer.name;
}

function fmtDb(db: number): string {
  if (db === Infinity) return "exact";
  if (db === -Infinity) return "-inf dB";
  if (Number.isNaN(db)) return "NaN";
  return `${db.toFixed(1)} dB`;
}

function fmtVar(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : String(v);
}

function fmtPercent(f: number): string {
  return `${(f * 100).toFixed(2)}%`;
}

function fmtSample(sample: number | undefined): string {
  return sample === undefined ? "-" : String(sample);
}

function fmtNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2);
}

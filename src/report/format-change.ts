/**
 * What quantize, dequantize and int8-matmul say about the model they wrote: the
 * change in one line and notes on the tensors overflowed or left alone.
 *
 * @packageDocumentation
 */
import type { ModelSummary } from "../inspect-model.js";
import type { TensorDecision, TensorLeft } from "../quantize/quantize-weights.js";
import { formatBytes } from "./format-table.js";
import { escapeForTerminal } from "./terminal-text.js";

/**
 * The tensors whose float16 values overflowed, by what was done about it: kept as
 * float32 or clamped to ±65504.
 *
 * @param decisions - what quantize decided for each tensor, by path
 * @returns one line per policy that applied, each ending in a newline; empty when none did
 */
export function overflowNotes(decisions: ReadonlyMap<string, TensorDecision>): string {
  const kept = [...decisions.values()].filter((d) => d.overflow === "kept-float32").map((d) => d.path);
  const clamped = [...decisions.values()].filter((d) => d.overflow === "clamped").map((d) => d.path);
  const lines = [
    ...(kept.length === 0 ? [] : [`kept float32 (values beyond ±65504): ${escapeForTerminal(kept.join(", "))}`]),
    ...(clamped.length === 0 ? [] : [`clamped to ±65504: ${escapeForTerminal(clamped.join(", "))}`]),
  ];
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * The selected tensors left as they are (already quantized, …), each with why.
 *
 * @param left - the tensors left, in model order
 * @returns one line ending in a newline; empty when no tensor was left
 */
export function leftNotes(left: readonly TensorLeft[]): string {
  if (left.length === 0) return "";
  return `left as they are: ${escapeForTerminal(left.map((l) => `${l.path} (${l.reason})`).join(", "))}\n`;
}

/**
 * What a transform did to a model, in one line: the layers and tensors changed, the
 * weight bytes before and after, the written file's size, and the specification
 * version when it rose.
 *
 * @param file - the output's name, as the person gave it
 * @param before - the input's summary
 * @param after - the output's summary
 * @param fileBytes - the encoded output's size
 * @returns the line, ending in a newline
 */
export function formatChange(file: string, before: ModelSummary, after: ModelSummary, fileBytes: number): string {
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
  const version =
    before.specificationVersion === after.specificationVersion ? "" : `; specification version ${before.specificationVersion} -> ${after.specificationVersion}`;
  return `wrote ${escapeForTerminal(file)}: ${layers.size} layers (${changed} tensors) changed; weights ${formatBytes(before.totals.bytes)} -> ${formatBytes(after.totals.bytes)}; file ${formatBytes(fileBytes)}${version}\n`;
}

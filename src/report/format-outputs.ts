/**
 * A model's outputs from one prediction, for people (labels, the top classes,
 * the first values of arrays) and as JSON (every value in full), as `predict`
 * prints them.
 *
 * @packageDocumentation
 */
import type { Model } from "../codec/model-types.js";
import type { ArrayOutput, OutputValue, PredictOutputs } from "../predict/feature-io.js";
import { escapeForTerminal, escapeJsonForTerminal } from "./terminal-text.js";

/** Classes of a probability dictionary printed (without --json). */
export const TOP_CLASSES = 5;
/** Values of an array output printed (without --json). */
export const FIRST_VALUES = 8;

/** How an output is shown and stored: the declared type decides array or image. */
export type OutputKind = "label" | "dictionary" | "array" | "image";

/** Each output's kind, from its value and (array or image) its declared type; in the model's order. */
export function outputKinds(model: Model, names: readonly string[], outputs: PredictOutputs): [string, OutputKind][] {
  const declared = new Map((model.description?.output ?? []).map((f) => [f.name, f.type?.Type.case]));
  return names.map((name): [string, OutputKind] => {
    const value = outputs[name] as OutputValue;
    if (typeof value === "string" || typeof value === "bigint") return [name, "label"];
    if (value instanceof Map) return [name, "dictionary"];
    return [name, declared.get(name) === "imageType" ? "image" : "array"];
  });
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

/** Probabilities of a dictionary, highest first (ties in the dictionary's order). */
function ranked(value: ReadonlyMap<string | bigint, number>): [string, number][] {
  return [...value].map(([k, p]): [string, number] => [String(k), p]).sort((a, b) => b[1] - a[1]);
}

/** Six significant digits; an exponent outside [1e-3, 1e6). */
function fmtValue(x: number): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(6))) : x.toExponential(5).replace(/\.?0+e/, "e");
}

/** A shape as people write it: `[1, 3, 224, 224]`. */
export const fmtShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** The people's view: labels, the top classes of dictionaries, shapes and first values of arrays. */
export function formatOutputs(kinds: readonly [string, OutputKind][], outputs: PredictOutputs): string {
  const lines: string[] = [];
  for (const [name, kind] of kinds) {
    const value = outputs[name] as OutputValue;
    const shown = escapeForTerminal(name);
    if (kind === "label") {
      lines.push(`${shown} (label): ${escapeForTerminal(String(value))}`);
    } else if (kind === "dictionary") {
      const classes = ranked(value as ReadonlyMap<string | bigint, number>);
      const top = classes.slice(0, TOP_CLASSES);
      lines.push(`${shown} (dictionary, ${classes.length} classes${classes.length > top.length ? `, top ${top.length}` : ""}):`);
      const width = Math.max(0, ...top.map(([, p]) => fmtProbability(p).length));
      for (const [label, p] of top) lines.push(`  ${fmtProbability(p).padStart(width)}  ${escapeForTerminal(label)}`);
    } else {
      const { shape, data } = value as ArrayOutput;
      const first = [...data.subarray(0, FIRST_VALUES)].map(fmtValue).join(", ");
      const rest = data.length > FIRST_VALUES ? `, … (${data.length} values)` : "";
      lines.push(`${shown} (${kind === "image" ? "image, raw float blob" : "multiArray"} ${fmtShape(shape)}): ${first}${rest}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function fmtProbability(p: number): string {
  return Number.isFinite(p) ? p.toFixed(6) : String(p);
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/**
 * The shortest decimal text that reads back as the same float32: 0.1 rather
 * than 0.10000000149011612.
 */
function float32Text(x: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const text = x.toPrecision(digits);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(Number(x.toPrecision(9)));
}

/** A number as JSON: infinities and NaN as strings (JSON has no such numbers), as comparisonJson writes them. */
function numberJson(x: number, float32: boolean): string {
  if (!Number.isFinite(x)) return JSON.stringify(String(x));
  return float32 ? float32Text(x) : JSON.stringify(x);
}

/** A label as JSON: a string, or an int64 as a decimal string (exact beyond 2^53). */
export function labelJson(value: string | bigint): string {
  return JSON.stringify(String(value));
}

/** A probability dictionary as a JSON object `{label: p}`, int64 labels as decimal strings. */
export function dictionaryJson(value: ReadonlyMap<string | bigint, number>): string {
  // Probabilities computed in float32 are written as such; any other number in full.
  return `{${[...value].map(([k, p]) => `${JSON.stringify(String(k))}: ${numberJson(p, Math.fround(p) === p)}`).join(", ")}}`;
}

function arrayJson(value: ArrayOutput): string {
  const data: string[] = new Array<string>(value.data.length);
  for (let i = 0; i < value.data.length; i++) data[i] = numberJson(value.data[i] as number, true);
  return `"shape": ${JSON.stringify(value.shape)}, "data": [${data.join(", ")}]`;
}

/**
 * Every output in full, as JSON: `{"outputs": {name: {"kind", ...}}}` where a
 * label has `value` (a string; an int64 as a decimal string), a dictionary
 * `value` `{label: p}`, an array or image `shape` and `data` (row-major).
 */
export function outputsJson(kinds: readonly [string, OutputKind][], outputs: PredictOutputs): string {
  const entries = kinds.map(([name, kind]) => {
    const value = outputs[name] as OutputValue;
    const body =
      kind === "label"
        ? `"value": ${labelJson(value as string | bigint)}`
        : kind === "dictionary"
          ? `"value": ${dictionaryJson(value as ReadonlyMap<string | bigint, number>)}`
          : arrayJson(value as ArrayOutput);
    return `    ${JSON.stringify(name)}: {"kind": "${kind}", ${body}}`;
  });
  return `${escapeJsonForTerminal(`{\n  "outputs": {\n${entries.join(",\n")}\n  }\n}`)}\n`;
}

/**
 * A {@link ProgramSummary} for people: the functions, a table of the weights the
 * program's ops read (one row per op input, as `inspect` lists a neural network's
 * weight fields), and the totals by storage and element type.
 *
 * @packageDocumentation
 */
import type { ProgramSummary } from "../mlprogram/inspect-program.js";
import { storedBytes, type ProgramConstant, type WeightInput } from "../mlprogram/walk-program.js";
import { displayWidth, shortenMiddle } from "./display-width.js";
import { formatBytes, formatTable, TABLE_WIDTH } from "./format-table.js";
import { escapeForTerminal } from "./terminal-text.js";

/**
 * The element types of weights: an op input fed a tensor of one of these (of rank
 * 1 or more), or fed through constexpr ops, is a weight and gets a row. The other
 * constant inputs (axes, shapes, flags, scalars) are counted in a line below.
 */
const WEIGHT_DATA_TYPES: ReadonlySet<string> = new Set(["float16", "float32", "float64", "bfloat16", "float8e4m3fn", "float8e5m2"]);
/** The fewest columns an op's name keeps while the blocks before it can give up some instead. */
const MIN_NAME_WIDTH = 8;
/** An op's position in a walker path, left out of the table: people (and coremltools' op_name_configs) know ops by name. */
const OPERATION_INDEX = /operations\[\d+\] "/g;

/**
 * The people's view of {@link inspectProgram}: a header line, one line per
 * function, then a table of the weights, one row per op input a weight feeds
 * (`"fc1".weight`, the op's type, the value's shape and element type, its storage
 * and bytes), then the totals. The table fits 100 columns (long
 * op names lose their middle; `--json` has them whole), and so do the totals.
 *
 * The storage cell says where the value's bytes are: `inline` (in model.mlmodel)
 * or `@OFFSET` (its blob's offset in weight.bin). A weight decompressed at load
 * time by constexpr ops shows its largest constant (`uint4 @64`: the stored
 * element type first) and the number of its chain of constexpr ops, listed below
 * the table (`#1`). Bytes are those of every constant of the value; a blob two
 * weights share counts in both rows and once in the totals.
 *
 * @param file - the package's name as the user gave it
 * @param summary - from `inspectProgram`
 * @returns the text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(formatProgramSummary("model.mlpackage", inspectProgram(readMlPackage("model.mlpackage"))));
 * ```
 */
export function formatProgramSummary(file: string, summary: ProgramSummary): string {
  const lines = [
    `${escapeForTerminal(file)}: ML Program, specification version ${summary.specificationVersion}`,
    ...summary.functions.map(
      (f) => `  function ${escapeForTerminal(f.name)} (${escapeForTerminal(f.opsets.join(", "))}): ${plural(f.operations, "operation")}`,
    ),
  ];
  const single = summary.functions.length === 1 && summary.functions[0]?.opsets.length === 1 ? summary.functions[0] : undefined;
  // One function of one opset: the header names it, so the rows leave out its `main/CoreML8/`.
  const prefix = single === undefined ? "" : `${single.name}/${single.opsets[0] ?? ""}/`;
  const opCell = (w: WeightInput): string =>
    `${(w.path.startsWith(prefix) ? w.path.slice(prefix.length) : w.path).replace(OPERATION_INDEX, '"')}.${w.input}${w.index === 0 ? "" : `[${w.index}]`}`;
  const byPath = constantsByPath(summary.constants);
  const weights = summary.weights.filter(isWeight);
  // Each chain of constexpr ops once, numbered in order of appearance.
  const chains = [...new Set(weights.filter((w) => w.chain.length > 0).map((w) => w.chain.join(" > ")))];
  if (weights.length > 0) {
    const rows = weights.map((w) => {
      const constants = w.sources.flatMap((path) => byPath.get(path) ?? []);
      const chain = w.chain.length === 0 ? "" : ` #${chains.indexOf(w.chain.join(" > ")) + 1}`;
      return [opCell(w), w.opType, `[${w.shape.join(", ")}]`, w.dataType, storageCell(w, constants) + chain, formatBytes(storedBytes(constants))];
    });
    lines.push(
      "",
      formatTable(
        [
          { header: "op.input", shorten: shortenOpPath },
          { header: "type" },
          { header: "shape" },
          { header: "dtype" },
          { header: "storage" },
          { header: "bytes", align: "right" },
        ],
        rows,
      ),
    );
    chains.forEach((chain, i) => lines.push(wrapItems(`#${i + 1}: `, escapeForTerminal(chain).split(" > "), " > ")));
  } else {
    lines.push("  no weights");
  }
  const others = summary.weights.length - weights.length;
  if (others > 0) lines.push(`${plural(others, "other constant input")} (axes, shapes, flags, scalars) not listed; --json has every one`);
  const { totals } = summary;
  lines.push(
    "",
    wrapItems(
      "total: ",
      [
        `${plural(totals.constants, "constant")}, ${totals.values} values, ${formatBytes(totals.bytes)}`,
        `inline ${formatBytes(totals.inline.bytes)} (${plural(totals.inline.constants, "constant")})`,
        `weight.bin ${formatBytes(totals.blob.bytes)} (${plural(totals.blob.constants, "constant")} in ${plural(summary.blobs, "blob")})`,
      ],
      "; ",
    ),
  );
  const byType = Object.entries(totals.byDataType).sort(([a, x], [b, y]) => y.bytes - x.bytes || a.localeCompare(b));
  if (byType.length > 0) {
    lines.push(
      wrapItems(
        "by type: ",
        byType.map(([type, t]) => `${escapeForTerminal(type)} ${formatBytes(t.bytes)} (${plural(t.constants, "constant")})`),
        "; ",
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** A weight for the table: a float tensor of rank 1 or more, or anything constexpr ops decompress. */
function isWeight(w: WeightInput): boolean {
  return w.chain.length > 0 || (w.shape.length > 0 && WEIGHT_DATA_TYPES.has(w.dataType));
}

function constantsByPath(constants: readonly ProgramConstant[]): ReadonlyMap<string, ProgramConstant[]> {
  const byPath = new Map<string, ProgramConstant[]>();
  for (const c of constants) {
    const list = byPath.get(c.path);
    if (list === undefined) byPath.set(c.path, [c]);
    else list.push(c);
  }
  return byPath;
}

/** `inline` or `@64` (a blob) for the value's largest constant; its element type first when it is not the value's (`uint4 @64`). */
function storageCell(w: WeightInput, constants: readonly ProgramConstant[]): string {
  let largest: ProgramConstant | undefined;
  for (const c of constants) if (largest === undefined || c.storage.byteLength > largest.storage.byteLength) largest = c;
  if (largest === undefined) return "";
  const type = largest.dataType === w.dataType ? "" : `${largest.dataType} `;
  if (largest.storage.kind === "inline") return `${type}inline`;
  return `${type}@${largest.storage.offset}`;
}

/**
 * An op input as the table shows it (`"fc1".weight`, `"cond_0"/blocks[0]/"x".y`,
 * `main/CoreML8/"fc1".weight`) in at most `width` columns: the last op's name
 * loses its middle first, down to {@link MIN_NAME_WIDTH} columns, then what is
 * before it (function, opset, the ops holding its block), then the name the rest;
 * the quotes and the input stay. Text that is no such path, or too narrow a width,
 * loses its middle as a whole.
 *
 * @param path - an op input as the table shows it, escaped for the terminal
 * @param width - the most columns the result may take
 * @returns the path, shortened when it is wider
 * @example
 * ```ts
 * shortenOpPath('"deconv_has_output_shape_cast_fp16".weight', 27); // '"deconv_h…cast_fp16".weight'
 * ```
 */
export function shortenOpPath(path: string, width: number): string {
  if (displayWidth(path) <= width) return path;
  // Names are JSON strings: a quote inside one is escaped, so `/"` opens the last name.
  const open = path.startsWith('"') && !path.includes('/"') ? 1 : path.lastIndexOf('/"') + 2;
  const close = path.lastIndexOf('"');
  if (open < 1 || close < open) return shortenMiddle(path, width);
  const before = path.slice(0, open);
  const name = path.slice(open, close);
  const after = path.slice(close);
  const nameWidth = displayWidth(name);
  const fixed = displayWidth(after);
  const beforeWidth = displayWidth(before);
  // The name keeps what the path before it leaves, and at least MIN_NAME_WIDTH while that can give.
  const keptName = Math.max(Math.min(nameWidth, MIN_NAME_WIDTH), width - fixed - beforeWidth);
  // `"` must stay before the name, with at least `…` ahead of it when something is cut there.
  const shownBefore =
    beforeWidth + Math.min(keptName, nameWidth) + fixed <= width
      ? before
      : `${shortenMiddle(before.slice(0, -1), width - fixed - Math.min(keptName, nameWidth) - 1)}"`;
  const nameRoom = width - fixed - displayWidth(shownBefore);
  return nameRoom < 1 || (before.length > 1 && shownBefore === '"') ? shortenMiddle(path, width) : `${shownBefore}${shortenMiddle(name, nameRoom)}${after}`;
}

/**
 * `prefix` then the items joined by `joint`, a new line (indented under the first
 * item) before any item that would pass {@link TABLE_WIDTH} columns.
 *
 * @param prefix - the first line's start, e.g. `total: `
 * @param items - the items, escaped for the terminal
 * @param joint - what goes between two items on one line, e.g. `; `
 * @returns the lines, without a final newline
 */
export function wrapItems(prefix: string, items: readonly string[], joint: string): string {
  const indent = " ".repeat(prefix.length);
  let text = prefix;
  let line = displayWidth(prefix);
  items.forEach((item, i) => {
    const width = displayWidth(item);
    if (i > 0 && line + joint.length + width > TABLE_WIDTH) {
      text += `${joint.trimEnd()}\n${indent}${item}`;
      line = indent.length + width;
    } else {
      text += i === 0 ? item : `${joint}${item}`;
      line += (i === 0 ? 0 : joint.length) + width;
    }
  });
  return text;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Plain-text tables for people: columns padded to their widest cell, numbers
 * right-aligned, and no wider than a terminal of {@link TABLE_WIDTH} columns when
 * a column's cells may be shortened (layer names).
 *
 * @packageDocumentation
 */
import { displayWidth, padToWidth } from "./display-width.js";
import { escapeForTerminal } from "./terminal-text.js";

/** A column: header and alignment. */
export interface Column {
  readonly header: string;
  readonly align?: "left" | "right";
  /**
   * How the column's cells are shortened for the table to fit
   * {@link TableOptions.maxWidth}: given a cell (escaped for the terminal) and a
   * width in columns, the cell in at most that width (`shortenMiddle`, or
   * `shortenLayerPath` for layer paths). For layer names, the one cell that
   * grows without bound; full names are in each command's `--json`.
   * @defaultValue undefined: the column is never cut
   */
  readonly shorten?: (cell: string, width: number) => string;
}

/** How a table is laid out. */
export interface TableOptions {
  /**
   * The widest a line may be, in terminal columns, when the table has a column
   * that may be shortened; the other columns are never cut.
   * @defaultValue {@link TABLE_WIDTH}
   */
  readonly maxWidth?: number;
}

/** The width tables fit by default: a terminal of 100 columns. */
export const TABLE_WIDTH = 100;

/**
 * The narrowest a shortened column becomes to make the table fit: a layer path's
 * `neuralNetwork/layers[12] "` alone takes 26 columns, so below this little of the
 * name is left; the line is left to pass the width instead.
 */
const MIN_SHORTENED_WIDTH = 24;

/**
 * The narrowest a shortened column becomes when the table cannot fit even with it
 * at {@link MIN_SHORTENED_WIDTH} (other columns are that wide: an LSTM's field
 * names): names are then cut only as far as a 200-character name needs, since
 * cutting further would not make the lines fit.
 */
const UNFITTABLE_SHORTENED_WIDTH = 40;

/**
 * Formats rows under headers, two spaces between columns, no trailing spaces.
 * Cells are escaped for the terminal first (they hold layer names, which the
 * model's author chose), so each row stays one line; widths are counted in
 * terminal columns (a CJK character takes two). When the lines would pass
 * `maxWidth`, the cells of the columns with a `shorten` function are shortened,
 * the widest such column first, down to {@link MIN_SHORTENED_WIDTH} columns (or
 * its header); when even that cannot make the table fit, only down to
 * {@link UNFITTABLE_SHORTENED_WIDTH}.
 *
 * @param columns - the columns
 * @param cells - the rows, one string per column
 * @param options - the width to fit
 * @returns the table, one line per row after the header line
 * @example
 * ```ts
 * formatTable([{ header: "layer", shorten: shortenMiddle }, { header: "bytes", align: "right" }], [["conv1", "864 B"]]);
 * // "layer  bytes\nconv1  864 B"
 * ```
 */
export function formatTable(columns: readonly Column[], cells: readonly (readonly string[])[], options: TableOptions = {}): string {
  const maxWidth = options.maxWidth ?? TABLE_WIDTH;
  let rows = cells.map((row) => row.map(escapeForTerminal));
  // A loop, not Math.max(...cells): spreading a hundred thousand rows overflows the stack.
  const widths = columns.map((c) => displayWidth(c.header));
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] as number, displayWidth(row[i] ?? ""));
  }
  const fitted = fitWidths(columns, widths, maxWidth);
  if (fitted.some((w, i) => w < (widths[i] as number))) {
    rows = rows.map((row) =>
      row.map((cell, i) => {
        const shorten = columns[i]?.shorten;
        const width = fitted[i] as number;
        return shorten !== undefined && width < (widths[i] as number) && displayWidth(cell) > width ? shorten(cell, width) : cell;
      }),
    );
  }
  const line = (row: readonly string[]): string =>
    columns
      .map((c, i) => padToWidth(row[i] ?? "", fitted[i] ?? 0, c.align ?? "left"))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join("\n");
}

/**
 * The column widths once the shortenable columns give up what the line has over
 * `maxWidth`: one column at a time from the widest, so two long-name columns end
 * up equal rather than one cut to nothing.
 */
function fitWidths(columns: readonly Column[], widths: readonly number[], maxWidth: number): number[] {
  const fitted = [...widths];
  const lineWidth = (cells: readonly number[]): number => cells.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, cells.length - 1);
  const floorAt = (least: number): number[] =>
    columns.map((c, i) => (c.shorten === undefined ? (widths[i] as number) : Math.min(widths[i] as number, Math.max(least, displayWidth(c.header)))));
  const narrowest = floorAt(MIN_SHORTENED_WIDTH);
  const floor = lineWidth(narrowest) > maxWidth ? floorAt(UNFITTABLE_SHORTENED_WIDTH) : narrowest;
  let excess = lineWidth(widths) - maxWidth;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < columns.length; i++) {
      if (
        columns[i]?.shorten !== undefined &&
        (fitted[i] as number) > (floor[i] as number) &&
        (widest < 0 || (fitted[i] as number) > (fitted[widest] as number))
      )
        widest = i;
    }
    if (widest < 0) break;
    // Down to the next widest shortenable column (or the floor) in one step, so a
    // 10,000-column name costs one step; columns of equal width then take turns.
    let runnerUp = floor[widest] as number;
    for (let i = 0; i < columns.length; i++) {
      if (i !== widest && columns[i]?.shorten !== undefined) runnerUp = Math.max(runnerUp, fitted[i] as number);
    }
    const cut = Math.max(1, Math.min(excess, (fitted[widest] as number) - runnerUp));
    fitted[widest] = (fitted[widest] as number) - cut;
    excess -= cut;
  }
  return fitted;
}

/** A byte count for people: `812 B`, `3.4 KB`, `61.2 MB` (powers of 1000). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1000;
  let unit = 0;
  // Compare the rounded value, so 999,950 bytes reads 1.0 MB, not 1000.0 KB.
  while (Number(value.toFixed(1)) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A storage for people: `8-bit linear`, `4-bit LUT`, `float16`, …
 *
 * @param stored - a storage kind, with the bit width for n-bit kinds
 * @returns the label
 */
export function storageLabel(stored: { readonly storage: string; readonly nbits?: number | undefined }): string {
  switch (stored.storage) {
    case "linear":
      return `${stored.nbits}-bit linear`;
    case "lut":
      return `${stored.nbits}-bit LUT`;
    default:
      return stored.storage;
  }
}

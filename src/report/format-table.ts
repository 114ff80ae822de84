/**
 * Plain-text tables for people: columns padded to their widest cell, numbers
 * right-aligned.
 *
 * @packageDocumentation
 */
import { escapeForTerminal } from "./terminal-text.js";

/** A column: header and alignment. */
export interface Column {
  readonly header: string;
  readonly align?: "left" | "right";
}

/**
 * Formats rows under headers, two spaces between columns, no trailing spaces.
 * Cells are escaped for the terminal (they hold layer names, which the model's
 * author chose), so each row stays one line.
 *
 * @param columns - the columns
 * @param cells - the rows, one string per column
 * @returns the table, one line per row after the header line
 */
export function formatTable(columns: readonly Column[], cells: readonly (readonly string[])[]): string {
  const rows = cells.map((row) => row.map(escapeForTerminal));
  // A loop, not Math.max(...cells): spreading a hundred thousand rows overflows the stack.
  const widths = columns.map((c) => c.header.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] as number, (row[i] ?? "").length);
  }
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => (c.align === "right" ? (cells[i] ?? "").padStart(widths[i] ?? 0) : (cells[i] ?? "").padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join("\n");
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

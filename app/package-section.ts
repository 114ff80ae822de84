/**
 * What the page does with an ML Program: tell a zipped `.mlpackage` from an
 * `.mlmodel`, zip a dropped package folder, read the package controls as the
 * CLI reads `--nbits`/`--mode` or `--config`, and show the program's summary
 * and the per-weight report.
 */
import { PACKAGE_MODES, type PackageMode, packageNbits } from "../src/mlprogram/compress-package.js";
import type { ProgramSummary } from "../src/mlprogram/inspect-program.js";
import { isWeightInput, type ProgramWeightReport, type ProgramWeightStorage } from "../src/mlprogram/report-program.js";
import type { ProgramConstant } from "../src/mlprogram/walk-program.js";
import { writeZipArchive } from "../src/mlprogram/zip-archive.js";
import { formatBytes } from "../src/report/format-table.js";
import type { WorkerPackageCompression, WorkerPackageResult } from "../src/worker/worker-messages.js";
import { OptionsError } from "./read-options-form.js";

/** The first bytes of a zip archive: a local file header, or the end record of an empty one. */
const ZIP_SIGNATURES = [
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06],
] as const;

/** The bits chosen when the mode does not take the ones set: every mode takes 8. */
const FALLBACK_NBITS = "8";

/** A table cell: text, or text with a class (`num` right-aligns it). */
type Cell = string | { readonly text: string; readonly className: string };

const num = (text: string): Cell => ({ text, className: "num" });
const opCell = (text: string): Cell => ({ text, className: "layer" });

function appendRow(body: HTMLTableSectionElement, cells: readonly Cell[]): void {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = typeof cell === "string" ? cell : cell.text;
    if (typeof cell !== "string") td.className = cell.className;
    tr.append(td);
  }
  body.append(tr);
}

/**
 * Whether a chosen file is a zip (a zipped package) rather than an `.mlmodel`:
 * by its first bytes, whatever its name.
 */
export async function isZipFile(file: Blob): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return ZIP_SIGNATURES.some((signature) => signature.every((byte, i) => head[i] === byte));
}

/**
 * A dropped `.mlpackage` folder as a zip of it (`<name>.zip` holding the folder),
 * read through the drop's file-system entries; undefined when the entry is not a
 * folder.
 */
export async function zipDroppedFolder(entry: FileSystemEntry): Promise<File | undefined> {
  if (!entry.isDirectory) return undefined;
  const files = new Map<string, Uint8Array>();
  const visit = async (folder: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
    const reader = folder.createReader();
    const children: FileSystemEntry[] = [];
    // readEntries gives the entries in batches until it gives none.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((done, fail) => reader.readEntries(done, fail));
      if (batch.length === 0) break;
      children.push(...batch);
    }
    children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of children) {
      const path = `${prefix}${child.name}`;
      if (child.isDirectory) await visit(child as FileSystemDirectoryEntry, `${path}/`);
      else {
        const file = await new Promise<File>((done, fail) => (child as FileSystemFileEntry).file(done, fail));
        files.set(path, new Uint8Array(await file.arrayBuffer()));
      }
    }
  };
  await visit(entry as FileSystemDirectoryEntry, "");
  const zip = writeZipArchive(files, { folder: entry.name });
  return new File([zip as Uint8Array<ArrayBuffer>], `${entry.name}.zip`, { type: "application/zip" });
}

/** The controls the package options read. */
export interface PackageControls {
  readonly nbits: HTMLSelectElement;
  readonly mode: HTMLSelectElement;
  readonly config: HTMLTextAreaElement;
}

/**
 * The bits options a package's mode takes left enabled, the others disabled; the
 * bits moved to 8 when the mode does not take the ones set. With a config given,
 * bits and mode are disabled: the config says both.
 */
export function syncPackageControls(controls: PackageControls): void {
  const configGiven = controls.config.value.trim() !== "";
  controls.mode.disabled = configGiven;
  controls.nbits.disabled = configGiven;
  const mode = controls.mode.value as PackageMode;
  const taken = Object.hasOwn(PACKAGE_MODES, mode) ? packageNbits(mode).map(String) : [];
  for (const option of controls.nbits.options) option.disabled = !taken.includes(option.value);
  if (!taken.includes(controls.nbits.value)) controls.nbits.value = FALLBACK_NBITS;
}

/** Every bits option enabled again, as an `.mlmodel` takes them. */
export function releasePackageControls(controls: PackageControls): void {
  for (const option of controls.nbits.options) option.disabled = false;
}

/**
 * What the package controls ask for: the config's text when one is given (read
 * in the worker as `--config` reads a file), else the mode and bits.
 *
 * @throws {@link OptionsError} for bits the mode does not take
 */
export function readPackageControls(controls: PackageControls, configName: string): WorkerPackageCompression {
  const text = controls.config.value;
  if (text.trim() !== "") return { kind: "config", text, source: configName };
  const mode = controls.mode.value as PackageMode;
  const nbits = Number(controls.nbits.value);
  if (!Object.hasOwn(PACKAGE_MODES, mode) || !packageNbits(mode).includes(nbits)) {
    const taken = Object.hasOwn(PACKAGE_MODES, mode) ? `${packageNbits(mode).join(", ")} bits` : `the modes ${Object.keys(PACKAGE_MODES).join(", ")}`;
    throw new OptionsError(`an ML Program takes ${taken} with ${mode}, not ${nbits} bits`);
  }
  return { kind: "flags", mode, nbits };
}

/** Where the program's summary goes. */
export interface PackageSummaryView {
  readonly head: HTMLElement;
  readonly body: HTMLTableSectionElement;
  readonly totals: HTMLElement;
}

/** The program's summary as `inspect` prints it: functions, one row per weight an op reads, totals. */
export function renderPackageSummary(view: PackageSummaryView, name: string, summary: ProgramSummary): void {
  const functions = summary.functions.map((f) => `function ${f.name} (${f.opsets.join(", ")}): ${f.operations} operations`);
  view.head.textContent = `${name}: ML Program, specification version ${summary.specificationVersion}; ${functions.join("; ")}`;
  const byPath = new Map<string, ProgramConstant[]>();
  for (const c of summary.constants) byPath.set(c.path, [...(byPath.get(c.path) ?? []), c]);
  view.body.replaceChildren();
  for (const w of summary.weights.filter(isWeightInput)) {
    const constants = w.sources.flatMap((path) => byPath.get(path) ?? []);
    const bytes = constants.reduce((sum, c) => sum + c.storage.byteLength, 0);
    appendRow(view.body, [
      opCell(`${w.opName}.${w.input}${w.index === 0 ? "" : `[${w.index}]`}`),
      w.opType,
      `[${w.shape.join(", ")}]`,
      w.dataType,
      w.chain.length > 0 ? w.chain.join(" > ") : constants.some((c) => c.storage.kind === "blob") ? "weight.bin" : "inline",
      num(formatBytes(bytes)),
    ]);
  }
  const byType = Object.entries(summary.totals.byDataType)
    .map(([type, t]) => `${type} ${formatBytes(t.bytes)}`)
    .join(", ");
  view.totals.textContent = `total: ${summary.totals.constants} constants, ${summary.totals.values} values, ${formatBytes(summary.totals.bytes)} (${byType}); ${summary.blobs} blobs in weight.bin`;
}

/** Where the compression's report goes. */
export interface PackageResultView {
  readonly totals: HTMLElement;
  readonly notes: HTMLElement;
  readonly body: HTMLTableSectionElement;
}

function storageCell(s: ProgramWeightStorage): string {
  return s.chain.length === 0 ? s.storedDataType : `${s.storedDataType} (${s.chain.join(" > ")})`;
}

function snrCell(w: ProgramWeightReport): string {
  if (w.error.snrDb !== null) return w.error.snrDb.toFixed(1);
  return w.error.exact ? "exact" : "—";
}

/** The per-weight report (storage, bytes, SNR, sse) and the totals, as `quantize` prints them for a package. */
export function renderPackageResult(view: PackageResultView, done: WorkerPackageResult): void {
  const t = done.report.totals;
  const ratio = t.bytesAfter === 0 ? "" : ` (${(t.bytesBefore / t.bytesAfter).toFixed(2)}× smaller)`;
  view.totals.textContent = [
    `${done.fileName}: ${done.function}`,
    `${t.weights} weights (${t.compressed} compressed, ${t.exact} exact)`,
    `constants ${formatBytes(t.bytesBefore)} → ${formatBytes(t.bytesAfter)}${ratio}`,
    ...(t.snrDb === null ? [] : [`SNR ${t.snrDb.toFixed(1)} dB over every weight`]),
    `file ${formatBytes(done.bytes.byteLength)}`,
  ].join("; ");
  view.body.replaceChildren();
  for (const w of done.report.weights) {
    appendRow(view.body, [
      opCell(`${w.opName}.${w.input}${w.index === 0 ? "" : `[${w.index}]`}`),
      w.opType,
      `[${w.shape.join(", ")}]`,
      storageCell(w.before),
      storageCell(w.after),
      num(formatBytes(w.before.bytes)),
      num(formatBytes(w.after.bytes)),
      num(snrCell(w)),
      num(w.sse === 0 ? "0" : w.sse.toPrecision(4)),
    ]);
  }
  view.notes.textContent = [
    ...done.skipped.map((s) => `left as it is: ${s.name} (${s.reason})`),
    ...done.report.unpaired.map((key) => `in one program only: ${key}`),
  ].join("; ");
}

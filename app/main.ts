/**
 * The page: choose a model, see what it holds, quantize it in a Web Worker, see
 * what it cost, download the result. Plain DOM; every element is in index.html.
 */
import { AUTO_MODES } from "../src/quantize/auto-bits.js";
import type { ModelSummary } from "../src/inspect-model.js";
import type { Float16Overflow } from "../src/quantize/quantize-weights.js";
import { QUANTIZABLE_LAYER_TYPES } from "../src/selectors.js";
import { programReportJson } from "../src/report/format-program-report.js";
import { compressPackageInWorker, inspectInWorker, inspectPackageInWorker, quantizeInWorker, sizeSnrChartInWorker } from "../src/worker/quantize-in-worker.js";
import type { SizeSnrChart, SizeSnrPoint } from "../src/worker/size-snr-chart.js";
import type { KernelsName, WorkerPackageResult, WorkerQuantizeResult } from "../src/worker/worker-messages.js";
import type { WorkerChartOptions, WorkerQuantizeOptions } from "../src/worker/worker-options.js";
import { formatBytes, storageLabel } from "../src/report/format-table.js";
import { compareSection } from "./compare-section.js";
import {
  isZipFile,
  readPackageControls,
  releasePackageControls,
  renderPackageResult,
  renderPackageSummary,
  syncPackageControls,
  zipDroppedFolder,
} from "./package-section.js";
import { readOptionsForm, OptionsError } from "./read-options-form.js";
import { drawSizeSnrChart, pointLabel, settingName } from "./size-snr-svg.js";

/** The worker script next to this page (built by scripts/build-app.js). */
const WORKER_URL = "quantize-worker.js";
/** The kernels, for people. */
const KERNEL_NAMES: Record<KernelsName, string> = { "wasm-simd": "WebAssembly SIMD", js: "JavaScript (WebAssembly unavailable)" };
/** The auto modes checked at first: the library's default. */
const DEFAULT_AUTO_MODES = ["linear", "kmeans_lut"];

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page lacks #${id}`);
  return found as T;
}

const ui = {
  file: element<HTMLInputElement>("model-file"),
  dropZone: element<HTMLLabelElement>("drop-zone"),
  status: element<HTMLParagraphElement>("model-status"),
  error: element<HTMLParagraphElement>("error"),
  summary: element<HTMLDivElement>("summary"),
  summaryHead: element<HTMLParagraphElement>("summary-head"),
  summaryBody: element<HTMLTableElement>("summary-table").tBodies[0] as HTMLTableSectionElement,
  summaryTotals: element<HTMLParagraphElement>("summary-totals"),
  form: element<HTMLFormElement>("options"),
  nbits: element<HTMLSelectElement>("nbits"),
  mode: element<HTMLSelectElement>("mode"),
  overflow: element<HTMLSelectElement>("fp16-overflow"),
  autoFields: element<HTMLFieldSetElement>("auto-fields"),
  autoModes: element<HTMLDivElement>("auto-modes"),
  skipTypes: element<HTMLDivElement>("skip-types"),
  quantize: element<HTMLButtonElement>("quantize"),
  cancel: element<HTMLButtonElement>("cancel"),
  progress: element<HTMLProgressElement>("progress"),
  progressText: element<HTMLSpanElement>("progress-text"),
  result: element<HTMLElement>("result"),
  resultTotals: element<HTMLParagraphElement>("result-totals"),
  resultNotes: element<HTMLParagraphElement>("result-notes"),
  resultBody: element<HTMLTableElement>("result-table").tBodies[0] as HTMLTableSectionElement,
  downloadModel: element<HTMLButtonElement>("download-model"),
  downloadReport: element<HTMLButtonElement>("download-report"),
  chart: element<HTMLButtonElement>("chart"),
  chartCancel: element<HTMLButtonElement>("chart-cancel"),
  chartProgress: element<HTMLProgressElement>("chart-progress"),
  chartProgressText: element<HTMLSpanElement>("chart-progress-text"),
  chartFigure: element<HTMLElement>("chart-figure"),
  chartSvg: element<HTMLDivElement>("chart-svg"),
  chartCaption: element<HTMLElement>("chart-caption"),
  chartChoice: element<HTMLParagraphElement>("chart-choice"),
  fuse: element<HTMLInputElement>("fuse"),
  selectionFields: element<HTMLFieldSetElement>("selection-fields"),
  minKernelChannels: element<HTMLInputElement>("min-kernel-channels"),
  minWeightCount: element<HTMLInputElement>("min-weight-count"),
  packageSummary: element<HTMLDivElement>("package-summary"),
  packageSummaryHead: element<HTMLParagraphElement>("package-summary-head"),
  packageSummaryBody: element<HTMLTableElement>("package-summary-table").tBodies[0] as HTMLTableSectionElement,
  packageSummaryTotals: element<HTMLParagraphElement>("package-summary-totals"),
  packageFields: element<HTMLFieldSetElement>("package-fields"),
  packageConfig: element<HTMLTextAreaElement>("package-config"),
  packageConfigFile: element<HTMLInputElement>("package-config-file"),
  resultModel: element<HTMLDivElement>("result-model"),
  resultPackage: element<HTMLDivElement>("result-package"),
  packageResultBody: element<HTMLTableElement>("package-result-table").tBodies[0] as HTMLTableSectionElement,
};

let worker = new Worker(WORKER_URL);
let file: File | undefined;
let running: AbortController | undefined;
let result: WorkerQuantizeResult | undefined;
/** Whether the file chosen is a zipped ML Program package rather than an `.mlmodel`. */
let isPackage = false;
let packageResult: WorkerPackageResult | undefined;
/** The name of the config file read into the config box, for messages; cleared when the box is edited. */
let configName = "config";
/** The chart has a worker of its own, so a chart and a quantization can run at once. */
let chartWorker: Worker | undefined;
let charting: AbortController | undefined;

function checkboxes(container: HTMLElement, name: string, values: readonly string[], checked: readonly string[]): void {
  for (const value of values) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = name;
    box.value = value;
    box.checked = checked.includes(value);
    label.append(box, ` ${value}`);
    container.append(label);
  }
}

function showError(message: string | undefined): void {
  ui.error.hidden = message === undefined;
  ui.error.textContent = message ?? "";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** Which controls apply to the chosen file and bit width: a package takes bits and mode, or a config, only. */
function syncControls(): void {
  const nbits = ui.nbits.value;
  ui.packageFields.hidden = !isPackage;
  for (const control of [ui.fuse, ui.selectionFields, ui.minKernelChannels, ui.minWeightCount]) control.disabled = isPackage;
  if (isPackage) syncPackageControls({ nbits: ui.nbits, mode: ui.mode, config: ui.packageConfig });
  else {
    releasePackageControls({ nbits: ui.nbits, mode: ui.mode, config: ui.packageConfig });
    ui.nbits.disabled = false;
    ui.mode.disabled = nbits === "16" || nbits === "auto";
  }
  ui.overflow.disabled = isPackage || nbits !== "16";
  ui.autoFields.disabled = isPackage || nbits !== "auto";
  ui.quantize.disabled = file === undefined || running !== undefined;
  ui.cancel.disabled = running === undefined;
  ui.chart.disabled = file === undefined || isPackage || charting !== undefined;
  ui.chartCancel.disabled = charting === undefined;
}

function row(body: HTMLTableSectionElement, cells: readonly (string | { text: string; className: string })[]): void {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (typeof cell === "string") td.textContent = cell;
    else {
      td.textContent = cell.text;
      td.className = cell.className;
    }
    tr.append(td);
  }
  body.append(tr);
}

const num = (text: string): { text: string; className: string } => ({ text, className: "num" });
const layerCell = (path: string): { text: string; className: string } => ({ text: path.replace(/^model\//, ""), className: "layer" });

function renderSummary(name: string, summary: ModelSummary): void {
  ui.summaryHead.textContent =
    `${name}: ${summary.modelType}, specification version ${summary.specificationVersion}; ` +
    (summary.networks.length === 0
      ? "no neural network"
      : summary.networks.map((n) => `${n.path.replace(/^model\/?/, "") || "network"}: ${n.layers} layers`).join("; "));
  ui.summaryBody.replaceChildren();
  for (const w of summary.weights) {
    row(ui.summaryBody, [
      layerCell(w.layerPath),
      w.kind,
      w.field,
      `[${w.shape.join(", ")}]`,
      num(String(w.count)),
      storageLabel(w) + (w.quantizable ? "" : " *"),
      num(formatBytes(w.bytes)),
    ]);
  }
  const { totals } = summary;
  const byStorage = Object.entries(totals.bytesByStorage)
    .map(([k, v]) => `${k} ${formatBytes(v)}`)
    .join(", ");
  ui.summaryTotals.textContent =
    `total: ${totals.tensors} tensors, ${totals.values} values, ${formatBytes(totals.bytes)}` +
    (byStorage === "" ? "" : ` (${byStorage})`) +
    (summary.weights.some((w) => !w.quantizable) ? ". * not quantized (the reference leaves it alone)" : "");
  ui.summary.hidden = false;
}

function renderResult(done: WorkerQuantizeResult): void {
  const t = done.report.totals;
  const parts = [
    `${t.tensors} tensors (${t.exactTensors} exact)`,
    `weights ${formatBytes(t.bytesBefore)} → ${formatBytes(t.bytesAfter)}${t.ratio === null ? "" : ` (${t.ratio.toFixed(2)}× smaller)`}`,
    ...(t.meanSnrDb === null || t.minSnrDb === null ? [] : [`SNR ${t.meanSnrDb.toFixed(1)} dB mean by size, ${t.minSnrDb.toFixed(1)} dB lowest`]),
    `file ${formatBytes(done.bytes.byteLength)}`,
    `kernels: ${KERNEL_NAMES[done.kernels]}`,
  ];
  ui.resultTotals.textContent = `${done.fileName}: ${parts.join("; ")}`;
  ui.resultBody.replaceChildren();
  for (const tensor of done.report.tensors) {
    const snr = tensor.exact ? "exact" : tensor.snrDb === null ? "—" : tensor.snrDb.toFixed(1);
    row(ui.resultBody, [
      layerCell(tensor.layerPath),
      tensor.field,
      storageLabel(tensor.before),
      storageLabel(tensor.after),
      num(formatBytes(tensor.before.bytes)),
      num(formatBytes(tensor.after.bytes)),
      num(snr),
    ]);
  }
  const notes = [
    ...done.left.map((l) => `left as it is: ${l.path} (${l.reason})`),
    ...done.report.tensors.flatMap((r) => {
      const overflow = (r as { decision?: { overflow?: string } }).decision?.overflow;
      return overflow === undefined
        ? []
        : [`${r.layerPath}/${r.field}: ${overflow === "clamped" ? "clamped to ±65504" : "kept float32 (values beyond ±65504)"}`];
    }),
  ];
  ui.resultNotes.textContent = notes.join("; ");
  ui.downloadModel.textContent = `Download the model (${done.fileName})`;
  ui.resultModel.hidden = false;
  ui.resultPackage.hidden = true;
  ui.result.hidden = false;
}

function renderCompressedPackage(done: WorkerPackageResult): void {
  renderPackageResult({ totals: ui.resultTotals, notes: ui.resultNotes, body: ui.packageResultBody }, done);
  ui.downloadModel.textContent = `Download the package (${done.fileName})`;
  ui.resultModel.hidden = true;
  ui.resultPackage.hidden = false;
  ui.result.hidden = false;
}

/** Counts the files chosen: the answer about one chosen since is dropped. */
let choice = 0;

async function chooseFile(chosen: File): Promise<void> {
  const mine = ++choice;
  cancelRun();
  cancelChart();
  compare.modelChosen();
  compare.quantized(undefined);
  file = undefined;
  result = undefined;
  packageResult = undefined;
  isPackage = false;
  ui.result.hidden = true;
  ui.packageSummary.hidden = true;
  ui.chartFigure.hidden = true;
  ui.chartSvg.replaceChildren();
  ui.chartChoice.textContent = "";
  ui.chartProgress.value = 0;
  ui.chartProgressText.textContent = "";
  ui.summary.hidden = true;
  showError(undefined);
  ui.status.textContent = `Reading ${chosen.name}…`;
  syncControls();
  try {
    if (await isZipFile(chosen)) {
      const summary = await inspectPackageInWorker(worker, new Uint8Array(await chosen.arrayBuffer()), { name: chosen.name });
      if (mine !== choice) return;
      file = chosen;
      isPackage = true;
      ui.status.textContent = `${chosen.name}: ${formatBytes(chosen.size)}, a zipped ML Program package`;
      renderPackageSummary({ head: ui.packageSummaryHead, body: ui.packageSummaryBody, totals: ui.packageSummaryTotals }, chosen.name, summary);
      ui.packageSummary.hidden = false;
    } else {
      const summary = await inspectInWorker(worker, new Uint8Array(await chosen.arrayBuffer()), { name: chosen.name });
      if (mine !== choice) return;
      file = chosen;
      ui.status.textContent = `${chosen.name}: ${formatBytes(chosen.size)}`;
      renderSummary(chosen.name, summary);
    }
  } catch (error) {
    if (mine !== choice) return;
    ui.status.textContent = "";
    showError(messageOf(error));
  }
  syncControls();
}

/** Stops the run in progress, if any: its worker is terminated, the next request gets a new one. */
function cancelRun(): void {
  if (running === undefined) return;
  running.abort();
  worker = new Worker(WORKER_URL);
}

/** The form's options, or undefined with the reason shown. */
function formOptions(): WorkerQuantizeOptions | undefined {
  try {
    return readOptionsForm(ui.form);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    showError(error.message);
    return undefined;
  }
}

/** A long job's progress bar, its words, and the word for a job stopped. */
interface ProgressView {
  readonly bar: HTMLProgressElement;
  readonly text: HTMLSpanElement;
  readonly stopped: string;
}

/**
 * Runs a job in a worker with its progress shown: "starting…", the job's own
 * steps (`show`), then "done in …"; or the stopped word when it is aborted, or
 * its error shown. Resolves with the job's value, or undefined when it did not
 * finish.
 */
async function withProgress<T>(view: ProgressView, job: (show: (part: number, text: string) => void) => Promise<T>): Promise<T | undefined> {
  view.bar.value = 0;
  view.text.textContent = "starting…";
  const started = performance.now();
  try {
    const value = await job((part, text) => {
      view.bar.value = part;
      view.text.textContent = text;
    });
    view.bar.value = 1;
    view.text.textContent = `done in ${((performance.now() - started) / 1000).toFixed(2)} s`;
    return value;
  } catch (error) {
    if (isAbort(error)) {
      view.bar.value = 0;
      view.text.textContent = view.stopped;
    } else {
      view.text.textContent = "";
      showError(messageOf(error));
    }
    return undefined;
  }
}

/** Compresses the chosen package in the worker; the passes report no progress, so the bar is indeterminate. */
async function compressPackageChosen(chosen: File): Promise<void> {
  let compression: ReturnType<typeof readPackageControls>;
  try {
    compression = readPackageControls({ nbits: ui.nbits, mode: ui.mode, config: ui.packageConfig }, configName);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    showError(error.message);
    return;
  }
  const controller = new AbortController();
  running = controller;
  ui.result.hidden = true;
  packageResult = undefined;
  syncControls();
  const done = await withProgress({ bar: ui.progress, text: ui.progressText, stopped: "cancelled" }, async () => {
    ui.progress.removeAttribute("value");
    ui.progressText.textContent = "compressing…";
    return compressPackageInWorker(worker, new Uint8Array(await chosen.arrayBuffer()), compression, { name: chosen.name, signal: controller.signal });
  });
  if (done !== undefined) {
    packageResult = done;
    renderCompressedPackage(done);
  }
  if (running === controller) running = undefined;
  syncControls();
}

async function quantizeChosen(): Promise<void> {
  const chosen = file;
  if (chosen === undefined || running !== undefined) return;
  showError(undefined);
  if (isPackage) {
    await compressPackageChosen(chosen);
    return;
  }
  const formed = formOptions();
  if (formed === undefined) return;
  // The layers checked in the comparison's table stay as they are, with whichever selector the form has.
  const skipLayerNames = compare.skipped();
  const options: WorkerQuantizeOptions =
    skipLayerNames.length === 0 ? formed : { ...formed, selector: { ...(formed.selector ?? { kind: "default" }), skipLayerNames } };
  const controller = new AbortController();
  running = controller;
  ui.result.hidden = true;
  result = undefined;
  compare.quantized(undefined);
  syncControls();
  const done = await withProgress({ bar: ui.progress, text: ui.progressText, stopped: "cancelled" }, async (show) =>
    quantizeInWorker(worker, new Uint8Array(await chosen.arrayBuffer()), options, {
      name: chosen.name,
      signal: controller.signal,
      // Within a long tensor, `fraction` moves the bar between the tensors' steps.
      onProgress: (p) => show(p.total === 0 ? 1 : (p.done + (p.fraction ?? 0)) / p.total, `${p.done} / ${p.total} tensors`),
    }),
  );
  if (done !== undefined) {
    result = done;
    renderResult(done);
    compare.quantized(done);
  }
  if (running === controller) running = undefined;
  syncControls();
}

/** Stops the chart in progress, if any: its worker is terminated, the next chart gets a new one. */
function cancelChart(): void {
  if (charting === undefined) return;
  charting.abort();
  chartWorker = undefined;
}

/** Sets the form to a point of the chart. */
function choosePoint(point: SizeSnrPoint): void {
  ui.nbits.value = String(point.nbits);
  if (point.series !== "float16") ui.mode.value = point.series;
  syncControls();
  ui.chartChoice.textContent = `Options set to ${pointLabel(point)}. Press Quantize to get this model.`;
}

function renderChart(chart: SizeSnrChart): void {
  ui.chartSvg.replaceChildren(drawSizeSnrChart(chart, choosePoint));
  const exact = chart.points.filter((p) => p.meanSnrDb === null).map(settingName);
  ui.chartCaption.textContent = [
    `${chart.points.length} settings measured; the model as it is: ${formatBytes(chart.fileBytes)} (weights ${formatBytes(chart.weightBytes)}).`,
    ...(exact.length === 0 ? [] : [`No weight changed (not drawn): ${exact.join(", ")}.`]),
    ...chart.refused.map((r) => `${settingName(r)} refused: ${r.message}`),
  ].join(" ");
  ui.chartFigure.hidden = false;
}

async function chartChosen(): Promise<void> {
  const chosen = file;
  if (chosen === undefined || charting !== undefined) return;
  showError(undefined);
  const options = formOptions();
  if (options === undefined) return;
  // The overflow policy applies to the float16 point whatever bits the form has.
  const shared: WorkerChartOptions = {
    float16Overflow: ui.overflow.value as Float16Overflow,
    ...(options.fuse === undefined ? {} : { fuse: options.fuse }),
    ...(options.selector === undefined ? {} : { selector: options.selector }),
  };
  const controller = new AbortController();
  charting = controller;
  const chartingWorker = chartWorker ?? new Worker(WORKER_URL);
  chartWorker = chartingWorker;
  ui.chartFigure.hidden = true;
  ui.chartChoice.textContent = "";
  syncControls();
  const chart = await withProgress({ bar: ui.chartProgress, text: ui.chartProgressText, stopped: "stopped" }, async (show) =>
    sizeSnrChartInWorker(chartingWorker, new Uint8Array(await chosen.arrayBuffer()), shared, {
      name: chosen.name,
      signal: controller.signal,
      onProgress: (p) => show((p.done + (p.fraction ?? 0)) / p.total, `${p.done} / ${p.total} settings`),
    }),
  );
  if (chart !== undefined) renderChart(chart);
  if (charting === controller) charting = undefined;
  syncControls();
}

function download(bytes: BlobPart, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Long enough for the browser to start the download.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Keeps the page's files for use offline. Browsers offer service workers only
 * over https and on localhost; from anywhere else the page works as before,
 * online only.
 */
function keepForOffline(): void {
  if (!("serviceWorker" in navigator) || !/^https?:$/.test(location.protocol)) return;
  navigator.serviceWorker.register("offline-worker.js").catch(() => {
    // Refused (private browsing, a policy): the page works online all the same.
  });
}

const compare = compareSection({
  current: () => (file === undefined || result === undefined ? undefined : { file, result }),
  showError,
  withProgress,
  requantize: () => void quantizeChosen(),
  workerUrl: WORKER_URL,
});

keepForOffline();
checkboxes(ui.autoModes, "auto-mode", AUTO_MODES, DEFAULT_AUTO_MODES);
checkboxes(ui.skipTypes, "skip-type", QUANTIZABLE_LAYER_TYPES, []);
syncControls();

ui.nbits.addEventListener("change", syncControls);
ui.mode.addEventListener("change", syncControls);
ui.packageConfig.addEventListener("input", () => {
  configName = "config";
  syncControls();
});
ui.packageConfigFile.addEventListener("change", () => {
  const chosen = ui.packageConfigFile.files?.[0];
  if (chosen === undefined) return;
  void chosen.text().then((text) => {
    ui.packageConfig.value = text;
    configName = chosen.name;
    syncControls();
  });
});
ui.file.addEventListener("change", () => {
  const chosen = ui.file.files?.[0];
  if (chosen !== undefined) void chooseFile(chosen);
});
ui.dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  ui.dropZone.classList.add("over");
});
ui.dropZone.addEventListener("dragleave", () => ui.dropZone.classList.remove("over"));
ui.dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  ui.dropZone.classList.remove("over");
  // A dropped .mlpackage folder is zipped here, when the browser gives its entries.
  const entry = event.dataTransfer?.items[0]?.webkitGetAsEntry?.() ?? null;
  const dropped = event.dataTransfer?.files[0];
  if (entry?.isDirectory === true) {
    void zipDroppedFolder(entry).then(
      async (zipped) => {
        if (zipped !== undefined) await chooseFile(zipped);
      },
      (error: unknown) => showError(`${entry.name}: ${messageOf(error)}`),
    );
  } else if (dropped !== undefined) void chooseFile(dropped);
});
// A file dropped outside the zone would otherwise be opened by the browser, leaving the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  void quantizeChosen();
});
ui.cancel.addEventListener("click", cancelRun);
ui.chart.addEventListener("click", () => void chartChosen());
ui.chartCancel.addEventListener("click", cancelChart);
ui.downloadModel.addEventListener("click", () => {
  if (isPackage && packageResult !== undefined) download(packageResult.bytes as Uint8Array<ArrayBuffer>, "application/zip", packageResult.fileName);
  else if (result !== undefined) download(result.bytes as Uint8Array<ArrayBuffer>, "application/octet-stream", result.fileName);
});
ui.downloadReport.addEventListener("click", () => {
  if (isPackage && packageResult !== undefined) {
    download(programReportJson(packageResult.report), "application/json", packageResult.fileName.replace(/\.mlpackage\.zip$/, ".report.json"));
  } else if (result !== undefined) download(result.reportJson, "application/json", result.fileName.replace(/\.mlmodel$/, ".report.json"));
});

/**
 * The page's "Compare predictions" section: samples (random or files), the
 * comparison run in a worker, its output and per-layer tables (the CLI's
 * `compare --layers`), and boxes to leave layers unquantized on the next run.
 */
import type { ComparedLayer, LayerComparison, ModelComparison, OutputComparison } from "../src/predict/compare-models.js";
import { compareInWorker } from "../src/worker/quantize-in-worker.js";
import type { WorkerQuantizeResult } from "../src/worker/worker-messages.js";
import type { WorkerSampleFile, WorkerSamples } from "../src/worker/worker-samples.js";

/** Runs a job with a progress bar (main.ts's withProgress). */
export type RunWithProgress = <T>(
  view: { readonly bar: HTMLProgressElement; readonly text: HTMLSpanElement; readonly stopped: string },
  job: (show: (part: number, text: string) => void) => Promise<T>,
) => Promise<T | undefined>;

/** What the section needs of the page. */
export interface CompareSectionHost {
  /** The model chosen and its last quantization, when there is one. */
  readonly current: () => { readonly file: File; readonly result: WorkerQuantizeResult } | undefined;
  /** Shows (or clears) the page's one-line error. */
  readonly showError: (message: string | undefined) => void;
  /** main.ts's progress runner. */
  readonly withProgress: RunWithProgress;
  /** Quantizes the chosen model again with the form's options, leaving these layers as they are. */
  readonly requantize: (skipLayerNames: readonly string[]) => void;
  /** The worker script's URL. */
  readonly workerUrl: string;
}

/** The section's controls, by role. */
interface CompareUi {
  readonly section: HTMLElement;
  readonly count: HTMLInputElement;
  readonly seed: HTMLInputElement;
  readonly files: HTMLInputElement;
  readonly drop: HTMLLabelElement;
  readonly run: HTMLButtonElement;
  readonly cancel: HTMLButtonElement;
  readonly progress: HTMLProgressElement;
  readonly progressText: HTMLSpanElement;
  readonly result: HTMLDivElement;
  readonly head: HTMLParagraphElement;
  readonly outputs: HTMLTableSectionElement;
  readonly notes: HTMLParagraphElement;
  readonly layers: HTMLTableSectionElement;
  readonly requantize: HTMLButtonElement;
  readonly skipStatus: HTMLSpanElement;
}

/** The section, wired to its host. */
export interface CompareSection {
  /** A new quantization finished (or was cleared): show the section for it, drop the old comparison. */
  readonly quantized: (result: WorkerQuantizeResult | undefined) => void;
  /** Another model was chosen: the layers to skip were its predecessor's. */
  readonly modelChosen: () => void;
  /** Stops the comparison under way, if any. */
  readonly cancel: () => void;
  /** The layers checked to be skipped. */
  readonly skipped: () => readonly string[];
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page lacks #${id}`);
  return found as T;
}

function body(id: string): HTMLTableSectionElement {
  return element<HTMLTableElement>(id).tBodies[0] as HTMLTableSectionElement;
}

/**
 * Wires the section of index.html.
 *
 * @param host - what the section needs of the page
 * @returns the section's side of the page
 */
export function compareSection(host: CompareSectionHost): CompareSection {
  const ui: CompareUi = {
    section: element("compare"),
    count: element("sample-count"),
    seed: element("sample-seed"),
    files: element("sample-files"),
    drop: element("sample-drop"),
    run: element("compare-run"),
    cancel: element("compare-cancel"),
    progress: element("compare-progress"),
    progressText: element("compare-progress-text"),
    result: element("compare-result"),
    head: element("compare-head"),
    outputs: body("compare-outputs"),
    notes: element("compare-notes"),
    layers: body("compare-layers"),
    requantize: element("requantize"),
    skipStatus: element("skip-status"),
  };
  /** Layers to leave as they are on the next quantization, by name. */
  const skip = new Set<string>();
  let dropped: readonly File[] = [];
  let running: AbortController | undefined;
  /** The comparison has a worker of its own, so that quantizing again does not wait for it. */
  let worker: Worker | undefined;

  const sync = (): void => {
    ui.run.disabled = host.current() === undefined || running !== undefined;
    ui.cancel.disabled = running === undefined;
    ui.requantize.disabled = host.current() === undefined;
    ui.skipStatus.textContent = skip.size === 0 ? "" : `leaving as they are: ${[...skip].join(", ")}`;
  };

  const source = (): string => document.querySelector<HTMLInputElement>('input[name="sample-source"]:checked')?.value ?? "random";

  async function samples(): Promise<WorkerSamples | undefined> {
    if (source() === "random") {
      const count = Number(ui.count.value);
      const seed = Number(ui.seed.value);
      if (!Number.isSafeInteger(count) || count < 1)
        return refuse(`How many samples needs a whole number of at least 1, got ${JSON.stringify(ui.count.value)}`);
      if (!Number.isSafeInteger(seed)) return refuse(`Seed needs a whole number, got ${JSON.stringify(ui.seed.value)}`);
      return { kind: "random", count, seed };
    }
    if (dropped.length === 0) return refuse("choose or drop sample files first, or use random inputs");
    const files: WorkerSampleFile[] = [];
    for (const f of dropped) files.push({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
    return { kind: "files", files };
  }

  function refuse(message: string): undefined {
    host.showError(message);
    return undefined;
  }

  async function run(): Promise<void> {
    const current = host.current();
    if (current === undefined || running !== undefined) return;
    host.showError(undefined);
    const given = await samples();
    if (given === undefined) return;
    const controller = new AbortController();
    running = controller;
    ui.result.hidden = true;
    sync();
    const comparing = worker ?? new Worker(host.workerUrl);
    worker = comparing;
    const comparison = await host.withProgress({ bar: ui.progress, text: ui.progressText, stopped: "stopped" }, async (show) =>
      compareInWorker(comparing, new Uint8Array(await current.file.arrayBuffer()), current.result.bytes.slice(), given, {
        name: current.file.name,
        signal: controller.signal,
        onProgress: (p) => show(p.done / p.total, `${p.done} / ${p.total} samples`),
      }),
    );
    // Still the comparison of what is shown (no new quantization since)?
    if (comparison !== undefined && host.current()?.result === current.result) render(comparison, current.result);
    if (running === controller) running = undefined;
    sync();
  }

  function cancel(): void {
    if (running === undefined) return;
    running.abort();
    // Aborting terminated it.
    worker = undefined;
  }

  function render(comparison: ModelComparison, result: WorkerQuantizeResult): void {
    ui.head.textContent = `${result.fileName} against the original, on ${comparison.samples} sample${comparison.samples === 1 ? "" : "s"}`;
    ui.outputs.replaceChildren(...comparison.outputs.map((o) => tableRow(outputCells(o))));
    ui.notes.textContent = comparison.outputs
      .filter((o) => (o.kind === "array" || o.kind === "image") && o.floorDominated)
      .map((o) => `'${o.name}' is small: coremltools' SNR (with its +1e-7 noise floor) says little about it; read SNR`)
      .join(" ");
    // Layers with weights (in the model before quantizing) get a box: skipping any other changes nothing.
    const weighted = new Set(result.before.weights.map((w) => layerNameOf(w.layerPath)));
    const boxed = new Set<string>();
    ui.layers.replaceChildren(
      ...comparison.layers.map((row) => {
        const name = rowLayerName(row);
        const box = name !== undefined && weighted.has(name) && !boxed.has(name) ? skipBox(name) : undefined;
        if (name !== undefined && box !== undefined) boxed.add(name);
        return tableRow([box ?? "", ...layerCells(row)]);
      }),
    );
    ui.result.hidden = false;
  }

  function skipBox(name: string): HTMLInputElement {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "skip-layer";
    box.value = name;
    box.checked = skip.has(name);
    box.setAttribute("aria-label", `Leave layer ${name} unquantized`);
    box.addEventListener("change", () => {
      if (box.checked) skip.add(name);
      else skip.delete(name);
      sync();
    });
    return box;
  }

  ui.run.addEventListener("click", () => void run());
  ui.cancel.addEventListener("click", cancel);
  ui.requantize.addEventListener("click", () => host.requantize([...skip]));
  ui.files.addEventListener("change", () => {
    dropped = [...(ui.files.files ?? [])];
    choose("files");
  });
  ui.drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    ui.drop.classList.add("over");
  });
  ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
  ui.drop.addEventListener("drop", (event) => {
    event.preventDefault();
    ui.drop.classList.remove("over");
    dropped = [...(event.dataTransfer?.files ?? [])];
    choose("files");
  });
  sync();

  return {
    quantized(result) {
      cancel();
      ui.result.hidden = true;
      ui.section.hidden = result === undefined;
      sync();
    },
    modelChosen() {
      skip.clear();
      sync();
    },
    cancel,
    skipped: () => [...skip],
  };
}

/** Picks a sample source's radio button. */
function choose(value: string): void {
  const radio = document.querySelector<HTMLInputElement>(`input[name="sample-source"][value="${value}"]`);
  if (radio !== null) radio.checked = true;
}

type Cell = string | HTMLElement | { readonly text: string; readonly className: string };

function tableRow(cells: readonly Cell[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (typeof cell === "string") td.textContent = cell;
    else if (cell instanceof HTMLElement) {
      td.className = "skip";
      td.append(cell);
    } else {
      td.textContent = cell.text;
      td.className = cell.className;
    }
    tr.append(td);
  }
  return tr;
}

const num = (text: string): Cell => ({ text, className: "num" });

/** The layer name in an inspect path: `model/neuralNetwork/layers[3] "conv1"` -> `conv1`. */
function layerNameOf(layerPath: string): string {
  const match = /"(.*)"$/.exec(layerPath);
  return match?.[1] ?? layerPath;
}

/** The layer a row is about: its writer in the quantized model, else in the original; undefined for a network input. */
function rowLayerName(row: LayerComparison): string | undefined {
  switch (row.status) {
    case "compared":
    case "shape-mismatch":
      return row.layer?.name;
    case "removed":
      return row.originalLayer?.name;
    default: {
      const never: never = row;
      return never;
    }
  }
}

/** An output's cells, as the CLI's first two output tables show them. */
function outputCells(o: OutputComparison): Cell[] {
  switch (o.kind) {
    case "label":
      return [o.name, o.kind, `${percent(o.agreement)} top-1`, num(""), num(""), num(""), num(""), num(sample(o.worstSample))];
    case "dictionary":
      return [
        o.name,
        o.kind,
        `${percent(o.agreement)} top-${o.topK}, ${percent(o.top1Agreement)} top-1`,
        num(""),
        num(""),
        num(number(o.maxAbsError)),
        num(""),
        num(sample(o.worstSample)),
      ];
    case "array":
    case "image":
      return [
        o.name,
        o.kind,
        "",
        num(db(o.snrDb)),
        num(db(o.psnrDb)),
        num(number(o.maxAbsError)),
        num(o.cosineSimilarity.toFixed(6)),
        num(sample(o.worstSample)),
      ];
    default: {
      const never: never = o;
      return [String(never)];
    }
  }
}

/** A blob's cells, as `compare --layers` shows them (without the skip box). */
function layerCells(row: LayerComparison): Cell[] {
  switch (row.status) {
    case "compared":
      return [
        (row.layer?.name ?? "(input)") + fusedNote(row),
        row.layer?.kind ?? "",
        row.blob,
        num(db(row.snrDb)),
        num(row.aloneSnrDb === undefined ? "" : db(row.aloneSnrDb)),
        num(number(row.maxAbsError)),
      ];
    case "removed":
      return [
        row.originalLayer?.name ?? "(input)",
        row.originalLayer?.kind ?? "",
        row.blob,
        row.fusedInto === undefined ? "only in the original" : `fused: see ${row.fusedInto}`,
        "",
        "",
      ];
    case "shape-mismatch":
      return [
        row.layer?.name ?? "(input)",
        row.layer?.kind ?? "",
        row.blob,
        `shape [${row.originalShape.join(", ")}] vs [${row.quantizedShape.join(", ")}]`,
        "",
        "",
      ];
    default: {
      const never: never = row;
      return [String(never)];
    }
  }
}

function fusedNote(row: ComparedLayer): string {
  return row.fused ? ` (+ ${row.originalLayer?.name ?? "?"}, fused)` : "";
}

function db(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "exact";
  if (value === Number.NEGATIVE_INFINITY) return "-inf dB";
  return Number.isNaN(value) ? "NaN" : `${value.toFixed(1)} dB`;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

function sample(index: number | undefined): string {
  return index === undefined ? "-" : String(index);
}

function number(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2);
}

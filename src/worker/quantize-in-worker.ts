/**
 * The page's side of the quantizing Web Worker: post a model, get its summary,
 * its quantized bytes or its size-against-SNR chart back, follow the progress,
 * cancel.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import type { ModelSummary } from "../inspect-model.js";
import type { ModelComparison } from "../predict/compare-models.js";
import type { Progress } from "../quantize/quantize-weights.js";
import type { ProgramSummary } from "../mlprogram/inspect-program.js";
import type { WorkerFailure, WorkerPackageCompression, WorkerPackageResult, WorkerQuantizeResult, WorkerReply, WorkerRequest } from "./worker-messages.js";
import type { SizeSnrChart, SizeSnrProgress } from "./size-snr-chart.js";
import type { WorkerChartOptions, WorkerQuantizeOptions } from "./worker-options.js";
import type { WorkerSamples } from "./worker-samples.js";

/**
 * What this module needs of a `Worker` (a DOM `Worker` is one), so tests can pass
 * a stand-in.
 */
export interface QuantizeWorker {
  /** Sends a request to the worker, moving the buffers in `transfer`. */
  postMessage(message: WorkerRequest, transfer: Transferable[]): void;
  /** Listens for the worker's replies. */
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  /** Listens for the worker failing to load or throwing. */
  addEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  /** Stops listening for replies. */
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  /** Stops listening for failures. */
  removeEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  /** Stops the worker at once, in the middle of its work if need be. */
  terminate(): void;
}

/** Options of {@link inspectInWorker}. */
export interface InspectInWorkerOptions {
  /** The file's name, for messages. @defaultValue "model.mlmodel" */
  readonly name?: string;
  /** Aborting it terminates the worker and rejects with its reason. @defaultValue none */
  readonly signal?: AbortSignal;
}

/** Options of {@link quantizeInWorker}. */
export interface QuantizeInWorkerOptions extends InspectInWorkerOptions {
  /** Called with each progress message. @defaultValue none */
  readonly onProgress?: (progress: Progress) => void;
}

/** Request ids, unique in this page, so several requests can share one worker. */
let nextId = 1;

/**
 * Quantizes a model file in a Web Worker running the library's worker script, so
 * the page stays responsive. The bytes' buffer is transferred to the worker, not
 * copied: afterwards `bytes` is empty (detached) — pass a copy to keep it. (Bytes
 * that are a view of part of a larger buffer are copied instead.)
 *
 * Cancelling (aborting `signal`) terminates the worker, the only way to stop its
 * work at once: create a new worker for the next request.
 *
 * @param worker - a worker running `coreml-quantize/worker-script` (see docs/browser.md)
 * @param bytes - the `.mlmodel` file's bytes
 * @param options - bits, mode, selector, … as data
 * @param control - the file's name, a progress callback, an abort signal
 * @returns the quantized file's bytes (byte for byte what the CLI writes), its
 *   name, the report and both models' summaries
 * @throws {@link index!QuantizeError} (the promise rejects) with the CLI's code and
 *   one-line message for a bad file or options; the signal's reason (by default
 *   an `AbortError` DOMException) when aborted; an `Error` when the worker fails
 *   to run
 * @example
 * ```ts
 * const worker = new Worker(new URL("./quantize-worker.js", import.meta.url), { type: "module" });
 * const bytes = new Uint8Array(await file.arrayBuffer());
 * const { bytes: out, fileName } = await quantizeInWorker(worker, bytes, { nbits: 8 }, { name: file.name });
 * ```
 */
export function quantizeInWorker(
  worker: QuantizeWorker,
  bytes: Uint8Array,
  options: WorkerQuantizeOptions,
  control: QuantizeInWorkerOptions = {},
): Promise<WorkerQuantizeResult> {
  return request(
    worker,
    (id) => ({ type: "quantize", id, name: control.name ?? DEFAULT_NAME, bytes: movable(bytes), options }),
    control,
    (reply) => {
      if (reply.type === "progress") {
        control.onProgress?.(reply.progress);
        return undefined;
      }
      return reply.type === "quantized" ? { value: reply.result } : undefined;
    },
  );
}

/**
 * A model's summary (what `inspect` prints: networks, every weight field, its
 * storage and bytes, totals), computed in a Web Worker. The bytes are transferred
 * as with {@link quantizeInWorker}.
 *
 * @param worker - a worker running the library's worker script
 * @param bytes - the `.mlmodel` file's bytes
 * @param control - the file's name, an abort signal
 * @returns the summary
 * @throws {@link index!QuantizeError} (the promise rejects) as {@link quantizeInWorker}
 */
export function inspectInWorker(worker: QuantizeWorker, bytes: Uint8Array, control: InspectInWorkerOptions = {}): Promise<ModelSummary> {
  return request(
    worker,
    (id) => ({ type: "inspect", id, name: control.name ?? DEFAULT_NAME, bytes: movable(bytes) }),
    control,
    (reply) => (reply.type === "inspected" ? { value: reply.summary } : undefined),
  );
}

/** Options of {@link sizeSnrChartInWorker}. */
export interface SizeSnrChartInWorkerOptions extends InspectInWorkerOptions {
  /** Called with each progress message. @defaultValue none */
  readonly onProgress?: (progress: SizeSnrProgress) => void;
}

/**
 * The size-against-SNR chart of a model ({@link sizeSnrChart}: every mode and bit
 * width, and half precision), computed in a Web Worker. The bytes are transferred
 * as with {@link quantizeInWorker}; aborting `signal` terminates the worker.
 *
 * @param worker - a worker running the library's worker script
 * @param bytes - the `.mlmodel` file's bytes
 * @param options - what every point shares: layer selection, fusion, float16 overflow
 * @param control - the file's name, a progress callback, an abort signal
 * @returns every point measured, and the settings refused
 * @throws {@link index!QuantizeError} (the promise rejects) as {@link quantizeInWorker}
 * @example
 * ```ts
 * const chart = await sizeSnrChartInWorker(worker, bytes, {}, { onProgress: ({ done, total }) => bar.value = done / total });
 * ```
 */
export function sizeSnrChartInWorker(
  worker: QuantizeWorker,
  bytes: Uint8Array,
  options: WorkerChartOptions,
  control: SizeSnrChartInWorkerOptions = {},
): Promise<SizeSnrChart> {
  return request(
    worker,
    (id) => ({ type: "chart", id, name: control.name ?? DEFAULT_NAME, bytes: movable(bytes), options }),
    control,
    (reply) => {
      if (reply.type === "chart-progress") {
        control.onProgress?.(reply.progress);
        return undefined;
      }
      return reply.type === "charted" ? { value: reply.chart } : undefined;
    },
  );
}

/** Options of {@link compareInWorker}. */
export interface CompareInWorkerOptions extends InspectInWorkerOptions {
  /** Called after each sample with the samples done and the total. @defaultValue none */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
}

/**
 * Runs a model and its quantized version on the same samples in a Web Worker and
 * compares their predictions, output by output and layer by layer (what `compare
 * --layers` prints; see {@link index!compareModels}). Every buffer posted — both
 * models' bytes and the sample files' — is transferred, as with
 * {@link quantizeInWorker}: pass copies to keep them. Aborting `signal`
 * terminates the worker.
 *
 * @param worker - a worker running the library's worker script
 * @param original - the original `.mlmodel` file's bytes
 * @param quantized - the quantized model's bytes (e.g. {@link quantizeInWorker}'s result)
 * @param samples - seeded random inputs, or `.npy` and image files (see {@link WorkerSamples})
 * @param control - the original file's name, a progress callback, an abort signal
 * @returns the comparison, with one row per blob of the original model
 * @throws {@link index!QuantizeError} (the promise rejects) as compareModels
 *   and sample reading do: `invalid-input` naming the file and the input,
 *   `unsupported-model` for a model the executor cannot run
 * @example
 * ```ts
 * const comparison = await compareInWorker(worker, original.slice(), quantized.slice(), { kind: "random", count: 8, seed: 1 });
 * ```
 */
export function compareInWorker(
  worker: QuantizeWorker,
  original: Uint8Array,
  quantized: Uint8Array,
  samples: WorkerSamples,
  control: CompareInWorkerOptions = {},
): Promise<ModelComparison> {
  return request(
    worker,
    (id) => ({
      type: "compare",
      id,
      name: control.name ?? DEFAULT_NAME,
      original: movable(original),
      quantized: movable(quantized),
      samples: samples.kind === "files" ? { kind: "files", files: samples.files.map((f) => ({ name: f.name, bytes: movable(f.bytes) })) } : samples,
    }),
    control,
    (reply) => {
      if (reply.type === "compare-progress") {
        control.onProgress?.(reply.progress);
        return undefined;
      }
      return reply.type === "compared" ? { value: reply.comparison } : undefined;
    },
  );
}

/**
 * An ML Program package's summary (what `inspect` prints for one: functions,
 * constants, the op inputs weights feed, totals), computed in a Web Worker from a
 * zip of the `.mlpackage` folder. The bytes are transferred as with
 * {@link quantizeInWorker}.
 *
 * @param worker - a worker running the library's worker script
 * @param zip - the zipped package's bytes (its files at the root, or in one folder)
 * @param control - the zip's name (default `model.mlpackage.zip`), an abort signal
 * @returns the summary
 * @throws {@link index!QuantizeError} (the promise rejects) with the CLI's code
 *   and one-line message for a zip that is not a package; the signal's reason
 *   when aborted; an `Error` when the worker fails to run
 */
export function inspectPackageInWorker(worker: QuantizeWorker, zip: Uint8Array, control: InspectInWorkerOptions = {}): Promise<ProgramSummary> {
  return request(
    worker,
    (id) => ({ type: "inspect-package", id, name: control.name ?? DEFAULT_PACKAGE_NAME, bytes: movable(zip) }),
    control,
    (reply) => (reply.type === "package-inspected" ? { value: reply.summary } : undefined),
  );
}

/**
 * Compresses a zipped ML Program package in a Web Worker as `quantize` does:
 * with a mode and bit width (`--mode`, `--nbits`) or a coremltools config
 * (`--config`). The bytes are transferred as with {@link quantizeInWorker}. The
 * passes report no progress: show an indeterminate one; aborting `signal`
 * terminates the worker.
 *
 * @param worker - a worker running the library's worker script
 * @param zip - the zipped package's bytes
 * @param compression - the mode and bit width, or the config's JSON text
 * @param control - the zip's name (default `model.mlpackage.zip`), an abort signal
 * @returns the compressed package zipped (its weight.bin byte for byte the
 *   CLI's), its name, the per-weight report and both packages' summaries
 * @throws {@link index!QuantizeError} (the promise rejects) as {@link inspectPackageInWorker},
 *   and `invalid-option` for a bit width the mode does not take or a bad config
 * @example
 * ```ts
 * const zip = new Uint8Array(await file.arrayBuffer());
 * const { bytes, fileName, report } = await compressPackageInWorker(worker, zip, { kind: "flags", mode: "linear", nbits: 8 }, { name: file.name });
 * ```
 */
export function compressPackageInWorker(
  worker: QuantizeWorker,
  zip: Uint8Array,
  compression: WorkerPackageCompression,
  control: InspectInWorkerOptions = {},
): Promise<WorkerPackageResult> {
  return request(
    worker,
    (id) => ({ type: "compress-package", id, name: control.name ?? DEFAULT_PACKAGE_NAME, bytes: movable(zip), compression }),
    control,
    (reply) => (reply.type === "package-compressed" ? { value: reply.result } : undefined),
  );
}

const DEFAULT_NAME = "model.mlmodel";
const DEFAULT_PACKAGE_NAME = "model.mlpackage.zip";

/** The buffers a request moves to the worker: every file's bytes in it. */
function transferOf(message: WorkerRequest): ArrayBuffer[] {
  switch (message.type) {
    case "inspect":
    case "quantize":
    case "chart":
    case "inspect-package":
    case "compress-package":
      return [message.bytes.buffer as ArrayBuffer];
    case "compare": {
      const files = message.samples.kind === "files" ? message.samples.files.map((f) => f.bytes) : [];
      // A buffer listed twice is refused by postMessage: the same file given twice is posted once.
      return [...new Set([message.original, message.quantized, ...files].map((b) => b.buffer as ArrayBuffer))];
    }
    default: {
      const never: never = message;
      return never;
    }
  }
}

/**
 * Posts one request and settles with its final reply: `accept` turns a reply of
 * this request into the value (or undefined, for a reply that does not end it).
 */
function request<T>(
  worker: QuantizeWorker,
  build: (id: number) => WorkerRequest,
  control: InspectInWorkerOptions,
  accept: (reply: WorkerReply) => { readonly value: T } | undefined,
): Promise<T> {
  const { signal } = control;
  if (signal?.aborted === true) return Promise.reject(abortReason(signal));
  let message: WorkerRequest;
  try {
    message = build(nextId++);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      worker.removeEventListener("message", onMessage);
      worker.removeEventListener("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const onMessage = (event: MessageEvent): void => {
      const reply = event.data as WorkerReply;
      if (reply === null || typeof reply !== "object" || reply.id !== message.id) return;
      if (reply.type === "failed") {
        done();
        reject(errorOf(reply.error));
        return;
      }
      const accepted = accept(reply);
      if (accepted === undefined) return;
      done();
      resolve(accepted.value);
    };
    const onError = (event: ErrorEvent): void => {
      done();
      event.preventDefault?.();
      reject(new Error(`the quantize worker failed: ${event.message || "it could not be loaded or crashed"}`));
    };
    const onAbort = (): void => {
      done();
      worker.terminate();
      reject(abortReason(signal as AbortSignal));
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.postMessage(message, transferOf(message));
  });
}

/** `bytes`, alone in its buffer so the buffer can be transferred (a view of part of one is copied). */
function movable(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new QuantizeError("invalid-protobuf", `the model's bytes must be a Uint8Array, got ${typeof bytes}`);
  // A SharedArrayBuffer cannot be transferred. (The global itself is absent from pages that are not cross-origin isolated.)
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** The worker's failure as an error of this thread: a QuantizeError for the library's codes. */
function errorOf(failure: WorkerFailure): Error {
  // The message has the path in it already: none is passed again.
  return failure.code === "internal" ? new Error(failure.message) : new QuantizeError(failure.code, failure.message);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("the quantization was cancelled", "AbortError");
}

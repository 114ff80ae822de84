/**
 * quantizeWeights on several cores: the model is walked, fused and selected on the
 * main thread exactly as {@link index!quantizeWeights} does, the n-bit tensor work is
 * shared among worker threads, and the results are put back in place. The output
 * is the same, bit for bit.
 *
 * @packageDocumentation
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { mapWeightParams } from "../codec/map-weight-params.js";
import type { Model, WeightParams } from "../codec/model-types.js";
import { QuantizeError, type ErrorCode } from "../errors.js";
import type { TensorContext, TensorMode } from "../quantize/quantize-tensor.js";
import { quantizeWeightsWith, type Progress, type QuantizeOptions } from "../quantize/quantize-weights.js";
import { runTensorInline, storeTensorResult } from "../quantize/tensor-plans.js";
import { readParallelOptions } from "./parallel-options.js";
import type { WorkerReply, WorkerTask } from "./quantize-worker.js";

/** Options of {@link quantizeWeightsParallel}: those of quantizeWeights (any variant), plus the threads. */
export type ParallelQuantizeOptions = QuantizeOptions & {
  /**
   * Worker threads: a positive integer, or Infinity for one per core; never more
   * than the cores available.
   * @defaultValue the available cores, at most 4
   */
  readonly threads?: number;
  /**
   * Where the worker script (`quantize-worker.js` of this package) is, for an app
   * bundled into one file, where it is not next to this module: a URL or a path.
   * When no worker can start from it (or from the default), the work is done on
   * this thread instead, with the same result.
   * @defaultValue `quantize-worker.js` next to this module
   */
  readonly workerUrl?: URL | string;
};

interface Pending {
  readonly placeholder: WeightParams;
  readonly original: WeightParams;
  readonly mode: TensorMode;
  readonly values: Float32Array;
  readonly context: TensorContext;
}

/**
 * {@link index!quantizeWeights} with the tensors quantized in worker threads, when that
 * pays (several tensors, and k-means among them); otherwise the same
 * work on this thread. Same result either way. `custom_lut` always runs here (a
 * function cannot cross threads); so do half precision, `nbits: "auto"` and
 * dequantization, reporting progress as quantizeWeights does. If no worker can
 * start (an app bundled into one file without the worker script, see
 * `workerUrl`), the work is done here. Progress within a tensor (k-means) is
 * reported for the tensor sent first among those under way.
 *
 * @param model - the model; not modified
 * @param options - as for quantizeWeights, plus `threads` and `workerUrl`;
 *   `signal` cancels the work: the workers are ended and the promise rejected
 * @returns a promise of the new model
 * @throws {@link index!QuantizeError} as quantizeWeights does (the promise is
 *   rejected with it); `invalid-option` for `threads` NaN, below 1 or not an
 *   integer, or a `workerUrl` that is neither a URL nor a path; the signal's reason
 *   (an `AbortError` unless given) when `signal` is aborted
 */
export async function quantizeWeightsParallel(model: Model, options: ParallelQuantizeOptions): Promise<Model> {
  const pending: Pending[] = [];
  const { threads, onProgress, givenOnProgress, workerUrl, options: rest } = readParallelOptions(options, availableParallelism());
  const { signal } = rest;
  signal?.throwIfAborted();
  // Only n-bit quantizing hands tensors to the runner; the rest is done in the
  // walk itself, which then reports progress as quantizeWeights does.
  const mode = rest.mode === "kmeans" ? "kmeans_lut" : rest.mode;
  if (rest.nbits === 16 || rest.nbits === "auto" || mode === "dequantization") {
    return quantizeWeightsWith(model, givenOnProgress === undefined ? rest : { ...rest, onProgress: givenOnProgress }, runTensorInline);
  }
  const skeleton = quantizeWeightsWith(model, rest, (tensorMode, original, values, context) => {
    if (tensorMode === "custom_lut") return runTensorInline(tensorMode, original, values, context);
    const placeholder = { ...original };
    // Progress within a tensor is the walk's, which has not done the work: left out.
    pending.push({ placeholder, original, mode: tensorMode, values, context: { ...context, onProgress: undefined } });
    return placeholder;
  });
  // Only k-means pays for the threads' start-up (about 30 ms each) and the copy of
  // every tensor sent to them: the linear modes quantize a value in about the time
  // its copy takes (measured on a 500 MB model: 8-bit 0.27 s on this thread, 0.38 s
  // on two).
  const pays = pending.length >= 2 && threads >= 2 && pending.some((p) => p.mode === "kmeans_lut");
  const results = new Map<WeightParams, WeightParams>();
  const runHere = (): void => {
    pending.forEach((p, i) => {
      signal?.throwIfAborted();
      const { path } = p.context;
      // Here a long tensor can report its progress (and be cancelled) as it goes.
      const within =
        signal === undefined && onProgress === undefined
          ? undefined
          : (fraction: number): void => {
              signal?.throwIfAborted();
              onProgress?.({ path, done: i, total: pending.length, fraction });
            };
      results.set(p.placeholder, runTensorInline(p.mode, p.original, p.values, { ...p.context, onProgress: within }));
      onProgress?.({ path, done: i + 1, total: pending.length });
    });
  };
  if (!pays) {
    runHere();
  } else {
    const started = await runInWorkers(pending, Math.min(threads, pending.length), results, onProgress, workerUrl, signal);
    if (!started) {
      // No worker could start: the same work here, progress counted afresh.
      results.clear();
      runHere();
    }
  }
  return mapWeightParams(skeleton, (wp) => (results.get(wp as unknown as WeightParams) ?? wp) as typeof wp);
}

/** The worker script next to this module (undefined where there is no module URL, as in a CommonJS bundle). */
function defaultWorkerUrl(): URL | undefined {
  try {
    return new URL("./quantize-worker.js", import.meta.url);
  } catch {
    return undefined;
  }
}

/**
 * Quantizes `pending` in `threads` workers. Resolves to false, having done nothing
 * that counts, when a worker could not start (no script there, a bundle without
 * it): the caller then does the work itself. Rejects with the first tensor's error,
 * or the signal's reason when it is aborted; every worker is ended either way.
 */
function runInWorkers(
  pending: readonly Pending[],
  threads: number,
  results: Map<WeightParams, WeightParams>,
  onProgress: QuantizeOptions["onProgress"],
  workerUrl: URL | string | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  // Largest first, so the last tensor to finish is a small one.
  const queue = pending.map((p, id) => ({ p, id })).sort((a, b) => b.p.values.length - a.p.values.length);
  const url = workerUrl ?? defaultWorkerUrl();
  if (url === undefined) return Promise.resolve(false);
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < threads; i++) workers.push(new Worker(url));
  } catch {
    for (const worker of workers) void worker.terminate();
    return Promise.resolve(false);
  }
  let done = 0;
  /** Tensors sent and not answered, in the order sent. */
  const inFlight: number[] = [];
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    /** Calls onProgress; false (and the promise rejected) when it throws. */
    const report = (progress: Progress): boolean => {
      try {
        onProgress?.(progress);
        return true;
      } catch (error) {
        // Thrown here it would escape the event handler and end the process.
        finish(error);
        return false;
      }
    };
    const replied = new Set<Worker>();
    const onAbort = (): void => finish(signal?.reason ?? new DOMException("The operation was aborted", "AbortError"));
    function finish(error?: unknown, started = true): void {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      for (const worker of workers) void worker.terminate();
      if (error === undefined) resolve(started);
      else reject(error);
    }
    if (signal !== undefined) {
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
    }
    const feed = (worker: Worker): void => {
      const next = queue.shift();
      if (next === undefined) return;
      const { p, id } = next;
      // A standalone copy: posting a view would clone its whole (input-sized) buffer.
      const values = p.values.slice();
      const task: WorkerTask = {
        id,
        mode: p.mode as WorkerTask["mode"],
        nbits: p.context.nbits,
        shape: p.context.shape,
        axis: p.context.axis,
        path: p.context.path,
        values,
        progress: onProgress !== undefined,
      };
      inFlight.push(id);
      worker.postMessage(task, [values.buffer]);
    };
    for (const worker of workers) {
      worker.on("message", (reply: WorkerReply) => {
        if (settled) return;
        replied.add(worker);
        const p = pending[reply.id] as Pending;
        if ("fraction" in reply) {
          // Several tensors are under way: the bar follows the one sent first (the largest).
          if (reply.id === inFlight[0]) report({ path: p.context.path, done, total: pending.length, fraction: reply.fraction });
          return;
        }
        inFlight.splice(inFlight.indexOf(reply.id), 1);
        if ("error" in reply) {
          const { code, message, path, stack } = reply.error;
          const bare = path !== undefined && message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
          // The error as the worker threw it, with its stack, so that where it
          // happened is not lost in the crossing.
          const inWorker = Object.assign(new Error(message), stack === undefined ? {} : { stack });
          finish(
            code === "internal" ? inWorker : new QuantizeError(code as ErrorCode, bare, path === undefined ? { cause: inWorker } : { path, cause: inWorker }),
          );
          return;
        }
        results.set(p.placeholder, storeTensorResult(p.original, p.context.nbits, reply.result));
        done++;
        if (!report({ path: p.context.path, done, total: pending.length })) return;
        if (done === pending.length) finish();
        else feed(worker);
      });
      worker.on("error", (error) => {
        // A worker that fails before its first answer did not start (its script is
        // missing or cannot load): the caller does the work itself. Later, it crashed.
        if (!replied.has(worker) && done === 0) finish(undefined, false);
        else finish(error);
      });
      feed(worker);
    }
  });
}

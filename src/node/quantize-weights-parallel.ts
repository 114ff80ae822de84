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
import type { TensorContext, TensorMode } from "../quantize-tensor.js";
import { quantizeWeightsWith, type QuantizeOptions } from "../quantize-weights.js";
import { runTensorInline, storeTensorResult } from "../tensor-plans.js";
import { readParallelOptions } from "./parallel-options.js";
import type { WorkerReply, WorkerTask } from "./quantize-worker.js";

/** Options of {@link quantizeWeightsParallel}. */
export interface ParallelQuantizeOptions extends QuantizeOptions {
  /**
   * Worker threads: a positive integer, or Infinity for one per core; never more
   * than the cores available.
   * @defaultValue the available cores, at most 4
   */
  readonly threads?: number;
}

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
 * function cannot cross threads).
 *
 * @param model - the model; not modified
 * @param options - as for quantizeWeights, plus `threads`
 * @returns a promise of the new model
 * @throws {@link index!QuantizeError} as quantizeWeights does (the promise is
 *   rejected with it); `invalid-option` for `threads` NaN, below 1 or not an integer
 */
export async function quantizeWeightsParallel(model: Model, options: ParallelQuantizeOptions): Promise<Model> {
  const pending: Pending[] = [];
  const { threads, onProgress, options: rest } = readParallelOptions(options, availableParallelism());
  const skeleton = quantizeWeightsWith(model, rest, (mode, original, values, context) => {
    if (mode === "custom_lut") return runTensorInline(mode, original, values, context);
    const placeholder = { ...original };
    pending.push({ placeholder, original, mode, values, context });
    return placeholder;
  });
  // Only k-means pays for the threads' start-up (about 30 ms each) and the copy of
  // every tensor sent to them: the linear modes quantize a value in about the time
  // its copy takes (measured on a 500 MB model: 8-bit 0.27 s on this thread, 0.38 s
  // on two).
  const pays = pending.length >= 2 && threads >= 2 && pending.some((p) => p.mode === "kmeans_lut");
  const results = new Map<WeightParams, WeightParams>();
  if (!pays) {
    pending.forEach((p, i) => {
      results.set(p.placeholder, runTensorInline(p.mode, p.original, p.values, p.context));
      onProgress?.({ path: p.context.path, done: i + 1, total: pending.length });
    });
  } else {
    await runInWorkers(pending, Math.min(threads, pending.length), results, onProgress);
  }
  return mapWeightParams(skeleton, (wp) => (results.get(wp as unknown as WeightParams) ?? wp) as typeof wp);
}

function runInWorkers(
  pending: readonly Pending[],
  threads: number,
  results: Map<WeightParams, WeightParams>,
  onProgress: QuantizeOptions["onProgress"],
): Promise<void> {
  // Largest first, so the last tensor to finish is a small one.
  const queue = pending.map((p, id) => ({ p, id })).sort((a, b) => b.p.values.length - a.p.values.length);
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./quantize-worker.js", import.meta.url)));
  let done = 0;
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const finish = (error?: unknown): void => {
      for (const worker of workers) void worker.terminate();
      if (error === undefined) resolve();
      else reject(error);
    };
    const feed = (worker: Worker): void => {
      const next = queue.shift();
      if (next === undefined) return;
      const { p, id } = next;
      // A standalone copy: posting a view would clone its whole (input-sized) buffer.
      const values = p.values.slice();
      const task: WorkerTask = {
        id, mode: p.mode as WorkerTask["mode"], nbits: p.context.nbits, shape: p.context.shape,
        axis: p.context.axis, path: p.context.path, values,
      };
      worker.postMessage(task, [values.buffer]);
    };
    for (const worker of workers) {
      worker.on("message", (reply: WorkerReply) => {
        if (failed) return;
        const p = pending[reply.id] as Pending;
        if ("error" in reply) {
          failed = true;
          const { code, message, path } = reply.error;
          const bare = path !== undefined && message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
          finish(code === "internal"
            ? new Error(bare)
            : new QuantizeError(code as ErrorCode, bare, path === undefined ? {} : { path }));
          return;
        }
        results.set(p.placeholder, storeTensorResult(p.original, p.context.nbits, reply.result));
        done++;
        try {
          onProgress?.({ path: p.context.path, done, total: pending.length });
        } catch (error) {
          // Thrown here it would escape the event handler and end the process.
          failed = true;
          finish(error);
          return;
        }
        if (done === pending.length) finish();
        else feed(worker);
      });
      worker.on("error", (error) => {
        if (!failed) {
          failed = true;
          finish(error);
        }
      });
      feed(worker);
    }
  });
}

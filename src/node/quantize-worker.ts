/**
 * Worker-thread side of {@link quantizeWeightsParallel}: quantizes the tensors it is
 * sent and sends back packed indices and parameters (buffers transferred, not copied).
 *
 * @packageDocumentation
 */
import { parentPort } from "node:worker_threads";
import { isQuantizeError } from "../errors.js";
import { TENSOR_QUANTIZERS, type TensorMode, type TensorResult } from "../quantize/quantize-tensor.js";

/** A tensor to quantize. */
export interface WorkerTask {
  readonly id: number;
  readonly mode: Exclude<TensorMode, "custom_lut">;
  readonly nbits: number;
  readonly shape: readonly number[];
  readonly axis: 0 | 1;
  readonly path: string;
  readonly values: Float32Array;
  /** Whether to send {@link WorkerReply} progress while quantizing (k-means: at most 32 per tensor). */
  readonly progress: boolean;
}

/** The answer to a {@link WorkerTask}. */
export type WorkerReply =
  | { readonly id: number; readonly result: TensorResult }
  | { readonly id: number; readonly fraction: number }
  | {
      readonly id: number;
      /** The failure; `stack` is the worker's, so that `--debug` shows where it happened. */
      readonly error: { readonly code: string; readonly message: string; readonly path: string | undefined; readonly stack: string | undefined };
    };

const port = parentPort;
if (port !== null) {
  port.on("message", (task: WorkerTask) => {
    try {
      const onProgress = task.progress ? (fraction: number): void => port.postMessage({ id: task.id, fraction } satisfies WorkerReply) : undefined;
      const result = TENSOR_QUANTIZERS[task.mode].quantize(task.values, { ...task, lutFunction: undefined, onProgress });
      const buffers = result.kind === "linear" ? [result.packed.buffer, result.scale.buffer, result.bias.buffer] : [result.packed.buffer, result.lut.buffer];
      port.postMessage({ id: task.id, result } satisfies WorkerReply, buffers as ArrayBuffer[]);
    } catch (error) {
      const reply: WorkerReply = isQuantizeError(error)
        ? { id: task.id, error: { code: error.code, message: error.message, path: error.path, stack: error.stack } }
        : {
            id: task.id,
            error: {
              code: "internal",
              message: error instanceof Error ? error.message : String(error),
              path: undefined,
              stack: error instanceof Error ? error.stack : undefined,
            },
          };
      port.postMessage(reply);
    }
  });
}

/**
 * Worker-thread side of {@link quantizeWeightsParallel}: quantizes the tensors it is
 * sent and sends back packed indices and parameters (buffers transferred, not copied).
 *
 * @packageDocumentation
 */
import { parentPort } from "node:worker_threads";
import { isQuantizeError } from "../errors.js";
import { TENSOR_QUANTIZERS, type TensorMode, type TensorResult } from "../quantize-tensor.js";

/** A tensor to quantize. */
export interface WorkerTask {
  readonly id: number;
  readonly mode: Exclude<TensorMode, "custom_lut">;
  readonly nbits: number;
  readonly shape: readonly number[];
  readonly axis: 0 | 1;
  readonly path: string;
  readonly values: Float32Array;
}

/** The answer to a {@link WorkerTask}. */
export type WorkerReply =
  | { readonly id: number; readonly result: TensorResult }
  | { readonly id: number; readonly error: { readonly code: string; readonly message: string; readonly path: string | undefined } };

const port = parentPort;
if (port !== null) {
  port.on("message", (task: WorkerTask) => {
    try {
      const result = TENSOR_QUANTIZERS[task.mode](task.values, { ...task, lutFunction: undefined });
      const buffers = result.kind === "linear"
        ? [result.packed.buffer, result.scale.buffer, result.bias.buffer]
        : [result.packed.buffer, result.lut.buffer];
      port.postMessage({ id: task.id, result } satisfies WorkerReply, buffers as ArrayBuffer[]);
    } catch (error) {
      const reply: WorkerReply = isQuantizeError(error)
        ? { id: task.id, error: { code: error.code, message: error.message, path: error.path } }
        : { id: task.id, error: { code: "internal", message: error instanceof Error ? error.message : String(error), path: undefined } };
      port.postMessage(reply);
    }
  });
}

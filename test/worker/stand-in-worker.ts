/**
 * A worker in the test's thread, for the page's side of the worker API: requests
 * answered by the real handler on a later turn, buffers moved as postMessage moves them.
 */
import { handleWorkerRequest } from "../../src/worker/handle-worker-request.js";
import type { QuantizeWorker } from "../../src/worker/quantize-in-worker.js";
import type { WorkerRequest } from "../../src/worker/worker-messages.js";

type Listener = (event: { data?: unknown; message?: string }) => void;

/** A worker in this thread: requests answered by handleWorkerRequest after a macrotask, transfers detaching buffers. */
export class StandInWorker {
  readonly listeners = { message: new Set<Listener>(), error: new Set<Listener>() };
  terminated = false;
  readonly transferred: ArrayBuffer[] = [];
  /** Hold requests instead of answering them (a long job). */
  hold = false;

  postMessage(message: WorkerRequest, transfer: Transferable[]): void {
    const received = structuredClone(message, { transfer: transfer as ArrayBuffer[] });
    this.transferred.push(...(transfer as ArrayBuffer[]));
    if (this.hold) return;
    setTimeout(
      () =>
        void handleWorkerRequest(received, (reply, moved) => {
          if (this.terminated) return;
          const data = structuredClone(reply, { transfer: moved as ArrayBuffer[] });
          for (const l of this.listeners.message) l({ data });
        }),
      0,
    );
  }
  addEventListener(type: "message" | "error", listener: Listener): void {
    this.listeners[type].add(listener);
  }
  removeEventListener(type: "message" | "error", listener: Listener): void {
    this.listeners[type].delete(listener);
  }
  terminate(): void {
    this.terminated = true;
  }
  /** As the DOM types want it. */
  get asWorker(): QuantizeWorker {
    return this as unknown as QuantizeWorker;
  }
}

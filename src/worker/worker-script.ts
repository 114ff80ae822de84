/**
 * The script a quantizing Web Worker runs: answers each request of
 * {@link quantizeInWorker} with {@link handleWorkerRequest}. Importing it outside
 * a worker does nothing.
 *
 * @packageDocumentation
 */
import { handleWorkerRequest } from "./handle-worker-request.js";
import type { WorkerRequest } from "./worker-messages.js";

/** What this script uses of a dedicated worker's global scope. */
interface WorkerScope {
  addEventListener(type: "message", listener: (event: MessageEvent<WorkerRequest>) => void): void;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

const scope = globalThis as unknown as Partial<WorkerScope> & { WorkerGlobalScope?: unknown; document?: unknown };
// A dedicated worker, classic or module: a worker scope with postMessage (shared
// and service workers have none), and no document (not a page).
if (typeof scope.WorkerGlobalScope === "function" && scope.document === undefined && typeof scope.postMessage === "function") {
  const worker = scope as WorkerScope;
  worker.addEventListener("message", (event) => {
    void handleWorkerRequest(event.data, (reply, transfer) => worker.postMessage(reply, transfer));
  });
}

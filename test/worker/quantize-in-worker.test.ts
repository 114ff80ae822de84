/**
 * The page's side, against a stand-in worker that answers with the real worker
 * handler on a later turn (as a worker would), moving buffers as postMessage does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import { isQuantizeError } from "../../src/errors.js";
import { inspectModel } from "../../src/inspect-model.js";
import { quantizeWeights, type Progress } from "../../src/quantize/quantize-weights.js";
import { inspectInWorker, quantizeInWorker, sizeSnrChartInWorker, type QuantizeWorker } from "../../src/worker/quantize-in-worker.js";
import { SIZE_SNR_SETTINGS, sizeSnrChart, type SizeSnrProgress } from "../../src/worker/size-snr-chart.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";
import { StandInWorker } from "./stand-in-worker.js";

const cnn = (): Uint8Array => new Uint8Array(readFileSync(join(GOLDEN_MODELS_DIR, "cnn.mlmodel")));

test("a DOM Worker is a QuantizeWorker (type check)", () => {
  const check = (worker: Worker): QuantizeWorker => worker;
  expect(check).toBeInstanceOf(Function);
});

test("quantizeInWorker resolves with the library's bytes; the input's buffer moved; progress reported", async () => {
  const worker = new StandInWorker();
  const bytes = cnn();
  const progress: Progress[] = [];
  const result = await quantizeInWorker(worker.asWorker, bytes, { nbits: 4, mode: "kmeans" }, { name: "cnn.mlmodel", onProgress: (p) => progress.push(p) });
  expect(Buffer.from(result.bytes).equals(Buffer.from(encodeModel(quantizeWeights(decodeModel(cnn()), { nbits: 4, mode: "kmeans" }))))).toBe(true);
  expect(result.fileName).toBe("cnn.kmeans_lut4.mlmodel");
  expect(bytes.byteLength).toBe(0); // detached: moved to the worker
  expect(progress.at(-1)?.done).toBe(progress.at(-1)?.total);
  expect(worker.listeners.message.size + worker.listeners.error.size).toBe(0);
});

test("sizeSnrChartInWorker resolves with the library's chart, reporting progress; aborting terminates the worker", async () => {
  const worker = new StandInWorker();
  const progress: SizeSnrProgress[] = [];
  const chart = await sizeSnrChartInWorker(worker.asWorker, cnn(), { fuse: false }, { name: "cnn.mlmodel", onProgress: (p) => progress.push(p) });
  expect(chart).toEqual(sizeSnrChart(decodeModel(cnn()), { fuse: false }));
  expect(progress.at(-1)).toEqual({ done: SIZE_SNR_SETTINGS.length, total: SIZE_SNR_SETTINGS.length });
  expect(worker.listeners.message.size + worker.listeners.error.size).toBe(0);

  const held = new StandInWorker();
  held.hold = true;
  const controller = new AbortController();
  const running = sizeSnrChartInWorker(held.asWorker, cnn(), {}, { signal: controller.signal });
  controller.abort();
  await expect(running).rejects.toMatchObject({ name: "AbortError" });
  expect(held.terminated).toBe(true);
});

test("a view of part of a buffer is copied, the caller's buffer kept", async () => {
  const worker = new StandInWorker();
  const whole = new Uint8Array(cnn().length + 8);
  whole.set(cnn(), 8);
  const summary = await inspectInWorker(worker.asWorker, whole.subarray(8), { name: "cnn.mlmodel" });
  expect(summary).toEqual(inspectModel(decodeModel(cnn())));
  expect(whole.byteLength).toBe(cnn().length + 8);
  expect(worker.transferred[0]).not.toBe(whole.buffer);
});

test("two requests share a worker, each settled by its own replies", async () => {
  const worker = new StandInWorker();
  const [a, b] = await Promise.all([
    quantizeInWorker(worker.asWorker, cnn(), { nbits: 8 }, { name: "a.mlmodel" }),
    inspectInWorker(worker.asWorker, cnn(), { name: "b.mlmodel" }),
  ]);
  expect(a.fileName).toBe("a.linear8.mlmodel");
  expect(b.modelType).toBe("neuralNetwork");
});

test("a bad file rejects with a QuantizeError carrying the worker's code and message", async () => {
  const worker = new StandInWorker();
  const error: unknown = await quantizeInWorker(worker.asWorker, new Uint8Array(0), { nbits: 8 }, { name: "empty.mlmodel" }).catch((e: unknown) => e);
  expect(isQuantizeError(error, "invalid-protobuf")).toBe(true);
  expect((error as Error).message).toBe("empty.mlmodel is empty (0 bytes), not a Core ML model");
});

test("aborting terminates the worker and rejects with an AbortError (or the signal's reason)", async () => {
  const worker = new StandInWorker();
  worker.hold = true;
  const controller = new AbortController();
  const running = quantizeInWorker(worker.asWorker, cnn(), { nbits: 8 }, { signal: controller.signal });
  controller.abort();
  await expect(running).rejects.toMatchObject({ name: "AbortError" });
  expect(worker.terminated).toBe(true);
  expect(worker.listeners.message.size).toBe(0);

  const again = new StandInWorker();
  const reason = new Error("stop");
  await expect(quantizeInWorker(again.asWorker, cnn(), { nbits: 8 }, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  expect(again.transferred).toEqual([]); // nothing posted
});

test("a worker that fails to run rejects with its message", async () => {
  const worker = new StandInWorker();
  worker.hold = true;
  const running = inspectInWorker(worker.asWorker, cnn());
  for (const l of worker.listeners.error) l({ message: "SyntaxError: bad script", preventDefault: () => undefined } as never);
  await expect(running).rejects.toThrow("the quantize worker failed: SyntaxError: bad script");
});

test("works where SharedArrayBuffer is not defined (a page that is not cross-origin isolated)", async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "SharedArrayBuffer");
  delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
  try {
    const summary = await inspectInWorker(new StandInWorker().asWorker, cnn(), { name: "cnn.mlmodel" });
    expect(summary.modelType).toBe("neuralNetwork");
  } finally {
    if (saved !== undefined) Object.defineProperty(globalThis, "SharedArrayBuffer", saved);
  }
});

test("a SharedArrayBuffer's bytes are copied (it cannot be transferred)", async () => {
  const shared = new Uint8Array(new SharedArrayBuffer(cnn().length));
  shared.set(cnn());
  const worker = new StandInWorker();
  await inspectInWorker(worker.asWorker, shared);
  expect(worker.transferred[0]).toBeInstanceOf(ArrayBuffer);
  expect(shared.byteLength).toBe(cnn().length);
});

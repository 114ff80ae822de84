/**
 * Comparing in the worker (`compare` requests, compareInWorker) against the
 * library called directly, and skipping layers by name (`skipLayerNames`).
 */
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { inspectModel } from "../../src/inspect-model.js";
import { compareModels } from "../../src/predict/compare-models.js";
import { encodeNpy } from "../../src/predict/npy.js";
import { randomInputs } from "../../src/predict/random-inputs.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { AdvancedQuantizedLayerSelector } from "../../src/selectors.js";
import { handleWorkerRequest } from "../../src/worker/handle-worker-request.js";
import { compareInWorker } from "../../src/worker/quantize-in-worker.js";
import type { WorkerReply, WorkerRequest } from "../../src/worker/worker-messages.js";
import type { DecodeImage, WorkerSamples } from "../../src/worker/worker-samples.js";
import { fixtureModelFile } from "../predict/support.js";
import { StandInWorker } from "./stand-in-worker.js";
import { readFileSync } from "node:fs";

/** A classifier with one 32x32 RGB image input, runnable by the executor. */
const MODEL = "mobilenet_classifier";
const modelBytes = (name = MODEL): Uint8Array => new Uint8Array(readFileSync(fixtureModelFile(name)));
const original = (): Model => decodeModel(modelBytes());
/** Every weight quantized, as `--nbits 8 --min-conv-weight-count 1`. */
const quantized = (): Model => quantizeWeights(original(), { nbits: 8, selector: new AdvancedQuantizedLayerSelector({ minimumConvWeightCount: 1 }) });

async function answer(request: WorkerRequest, decodeImage?: DecodeImage): Promise<WorkerReply[]> {
  const replies: WorkerReply[] = [];
  await handleWorkerRequest(request, (reply) => replies.push(reply), decodeImage);
  return replies;
}

function compareRequest(samples: WorkerSamples): WorkerRequest {
  return { type: "compare", id: 9, name: `${MODEL}.mlmodel`, original: modelBytes(), quantized: encodeModel(quantized()), samples };
}

/** uint8 pixels [32, 32, 3] as a .npy file, and the image value they are. */
function pixels(seed: number): { npy: Uint8Array; data: Uint8Array } {
  const data = Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 31 + seed * 17) % 256);
  return { npy: encodeNpy({ dtype: "uint8", shape: [32, 32, 3], data }), data };
}

test("random inputs: the comparison is the library's, layer by layer, with progress after each sample", async () => {
  const replies = await answer(compareRequest({ kind: "random", count: 3, seed: 5 }));
  const final = replies.at(-1);
  if (final?.type !== "compared") throw new Error(`expected compared, got ${JSON.stringify(final)}`);
  const expected = compareModels(original(), quantized(), randomInputs(original(), 3, 5), { perLayer: true });
  expect(final.comparison).toEqual(expected);
  expect(final.comparison.layers.length).toBeGreaterThan(0);
  expect(replies.slice(0, -1)).toEqual([1, 2, 3].map((done) => ({ type: "compare-progress", id: 9, progress: { done, total: 3 } })));
});

test("files of a one-input model: each file is a sample; .npy pixels as they are, images through the decoder", async () => {
  const a = pixels(1);
  const b = pixels(2);
  const sizes: [number, number][] = [];
  const decode: DecodeImage = (_bytes, width, height) => {
    sizes.push([width, height]);
    return Promise.resolve({ width, height, data: b.data });
  };
  const replies = await answer(
    compareRequest({
      kind: "files",
      files: [
        { name: "first.npy", bytes: a.npy },
        { name: "second.png", bytes: new Uint8Array([1, 2, 3]) },
      ],
    }),
    decode,
  );
  const final = replies.at(-1);
  if (final?.type !== "compared") throw new Error(`expected compared, got ${JSON.stringify(final)}`);
  const samples = [a.data, b.data].map((data) => ({ image: { width: 32, height: 32, data } }));
  expect(final.comparison).toEqual(compareModels(original(), quantized(), samples, { perLayer: true }));
  // Resized to the input's declared size.
  expect(sizes).toEqual([[32, 32]]);
});

test.each<[string, WorkerSamples, RegExp]>([
  [
    "an image with no decoder (Node)",
    { kind: "files", files: [{ name: "cat.jpg", bytes: new Uint8Array([0xff, 0xd8]) }] },
    /^cat\.jpg: input 'image': images cannot be decoded here/,
  ],
  ["a broken .npy", { kind: "files", files: [{ name: "x.npy", bytes: new Uint8Array([1, 2, 3]) }] }, /^x\.npy: input 'image': .*not a \.npy file/],
  ["no files", { kind: "files", files: [] }, /^no sample files given/],
  ["a count of 0", { kind: "random", count: 0, seed: 1 }, /number of random samples must be a whole number from 1/],
])("%s fails in one line, naming the file", async (_what, samples, message) => {
  const replies = await answer(compareRequest(samples));
  expect(replies).toHaveLength(1);
  expect(replies[0]).toEqual({
    type: "failed",
    id: 9,
    error: { code: expect.stringMatching(/^invalid-(input|option)$/), message: expect.stringMatching(message) },
  });
});

test("files of a model with several inputs make one sample, each named after its input", async () => {
  const name = "add_three_inputs";
  const model = decodeModel(modelBytes(name));
  const inputs = model.description?.input.map((i) => i.name) ?? [];
  expect(inputs.length).toBeGreaterThan(1);
  const sample = randomInputs(model, 1, 3)[0] ?? {};
  const files = inputs.map((input) => {
    const value = sample[input] as { shape: number[]; data: Float32Array };
    return { name: `${input}.npy`, bytes: encodeNpy({ dtype: "float32", shape: value.shape, data: value.data }) };
  });
  const request = (given: typeof files): WorkerRequest => ({
    type: "compare",
    id: 2,
    name: `${name}.mlmodel`,
    original: modelBytes(name),
    quantized: modelBytes(name),
    samples: { kind: "files", files: given },
  });
  const ok = (await answer(request(files))).at(-1);
  if (ok?.type !== "compared") throw new Error(`expected compared, got ${JSON.stringify(ok)}`);
  expect(ok.comparison.samples).toBe(1);
  const [missing] = await answer(request(files.slice(1)));
  expect(missing).toMatchObject({ type: "failed", error: { code: "invalid-input", message: expect.stringContaining(`'${inputs[0]}' missing`) } });
  const [unknown] = await answer(request([{ name: "other.npy", bytes: files[0]?.bytes ?? new Uint8Array() }, ...files]));
  expect(unknown).toMatchObject({ type: "failed", error: { code: "invalid-input", message: expect.stringContaining("no input 'other'") } });
});

test("compareInWorker moves every buffer to the worker and resolves with the comparison", async () => {
  const worker = new StandInWorker();
  const first = modelBytes();
  const second = encodeModel(quantized());
  const file = pixels(3).npy;
  const progress: number[] = [];
  const comparison = await compareInWorker(
    worker.asWorker,
    first,
    second,
    { kind: "files", files: [{ name: "a.npy", bytes: file }] },
    {
      onProgress: (p) => progress.push(p.done),
    },
  );
  expect(comparison.samples).toBe(1);
  expect(progress).toEqual([1]);
  // Transferred, not copied: the page's views are detached.
  expect([first.byteLength, second.byteLength, file.byteLength]).toEqual([0, 0, 0]);
  expect(worker.transferred).toHaveLength(3);
});

test("aborting compareInWorker terminates the worker and rejects with an AbortError", async () => {
  const worker = new StandInWorker();
  worker.hold = true;
  const controller = new AbortController();
  const comparing = compareInWorker(
    worker.asWorker,
    modelBytes(),
    encodeModel(quantized()),
    { kind: "random", count: 2, seed: 0 },
    { signal: controller.signal },
  );
  controller.abort();
  await expect(comparing).rejects.toMatchObject({ name: "AbortError" });
  expect(worker.terminated).toBe(true);
});

describe("skipLayerNames", () => {
  const advanced = { kind: "advanced", minimumConvWeightCount: 1, minimumConvKernelChannels: 1 } as const;
  const storageOf = (bytes: Uint8Array, layer: string): string[] =>
    inspectModel(decodeModel(bytes))
      .weights.filter((w) => w.layerPath.endsWith(`"${layer}"`))
      .map((w) => w.storage);

  test("the named layers keep float32 weights; the others are quantized as without the option", async () => {
    const [reply] = (
      await answer({
        type: "quantize",
        id: 1,
        name: `${MODEL}.mlmodel`,
        bytes: modelBytes(),
        options: { nbits: 8, selector: { ...advanced, skipLayerNames: ["fc", "pw2"] } },
      })
    ).filter((r) => r.type !== "progress");
    if (reply?.type !== "quantized") throw new Error(`expected quantized, got ${JSON.stringify(reply)}`);
    expect(storageOf(reply.result.bytes, "fc")).toEqual(["float32", "float32"]);
    expect(storageOf(reply.result.bytes, "pw2").every((s) => s === "float32")).toBe(true);
    expect(storageOf(reply.result.bytes, "conv1").some((s) => s !== "float32")).toBe(true);
    // The same bytes as a selector subclass skipping those names, called directly.
    class SkipNames extends AdvancedQuantizedLayerSelector {
      override doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean {
        return !["fc", "pw2"].includes(layer.name) && super.doQuantize(layer, weightParam);
      }
    }
    const direct = encodeModel(quantizeWeights(original(), { nbits: 8, selector: new SkipNames({ minimumConvWeightCount: 1, minimumConvKernelChannels: 1 }) }));
    expect(Buffer.from(reply.result.bytes).equals(Buffer.from(direct))).toBe(true);
  });

  test("with the default selector too", async () => {
    const replies = await answer({
      type: "quantize",
      id: 1,
      name: `${MODEL}.mlmodel`,
      bytes: modelBytes(),
      options: { nbits: 8, selector: { kind: "default", skipLayerNames: ["fc"] } },
    });
    const reply = replies.at(-1);
    if (reply?.type !== "quantized") throw new Error(`expected quantized, got ${JSON.stringify(reply)}`);
    expect(storageOf(reply.result.bytes, "fc")).toEqual(["float32", "float32"]);
  });

  test("a list that is not of names is refused", async () => {
    const replies = await answer({
      type: "quantize",
      id: 1,
      name: `${MODEL}.mlmodel`,
      bytes: modelBytes(),
      options: { nbits: 8, selector: { kind: "default", skipLayerNames: [3] as never } },
    });
    expect(replies).toEqual([
      { type: "failed", id: 1, error: { code: "invalid-option", message: expect.stringMatching(/^skipLayerNames must be an array of layer names/) } },
    ]);
  });
});

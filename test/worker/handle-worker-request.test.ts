/**
 * The worker's side, run directly (no real worker): what it answers is what the
 * CLI writes and prints for the same file and options.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { inspectModel } from "../../src/inspect-model.js";
import { handleWorkerRequest } from "../../src/worker/handle-worker-request.js";
import type { WorkerReply, WorkerRequest } from "../../src/worker/worker-messages.js";
import type { WorkerQuantizeOptions } from "../../src/worker/worker-options.js";
import { cli } from "../support/cli.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "worker-request-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Posted {
  readonly reply: WorkerReply;
  readonly transfer: Transferable[];
}

function answer(request: WorkerRequest): Posted[] {
  const posted: Posted[] = [];
  handleWorkerRequest(request, (reply, transfer) => posted.push({ reply, transfer }));
  return posted;
}

/** The last reply, which ends the request. */
function finalReply(posted: readonly Posted[]): Posted {
  const last = posted.at(-1);
  if (last === undefined) throw new Error("no reply");
  return last;
}

const golden = (file: string): Uint8Array => new Uint8Array(readFileSync(join(GOLDEN_MODELS_DIR, file)));

/** Runs the CLI's quantize on `file` with `flags`; returns the model and report files' bytes. */
async function cliQuantize(file: string, flags: readonly string[]): Promise<{ model: Uint8Array; report: string }> {
  const output = join(dir, `out-${flags.join("_")}-${file}`);
  const report = `${output}.json`;
  const r = await cli(["quantize", join(GOLDEN_MODELS_DIR, file), "-o", output, "--report", report, "--quiet", ...flags]);
  expect(r.stderr).toBe("");
  return { model: new Uint8Array(readFileSync(output)), report: readFileSync(report, "utf8") };
}

describe.each<[string, WorkerQuantizeOptions, readonly string[], string]>([
  ["cnn.mlmodel", { nbits: 8, mode: "linear" }, ["--nbits", "8"], "cnn.linear8.mlmodel"],
  ["cnn.mlmodel", { nbits: 4, mode: "kmeans" }, ["--nbits", "4", "--mode", "kmeans"], "cnn.kmeans_lut4.mlmodel"],
  [
    "fusion_edges.mlmodel",
    { nbits: 6, mode: "linear_lut", fuse: false },
    ["--nbits", "6", "--mode", "linear_lut", "--no-fuse"],
    "fusion_edges.linear_lut6.mlmodel",
  ],
  ["mlp.mlmodel", { nbits: 16 }, ["--nbits", "16"], "mlp.float16.mlmodel"],
  ["fp16_overflow.mlmodel", { nbits: 16, float16Overflow: "clamp" }, ["--nbits", "16", "--fp16-overflow", "clamp"], "fp16_overflow.float16.mlmodel"],
  [
    "mlp.mlmodel",
    { nbits: "auto", targetSnrDb: 30, modes: ["kmeans_lut"] },
    ["--nbits", "auto", "--target-snr", "30", "--modes", "kmeans_lut"],
    "mlp.auto30db.mlmodel",
  ],
  [
    "cnn.mlmodel",
    { nbits: 8, selector: { kind: "advanced", skipLayerTypes: ["bias"], minimumConvKernelChannels: 1, minimumConvWeightCount: 10 } },
    ["--nbits", "8", "--skip-layer-types", "bias", "--min-conv-kernel-channels", "1", "--min-conv-weight-count", "10"],
    "cnn.linear8.mlmodel",
  ],
  ["cnn.mlmodel", { nbits: 8, selector: { kind: "advanced" } }, ["--nbits", "8", "--min-conv-kernel-channels", "4"], "cnn.linear8.mlmodel"],
])("quantize %s with %j", (file, options, flags, fileName) => {
  test("the bytes and the report are the CLI's, the bytes transferred", async () => {
    const expected = await cliQuantize(file, flags);
    const posted = answer({ type: "quantize", id: 7, name: file, bytes: golden(file), options });
    const { reply, transfer } = finalReply(posted);
    if (reply.type !== "quantized") throw new Error(`expected quantized, got ${JSON.stringify(reply)}`);
    expect(reply.id).toBe(7);
    expect(Buffer.from(reply.result.bytes).equals(Buffer.from(expected.model))).toBe(true);
    expect(reply.result.reportJson).toBe(expected.report);
    expect(reply.result.fileName).toBe(fileName);
    // Moved, not copied: the buffer is the result's alone.
    expect(transfer).toEqual([reply.result.bytes.buffer]);
    expect(reply.result.bytes.byteLength).toBe(reply.result.bytes.buffer.byteLength);
    expect(reply.result.before).toEqual(inspectModel(decodeModel(golden(file))));
    expect(reply.result.after).toEqual(inspectModel(decodeModel(expected.model)));
    // Node has WebAssembly SIMD.
    expect(reply.result.kernels).toBe("wasm-simd");
  });
});

test("progress comes after each tensor, before the result, and ends at the total", () => {
  const posted = answer({ type: "quantize", id: 3, name: "cnn.mlmodel", bytes: golden("cnn.mlmodel"), options: { nbits: 8 } });
  const progress = posted.slice(0, -1).map(({ reply }) => {
    if (reply.type !== "progress") throw new Error(`expected progress, got ${reply.type}`);
    expect(reply.id).toBe(3);
    return reply.progress;
  });
  expect(progress.length).toBeGreaterThan(2);
  expect(progress.map((p) => p.done)).toEqual(progress.map((_, i) => i + 1));
  const last = progress.at(-1);
  expect(last?.done).toBe(last?.total);
  expect(finalReply(posted).reply.type).toBe("quantized");
});

test("inspect answers the model's summary", () => {
  const [only, ...rest] = answer({ type: "inspect", id: 1, name: "pipeline.mlmodel", bytes: golden("pipeline.mlmodel") });
  expect(rest).toEqual([]);
  expect(only?.reply).toEqual({ type: "inspected", id: 1, summary: inspectModel(decodeModel(golden("pipeline.mlmodel"))) });
});

const mlProgram = toBinary(ModelSchema, create(ModelSchema, { specificationVersion: 7, Type: { case: "mlProgram", value: {} } }));
const truncated = golden("cnn.mlmodel").subarray(0, 5000);

describe.each<[string, Uint8Array]>([
  ["not a model", new TextEncoder().encode("<html>not a model</html>")],
  ["an ML Program", mlProgram],
  ["a truncated file", truncated],
  ["an empty file", new Uint8Array(0)],
])("%s", (what, bytes) => {
  const file = join(tmpdir(), `bad ${what}.mlmodel`);
  beforeAll(() => writeFileSync(file, bytes));
  afterAll(() => rmSync(file, { force: true }));

  test.each(["inspect", "quantize"] as const)("%s fails as the CLI does, with its one-line message", async (type) => {
    const r = await cli(type === "inspect" ? ["inspect", file] : ["quantize", file, "-o", join(dir, "never.mlmodel"), "--nbits", "8"]);
    const request: WorkerRequest =
      type === "inspect" ? { type, id: 2, name: file, bytes: bytes.slice() } : { type, id: 2, name: file, bytes: bytes.slice(), options: { nbits: 8 } };
    const posted = answer(request);
    expect(posted).toHaveLength(1);
    const { reply } = finalReply(posted);
    // inspect shows an ML Program's summary (no network): so does the worker.
    if (r.code === 0 && type === "inspect") {
      expect(what).toBe("an ML Program");
      expect(reply.type).toBe("inspected");
      return;
    }
    expect(r.code).toBe(1);
    if (reply.type !== "failed") throw new Error(`expected failed, got ${reply.type}`);
    expect(`coreml-quantize: ${reply.error.message}\n`).toBe(r.stderr);
    expect(reply.error.code).not.toBe("internal");
  });
});

test("refused options fail with the library's message, naming the option", () => {
  const cases: [WorkerQuantizeOptions, RegExp][] = [
    [{ nbits: 9 }, /nbits/],
    [{ nbits: 8, mode: "linear_symmetric" as const, selector: { kind: "advanced", skipLayerTypes: ["conv"] } }, /unknown layer type to skip: "conv"/],
    [{ nbits: 8, selector: { kind: "clever" } as never }, /unknown selector kind "clever" \(a string\); valid: default, advanced/],
    [{ nbits: 4, mode: "linear_symmetric" }, /linear_symmetric quantization needs nbits 8/],
  ];
  for (const [options, message] of cases) {
    const { reply } = finalReply(answer({ type: "quantize", id: 4, name: "cnn.mlmodel", bytes: golden("cnn.mlmodel"), options }));
    expect(reply).toEqual({ type: "failed", id: 4, error: { code: "invalid-option", message: expect.stringMatching(message) } });
  }
});

test("an unknown request type fails, it does not throw", () => {
  const { reply } = finalReply(answer({ type: "predict", id: 5 } as unknown as WorkerRequest));
  expect(reply).toEqual({ type: "failed", id: 5, error: { code: "invalid-option", message: expect.stringContaining('unknown request type "predict"') } });
});

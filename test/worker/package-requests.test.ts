/**
 * The worker's package requests (`inspect-package`, `compress-package`), run
 * directly and through the page's side with a stand-in worker: the zip it
 * answers holds the weight.bin the CLI writes, a config gives the reference's
 * expected package, failures are the CLI's one-line messages.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isQuantizeError } from "../../src/errors.js";
import { inspectProgram } from "../../src/mlprogram/inspect-program.js";
import { decodeMlPackage } from "../../src/mlprogram/ml-package.js";
import { programReport } from "../../src/mlprogram/report-program.js";
import { encodeMlPackageZip, readZipArchive, writeZipArchive } from "../../src/mlprogram/zip-archive.js";
import { handleWorkerRequest } from "../../src/worker/handle-worker-request.js";
import { compressPackageInWorker, inspectPackageInWorker } from "../../src/worker/quantize-in-worker.js";
import { compressedPackageFileName } from "../../src/worker/quantized-file-name.js";
import type { WorkerPackageCompression, WorkerReply, WorkerRequest } from "../../src/worker/worker-messages.js";
import { casesFile, FIXTURES, packageFiles, WEIGHT_BIN_PATH } from "../mlprogram/fixtures.js";
import type { GoldenCase } from "../mlprogram/golden-cases.js";
import { cli } from "../support/cli.js";
import { StandInWorker } from "./stand-in-worker.js";

type Case = GoldenCase;

const CASES = casesFile().cases as unknown as Case[];
const INPUT = "models/mlp_fp32_ios16.mlpackage";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "worker-package-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Posted {
  readonly reply: WorkerReply;
  readonly transfer: Transferable[];
}

async function answer(request: WorkerRequest): Promise<Posted[]> {
  const posted: Posted[] = [];
  await handleWorkerRequest(request, (reply, transfer) => posted.push({ reply, transfer }));
  return posted;
}

/** A golden package zipped in its folder, as zipping an `.mlpackage` gives. */
function zipOf(relative: string): Uint8Array {
  const folder = relative.split("/").at(-1) as string;
  return encodeMlPackageZip(decodeMlPackage(packageFiles(relative)), { folder });
}

function caseOf(id: string): Case {
  const found = CASES.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no case ${id}`);
  return found;
}

/** What a config file of the case holds. */
const configText = (c: Case): string => JSON.stringify({ function: c.function, joint_compression: c.joint_compression, config: c.config });

async function compressed(
  name: string,
  bytes: Uint8Array,
  compression: WorkerPackageCompression,
): Promise<{ files: Map<string, Uint8Array>; posted: Posted[] }> {
  const posted = await answer({ type: "compress-package", id: 3, name, bytes, compression });
  expect(posted).toHaveLength(1);
  const only = posted[0] as Posted;
  if (only.reply.type !== "package-compressed") throw new Error(`replied ${JSON.stringify(only.reply)}`);
  return { files: await readZipArchive(only.reply.result.bytes), posted };
}

test("inspect-package: the summary inspectProgram gives for the package", async () => {
  const posted = await answer({ type: "inspect-package", id: 1, name: "mlp.mlpackage.zip", bytes: zipOf(INPUT) });
  expect(posted).toEqual([{ reply: { type: "package-inspected", id: 1, summary: inspectProgram(decodeMlPackage(packageFiles(INPUT))) }, transfer: [] }]);
});

test("compress-package with 8-bit linear: the zip's weight.bin and model are the CLI's; the zip moves, named after the mode", async () => {
  const out = join(dir, "cli.linear8.mlpackage.zip");
  const r = await cli(["quantize", join(FIXTURES, INPUT), "-o", out, "--nbits", "8", "--mode", "linear", "--quiet"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  const fromCli = await readZipArchive(new Uint8Array(readFileSync(out)));
  const { files, posted } = await compressed("mlp_fp32_ios16.mlpackage.zip", zipOf(INPUT), { kind: "flags", mode: "linear", nbits: 8 });
  const folder = "mlp_fp32_ios16.linear8.mlpackage";
  const cliFolder = "cli.linear8.mlpackage";
  expect([...files.keys()]).toEqual([...fromCli.keys()].map((path) => path.replace(cliFolder, folder)));
  for (const [path, contents] of fromCli)
    expect(Buffer.from(files.get(path.replace(cliFolder, folder)) as Uint8Array).equals(Buffer.from(contents))).toBe(true);
  const reply = (posted[0] as Posted).reply;
  if (reply.type !== "package-compressed") throw new Error("not compressed");
  expect(reply.result.fileName).toBe("mlp_fp32_ios16.linear8.mlpackage.zip");
  expect(reply.result.function).toBe("linear_quantize_weights");
  expect((posted[0] as Posted).transfer).toEqual([reply.result.bytes.buffer]);
  expect(reply.result.bytes.byteLength).toBe(reply.result.bytes.buffer.byteLength);
  const input = decodeMlPackage(packageFiles(INPUT));
  const output = decodeMlPackage(new Map([...files].map(([path, contents]) => [path.slice(folder.length + 1), contents])));
  expect(reply.result.report).toEqual(programReport(input, output));
  expect(reply.result.before).toEqual(inspectProgram(input));
  expect(reply.result.after).toEqual(inspectProgram(output));
});

test.each(["mlp_fp32_ios16__lq_lin_uint8_per_channel", "attn_fp32_ios16__pal_uniform_4b_exclude_embed", "conv_fp32_ios16__prune_mag_50"])(
  "compress-package with the config of %s: the reference's expected weight.bin, byte for byte",
  async (id) => {
    const c = caseOf(id);
    const { files } = await compressed(`${id}.mlpackage.zip`, zipOf(c.input), { kind: "config", text: configText(c), source: `${id}.json` });
    const weightBin = [...files].find(([path]) => path.endsWith(`/${WEIGHT_BIN_PATH}`))?.[1];
    const expected = packageFiles(c.expected as string).get(WEIGHT_BIN_PATH) as Uint8Array;
    expect(Buffer.from(weightBin as Uint8Array).equals(Buffer.from(expected))).toBe(true);
  },
);

test("a list of configs runs in order; the name joins the functions", async () => {
  const first = caseOf("mlp_fp32_ios16__prune_mag_50");
  const text = `[${configText(first)}]`;
  const posted = await answer({ type: "compress-package", id: 4, name: "m.zip", bytes: zipOf(INPUT), compression: { kind: "config", text } });
  const reply = (posted[0] as Posted).reply;
  expect(reply.type === "package-compressed" && reply.result.fileName).toBe("m.prune_weights.mlpackage.zip");
});

describe("failures: one line, as the CLI says it", () => {
  const failure = async (request: WorkerRequest): Promise<{ code: string; message: string }> => {
    const posted = await answer(request);
    expect(posted).toHaveLength(1);
    const reply = (posted[0] as Posted).reply;
    if (reply.type !== "failed") throw new Error(`replied ${reply.type}`);
    expect(reply.error.message).not.toContain("\n");
    return reply.error;
  };

  test("bytes that are not a zip, a zip without a package, an empty file: named, each in a line", async () => {
    const notZip = await failure({ type: "inspect-package", id: 5, name: "junk.zip", bytes: new TextEncoder().encode("not a zip at all") });
    expect(notZip.message).toMatch(/^junk\.zip: /);
    const noManifest = await failure({
      type: "compress-package",
      id: 6,
      name: "other.zip",
      bytes: writeZipArchive(new Map([["readme.txt", new TextEncoder().encode("hello")]])),
      compression: { kind: "flags", mode: "linear", nbits: 8 },
    });
    expect(noManifest).toEqual({ code: "unsupported-model", message: "other.zip: the archive holds no Manifest.json: it is not a zipped .mlpackage" });
    const empty = await failure({ type: "inspect-package", id: 7, name: "empty.zip", bytes: new Uint8Array(0) });
    expect(empty).toEqual({ code: "unsupported-model", message: "empty.zip is empty (0 bytes), not a zipped .mlpackage" });
  });

  test("bits a mode does not take, and a bad config: invalid-option before the zip is read", async () => {
    const bits = await failure({
      type: "compress-package",
      id: 8,
      name: "m.zip",
      bytes: new Uint8Array(0),
      compression: { kind: "flags", mode: "linear", nbits: 6 },
    });
    expect(bits.code).toBe("invalid-option");
    expect(bits.message).toContain("8 or 4");
    const notJson = await failure({
      type: "compress-package",
      id: 9,
      name: "m.zip",
      bytes: new Uint8Array(0),
      compression: { kind: "config", text: "{nope", source: "mine.json" },
    });
    expect(notJson.message).toMatch(/^mine\.json is not JSON: /);
    const unknownFunction = await failure({
      type: "compress-package",
      id: 10,
      name: "m.zip",
      bytes: new Uint8Array(0),
      compression: { kind: "config", text: '{"function": "quantize_weights", "config": {}}' },
    });
    expect(unknownFunction.message).toMatch(/^config: function "quantize_weights"; use one of linear_quantize_weights/);
  });
});

describe("the page's side", () => {
  test("compressPackageInWorker moves the zip to the worker and resolves with the package", async () => {
    const worker = new StandInWorker();
    const zip = zipOf(INPUT);
    const result = await compressPackageInWorker(worker.asWorker, zip, { kind: "flags", mode: "kmeans_lut", nbits: 4 }, { name: "mlp.mlpackage.zip" });
    expect(zip.byteLength).toBe(0); // detached: moved to the worker
    expect(result.fileName).toBe("mlp.kmeans_lut4.mlpackage.zip");
    expect(result.report.totals.compressed).toBeGreaterThan(0);
  });

  test("inspectPackageInWorker rejects with a QuantizeError for a bad zip", async () => {
    const worker = new StandInWorker();
    const error = await inspectPackageInWorker(worker.asWorker, new Uint8Array([0x50, 0x4b, 3, 4, 0]), { name: "bad.zip" }).catch((e: unknown) => e);
    expect(isQuantizeError(error) && error.message.startsWith("bad.zip: ")).toBe(true);
  });

  test("aborting terminates the worker", async () => {
    const worker = new StandInWorker();
    worker.hold = true;
    const controller = new AbortController();
    const pending = compressPackageInWorker(worker.asWorker, zipOf(INPUT), { kind: "flags", mode: "linear", nbits: 8 }, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(worker.terminated).toBe(true);
  });
});

test.each<[string, Parameters<typeof compressedPackageFileName>[1], string]>([
  ["mlp.mlpackage.zip", { kind: "flags", mode: "linear", nbits: 8 }, "mlp.linear8.mlpackage.zip"],
  ["mlp.zip", { kind: "flags", mode: "linear_lut", nbits: 2 }, "mlp.linear_lut2.mlpackage.zip"],
  ["MLP.MLPACKAGE.ZIP", { kind: "config", functions: ["prune_weights", "linear_quantize_weights"] }, "MLP.prune_weights+linear_quantize_weights.mlpackage.zip"],
  [".zip", { kind: "flags", mode: "kmeans_lut", nbits: 4 }, "model.kmeans_lut4.mlpackage.zip"],
])("compressedPackageFileName(%j, %j) is %j", (name, naming, expected) => {
  expect(compressedPackageFileName(name, naming)).toBe(expected);
});

test("an unknown request type names the package requests among the valid ones", async () => {
  const posted = await answer({ type: "nope", id: 11 } as unknown as WorkerRequest);
  const reply = (posted[0] as Posted).reply;
  expect(reply.type === "failed" && reply.error.message).toContain("inspect-package, compress-package");
});

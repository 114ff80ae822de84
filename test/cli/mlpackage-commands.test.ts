/**
 * `quantize`, `dequantize` and `report` on ML Program packages through
 * `run(argv, io)`, against the reference's golden packages: a `--config` case's
 * output is the expected weight.bin byte for byte, the flags mean coremltools'
 * default configs, zips in and out, the report's rows and sums, and the
 * refusals (one line, exit 1, nothing written).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/ml-package.js";
import { inspectProgram } from "../../src/mlprogram/inspect-program.js";
import type { ProgramReport } from "../../src/mlprogram/report-program.js";
import { decodeMlPackageZip, readZipArchive, writeZipArchive } from "../../src/mlprogram/zip-archive.js";
import { casesFile, FIXTURES, packageFiles, WEIGHT_BIN_PATH } from "../mlprogram/fixtures.js";
import type { GoldenCase } from "../mlprogram/golden-cases.js";
import { cli, expectOneLine, type CliResult } from "../support/cli.js";

const EXAMPLE_MLMODEL = join(__dirname, "..", "..", "examples", "cnn.mlmodel");

/** A reference case, with its record of each weight it compressed: `op.input`, and the sum of squared errors. */
type Case = GoldenCase & { readonly weights?: readonly { readonly input: string; readonly sse: number }[] };

const CASES = casesFile().cases as unknown as Case[];

function caseOf(id: string): Case {
  const found = CASES.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no case ${id}`);
  return found;
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-mlpackage-commands-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function ok(r: CliResult): string {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

/** A case's `{function, joint_compression, config}` written as a config file. */
function configFile(c: Case, name = `${c.id}.json`): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ function: c.function, joint_compression: c.joint_compression, config: c.config }));
  return file;
}

function weightBinOf(folder: string): Buffer {
  return readFileSync(join(folder, ...WEIGHT_BIN_PATH.split("/")));
}

function expectedWeightBin(c: Case): Buffer {
  return Buffer.from(packageFiles(c.expected as string).get(WEIGHT_BIN_PATH) as Uint8Array);
}

/** A fresh output folder name under the test directory. */
let outputs = 0;
function output(suffix = ".mlpackage"): string {
  outputs++;
  return join(dir, `out-${outputs}${suffix}`);
}

describe("quantize --config FILE.json", () => {
  test.each([
    "mlp_fp32_ios16__lq_lin_uint8_per_channel",
    "attn_fp32_ios18__lq_lin_uint4_per_block8",
    "attn_fp32_ios16__pal_uniform_4b_exclude_embed",
    "conv_fp32_ios16__prune_mag_50",
    // joint_compression: true, passed through to the pass.
    "mlp_fp32_ios18__joint_prune50_then_lq_int8",
    "mlp_fp32_ios18__joint_lq_int8_then_prune50",
  ])("%s: weight.bin is the reference's byte for byte", async (id) => {
    const c = caseOf(id);
    const out = output();
    const text = ok(await cli(["quantize", join(FIXTURES, c.input), "-o", out, "--config", configFile(c)]));
    expect(weightBinOf(out).equals(expectedWeightBin(c))).toBe(true);
    expect(text.split("\n")[0]).toBe(`${out}: ${c.function}`);
  });

  test("each weight the reference skips with a warning gets a line; --quiet prints only their count, on stderr", async () => {
    const c = caseOf("mlp_fp32_ios18__lq_sym_int4_per_block16");
    const skipped = (c.warnings ?? []).flatMap((w) => /^Cannot perform quantization on (\S+)\. Skipped this op\.$/.exec(w)?.[1] ?? []);
    expect(skipped).toEqual(["odd_weight_0"]);
    const text = ok(await cli(["quantize", join(FIXTURES, c.input), "-o", output(), "--config", configFile(c)]));
    expect(text.split("\n").filter((line) => line.startsWith("left "))).toEqual([expect.stringMatching(/^left odd_weight_0 as it was: /)]);
    const quiet = await cli(["quantize", join(FIXTURES, c.input), "-o", output(), "--config", configFile(c), "--quiet"]);
    expect(quiet).toEqual({ code: 0, stdout: "", stderr: "1 weight left as it was (run without --quiet to list them)\n" });
  });

  const bad: readonly [string, unknown, readonly string[]][] = [
    ["not JSON", "{", ["not JSON"]],
    ["an empty list", [], ["an empty list"]],
    ["a list holding a number", [1], ["[0]: not a JSON object"]],
    ["an unknown field", { function: "prune_weights", joint_compression: false, config: {}, id: "x" }, ["unknown field id"]],
    ["an unknown function", { function: "quantize_weights", joint_compression: false, config: {} }, ["quantize_weights", "linear_quantize_weights"]],
    ["decompress_weights", { function: "decompress_weights", joint_compression: false, config: null }, ["dequantize"]],
    [
      "an op config of another class",
      { function: "palettize_weights", joint_compression: false, config: { global_config: { config_type: "OpLinearQuantizerConfig" } } },
      ["global_config"],
    ],
    [
      "a field out of range",
      { function: "palettize_weights", joint_compression: false, config: { global_config: { config_type: "OpPalettizerConfig", nbits: 5 } } },
      ["nbits"],
    ],
    ["no config", { function: "prune_weights", joint_compression: false }, ["no config"]],
    // mlp_fp32_ios18__cfg_thr_int_threshold: coremltools refuses the Python int 1 where it takes a float; the file's text says it is one.
    [
      "an integer where coremltools takes a float",
      '{"function": "prune_weights", "joint_compression": false, "config": {"global_config": {"config_type": "OpThresholdPrunerConfig", "threshold": 1}}}',
      ["threshold", "1.0"],
    ],
    ["joint_compression not a boolean", { function: "prune_weights", joint_compression: "yes", config: {} }, ["joint_compression"]],
  ];
  test.each(bad)("a config file with %s: one line naming the file, exit 1, no output folder", async (_, contents, parts) => {
    const file = join(dir, "bad.json");
    writeFileSync(file, typeof contents === "string" ? contents : JSON.stringify(contents));
    const out = output();
    expectOneLine(await cli(["quantize", join(FIXTURES, "models/mlp_fp32_ios16.mlpackage"), "-o", out, "--config", file]), file, ...parts);
    expect(existsSync(out)).toBe(false);
  });

  test("a missing config file: one line naming it", async () => {
    const missing = join(dir, "missing.json");
    expectOneLine(await cli(["quantize", join(FIXTURES, "models/mlp_fp32_ios16.mlpackage"), "-o", output(), "--config", missing]), missing);
  });

  test("--config with --nbits is bad usage; --config on an .mlmodel is refused", async () => {
    const file = configFile(caseOf("attn_fp32_ios18__pal_kmeans_4b"));
    const usage = await cli(["quantize", join(FIXTURES, "models/mlp_fp32_ios16.mlpackage"), "-o", output(), "--config", file, "--nbits", "4"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--nbits does not go with it");
    expectOneLine(await cli(["quantize", EXAMPLE_MLMODEL, "-o", join(dir, "x.mlmodel"), "--config", file]), "--config", "--nbits");
  });
});

describe("quantize --nbits/--mode: coremltools' default config of the mode", () => {
  test.each([
    ["attn_fp32_ios16__pal_uniform_2b", ["--nbits", "2", "--mode", "linear_lut"]],
    ["mlp_fp32_ios16__lq_sym_int8_per_channel", ["--nbits", "8", "--mode", "linear_symmetric"]],
    ["mlp_fp32_ios16__lq_lin_int8_per_channel", ["--nbits", "8", "--mode", "linear"]],
    ["mlp_fp32_ios18__lq_sym_int4_per_channel", ["--nbits", "4", "--mode", "linear_symmetric"]],
  ])("%s: %j writes the reference's weight.bin", async (id, flags) => {
    const c = caseOf(id);
    const out = output();
    ok(await cli(["quantize", join(FIXTURES, c.input), "-o", out, ...flags]));
    expect(weightBinOf(out).equals(expectedWeightBin(c))).toBe(true);
  });

  test("--nbits 4 --mode kmeans_lut: the package decodes and the report shows every weight over the threshold palettized", async () => {
    const input = join(FIXTURES, "models/conv_fp32_ios18.mlpackage");
    const out = output();
    ok(await cli(["quantize", input, "-o", out, "--nbits", "4", "--mode", "kmeans_lut"]));
    const written = inspectProgram(decodeMlPackage(packageFilesAt(out)));
    const report = JSON.parse(ok(await cli(["report", input, out, "--json"]))) as ProgramReport;
    const large = inspectProgram(decodeMlPackage(packageFiles("models/conv_fp32_ios18.mlpackage"))).weights.filter(
      (w) => w.shape.reduce((a, b) => a * b, 1) > 2048 && w.dataType.startsWith("float"),
    );
    expect(large.length).toBeGreaterThan(0);
    const palettized = report.weights.filter((w) => w.after.chain.includes("constexpr_lut_to_dense"));
    expect(palettized.map((w) => `${w.opName}.${w.input}`).sort()).toEqual(large.map((w) => `${w.opName}.${w.input}`).sort());
    for (const w of palettized) expect(w.after.storedDataType).toBe("uint4");
    expect(written.weights.filter((w) => w.chain.length > 0).length).toBe(palettized.length);
    // The flags mean the reference's config {mode: "kmeans", nbits: 4}, every other field its default.
    const fromConfig = output();
    ok(await cli(["quantize", input, "-o", fromConfig, "--config", configFile(caseOf("conv_fp32_ios18__pal_kmeans_4b"))]));
    expect(weightBinOf(out).equals(weightBinOf(fromConfig))).toBe(true);
  });

  test.each([
    [
      ["--nbits", "16"],
      ["--nbits 16", ".mlmodel"],
    ],
    [["--nbits", "6", "--mode", "linear"], ["8 or 4"]],
    [["--nbits", "5", "--mode", "kmeans_lut"], ["1, 2, 3, 4, 6, 8"]],
    [
      ["--nbits", "8", "--no-fuse"],
      ["--no-fuse", ".mlmodel"],
    ],
    [["--nbits", "8", "--report", "r.json"], ["--report"]],
  ])("%j on a package: one line saying what to use, nothing written", async (flags, parts) => {
    const out = output();
    expectOneLine(await cli(["quantize", join(FIXTURES, "models/mlp_fp32_ios16.mlpackage"), "-o", out, ...flags]), ...parts);
    expect(existsSync(out)).toBe(false);
  });

  test("a 4-bit linear config on an iOS16 program is the pass's refusal, nothing written", async () => {
    const out = output();
    const r = await cli(["quantize", join(FIXTURES, "models/mlp_fp32_ios16.mlpackage"), "-o", out, "--nbits", "4", "--mode", "linear"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
    expect(r.stderr.split("\n")).toHaveLength(2);
    expect(existsSync(out)).toBe(false);
  });
});

/** A package folder's files by relative path, read without the library. */
function packageFilesAt(folder: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const visit = (at: string, prefix: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) visit(join(at, entry.name), `${prefix}${entry.name}/`);
      else files.set(prefix + entry.name, new Uint8Array(readFileSync(join(at, entry.name))));
    }
  };
  visit(folder, "");
  return files;
}

describe("outputs", () => {
  const c = caseOf("mlp_fp32_ios16__lq_sym_int8_per_channel");

  test("a zip in, a zip out (OUT ending in .zip), holding the package folder named after OUT", async () => {
    const zip = join(dir, "in.mlpackage.zip");
    writeFileSync(zip, writeZipArchive(packageFiles(c.input), { folder: "in.mlpackage" }));
    const out = output(".mlpackage.zip");
    ok(await cli(["quantize", zip, "-o", out, "--nbits", "8", "--mode", "linear_symmetric"]));
    const bytes = new Uint8Array(readFileSync(out));
    const entries = [...(await readZipArchive(bytes)).keys()];
    expect(entries).toContain(`out-${outputs}.mlpackage/Manifest.json`);
    const files = encodeMlPackage(await decodeMlPackageZip(bytes));
    expect(Buffer.from(files.get(WEIGHT_BIN_PATH) ?? []).equals(expectedWeightBin(c))).toBe(true);
  });

  test("-o naming the input package is refused without --force; -o - is refused", async () => {
    const copy = join(dir, "copy.mlpackage");
    ok(await cli(["quantize", join(FIXTURES, c.input), "-o", copy, "--nbits", "8", "--mode", "linear_symmetric"]));
    expectOneLine(await cli(["quantize", copy, "-o", copy, "--nbits", "8"]), "is the input package", "--force");
    expectOneLine(await cli(["quantize", copy, "-o", "-", "--nbits", "8"]), "-o -");
  });

  test("a missing output folder is refused before any work, naming it; nothing is written", async () => {
    const missing = join(dir, "missing-dir");
    expectOneLine(await cli(["quantize", join(FIXTURES, c.input), "-o", join(missing, "out.mlpackage"), "--nbits", "8"]), missing, "does not exist");
    expect(existsSync(missing)).toBe(false);
  });

  test("an OUT named neither *.mlpackage nor *.zip is refused before any work; nothing is written", async () => {
    const out = join(dir, "out.mlmodel");
    expectOneLine(await cli(["quantize", join(FIXTURES, c.input), "-o", out, "--nbits", "8"]), out, "*.mlpackage", "*.zip");
    expect(existsSync(out)).toBe(false);
  });

  test("a folder that is not a package is never replaced", async () => {
    const folder = join(dir, "not-a-package.mlpackage");
    mkdirSync(folder);
    writeFileSync(join(folder, "keep.txt"), "keep");
    expectOneLine(await cli(["quantize", join(FIXTURES, c.input), "-o", folder, "--nbits", "8"]), folder, "not an .mlpackage");
    expect(readdirSync(folder)).toEqual(["keep.txt"]);
  });
});

describe("dequantize", () => {
  test.each(["mlp_fp32_ios16__decompress__lq_lin_uint8_per_channel", "mlp_fp32_ios16__decompress__pal_kmeans_4b"])(
    "%s: weight.bin is the reference's decompress_weights output",
    async (id) => {
      const c = caseOf(id);
      const out = output();
      const text = ok(await cli(["dequantize", join(FIXTURES, c.input), "-o", out]));
      expect(text.split("\n")[0]).toBe(`${out}: decompress_weights`);
      expect(weightBinOf(out).equals(expectedWeightBin(c))).toBe(true);
    },
  );
});

describe("report on packages", () => {
  const c = caseOf("attn_fp32_ios18__pal_kmeans_4b");
  const original = join(FIXTURES, c.input);
  const compressed = join(FIXTURES, c.expected as string);

  test("--json: every weight input with its chain and sse; sse and SNR agree; totals sum the rows", async () => {
    const report = JSON.parse(ok(await cli(["report", original, compressed, "--json"]))) as ProgramReport;
    const inputs = inspectProgram(decodeMlPackage(packageFiles(c.input))).weights.filter((w) => w.shape.length > 0 && w.dataType === "float32");
    expect(report.weights.map((w) => `${w.opName}.${w.input}`)).toEqual(inputs.map((w) => `${w.opName}.${w.input}`));
    expect(report.unpaired).toEqual([]);
    for (const w of report.weights) {
      if (w.after.chain.length === 0) {
        expect({ exact: w.error.exact, sse: w.sse }).toEqual({ exact: true, sse: 0 });
        continue;
      }
      expect(w.sse).toBeGreaterThan(0);
      // SNR = 10 log10(Σx² / sse): the signal from the original's own float32 values.
      const signal = signalOf(w.opName, w.input);
      expect(10 * Math.log10(signal / w.sse)).toBeCloseTo(w.error.snrDb as number, 6);
    }
    expect(report.totals.sse).toBeCloseTo(
      report.weights.reduce((s, w) => s + w.sse, 0),
      12,
    );
    expect(report.totals.compressed).toBe(report.weights.filter((w) => w.after.chain.length > 0).length);
  });

  test.each([
    "attn_fp32_ios18__pal_kmeans_4b",
    "mlp_fp32_ios16__lq_lin_uint8_per_channel",
    "conv_fp16_ios18__lq_lin_uint4_per_block8",
    "conv_fp16_ios18__pal_kmeans_4b_per_channel_scale",
    "mlp_fp32_ios18__joint_prune50_then_lq_int8",
  ])("%s: each weight's sse is the reference's (cases.json), to float64 summation order", async (id) => {
    const k = caseOf(id);
    const report = JSON.parse(ok(await cli(["report", join(FIXTURES, k.input), join(FIXTURES, k.expected as string), "--json"]))) as ProgramReport;
    const sse = new Map(report.weights.map((w) => [`${w.opName}.${w.input}${w.index === 0 ? "" : `[${w.index}]`}`, w.sse]));
    expect(k.weights?.length).toBeGreaterThan(0);
    for (const w of k.weights ?? []) {
      const ours = sse.get(w.input);
      expect({ input: w.input, found: ours !== undefined }).toEqual({ input: w.input, found: true });
      expect(Math.abs((ours as number) - w.sse)).toBeLessThanOrEqual(1e-9 * Math.max(w.sse, 1e-30));
    }
  });

  test("the table: one row per weight, 100 columns at most, the chain listed below", async () => {
    const text = ok(await cli(["report", original, compressed]));
    for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^op\.input +type +shape +storage +bytes +SNR$/m);
    expect(text).toMatch(/"q_proj"\.y +matmul +\[64, 64\] +float32 -> uint4 #1 .* dB$/m);
    expect(text).toContain("#1: constexpr_lut_to_dense");
    expect(text).toMatch(/^total: 8 weights \(7 compressed, 1 exact\)/m);
  });

  test("a package against itself: every weight exact, sse 0", async () => {
    const report = JSON.parse(ok(await cli(["report", original, original, "--json"]))) as ProgramReport;
    expect(report.weights.every((w) => w.error.exact && w.sse === 0)).toBe(true);
    expect(report.totals.snrDb).toBeNull();
  });

  test("a package against an .mlmodel: one line", async () => {
    expectOneLine(await cli(["report", original, EXAMPLE_MLMODEL]), EXAMPLE_MLMODEL, "not an ML Program package");
  });
});

/** Σx² of an original weight, read from weight.bin as float32 without the library's decoders. */
function signalOf(opName: string, input: string): number {
  const summary = inspectProgram(decodeMlPackage(packageFiles("models/attn_fp32_ios18.mlpackage")));
  const weight = summary.weights.find((w) => w.opName === opName && w.input === input);
  const constant = summary.constants.find((k) => k.path === weight?.sources[0]);
  if (constant?.storage.kind !== "blob") throw new Error(`${opName}.${input} is not in weight.bin`);
  const bin = packageFiles("models/attn_fp32_ios18.mlpackage").get(WEIGHT_BIN_PATH) as Uint8Array;
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  // The blob's metadata record: the data's offset at +16 (after sentinel, dtype, size).
  const dataOffset = Number(view.getBigUint64(constant.storage.offset + 16, true));
  let signal = 0;
  for (let i = 0; i < constant.count; i++) signal += view.getFloat32(dataOffset + 4 * i, true) ** 2;
  return signal;
}

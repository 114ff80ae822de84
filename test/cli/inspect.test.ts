/**
 * The CLI driven through `run(argv, io)` with captured output: `inspect` on every
 * golden file, its table for people, and every way a command line can fail.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helpText, USAGE } from "../../src/cli/args.js";
import { formatBytes } from "../../src/report/format-table.js";
import { shortenLayerPath } from "../../src/report/shorten-layer-path.js";
import { EXIT, run } from "../../src/cli/run.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import { buildModel, floatCount, floats } from "../walker/helpers.js";
import { cli, TEST_VERSION as VERSION, type CliResult } from "../support/cli.js";
import { GOLDEN_EXPECTED_DIR, GOLDEN_MODELS_DIR, goldenExpected, goldenInputs } from "../support/golden.js";
import { product } from "../support/product.js";

/** The JSON summary, as `inspect --json` prints it. */
interface Summary {
  modelType: string;
  specificationVersion: number;
  networks: { path: string; layers: number }[];
  weights: {
    layerPath: string;
    layer: string;
    kind: string;
    field: string;
    shape: number[];
    count: number;
    storage: "empty" | "float32" | "float16" | "linear" | "lut" | "int8";
    nbits?: number;
    bytes: number;
    quantizable: boolean;
  }[];
  totals: { tensors: number; values: number; bytes: number; bytesByStorage: Record<string, number> };
}

async function inspectJson(file: string): Promise<Summary> {
  const { code, stdout, stderr } = await cli(["inspect", file, "--json"]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(stdout.endsWith("}\n")).toBe(true);
  return JSON.parse(stdout) as Summary;
}

/** Checks that hold for every summary. */
function checkSummaryShape(s: Summary): void {
  expect(Object.keys(s).sort()).toEqual(["modelType", "networks", "specificationVersion", "totals", "weights"]);
  expect(typeof s.modelType).toBe("string");
  expect(Number.isInteger(s.specificationVersion)).toBe(true);
  expect(Array.isArray(s.networks)).toBe(true);
  for (const w of s.weights) {
    expect(w.count).toBe(product(w.shape));
    expect(w.layerPath.startsWith("model/")).toBe(true);
    expect(w.layerPath.endsWith(` ${JSON.stringify(w.layer)}`)).toBe(true);
    expect(w.nbits !== undefined).toBe(w.storage === "linear" || w.storage === "lut");
  }
  expect(s.totals.tensors).toBe(s.weights.length);
  expect(s.totals.values).toBe(s.weights.reduce((a, w) => a + w.count, 0));
  expect(s.totals.bytes).toBe(s.weights.reduce((a, w) => a + w.bytes, 0));
  const byStorage: Record<string, number> = {};
  for (const w of s.weights) byStorage[w.storage] = (byStorage[w.storage] ?? 0) + w.bytes;
  expect(s.totals.bytesByStorage).toEqual(byStorage);
}

/**
 * Bytes a weight must take for its storage: float32 4 per value, float16 2, int8
 * 1 plus one float32 scale; n-bit payloads ceil(count * n / 8) plus the LUT
 * (2^n float32) or per-channel scale and bias (float32 each; one channel for a
 * vector, else shape[0] or, for convolution weights, shape[1]).
 */
function plausibleBytes(w: Summary["weights"][number]): number[] {
  const payload = Math.ceil((w.count * (w.nbits ?? 0)) / 8);
  switch (w.storage) {
    case "empty":
      return [0];
    case "float32":
      return [4 * w.count];
    case "float16":
      return [2 * w.count];
    case "int8":
      return [w.count + 4];
    case "lut":
      return [payload + 4 * 2 ** (w.nbits ?? 0)];
    case "linear": {
      if (w.shape.length === 1) return [payload + 8];
      const channels = w.kind === "convolution" && w.shape.length === 4 ? [w.shape[0] ?? 0, w.shape[1] ?? 0] : [w.shape[0] ?? 0];
      return channels.map((c) => payload + 8 * c);
    }
  }
}

// ---------------------------------------------------------------------------
// inspect --json on every golden file
// ---------------------------------------------------------------------------

describe("inspect --json on every golden input", () => {
  test.each(goldenInputs())("%s", async (name) => {
    const file = join(GOLDEN_MODELS_DIR, name);
    const s = await inspectJson(file);
    checkSummaryShape(s);
    const model = decodeModel(readFileSync(file));
    expect(s.modelType).toBe(model.Type.case);
    expect(s.specificationVersion).toBe(model.specificationVersion);
    // Exactly the walker's weights, in its order, with the stored storage and bytes.
    const refs = allLayers(model).flatMap(({ path, layer }) => layerWeights(layer).map((ref) => ({ path, layer, ref })));
    expect(s.weights.map((w) => [w.layerPath, w.kind, w.field, w.shape])).toEqual(
      refs.map(({ path, layer, ref }) => [path, layer.layer.case, ref.field, [...ref.shape]]),
    );
    s.weights.forEach((w, i) => {
      const wp = refs[i]?.ref.weightParams;
      if (wp === undefined) throw new Error("unreachable");
      expect(w.count).toBe(floatCount(wp));
      expect(w.storage).toBe(wp.floatValue.length > 0 ? "float32" : "float16");
      expect(w.bytes).toBe(wp.floatValue.byteLength + wp.float16Value.byteLength);
      expect(w.quantizable).toBe(true);
    });
    expect(s.weights.length).toBeGreaterThan(0);
  });
});

describe("inspect --json on every golden output", () => {
  const files = goldenExpected();

  test("there are outputs to check", () => {
    expect(files.length).toBeGreaterThan(500);
  });

  test.each(files)("%s", async (name) => {
    const s = await inspectJson(join(GOLDEN_EXPECTED_DIR, name));
    checkSummaryShape(s);
    for (const w of s.weights)
      expect({ at: `${w.layerPath}/${w.field}`, bytes: plausibleBytes(w) }).toEqual({
        at: `${w.layerPath}/${w.field}`,
        bytes: expect.arrayContaining([w.bytes]),
      });
    // NAME.MODE.BITS[.dequantized|.selNN].mlmodel, NAME.fused.mlmodel, NAME.int8_matmul.na.mlmodel
    const [, mode, bits, suffix] = name.replace(/\.mlmodel$/, "").split(".");
    const kinds = s.weights.map((w) => (w.nbits === undefined ? w.storage : `${w.storage}${w.nbits}`));
    expect(kinds.length).toBeGreaterThan(0);
    if (mode === "fused" || suffix === "dequantized") {
      expect(new Set(kinds)).toEqual(new Set(["float32"]));
    } else if (mode === "int8_matmul") {
      // Only innerProduct and batchedMatmul weights become int8; a model without them keeps none.
      const products = s.weights.some((w) => w.kind === "innerProduct" || w.kind === "batchedMatmul");
      if (products) expect(kinds).toContain("int8");
      else expect(kinds).not.toContain("int8");
      for (const w of s.weights) {
        if (w.storage === "int8") expect([w.kind, w.field]).toEqual([expect.stringMatching(/^(innerProduct|batchedMatmul)$/), "weights"]);
        else expect(["float32", "float16"]).toContain(w.storage);
      }
    } else if (bits === "16") {
      expect(new Set(kinds)).toEqual(new Set(["float16"]));
    } else {
      const storage = mode === "linear" || mode === "linear_symmetric" ? "linear" : "lut";
      expect(["linear", "linear_symmetric", "linear_lut", "kmeans_lut"]).toContain(mode);
      const want = `${storage}${Number(bits)}`;
      if (suffix === undefined) {
        expect(new Set(kinds)).toEqual(new Set([want]));
      } else {
        // An advanced selector: what it selects is quantized, the rest keeps its float storage.
        expect(suffix).toMatch(/^sel\d+$/);
        for (const k of kinds) expect([want, "float32", "float16"]).toContain(k);
        // sel24 skips innerProduct layers, sel22 batchnorm and bias layers (cases.json); a
        // selector may skip every layer of a small model (sel24 on mixed_fp16: kernelChannels < 4).
        const skipped = suffix === "sel24" ? ["innerProduct"] : suffix === "sel22" ? ["batchnorm", "bias"] : [];
        for (const w of s.weights) if (skipped.includes(w.kind)) expect(["float32", "float16"]).toContain(w.storage);
      }
    }
  });
});

describe("inspect --json: selector outputs", () => {
  test("cnn.linear.4.sel23: the selected convolutions are 4-bit linear, the small ones stay float32", async () => {
    const s = await inspectJson(join(GOLDEN_EXPECTED_DIR, "cnn.linear.4.sel23.mlmodel"));
    const quantized = s.weights.filter((w) => w.storage === "linear");
    expect(quantized.length).toBeGreaterThan(0);
    expect(quantized.every((w) => w.nbits === 4)).toBe(true);
    expect(s.weights.some((w) => w.storage === "float32")).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Summary contents the docs promise
// ---------------------------------------------------------------------------

describe("inspect --json: networks", () => {
  test("pipelines list each network model with its path and layer count", async () => {
    expect((await inspectJson(join(GOLDEN_MODELS_DIR, "pipeline_classifier.mlmodel"))).networks).toEqual([
      { path: "model/pipelineClassifier.pipeline.models[0]/neuralNetwork", layers: 1 },
      { path: "model/pipelineClassifier.pipeline.models[1]/neuralNetworkClassifier", layers: 1 },
    ]);
    expect((await inspectJson(join(GOLDEN_MODELS_DIR, "real_updatable_drawing_pipeline_nn_knn.mlmodel"))).networks).toEqual([
      { path: "model/pipelineClassifier.pipeline.models[0]/neuralNetwork", layers: 12 },
    ]);
  });

  test("networks include the nested branch and loop bodies (ModelSummary.networks: 'nested bodies included')", async () => {
    const file = join(GOLDEN_MODELS_DIR, "control_flow.mlmodel");
    const s = await inspectJson(file);
    const bodies = [...new Set(allLayers(decodeModel(readFileSync(file))).map((l) => l.networkPath))];
    expect(bodies).toHaveLength(5);
    expect(s.networks.map((n) => n.path)).toEqual(expect.arrayContaining(bodies));
    expect(s.networks.find((n) => n.path === "model/neuralNetwork")?.layers).toBe(4);
  });
});

// ---------------------------------------------------------------------------
// The table for people
// ---------------------------------------------------------------------------

function storageLabel(w: Summary["weights"][number]): string {
  const base = w.storage === "linear" ? `${w.nbits}-bit linear` : w.storage === "lut" ? `${w.nbits}-bit LUT` : w.storage;
  return w.quantizable ? base : `${base} *`;
}

/** Checks the human output of `file` against its JSON summary. */
async function checkTable(file: string): Promise<string[]> {
  const s = await inspectJson(file);
  const { code, stdout, stderr } = await cli(["inspect", file]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(stdout.endsWith("\n")).toBe(true);
  const lines = stdout.slice(0, -1).split("\n");
  for (const line of lines) expect(line).toBe(line.trimEnd());

  expect(lines[0]).toBe(`${file}: ${s.modelType}, specification version ${s.specificationVersion}`);
  const networkLines = s.networks.map((n) => `  network ${n.path}: ${n.layers} layers`);
  expect(lines.slice(1, 1 + networkLines.length)).toEqual(networkLines.length > 0 ? networkLines : []);
  let at = 1 + networkLines.length;
  if (s.networks.length === 0) expect(lines[at++]).toBe("  no neural network");

  if (s.weights.length > 0) {
    expect(lines[at++]).toBe("");
    const header = lines[at++] ?? "";
    expect(header).toMatch(/^layer {2,}kind {2,}field {2,}shape {2,}count {2,}storage {2,}bytes$/);
    const start = (name: string): number => header.indexOf(name);
    const end = (name: string): number => header.indexOf(name) + name.length;
    const rows = lines.slice(at, at + s.weights.length);
    at += s.weights.length;
    s.weights.forEach((w, i) => {
      const row = rows[i] ?? "";
      // Left-aligned cells start under their header and are padded to the next column.
      // A table too wide for 100 columns shortens its layer names (see shorten-layer-path.test.ts).
      expect(row.slice(0, start("kind")).trimEnd()).toBe(shortenLayerPath(w.layerPath.replace(/^model\//, ""), start("kind") - 2));
      expect(row.slice(start("kind"), start("field")).trimEnd()).toBe(w.kind);
      expect(row.slice(start("field"), start("shape")).trimEnd()).toBe(w.field);
      expect(row.slice(start("shape")).startsWith(`[${w.shape.join(", ")}] `)).toBe(true);
      expect(row.slice(start("storage")).startsWith(`${storageLabel(w)}  `)).toBe(true);
      expect(row.slice(start("storage") + storageLabel(w).length)).toMatch(/^ {2,}\S+ [KMG]?B$/);
      // Right-aligned numbers end under the end of their header.
      expect(row.slice(0, end("count")).endsWith(` ${w.count}`)).toBe(true);
      expect(row.slice(end("count")).startsWith("  ")).toBe(true);
      expect(row.endsWith(` ${formatBytes(w.bytes)}`)).toBe(true);
      expect(row).toHaveLength(header.length);
      for (const name of ["kind", "field", "shape", "storage"]) expect(row.slice(start(name) - 2, start(name))).toBe("  ");
    });
    if (s.weights.some((w) => !w.quantizable)) expect(lines[at++]).toBe("* not quantized by quantize (the reference leaves it alone)");
  }
  expect(lines[at++]).toBe("");
  const byStorage = Object.entries(s.totals.bytesByStorage)
    .map(([k, v]) => `${k} ${formatBytes(v)}`)
    .join(", ");
  expect(lines[at++]).toBe(
    `total: ${s.totals.tensors} tensors, ${s.totals.values} values, ${formatBytes(s.totals.bytes)}${byStorage === "" ? "" : ` (${byStorage})`}`,
  );
  expect(at).toBe(lines.length);
  return lines;
}

describe("inspect: the table", () => {
  test.each([
    join(GOLDEN_MODELS_DIR, "cnn.mlmodel"),
    join(GOLDEN_MODELS_DIR, "control_flow.mlmodel"),
    join(GOLDEN_MODELS_DIR, "sequence.mlmodel"),
    join(GOLDEN_MODELS_DIR, "mixed_fp16.mlmodel"),
    join(GOLDEN_MODELS_DIR, "real_updatable_drawing_pipeline_nn_knn.mlmodel"),
    join(GOLDEN_EXPECTED_DIR, "cnn.linear.4.mlmodel"),
    join(GOLDEN_EXPECTED_DIR, "sequence.linear_lut.3.mlmodel"),
    join(GOLDEN_EXPECTED_DIR, "mixed_fp16.int8_matmul.na.mlmodel"),
    join(GOLDEN_EXPECTED_DIR, "pipeline_classifier.linear.16.mlmodel"),
  ])("%s: header, aligned columns, total line", async (file) => {
    await checkTable(file);
  });

  test("cnn.mlmodel: the first lines", async () => {
    const file = join(GOLDEN_MODELS_DIR, "cnn.mlmodel");
    const lines = await checkTable(file);
    expect(lines.slice(0, 4)).toEqual([
      `${file}: neuralNetwork, specification version 4`,
      "  network model/neuralNetwork: 11 layers",
      "",
      expect.stringMatching(/^layer /),
    ]);
    expect(lines[4]).toMatch(/^neuralNetwork\/layers\[0\] "conv1" +convolution +weights +\[8, 3, 3, 3\] +216 +float32 +864 B$/);
    expect(lines.at(-1)).toMatch(/^total: 19 tensors, \d+ values, [\d.]+ KB \(float32 [\d.]+ KB\)$/);
  });

  describe("with built models", () => {
    let dir = "";
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "coreml-quantize-inspect-"));
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const write = (name: string, model: Model): string => {
      const file = join(dir, name);
      writeFileSync(file, encodeModel(model));
      return file;
    };

    test("weights the reference leaves alone are starred, with a footnote", async () => {
      const file = write(
        "prelu.mlmodel",
        buildModel({
          specificationVersion: 4,
          Type: {
            case: "neuralNetwork",
            value: {
              layers: [
                { name: "fc", layer: { case: "innerProduct", value: { inputChannels: 2n, outputChannels: 3n, weights: floats(6) } } },
                { name: "act", layer: { case: "activation", value: { NonlinearityType: { case: "PReLU", value: { alpha: floats(3) } } } } },
              ],
            },
          },
        }),
      );
      const lines = await checkTable(file);
      expect(lines.some((l) => /"act" +activation +PReLU\.alpha +\[3\] +3 +float32 \* +12 B$/.test(l))).toBe(true);
      expect(lines).toContain("* not quantized by quantize (the reference leaves it alone)");
    });

    test("a model with no network: 'no neural network', no table, zero totals", async () => {
      const file = write(
        "glm.mlmodel",
        buildModel({ specificationVersion: 1, Type: { case: "glmRegressor", value: { offset: [1], weights: [{ value: [1, 2] }] } } }),
      );
      const lines = await checkTable(file);
      expect(lines).toEqual([`${file}: glmRegressor, specification version 1`, "  no neural network", "", "total: 0 tensors, 0 values, 0 B"]);
      const s = await inspectJson(file);
      expect(s).toEqual({
        modelType: "glmRegressor",
        specificationVersion: 1,
        networks: [],
        weights: [],
        totals: { tensors: 0, values: 0, bytes: 0, bytesByStorage: {} },
      });
    });

    test("a WeightParams with two storages: exit 1, one line naming the layer and field", async () => {
      const file = write(
        "two-storages.mlmodel",
        buildModel({
          specificationVersion: 4,
          Type: {
            case: "neuralNetwork",
            value: {
              layers: [
                {
                  name: "fc",
                  layer: {
                    case: "innerProduct",
                    value: { inputChannels: 2n, outputChannels: 2n, weights: { floatValue: [1, 2, 3, 4], float16Value: new Uint8Array(8) } },
                  },
                },
              ],
            },
          },
        }),
      );
      for (const argv of [
        ["inspect", file],
        ["inspect", file, "--json"],
      ]) {
        const r = await cli(argv);
        expect(r.code).toBe(EXIT.failure);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/^coreml-quantize: .*"fc"\/weights.*floatValue and float16Value.*\n$/);
        expect(r.stderr.split("\n")).toHaveLength(2);
      }
    });
  });
});

// ---------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------

/** Exit 1, nothing on stdout, exactly one line on stderr starting `coreml-quantize:`. */
function expectOneLineFailure(r: CliResult): string {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^coreml-quantize: \S.*\n$/);
  expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
  return r.stderr;
}

describe("inspect: files that cannot be read", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "coreml-quantize-cli-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("a missing file: exit 1, one line naming it", async () => {
    const missing = join(dir, "missing.mlmodel");
    for (const argv of [
      ["inspect", missing],
      ["inspect", missing, "--json"],
    ]) {
      expect(expectOneLineFailure(await cli(argv))).toContain(missing);
    }
  });

  test("a directory: exit 1, one line", async () => {
    expect(expectOneLineFailure(await cli(["inspect", dir]))).toContain("directory");
  });

  test("an .mlpackage directory: exit 1, one line with a hint", async () => {
    const pkg = join(dir, "Model.mlpackage");
    mkdirSync(pkg);
    expect(expectOneLineFailure(await cli(["inspect", pkg, "--json"]))).toContain(".mlpackage");
  });

  test.each([
    ["text", new TextEncoder().encode("this is not a Core ML model\n")],
    ["0xff bytes", new Uint8Array(64).fill(0xff)],
    ["a truncated length", Uint8Array.from([0x12, 0x7f, 0x01])],
  ])("a garbage file (%s): exit 1, one line", async (_, bytes) => {
    const file = join(dir, "garbage.mlmodel");
    writeFileSync(file, bytes);
    expect(expectOneLineFailure(await cli(["inspect", file]))).toMatch(/not a valid Core ML model/);
    expectOneLineFailure(await cli(["inspect", file, "--json"]));
  });

  test("with debug on, the stack follows the message", async () => {
    const r = await cli(["inspect", join(dir, "missing.mlmodel")], { debug: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").length).toBeGreaterThan(2);
    expect(r.stderr).toMatch(/^coreml-quantize: /);
  });
});

describe("bad usage: exit 2, the problem then the pointer to the help on stderr", () => {
  test.each([
    ["no command", []],
    ["only an option", ["--json"]],
    ["an unknown command", ["frobnicate", "x.mlmodel"]],
    ["an unknown option", ["inspect", "--bogus", join(GOLDEN_MODELS_DIR, "mlp.mlmodel")]],
    ["an unknown short option", ["inspect", "-x", join(GOLDEN_MODELS_DIR, "mlp.mlmodel")]],
    ["a missing operand", ["inspect"]],
    ["a missing operand with --json", ["inspect", "--json"]],
    ["an extra operand", ["inspect", "a.mlmodel", "b.mlmodel"]],
    ["a value for a flag", ["inspect", "--json=yes", "a.mlmodel"]],
  ])("%s", async (_, argv) => {
    const r = await cli(argv);
    expect(r.code).toBe(EXIT.usage);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^coreml-quantize: \S[^\n]*\nRun 'coreml-quantize (inspect )?--help' for usage\.\n$/);
  });

  test("the message says what is wrong", async () => {
    expect((await cli(["frobnicate"])).stderr).toContain('unknown command "frobnicate"');
    expect((await cli(["inspect"])).stderr).toContain("MODEL");
    expect((await cli(["inspect", "--bogus", "x"])).stderr).toContain("--bogus");
  });
});

describe("help and version", () => {
  test.each([[["--help"]], [["-h"]]])("%j: exit 0, usage on stdout", async (argv) => {
    expect(await cli(argv)).toEqual({ code: 0, stdout: USAGE, stderr: "" });
  });

  test.each([[["inspect", "--help"]], [["inspect", "x.mlmodel", "-h"]]])("%j: exit 0, inspect's usage on stdout", async (argv) => {
    expect(await cli(argv)).toEqual({ code: 0, stdout: helpText("inspect"), stderr: "" });
  });

  test("the usage names the command and the options", () => {
    expect(USAGE).toMatch(/^Usage:\n/);
    for (const word of ["inspect MODEL", "--json", "--help", "--version"]) expect(USAGE).toContain(word);
  });

  test.each([[["--version"]], [["-v"]]])("%j: exit 0, the version passed in io", async (argv) => {
    expect(await cli(argv)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  test("the version comes from io, not from anywhere else", async () => {
    let out = "";
    const code = await run(["--version"], { stdout: (t) => (out += t), stderr: () => undefined, version: "0.0.0-other" });
    expect(code).toBe(0);
    expect(out).toBe("0.0.0-other\n");
  });
});

describe("option placement", () => {
  test("--json before the command or the operand works the same", async () => {
    const file = join(GOLDEN_MODELS_DIR, "regressor.mlmodel");
    const a = await cli(["inspect", file, "--json"]);
    const b = await cli(["--json", "inspect", file]);
    const c = await cli(["inspect", "--json", file]);
    expect(a.code).toBe(0);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });
});

/**
 * The commands that write a model — quantize, dequantize, int8-matmul — driven
 * through `run(argv, io)` on files in a temporary directory: golden parity through
 * the file system, refusals that leave every file alone, the input-is-output guard,
 * usage errors, atomic writes (no temporary files left) and the progress bar.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { formatBytes } from "../../src/report/format-table.js";
import { EXIT } from "../../src/cli/run.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { inspectModel, type ModelSummary } from "../../src/inspect-model.js";
import { activateInt8Int8MatrixMultiplications, quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { MatrixMultiplyLayerSelector } from "../../src/selectors.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import { buildModel } from "../walker/helpers.js";
import { cli, type CliResult } from "../support/cli.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";

const GOLDEN = join("test", "fixtures", "golden");

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-transform-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh empty directory under the suite's temporary root. */
const freshDir = (): string => mkdtempSync(join(root, "t-"));

/** The directory's entries, sorted: temporary files would show up here. */
const listing = (dir: string): string[] => readdirSync(dir).sort();

const bytesOf = (file: string): Buffer => readFileSync(file);

/** Exit 0, nothing on stderr, the one-line summary on stdout (checked against the files). */
function expectWrote(r: CliResult, input: string, output: string): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
  const before = inspectModel(decodeModel(bytesOf(input))).totals.bytes;
  const after = inspectModel(decodeModel(bytesOf(output))).totals.bytes;
  const size = statSync(output).size;
  const escaped = output.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // The summary line; `quantize` follows it with the per-tensor table (layer, field, storage, bytes, SNR).
  const [first = "", ...rest] = r.stdout.split("\n");
  const versions = [input, output].map((file) => decodeModel(bytesOf(file)).specificationVersion);
  const versionChange = versions[0] === versions[1] ? "" : `; specification version ${versions[0]} -> ${versions[1]}`;
  expect(`${first}\n`).toMatch(
    new RegExp(
      `^wrote ${escaped}: \\d+ layers \\(\\d+ tensors\\) changed; weights \\S+ [KMG]?B -> \\S+ [KMG]?B; file \\S+ [KMG]?B(; specification version \\d+ -> \\d+)?\\n$`,
    ),
  );
  expect(`${first}\n`).toContain(`; weights ${formatBytes(before)} -> ${formatBytes(after)}; file ${formatBytes(size)}${versionChange}\n`);
  if (rest.length > 1) {
    expect(rest[0]).toBe("");
    expect(rest[1]).toMatch(/^layer +field +storage +bytes +SNR$/);
    expect(r.stdout).toMatch(/\ntotal: \d+ tensors? \(\d+ exact\); weights /);
  }
}

/** Exit 1, nothing on stdout, exactly one line on stderr starting `coreml-quantize:`. */
function expectOneLineFailure(r: CliResult): string {
  expect(r.code).toBe(EXIT.failure);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^coreml-quantize: \S[^\n]*\n$/);
  return r.stderr;
}

/** Exit 2, nothing on stdout, the problem then the pointer to the command's help on stderr. */
function expectUsage(r: CliResult): string {
  expect(r.code).toBe(EXIT.usage);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^coreml-quantize: \S[^\n]*\nRun 'coreml-quantize [a-z0-9-]+ --help' for usage\.\n$/);
  return r.stderr;
}

/** Replaces Date.now with a clock that jumps `step` ms per call, for the progress bar. */
function fakeClock(step: number): jest.SpyInstance<number, []> {
  let now = 1_000_000;
  return jest.spyOn(Date, "now").mockImplementation(() => (now += step));
}

// ---------------------------------------------------------------------------
// Golden parity through the file system
// ---------------------------------------------------------------------------

interface GoldenCase {
  id: string;
  input: string;
  nbits: number | null;
  mode: "linear" | "linear_symmetric" | "linear_lut" | "kmeans_lut" | "dequantization" | "int8_matmul";
  selector: { skip_layer_types?: string[]; minimum_conv_kernel_channels?: number; minimum_conv_weight_count?: number } | null;
  expected?: string;
  error?: string;
}

const cases = JSON.parse(readFileSync(join(GOLDEN, "cases.json"), "utf8")) as GoldenCase[];

/** The golden case as a command line writing `output`. */
function argvFor(c: GoldenCase, output: string): string[] {
  const input = join(GOLDEN, c.input);
  if (c.mode === "int8_matmul") return ["int8-matmul", input, "-o", output];
  if (c.mode === "dequantization") return ["dequantize", input, "-o", output];
  const argv = ["quantize", input, "-o", output, "--nbits", String(c.nbits)];
  if (c.mode !== "linear") argv.push("--mode", c.mode); // linear is the default: leave it out
  const s = c.selector;
  if (s !== null) {
    if (s.skip_layer_types !== undefined) argv.push("--skip-layer-types", s.skip_layer_types.join(","));
    if (s.minimum_conv_kernel_channels !== undefined) argv.push("--min-conv-kernel-channels", String(s.minimum_conv_kernel_channels));
    if (s.minimum_conv_weight_count !== undefined) argv.push("--min-conv-weight-count", String(s.minimum_conv_weight_count));
  }
  return argv;
}

const SUBSET_MODELS = ["cnn", "control_flow", "mixed_fp16", "pipeline_classifier", "sequence", "real_tf_batchedmatmul_softmaxnd", "fp16_edge"];
const SUBSET_BITS = [1, 3, 4, 8, 16];
const modelOf = (c: GoldenCase): string => (c.input.split("/").pop() ?? "").split(".")[0] ?? "";
/** Bit width of a dequantization case's input (`expected/cnn.linear.4.mlmodel` -> 4). */
const inputBits = (c: GoldenCase): number => Number(c.input.split(".").at(-2));

const subset = cases.filter(
  (c) =>
    c.error === undefined &&
    SUBSET_MODELS.includes(modelOf(c)) &&
    (c.mode === "int8_matmul" ||
      c.mode === "kmeans_lut" ||
      (c.mode === "dequantization" ? SUBSET_BITS.includes(inputBits(c)) : SUBSET_BITS.includes(c.nbits ?? 0))),
);
const exact = subset.filter((c) => c.mode !== "kmeans_lut");
const kmeans = subset.filter((c) => c.mode === "kmeans_lut");
const refusals = cases.filter((c) => c.error !== undefined);

describe("golden cases through the CLI", () => {
  test("the subset covers every mode, the three selectors, bit widths 1, 3, 4, 8, 16 and every refusal", () => {
    expect(new Set(subset.map((c) => c.mode))).toEqual(new Set(["linear", "linear_symmetric", "linear_lut", "kmeans_lut", "dequantization", "int8_matmul"]));
    expect(new Set(subset.filter((c) => c.selector !== null).map((c) => JSON.stringify(c.selector))).size).toBe(3);
    expect(new Set(subset.map((c) => c.nbits))).toEqual(new Set([null, 1, 2, 3, 4, 8, 16]));
    expect(exact.length).toBeGreaterThan(100);
    expect(refusals.map((c) => c.id.split(".").slice(1).join("."))).toEqual(expect.arrayContaining(["linear_symmetric.4", "linear.16"]));
    expect(refusals.length).toBe(21);
  });

  test.each(exact.map((c) => [c.id, c] as const))("%s: OUT is byte-identical to the reference", async (_id, c) => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    const r = await cli(argvFor(c, out));
    expectWrote(r, join(GOLDEN, c.input), out);
    expect(bytesOf(out).equals(bytesOf(join(GOLDEN, c.expected as string)))).toBe(true);
    expect(listing(dir)).toEqual(["out.mlmodel"]);
  });

  test.each(kmeans.map((c) => [c.id, c] as const))("%s: the reference's structure, LUT storage, the API's bytes", async (_id, c) => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    const r = await cli(argvFor(c, out));
    expectWrote(r, join(GOLDEN, c.input), out);
    const actual = decodeModel(bytesOf(out));
    const expected = decodeModel(bytesOf(join(GOLDEN, c.expected as string)));
    expect(structure(actual)).toEqual(structure(expected));
    const storages = inspectModel(actual).weights.map((w) => `${w.storage}${w.nbits ?? ""}`);
    expect(storages).toContain(`lut${c.nbits}`);
    expect(storages.every((s) => s === `lut${c.nbits}` || s === "empty")).toBe(true);
    // Deterministic: the CLI writes exactly what the library returns.
    const api = quantizeWeights(decodeModel(bytesOf(join(GOLDEN, c.input))), { nbits: c.nbits ?? 0, mode: "kmeans_lut" });
    expect(bytesOf(out).equals(Buffer.from(encodeModel(api)))).toBe(true);
    expect(listing(dir)).toEqual(["out.mlmodel"]);
  });

  test("an explicit --mode linear is the default", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    expectWrote(
      await cli(["quantize", join(GOLDEN_MODELS_DIR, "cnn.mlmodel"), "-o", out, "--nbits", "4", "--mode", "linear"]),
      join(GOLDEN_MODELS_DIR, "cnn.mlmodel"),
      out,
    );
    expect(bytesOf(out).equals(bytesOf(join(GOLDEN, "expected", "cnn.linear.4.mlmodel")))).toBe(true);
  });

  test("options may come in any order, long or short", async () => {
    const dir = freshDir();
    const input = join(GOLDEN_MODELS_DIR, "sequence.mlmodel");
    const want = bytesOf(join(GOLDEN, "expected", "sequence.linear_lut.3.mlmodel"));
    for (const [i, argv] of [
      ["--nbits", "3", "--mode", "linear_lut", "quantize", input, "--output", join(dir, "0.mlmodel")],
      ["quantize", "--mode=linear_lut", `--output=${join(dir, "1.mlmodel")}`, "--nbits=3", input],
      ["quantize", input, `-o${join(dir, "2.mlmodel")}`, "--nbits", "03", "--mode", "linear_lut"],
    ].entries()) {
      const out = join(dir, `${i}.mlmodel`);
      expectWrote(await cli(argv), input, out);
      expect(bytesOf(out).equals(want)).toBe(true);
    }
    expect(listing(dir)).toEqual(["0.mlmodel", "1.mlmodel", "2.mlmodel"]);
  });
});

/** The model with every index payload and LUT entry blanked, to compare structure only. */
function structure(model: Model): Model {
  const copy = decodeModel(encodeModel(model));
  for (const { layer } of allLayers(copy)) {
    for (const ref of layerWeights(layer)) {
      const wp = ref.weightParams;
      wp.rawValue = new Uint8Array(wp.rawValue.length);
      const q = wp.quantization?.QuantizationType;
      if (q?.case === "lookupTableQuantization") q.value.floatValue = q.value.floatValue.map(() => 0);
    }
  }
  return copy;
}

// ---------------------------------------------------------------------------
// Half precision ignores --mode
// ---------------------------------------------------------------------------

describe("--nbits 16 ignores --mode", () => {
  test.each(["linear_symmetric", "linear_lut", "kmeans_lut", "linear"])("--mode %s at 16 bits is half precision", async (mode) => {
    for (const name of ["cnn", "mixed_fp16", "pipeline_classifier"]) {
      const dir = freshDir();
      const input = join(GOLDEN_MODELS_DIR, `${name}.mlmodel`);
      const out = join(dir, "out.mlmodel");
      expectWrote(await cli(["quantize", input, "-o", out, "--nbits", "16", "--mode", mode]), input, out);
      expect(bytesOf(out).equals(bytesOf(join(GOLDEN, "expected", `${name}.linear.16.mlmodel`)))).toBe(true);
    }
  });

  test("--nbits 16 --mode linear_symmetric on an updatable model is still refused as updatable", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    const message = expectOneLineFailure(
      await cli(["quantize", join(GOLDEN_MODELS_DIR, "updatable.mlmodel"), "-o", out, "--nbits", "16", "--mode", "linear_symmetric"]),
    );
    expect(message).toContain("updatable");
    expect(listing(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Flags the golden set does not exercise: compared with the library
// ---------------------------------------------------------------------------

describe("flags without golden files write what the library returns", () => {
  const input = join(GOLDEN_MODELS_DIR, "cnn.mlmodel");
  const model = (): Model => decodeModel(bytesOf(input));

  test("--no-fuse: quantizeWeights with fuse false (the batchnorm stays a layer)", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    expectWrote(await cli(["quantize", input, "-o", out, "--nbits", "8", "--no-fuse"]), input, out);
    expect(bytesOf(out).equals(Buffer.from(encodeModel(quantizeWeights(model(), { nbits: 8, fuse: false }))))).toBe(true);
    expect(inspectModel(decodeModel(bytesOf(out))).networks[0]?.layers).toBe(11);
    expect(bytesOf(out).equals(bytesOf(join(GOLDEN, "expected", "cnn.linear.8.mlmodel")))).toBe(false);
  });

  test("int8-matmul bounds and --layers: activateInt8Int8MatrixMultiplications with the same selector", async () => {
    const file = join(GOLDEN_MODELS_DIR, "real_tf_batchedmatmul_softmaxnd.mlmodel");
    const names = allLayers(decodeModel(bytesOf(file)))
      .filter((l) => l.layer.layer.case === "batchedMatmul" || l.layer.layer.case === "innerProduct")
      .map((l) => l.layer.name);
    expect(names.length).toBeGreaterThan(0);
    const variants: [string[], ConstructorParameters<typeof MatrixMultiplyLayerSelector>[0]][] = [
      [["--min-weight-count", "100000000"], { minimumWeightCount: 100000000 }],
      [["--min-input-channels", "2", "--max-output-channels", "4096"], { minimumInputChannels: 2, maximumOutputChannels: 4096 }],
      [["--min-output-channels", "1", "--max-input-channels", "1"], { minimumOutputChannels: 1, maximumInputChannels: 1 }],
      [["--layers", ` ${names[0] ?? ""} , nothing-by-this-name`], { includeLayersWithNames: [names[0] ?? "", "nothing-by-this-name"] }],
    ];
    for (const [flags, options] of variants) {
      const dir = freshDir();
      const out = join(dir, "out.mlmodel");
      expectWrote(await cli(["int8-matmul", file, "-o", out, ...flags]), file, out);
      const api = activateInt8Int8MatrixMultiplications(decodeModel(bytesOf(file)), { selector: new MatrixMultiplyLayerSelector(options) });
      expect({ flags, same: bytesOf(out).equals(Buffer.from(encodeModel(api))) }).toEqual({ flags, same: true });
    }
  });

  test("an unknown --skip-layer-types name is bad usage (exit 2) naming the valid ones, nothing written", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    const r = await cli(["quantize", input, "-o", out, "--nbits", "8", "--skip-layer-types", "conv"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe("");
    const message = r.stderr.split("\n")[0] ?? "";
    expect(message).toContain("conv");
    expect(message).toContain("depthwiseConv");
    expect(listing(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Refusals leave every file alone
// ---------------------------------------------------------------------------

describe("refusals: exit 1, one line, OUT neither created nor touched", () => {
  test.each(refusals.map((c) => [c.id, c] as const))("%s", async (_id, c) => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    const argv = argvFor(c, out);
    const inputBefore = bytesOf(join(GOLDEN, c.input));

    expectOneLineFailure(await cli(argv));
    expect(existsSync(out)).toBe(false);
    expect(listing(dir)).toEqual([]);

    const sentinel = Buffer.from("sentinel: must survive a refused run\n");
    writeFileSync(out, sentinel);
    expectOneLineFailure(await cli(argv));
    expect(bytesOf(out).equals(sentinel)).toBe(true);
    expect(listing(dir)).toEqual(["out.mlmodel"]);
    expect(bytesOf(join(GOLDEN, c.input)).equals(inputBefore)).toBe(true);
  });

  test("the messages say why", async () => {
    const out = join(freshDir(), "out.mlmodel");
    expect(await cli(["quantize", join(GOLDEN_MODELS_DIR, "cnn.mlmodel"), "-o", out, "--nbits", "4", "--mode", "linear_symmetric"])).toMatchObject({
      stderr: expect.stringMatching(/linear_symmetric.*8.*4/),
    });
    expect(await cli(["quantize", join(GOLDEN_MODELS_DIR, "fp16_overflow.mlmodel"), "-o", out, "--nbits", "16"])).toMatchObject({
      stderr: expect.stringMatching(/"fc_overflow"\/weights.*70000.*half-precision/),
    });
    expect(await cli(["quantize", join(GOLDEN_MODELS_DIR, "real_s4tf_updatable_dense.mlmodel"), "-o", out, "--nbits", "16"])).toMatchObject({
      stderr: expect.stringContaining("updatable"),
    });
  });

  test("a refusal after some tensors were done (the second layer overflows) writes nothing", async () => {
    const dir = freshDir();
    const input = join(dir, "in.mlmodel");
    writeFileSync(input, encodeModel(twoLayerModel(70000)));
    const out = join(dir, "out.mlmodel");
    writeFileSync(out, "old");
    expect(expectOneLineFailure(await cli(["quantize", input, "-o", out, "--nbits", "16"]))).toContain('"fc2"/weights');
    expect(readFileSync(out, "utf8")).toBe("old");
    expect(listing(dir)).toEqual(["in.mlmodel", "out.mlmodel"]);
  });

  test("int8-matmul on a model without a network: exit 1, nothing written", async () => {
    const dir = freshDir();
    const input = join(dir, "glm.mlmodel");
    writeFileSync(
      input,
      encodeModel(buildModel({ specificationVersion: 1, Type: { case: "glmRegressor", value: { offset: [1], weights: [{ value: [1, 2] }] } } })),
    );
    const out = join(dir, "out.mlmodel");
    expect(expectOneLineFailure(await cli(["int8-matmul", input, "-o", out]))).toContain("glmRegressor");
    expect(listing(dir)).toEqual(["glm.mlmodel"]);
  });

  test.each([
    ["a missing IN", (dir: string): string => join(dir, "missing.mlmodel")],
    [
      "IN a directory",
      (dir: string): string => {
        mkdirSync(join(dir, "folder"));
        return join(dir, "folder");
      },
    ],
    [
      "IN not a model",
      (dir: string): string => {
        writeFileSync(join(dir, "text.mlmodel"), "not a model\n");
        return join(dir, "text.mlmodel");
      },
    ],
  ])("%s: exit 1 for every command, OUT not created", async (_, makeInput) => {
    const dir = freshDir();
    const input = makeInput(dir);
    const before = listing(dir);
    for (const argv of [
      ["quantize", input, "-o", join(dir, "out.mlmodel"), "--nbits", "8"],
      ["dequantize", input, "-o", join(dir, "out.mlmodel")],
      ["int8-matmul", input, "-o", join(dir, "out.mlmodel")],
    ]) {
      expectOneLineFailure(await cli(argv));
      expect(listing(dir)).toEqual(before);
    }
  });
});

/** Two innerProduct layers; the second holds `big` as its sixth weight. */
function twoLayerModel(big: number): Model {
  const weights = (extra: number): { floatValue: number[] } => ({ floatValue: [0.5, -1, 2, 3, -4, extra] });
  return buildModel({
    specificationVersion: 4,
    Type: {
      case: "neuralNetwork",
      value: {
        layers: [
          { name: "fc1", input: ["x"], output: ["h"], layer: { case: "innerProduct", value: { inputChannels: 3n, outputChannels: 2n, weights: weights(1) } } },
          {
            name: "fc2",
            input: ["h"],
            output: ["y"],
            layer: { case: "innerProduct", value: { inputChannels: 2n, outputChannels: 3n, weights: weights(big) } },
          },
        ],
      },
    },
  });
}

// ---------------------------------------------------------------------------
// -o naming the input
// ---------------------------------------------------------------------------

describe("-o naming the input", () => {
  const golden = join(GOLDEN_MODELS_DIR, "mlp.mlmodel");
  const want = bytesOf(join(GOLDEN, "expected", "mlp.linear.8.mlmodel"));
  const original = bytesOf(golden);

  /** A directory holding a copy of mlp.mlmodel as `in.mlmodel`. */
  function withInput(): { dir: string; input: string } {
    const dir = freshDir();
    const input = join(dir, "in.mlmodel");
    copyFileSync(golden, input);
    return { dir, input };
  }

  test.each([
    ["the same string", (_dir: string, input: string): [string, string] => [input, input]],
    ["a relative and an absolute path", (_dir: string, input: string): [string, string] => [relative(process.cwd(), input), input]],
    ["x and ./x", (_dir: string, input: string): [string, string] => [relative(process.cwd(), input), `./${relative(process.cwd(), input)}`]],
    ["dir/x and dir/./x", (dir: string, input: string): [string, string] => [input, `${dir}/./in.mlmodel`]],
    [
      "dir/x and dir/sub/../x",
      (dir: string, input: string): [string, string] => {
        mkdirSync(join(dir, "sub"));
        return [input, `${dir}/sub/../in.mlmodel`];
      },
    ],
    ["dir/x and dir//x", (dir: string, input: string): [string, string] => [input, `${dir}//in.mlmodel`]],
    [
      "OUT a symlink to IN",
      (dir: string, input: string): [string, string] => {
        symlinkSync(input, join(dir, "link.mlmodel"));
        return [input, join(dir, "link.mlmodel")];
      },
    ],
    [
      "IN a symlink, OUT its target",
      (dir: string, input: string): [string, string] => {
        symlinkSync(input, join(dir, "link.mlmodel"));
        return [join(dir, "link.mlmodel"), input];
      },
    ],
    [
      "OUT through a symlinked directory",
      (dir: string, input: string): [string, string] => {
        symlinkSync(dir, join(dir, "alias"));
        return [input, join(dir, "alias", "in.mlmodel")];
      },
    ],
  ])("%s: refused (exit 1), IN unchanged, nothing new in the directory", async (_, spell) => {
    const { dir, input } = withInput();
    const [inArg, outArg] = spell(dir, input);
    const before = listing(dir);
    for (const argv of [
      ["quantize", inArg, "-o", outArg, "--nbits", "8"],
      ["dequantize", inArg, "-o", outArg],
      ["int8-matmul", inArg, "-o", outArg],
    ]) {
      const message = expectOneLineFailure(await cli(argv));
      expect(message).toContain("input");
      expect(message).toContain("--force");
      expect(bytesOf(input).equals(original)).toBe(true);
      expect(listing(dir)).toEqual(before);
    }
  });

  test("--force allows it: IN is replaced by the result, no temporary file left", async () => {
    const { dir, input } = withInput();
    expectWrote(await cli(["quantize", input, "-o", input, "--nbits", "8", "--force"]), golden, input);
    expect(bytesOf(input).equals(want)).toBe(true);
    expect(listing(dir)).toEqual(["in.mlmodel"]);
  });

  test("--force with a refusal still leaves IN alone", async () => {
    const { dir } = withInput();
    const input = join(dir, "overflow.mlmodel");
    copyFileSync(join(GOLDEN_MODELS_DIR, "fp16_overflow.mlmodel"), input);
    const before = bytesOf(input);
    expectOneLineFailure(await cli(["quantize", input, "-o", input, "--nbits", "16", "--force"]));
    expect(bytesOf(input).equals(before)).toBe(true);
    expect(listing(dir)).toEqual(["in.mlmodel", "overflow.mlmodel"]);
  });

  test("a different file in the same directory is fine", async () => {
    const { dir, input } = withInput();
    const out = join(dir, "in.8bit.mlmodel");
    expectWrote(await cli(["quantize", input, "-o", out, "--nbits", "8"]), input, out);
    expect(bytesOf(out).equals(want)).toBe(true);
    expect(bytesOf(input).equals(original)).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Usage errors
// ---------------------------------------------------------------------------

describe("usage errors: exit 2, the problem and the pointer to the help on stderr, nothing written", () => {
  const input = join(GOLDEN_MODELS_DIR, "cnn.mlmodel");

  test.each([
    ["quantize without -o", (_out: string): string[] => ["quantize", input, "--nbits", "8"], /-o OUT/],
    ["quantize without --nbits", (out: string): string[] => ["quantize", input, "-o", out], /--nbits/],
    ["--nbits 9", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "9"], /--nbits.*9/],
    ["--nbits 0", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "0"], /--nbits.*0/],
    ["--nbits 32", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "32"], /--nbits.*32/],
    ["--nbits abc", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "abc"], /--nbits.*"abc"/],
    ["--nbits 4.5", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "4.5"], /--nbits.*"4\.5"/],
    ["--nbits without a value", (out: string): string[] => ["quantize", input, "-o", out, "--nbits"], /nbits/],
    ["--mode bogus", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--mode", "bogus"], /--mode.*"bogus"/],
    ["--mode custom_lut (API only)", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--mode", "custom_lut"], /--mode/],
    [
      "--mode dequantization (a command of its own)",
      (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--mode", "dequantization"],
      /--mode/,
    ],
    [
      "--min-conv-weight-count -1",
      (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--min-conv-weight-count=-1"],
      /min-conv-weight-count/,
    ],
    [
      "--min-conv-kernel-channels four",
      (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--min-conv-kernel-channels", "four"],
      /min-conv-kernel-channels/,
    ],
    ["dequantize with --nbits", (out: string): string[] => ["dequantize", input, "-o", out, "--nbits", "8"], /dequantize does not take --nbits/],
    ["dequantize with --mode", (out: string): string[] => ["dequantize", input, "-o", out, "--mode", "linear"], /dequantize does not take --mode/],
    ["dequantize with --no-fuse", (out: string): string[] => ["dequantize", input, "-o", out, "--no-fuse"], /dequantize does not take --no-fuse/],
    ["dequantize without -o", (_out: string): string[] => ["dequantize", input], /-o OUT/],
    ["int8-matmul with --nbits", (out: string): string[] => ["int8-matmul", input, "-o", out, "--nbits", "8"], /int8-matmul does not take --nbits/],
    [
      "int8-matmul with --skip-layer-types",
      (out: string): string[] => ["int8-matmul", input, "-o", out, "--skip-layer-types", "bias"],
      /int8-matmul does not take --skip-layer-types/,
    ],
    [
      "int8-matmul with --max-input-channels x",
      (out: string): string[] => ["int8-matmul", input, "-o", out, "--max-input-channels", "x"],
      /max-input-channels/,
    ],
    ["quantize with --layers", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--layers", "a"], /quantize does not take --layers/],
    ["quantize with --json", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--json"], /quantize does not take --json/],
    ["inspect with --nbits", (_out: string): string[] => ["inspect", input, "--nbits", "8"], /inspect does not take --nbits/],
    ["inspect with -o", (out: string): string[] => ["inspect", input, "-o", out], /inspect does not take --output/],
    ["quantize with an extra operand", (out: string): string[] => ["quantize", input, out, "-o", out, "--nbits", "8"], /unexpected argument/],
    ["dequantize with an extra operand", (out: string): string[] => ["dequantize", input, "-o", out, "extra.mlmodel"], /unexpected argument "extra.mlmodel"/],
    ["int8-matmul with an extra operand", (out: string): string[] => ["int8-matmul", input, "extra.mlmodel", "-o", out], /unexpected argument "extra.mlmodel"/],
    ["quantize without IN", (out: string): string[] => ["quantize", "-o", out, "--nbits", "8"], /quantize needs an IN file/],
    ["an unknown option", (out: string): string[] => ["quantize", input, "-o", out, "--nbits", "8", "--bits", "8"], /--bits/],
  ])("%s", async (_, argvOf, message) => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    expect(expectUsage(await cli(argvOf(out)))).toMatch(message);
    expect(listing(dir)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

describe("writing OUT", () => {
  const input = join(GOLDEN_MODELS_DIR, "cnn.mlmodel");

  test("an existing OUT is replaced whole; only OUT is in the directory afterwards", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    writeFileSync(out, Buffer.alloc(1 << 16, 0xab)); // longer than the result: no tail may survive
    expectWrote(await cli(["quantize", input, "-o", out, "--nbits", "4"]), input, out);
    expect(bytesOf(out).equals(bytesOf(join(GOLDEN, "expected", "cnn.linear.4.mlmodel")))).toBe(true);
    expect(listing(dir)).toEqual(["out.mlmodel"]);
  });

  test("OUT an existing directory: exit 1 naming it, the directory and its parent unchanged", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    mkdirSync(out);
    expect(expectOneLineFailure(await cli(["quantize", input, "-o", out, "--nbits", "8"]))).toContain(out);
    expect(listing(dir)).toEqual(["out.mlmodel"]);
    expect(listing(out)).toEqual([]);
  });

  test("OUT in a missing directory: exit 1, nothing created", async () => {
    const dir = freshDir();
    const out = join(dir, "missing", "out.mlmodel");
    expect(expectOneLineFailure(await cli(["dequantize", input, "-o", out]))).toContain(out);
    expect(listing(dir)).toEqual([]);
  });

  test("the summary counts for a plain run: every weighted layer of mlp changed", async () => {
    const dir = freshDir();
    const file = join(GOLDEN_MODELS_DIR, "mlp.mlmodel");
    const out = join(dir, "out.mlmodel");
    const r = await cli(["quantize", file, "-o", out, "--nbits", "8"]);
    expectWrote(r, file, out);
    const after = inspectModel(decodeModel(bytesOf(out)));
    const layers = new Set(after.weights.map((w) => w.layerPath)).size;
    expect(r.stdout).toContain(`: ${layers} layers (${after.weights.length} tensors) changed;`);
  });

  test("dequantize and int8-matmul print the same summary line", async () => {
    const dir = freshDir();
    const quantized = join(GOLDEN, "expected", "cnn.linear.4.mlmodel");
    const a = join(dir, "a.mlmodel");
    const b = join(dir, "b.mlmodel");
    expectWrote(await cli(["dequantize", quantized, "-o", a]), quantized, a);
    expectWrote(await cli(["int8-matmul", input, "-o", b]), input, b);
    expect(listing(dir)).toEqual(["a.mlmodel", "b.mlmodel"]);
  });
});

// ---------------------------------------------------------------------------
// Progress bar
// ---------------------------------------------------------------------------

/** The bar's frames: `\r[###   ] done/total tensors`, as [done, total]. */
function frames(stderr: string): [number, number][] {
  const parts = stderr.replace(/\n$/, "").split("\r");
  expect(parts[0]).toBe("");
  return parts.slice(1).map((frame) => {
    // The time left may follow, and spaces over a longer line before.
    const m = /^\[([# ]{30})\] (\d+)\/(\d+) tensors(?:, [\w ]+ left)? *$/.exec(frame);
    expect({ frame, ok: m !== null }).toEqual({ frame, ok: true });
    const done = Number(m?.[2]);
    const total = Number(m?.[3]);
    expect(m?.[1]).toBe(`${"#".repeat(Math.round((done / total) * 30))}${" ".repeat(30 - Math.round((done / total) * 30))}`);
    return [done, total];
  });
}

describe("progress bar", () => {
  const input = join(GOLDEN_MODELS_DIR, "cnn.mlmodel");
  let clock: jest.SpyInstance<number, []> | undefined;
  afterEach(() => {
    clock?.mockRestore();
    clock = undefined;
  });

  test("stderr not a terminal: nothing on stderr even when the work lasts", async () => {
    clock = fakeClock(10_000);
    for (const extra of [{}, { stderrIsTty: false }]) {
      const out = join(freshDir(), "out.mlmodel");
      expectWrote(await cli(["quantize", input, "-o", out, "--nbits", "8", "--min-conv-weight-count", "1"], extra), input, out);
    }
  });

  test("a terminal but quick work (under half a second): no bar", async () => {
    clock = fakeClock(0);
    const out = join(freshDir(), "out.mlmodel");
    expectWrote(await cli(["quantize", input, "-o", out, "--nbits", "8"], { stderrIsTty: true }), input, out);
  });

  test("a terminal and lasting work: one bar counting up to total, ended by a newline; same file and summary", async () => {
    const dir = freshDir();
    const plain = await cli(["quantize", input, "-o", join(dir, "plain.mlmodel"), "--nbits", "4"]);
    clock = fakeClock(1000);
    const r = await cli(["quantize", input, "-o", join(dir, "tty.mlmodel"), "--nbits", "4"], { stderrIsTty: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(plain.stdout.replace("plain.mlmodel", "tty.mlmodel"));
    expect(bytesOf(join(dir, "tty.mlmodel")).equals(bytesOf(join(dir, "plain.mlmodel")))).toBe(true);
    expect(r.stderr.endsWith("\n")).toBe(true);
    expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
    const f = frames(r.stderr);
    expect(f.length).toBeGreaterThan(1);
    expect(f.map(([done]) => done)).toEqual(f.map((_, i) => i + 1));
    expect(f.at(-1)).toEqual([f.length, f.length]);
  });

  test("dequantize and int8-matmul draw it too", async () => {
    clock = fakeClock(1000);
    const dir = freshDir();
    for (const argv of [
      ["dequantize", join(GOLDEN, "expected", "cnn.linear.4.mlmodel"), "-o", join(dir, "a.mlmodel")],
      ["int8-matmul", input, "-o", join(dir, "b.mlmodel")],
    ]) {
      const r = await cli(argv, { stderrIsTty: true });
      expect(r.code).toBe(0);
      const f = frames(r.stderr);
      expect(f.at(-1)?.[0]).toBe(f.at(-1)?.[1]);
      expect(r.stderr.endsWith("\n")).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------
// Source bugs: these fail until src/ is fixed (see the report)
// ---------------------------------------------------------------------------

describe("source bugs", () => {
  let clock: jest.SpyInstance<number, []> | undefined;
  afterEach(() => {
    clock?.mockRestore();
    clock = undefined;
  });

  // quantize-weights.ts counts a bias in `total` before asking the selector about it,
  // then skips it without counting it `done`: the bar never completes and its line is
  // never ended, so the summary on stdout lands on the bar's line.
  test("progress: with --skip-layer-types bias the bar still reaches total and ends its line", async () => {
    clock = fakeClock(1000);
    const out = join(freshDir(), "out.mlmodel");
    const r = await cli(
      ["quantize", join(GOLDEN_MODELS_DIR, "cnn.mlmodel"), "-o", out, "--nbits", "8", "--skip-layer-types", "bias", "--min-conv-weight-count", "1"],
      { stderrIsTty: true },
    );
    expect(r.code).toBe(0);
    const last = frames(r.stderr).at(-1);
    expect(last?.[0]).toBe(last?.[1]);
    expect(r.stderr.endsWith("\n")).toBe(true);
  });

  // run.ts ends the bar's line when done === total, and total only counts the networks
  // seen so far: a pipeline of two networks shows "2/2" with a newline, then a second bar.
  test("progress: a pipeline of two networks draws one bar, not one per network", async () => {
    clock = fakeClock(1000);
    const out = join(freshDir(), "out.mlmodel");
    const r = await cli(["quantize", join(GOLDEN_MODELS_DIR, "pipeline.mlmodel"), "-o", out, "--nbits", "8"], { stderrIsTty: true });
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n")).toHaveLength(2);
  });

  // run.ts writes the error right after the unfinished bar: on a terminal the message
  // is glued to "… 1/2 tensors" instead of starting its own line.
  test("progress: a refusal after the bar was drawn starts its message on a new line", async () => {
    clock = fakeClock(1000);
    const dir = freshDir();
    const input = join(dir, "in.mlmodel");
    writeFileSync(input, encodeModel(twoLayerModel(70000)));
    const r = await cli(["quantize", input, "-o", join(dir, "out.mlmodel"), "--nbits", "16"], { stderrIsTty: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("\r[");
    expect(r.stderr).toMatch(/\ncoreml-quantize: [^\n]*"fc2"\/weights[^\n]*\n$/);
  });

  // run.ts matches weights before and after by layer path, which holds the layer's
  // index: after a fusion removes a layer, every later layer is "changed" even when
  // the selector left it alone (here dw3 and fc7).
  test("summary: layers the selector left alone are not counted as changed after a fusion", async () => {
    const dir = freshDir();
    const input = join(GOLDEN_MODELS_DIR, "cnn.mlmodel");
    const out = join(dir, "out.mlmodel");
    const r = await cli(["quantize", input, "-o", out, "--nbits", "8", "--skip-layer-types", "innerProduct", "--min-conv-weight-count", "1"]);
    expectWrote(r, input, out);
    const { layers, tensors } = changedByName(inspectModel(decodeModel(bytesOf(input))), inspectModel(decodeModel(bytesOf(out))));
    expect({ layers, tensors }).toEqual({ layers: 4, tensors: 8 }); // conv2 (+ its fused bias), deconv4, deconv5_grouped, conv6_small
    expect(r.stdout).toContain(`: ${layers} layers (${tensors} tensors) changed;`);
  });
});

describe("source bugs: int8 weights through dequantization", () => {
  const int8Models = ["cnn", "mlp", "mixed_fp16", "real_tf_batchedmatmul_softmaxnd"].map((name) => join(GOLDEN, "expected", `${name}.int8_matmul.na.mlmodel`));

  // The reference's dequantization leaves a WeightParams without rawValue alone
  // (QUANTIZATION.md, "dequantization"), so running int8-matmul on its own output
  // changes nothing. quantize-weights.ts dequantizes int8RawValue to float32 and
  // truncates again: every run moves most int8 values one step towards zero.
  test.each(int8Models)("int8-matmul on an int8-matmul output (%s) leaves it byte-identical", async (input) => {
    const out = join(freshDir(), "out.mlmodel");
    expectWrote(await cli(["int8-matmul", input, "-o", out]), input, out);
    expect(bytesOf(out).equals(bytesOf(input))).toBe(true);
  });

  // dequantize turns int8RawValue into floatValue but keeps the layer's
  // int8DynamicQuantize = true, which Core ML only allows with int8 weights.
  test.each(int8Models)("dequantize (%s) leaves no int8DynamicQuantize layer without int8 weights", async (input) => {
    const out = join(freshDir(), "out.mlmodel");
    expectWrote(await cli(["dequantize", input, "-o", out]), input, out);
    const inconsistent = allLayers(decodeModel(bytesOf(out))).flatMap(({ layer }) => {
      if (layer.layer.case !== "innerProduct" && layer.layer.case !== "batchedMatmul") return [];
      const { int8DynamicQuantize, weights } = layer.layer.value;
      return int8DynamicQuantize && (weights?.int8RawValue.length ?? 0) === 0 ? [layer.name] : [];
    });
    expect(inconsistent).toEqual([]);
  });
});

/** Tensors whose storage or size differ, or that are new, matching layers by name. */
function changedByName(before: ModelSummary, after: ModelSummary): { layers: number; tensors: number } {
  const previous = new Map(before.weights.map((w) => [`${w.layer}/${w.field}`, w]));
  const changed = after.weights.filter((w) => {
    const old = previous.get(`${w.layer}/${w.field}`);
    return old === undefined || old.storage !== w.storage || old.bytes !== w.bytes;
  });
  return { layers: new Set(changed.map((w) => w.layer)).size, tensors: changed.length };
}

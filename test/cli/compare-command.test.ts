/**
 * `compare ORIGINAL QUANTIZED (--samples PATH | --random N) [--layers] [--json]`
 * and `quantize --sample-data PATH` through `run(argv, io)`: fixture models
 * quantized to 8 bits by the CLI, compared on seeded random samples, on sample
 * directories of .npy files and on a directory of PNG images (written with
 * sharp); the output matches compareModels' own; the progress bar; refusals (one
 * line naming the input and the file, exit 1) and usage errors (exit 2).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SEED, MAX_RANDOM_SAMPLES, parseCommand, USAGE } from "../../src/cli/args.js";
import { EXIT } from "../../src/cli/run.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { compareModels } from "../../src/predict/compare-models.js";
import { comparisonJson, formatComparison } from "../../src/report/format-comparison.js";
import type { ArrayValue } from "../../src/predict/feature-io.js";
import { parseNpy } from "../../src/predict/npy.js";
import { prepareModel } from "../../src/predict/predict.js";
import { randomInputs } from "../../src/predict/random-inputs.js";
import { FIXTURES, fixtureModelFile, loadFixtureModel } from "../predict/support.js";
import { cli, expectOneLine, expectUsage, type CliResult } from "../support/cli.js";

const read = (file: string): Model => decodeModel(readFileSync(file));

type SharpFunction = typeof import("sharp")["default"];
let sharp: SharpFunction;
let root = "";
/** Each model quantized to 8 bits by the CLI. */
const quantized = new Map<string, string>();
/** mobilenet_classifier's samples: .npy sample directories, and the same pixels as PNG files. */
let npyDir = "";
let pngDir = "";

const QUANTIZED_MODELS = ["mobilenet_classifier", "convnet_linear4", "gru_tagger", "style_transfer"];

beforeAll(async () => {
  const mod = await import("sharp");
  sharp = typeof mod === "function" ? mod : (mod as { default: SharpFunction }).default;
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-compare-"));
  for (const name of QUANTIZED_MODELS) {
    const out = join(root, `${name}.8bit.mlmodel`);
    const r = await cli(["quantize", fixtureModelFile(name), "-o", out, "--nbits", "8", "--min-conv-weight-count", "1"]);
    expect(r.code).toBe(EXIT.ok);
    quantized.set(name, out);
  }
  npyDir = join(root, "npy-samples");
  pngDir = join(root, "png-samples");
  mkdirSync(pngDir);
  const inputs = join(FIXTURES, "inputs", "mobilenet_classifier");
  for (const sample of readdirSync(inputs)) {
    mkdirSync(join(npyDir, sample), { recursive: true });
    copyFileSync(join(inputs, sample, "image.npy"), join(npyDir, sample, "image.npy"));
    const a = parseNpy(readFileSync(join(inputs, sample, "image.npy")));
    const [height, width] = a.shape as [number, number];
    await sharp(a.data as Uint8Array, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(join(pngDir, `${sample}.png`));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const freshDir = (): string => mkdtempSync(join(root, "t-"));
const quantizedOf = (name: string): string => quantized.get(name) ?? "";
const compareArgs = (name: string, ...rest: string[]): string[] => ["compare", fixtureModelFile(name), quantizedOf(name), ...rest];

function expectOk(r: CliResult): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
}

interface ComparisonJson {
  samples: number;
  outputs: { name: string; kind: string; snrDb?: number | string; agreement?: number }[];
  layers: { status: string }[];
}

describe("--random N", () => {
  test("the same as compareModels on randomInputs(model, N, 0), as text and as JSON", async () => {
    for (const name of QUANTIZED_MODELS) {
      const expected = compareModels(loadFixtureModel(name), read(quantizedOf(name)), randomInputs(loadFixtureModel(name), 3, DEFAULT_SEED), {
        perLayer: false,
      });
      const text = await cli(compareArgs(name, "--random", "3"));
      expectOk(text);
      expect(text.stdout).toBe(formatComparison(expected));
      const json = await cli(compareArgs(name, "--random", "3", "--json"));
      expectOk(json);
      expect(json.stdout).toBe(comparisonJson(expected));
      expect((JSON.parse(json.stdout) as ComparisonJson).samples).toBe(3);
    }
  });

  test("8-bit weights keep the outputs close: label agreement, SNR per output", async () => {
    const mobilenet = JSON.parse((await cli(compareArgs("mobilenet_classifier", "--random", "5", "--json"))).stdout) as ComparisonJson;
    expect(mobilenet.outputs.map((o) => [o.name, o.kind])).toEqual([
      ["classLabel", "label"],
      ["classProbability", "dictionary"],
    ]);
    const convnet = JSON.parse((await cli(compareArgs("convnet_linear4", "--random", "5", "--json"))).stdout) as ComparisonJson;
    expect(convnet.outputs).toHaveLength(1);
    expect(convnet.outputs[0]?.kind).toBe("array");
    expect(Number(convnet.outputs[0]?.snrDb)).toBeGreaterThan(20);
    const text = (await cli(compareArgs("convnet_linear4", "--random", "5"))).stdout;
    expect(text).toMatch(
      /^compared on 5 samples\n\noutput +kind +agreement +max \|err\| +cosine +worst sample\n.*\n\noutput +SNR +PSNR +coremltools SNR \(mean ± var\) +coremltools PSNR \(mean ± var\)\n/,
    );
  });

  test("the output and layer tables fit 100 columns", async () => {
    for (const name of ["mobilenet_classifier", "convnet_linear4"]) {
      const text = await cli(compareArgs(name, "--random", "2", "--layers"));
      expectOk(text);
      const tables = text.stdout.split("\n").filter((line) => !line.startsWith("lowest SNR alone") && !line.startsWith("* fused"));
      expect(tables.filter((line) => line.length > 100)).toEqual([]);
    }
  });

  test("--seed: the same seed the same figures, another seed other samples", async () => {
    const a = await cli(compareArgs("convnet_linear4", "--random", "2", "--seed", "7", "--json"));
    const b = await cli(compareArgs("convnet_linear4", "--seed=7", "--random=2", "--json"));
    const c = await cli(compareArgs("convnet_linear4", "--random", "2", "--seed=-7", "--json"));
    expectOk(a);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).not.toBe(a.stdout);
    const expected = compareModels(
      loadFixtureModel("convnet_linear4"),
      read(quantizedOf("convnet_linear4")),
      randomInputs(loadFixtureModel("convnet_linear4"), 2, -7),
      { perLayer: false },
    );
    expect(c.stdout).toBe(comparisonJson(expected));
  });

  test("--layers: the per-layer table, and the layers in JSON", async () => {
    const text = await cli(compareArgs("mobilenet_classifier", "--random", "2", "--layers"));
    expectOk(text);
    expect(text.stdout).toMatch(/\nlayer +kind +blob +SNR +SNR alone +max \|err\|\n/);
    expect(text.stdout).toContain("lowest SNR alone");
    const json = JSON.parse((await cli(compareArgs("mobilenet_classifier", "--random", "2", "--layers", "--json"))).stdout) as ComparisonJson;
    expect(json.layers.length).toBeGreaterThan(10);
    const without = JSON.parse((await cli(compareArgs("mobilenet_classifier", "--random", "2", "--json"))).stdout) as ComparisonJson;
    expect(without.layers).toEqual([]);
  });

  test("a model compared with itself: exact", async () => {
    const r = await cli(["compare", fixtureModelFile("convnet_linear4"), fixtureModelFile("convnet_linear4"), "--random", "2", "--json"]);
    const json = JSON.parse(r.stdout) as ComparisonJson;
    expect(json.outputs[0]?.snrDb).toBe("Infinity");
  });
});

describe("--samples PATH", () => {
  test("sample directories of .npy files: compareModels on the fixture's samples", async () => {
    const r = await cli(compareArgs("mobilenet_classifier", "--samples", npyDir, "--json"));
    expectOk(r);
    expect((JSON.parse(r.stdout) as ComparisonJson).samples).toBe(3);
  });

  test("a directory of PNG images of the same pixels: the same comparison", async () => {
    const fromNpy = await cli(compareArgs("mobilenet_classifier", "--samples", npyDir, "--json", "--layers"));
    const fromPng = await cli(compareArgs("mobilenet_classifier", "--samples", pngDir, "--json", "--layers"));
    expectOk(fromPng);
    expect(fromPng.stdout).toBe(fromNpy.stdout);
  });

  test("an array model's sample directories (sequences, an optional state)", async () => {
    const dir = freshDir();
    const inputs = join(FIXTURES, "inputs", "gru_tagger");
    for (const sample of readdirSync(inputs)) {
      mkdirSync(join(dir, sample));
      for (const f of readdirSync(join(inputs, sample))) copyFileSync(join(inputs, sample, f), join(dir, sample, f));
    }
    const r = await cli(compareArgs("gru_tagger", "--samples", dir));
    expectOk(r);
    expect(r.stdout).toMatch(/^compared on 3 samples\n/);
    expect(r.stdout).toMatch(/\ntags +array /);
  });

  test("a JSON file of samples", async () => {
    const dir = freshDir();
    const file = join(dir, "samples.json");
    writeFileSync(file, JSON.stringify([{ image: join(npyDir, "0", "image.npy") }, { image: join(pngDir, "1.png") }]));
    const r = await cli(compareArgs("mobilenet_classifier", "--samples", file, "--json"));
    expectOk(r);
    expect((JSON.parse(r.stdout) as ComparisonJson).samples).toBe(2);
  });
});

describe("bad samples: one line naming the input and the file, exit 1", () => {
  test("a non-image file among the images", async () => {
    const dir = freshDir();
    copyFileSync(join(pngDir, "0.png"), join(dir, "0.png"));
    writeFileSync(join(dir, "readme.txt"), "hi");
    expectOneLine(await cli(compareArgs("mobilenet_classifier", "--samples", dir)), `${join(dir, "readme.txt")}: input 'image': not an image file`);
  });

  test("a broken image among the images", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "0.png"), "not a png");
    expectOneLine(await cli(compareArgs("mobilenet_classifier", "--samples", dir)), join(dir, "0.png"), "input 'image'");
  });

  test("a broken .npy, a wrong shape, an unknown input in a sample directory", async () => {
    const broken = freshDir();
    mkdirSync(join(broken, "0"));
    writeFileSync(join(broken, "0", "x.npy"), readFileSync(join(FIXTURES, "inputs", "convnet_linear4", "0", "x.npy")).subarray(0, 100));
    expectOneLine(await cli(compareArgs("convnet_linear4", "--samples", broken)), `${join(broken, "0", "x.npy")}: input 'x': .npy:`);

    const shape = freshDir();
    mkdirSync(join(shape, "0"));
    copyFileSync(join(FIXTURES, "inputs", "ip_rank1_bias", "0", "x.npy"), join(shape, "0", "x.npy"));
    expectOneLine(await cli(compareArgs("convnet_linear4", "--samples", shape)), join(shape, "0", "x.npy"), "'x'", "[3, 10, 10]");

    const unknown = freshDir();
    mkdirSync(join(unknown, "0"));
    copyFileSync(join(FIXTURES, "inputs", "convnet_linear4", "0", "x.npy"), join(unknown, "0", "y.npy"));
    expectOneLine(await cli(compareArgs("convnet_linear4", "--samples", unknown)), join(unknown, "0", "y.npy"), "unknown input 'y'");
  });

  test("images for an array input", async () => {
    expectOneLine(await cli(compareArgs("convnet_linear4", "--samples", pngDir)), pngDir, "a directory of images is for a model with one image input");
  });

  test("a missing samples path", async () => {
    const missing = join(root, "no-such-samples");
    expectOneLine(await cli(compareArgs("convnet_linear4", "--samples", missing)), missing);
  });

  test("models with different outputs", async () => {
    expectOneLine(await cli(["compare", fixtureModelFile("convnet_linear4"), fixtureModelFile("mobilenet_classifier"), "--random", "1"]), "output");
  });
});

describe("quantize --sample-data", () => {
  test("the weight table, then the comparison of the written model with the input", async () => {
    const out = join(freshDir(), "q.mlmodel");
    const r = await cli(["quantize", fixtureModelFile("mobilenet_classifier"), "-o", out, "--nbits", "8", "--sample-data", pngDir]);
    expectOk(r);
    const plain = await cli(["quantize", fixtureModelFile("mobilenet_classifier"), "-o", join(freshDir(), "q.mlmodel"), "--nbits", "8"]);
    const table = plain.stdout.replace(/^wrote \S+:/, `wrote ${out}:`);
    expect(r.stdout.startsWith(table)).toBe(true);
    const rest = r.stdout.slice(table.length);
    const expected = compareModels(
      loadFixtureModel("mobilenet_classifier"),
      read(out),
      [0, 1, 2].map((i) => ({
        image: (() => {
          const a = parseNpy(readFileSync(join(npyDir, String(i), "image.npy")));
          return { width: a.shape[1] as number, height: a.shape[0] as number, data: a.data as Uint8Array };
        })(),
      })),
      { perLayer: false },
    );
    expect(rest).toBe(`\n${formatComparison(expected)}`);
  });

  test("with --report -: the JSON alone on stdout, the tables and the comparison on stderr", async () => {
    const out = join(freshDir(), "q.mlmodel");
    const r = await cli([
      "quantize",
      fixtureModelFile("convnet_linear4"),
      "-o",
      out,
      "--nbits",
      "8",
      "--report",
      "-",
      "--sample-data",
      join(FIXTURES, "inputs", "convnet_linear4"),
    ]);
    expect(r.code).toBe(EXIT.ok);
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
    expect(r.stderr).toMatch(/\ncompared on 3 samples\n/);
  });

  test("bad samples: refused before anything is written", async () => {
    const dir = freshDir();
    const bad = join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "0.png"), "not a png");
    const out = join(dir, "q.mlmodel");
    expectOneLine(await cli(["quantize", fixtureModelFile("mobilenet_classifier"), "-o", out, "--nbits", "8", "--sample-data", bad]), join(bad, "0.png"));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(["bad"]);
  });

  test("a model the executor cannot run on the samples: refused before anything is written", async () => {
    const input = join(FIXTURES, "..", "golden", "models", "control_flow.mlmodel");
    const model = read(input);
    const [sample = {}] = randomInputs(model, 1, 0);
    // The precondition: this model does not run (its branch condition is not one value).
    expect(() => prepareModel(model).predict(sample)).toThrow();
    const dir = freshDir();
    const samples = join(dir, "samples.json");
    const json = Object.fromEntries(
      Object.entries(sample).map(([k, v]) => [k, { shape: (v as ArrayValue).shape, data: Array.from((v as ArrayValue).data as Float32Array) }]),
    );
    writeFileSync(samples, JSON.stringify([json]));
    const out = join(dir, "q.mlmodel");
    expectOneLine(await cli(["quantize", input, "-o", out, "--nbits", "8", "--sample-data", samples]), `--sample-data ${samples}: sample 0, the input model: `);
    expect(readdirSync(dir)).toEqual(["samples.json"]);
  });
});

/** The frames of a progress bar drawn on stderr: [done, total] each. */
function frames(stderr: string, unit: string): [number, number][] {
  return stderr
    .split("\r")
    .filter((s) => s !== "")
    .map((frame) => {
      // The time left may follow, and spaces over a longer line before.
      const m = new RegExp(`^\\[([# ]{30})\\] (\\d+)/(\\d+) ${unit}(?:, [\\w ]+ left)? *\\n?$`).exec(frame);
      expect(m).not.toBeNull();
      return [Number(m?.[2]), Number(m?.[3])];
    });
}

describe("progress bar", () => {
  let clock: jest.SpyInstance<number, []> | undefined;
  afterEach(() => {
    clock?.mockRestore();
    clock = undefined;
  });
  const fakeClock = (step: number): jest.SpyInstance<number, []> => {
    let now = 1_000_000;
    return jest.spyOn(Date, "now").mockImplementation(() => (now += step));
  };

  test("a terminal and lasting work: samples counted up to the total, the line ended; the same output", async () => {
    const plain = await cli(compareArgs("convnet_linear4", "--random", "4"));
    clock = fakeClock(1000);
    const r = await cli(compareArgs("convnet_linear4", "--random", "4"), { stderrIsTty: true });
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe(plain.stdout);
    expect(r.stderr.endsWith("\n")).toBe(true);
    expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
    expect(frames(r.stderr, "samples")).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  test("not a terminal, or quick work: no bar", async () => {
    clock = fakeClock(1000);
    expect((await cli(compareArgs("convnet_linear4", "--random", "2"))).stderr).toBe("");
    clock.mockRestore();
    clock = fakeClock(0);
    expect((await cli(compareArgs("convnet_linear4", "--random", "2"), { stderrIsTty: true })).stderr).toBe("");
  });

  test("quantize --sample-data: the tensors' bar, then the samples' bar", async () => {
    clock = fakeClock(1000);
    const out = join(freshDir(), "q.mlmodel");
    const r = await cli(
      ["quantize", fixtureModelFile("convnet_linear4"), "-o", out, "--nbits", "8", "--sample-data", join(FIXTURES, "inputs", "convnet_linear4")],
      { stderrIsTty: true },
    );
    expect(r.code).toBe(EXIT.ok);
    const [tensors = "", samples = "", end] = r.stderr.split("\n");
    expect(frames(tensors, "tensors").at(-1)?.[0]).toBe(frames(tensors, "tensors").at(-1)?.[1]);
    expect(frames(samples, "samples").at(-1)).toEqual([3, 3]);
    expect(end).toBe("");
  });
});

describe("usage (exit 2)", () => {
  const a = fixtureModelFile("convnet_linear4");
  test.each<[string[], string]>([
    [["compare"], "compare needs an ORIGINAL and a QUANTIZED file"],
    [["compare", a], "compare needs an ORIGINAL and a QUANTIZED file"],
    [["compare", a, a], "compare needs --samples PATH or --random N"],
    [["compare", a, a, "x", "--random", "1"], 'unexpected argument "x"'],
    [["compare", a, a, "--random", "1", "--samples", "d"], "give --samples PATH or --random N, not both"],
    [["compare", a, a, "--samples", ""], "--samples needs a PATH"],
    [["compare", a, a, "--random", "0"], `--random takes 1 to ${MAX_RANDOM_SAMPLES} samples (MAX_RANDOM_SAMPLES), got 0`],
    [
      ["compare", a, a, "--random", String(MAX_RANDOM_SAMPLES + 1)],
      `--random takes 1 to ${MAX_RANDOM_SAMPLES} samples (MAX_RANDOM_SAMPLES), got ${MAX_RANDOM_SAMPLES + 1}`,
    ],
    [["compare", a, a, "--random", "2.5"], '--random needs a whole number, got "2.5"'],
    [["compare", a, a, "--random", "1", "--seed", "x"], '--seed needs an integer, got "x"'],
    [["compare", a, a, "--random", "1", "--seed=1e3"], '--seed needs an integer, got "1e3"'],
    [["compare", a, a, "--samples", "d", "--seed", "1"], "--seed goes with --random"],
    [["compare", a, a, "--random", "1", "-o", "x"], "compare does not take --output"],
    [["compare", a, a, "--random", "1", "--input", "x=y"], "compare does not take --input"],
    [["report", a, a, "--random", "1"], "report does not take --random"],
    [["quantize", a, "-o", "q", "--nbits", "8", "--sample-data", ""], "--sample-data needs a PATH"],
    [["quantize", a, "-o", "q", "--nbits", "8", "--samples", "d"], "quantize does not take --samples"],
    [["dequantize", a, "-o", "q", "--sample-data", "d"], "dequantize does not take --sample-data"],
  ])("%j", async (argv, message) => {
    expectUsage(await cli(argv), message);
  });

  test("--layers is a flag for compare, a list for int8-matmul", async () => {
    expect(parseCommand(["compare", "a", "b", "--layers", "--random", "3"])).toStrictEqual({
      command: "compare",
      original: "a",
      quantized: "b",
      samples: { kind: "random", count: 3, seed: DEFAULT_SEED },
      layers: true,
      json: false,
    });
    expect(parseCommand(["--layers", "--json", "compare", "a", "b", "--samples", "d"])).toStrictEqual({
      command: "compare",
      original: "a",
      quantized: "b",
      samples: { kind: "files", path: "d" },
      layers: true,
      json: true,
    });
    expect(parseCommand(["int8-matmul", "a", "-o", "b", "--layers", "fc"])).toMatchObject({ selector: { includeLayersWithNames: ["fc"] } });
    expect((await cli(["compare", "a", "b", "--layers=fc", "--random", "1"])).code).toBe(EXIT.usage);
    expect(parseCommand(["compare", "a", "b", "--random", "3", "--seed=-0042"])).toMatchObject({ samples: { kind: "random", count: 3, seed: -42 } });
  });

  test("quantize --sample-data is parsed", () => {
    expect(parseCommand(["quantize", "a", "-o", "b", "--nbits", "8", "--sample-data", "s"])).toMatchObject({ command: "quantize", sampleData: "s" });
    expect(parseCommand(["quantize", "a", "-o", "b", "--nbits", "8"])).not.toHaveProperty("sampleData");
  });

  test("USAGE documents compare, --sample-data and every new option", () => {
    for (const word of [
      "compare ORIGINAL QUANTIZED",
      "--samples PATH",
      "--random N",
      "--seed N",
      "--layers",
      "--sample-data PATH",
      String(MAX_RANDOM_SAMPLES),
    ]) {
      expect(USAGE).toContain(word);
    }
  });
});

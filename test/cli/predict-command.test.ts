/**
 * `predict MODEL --input NAME=FILE ... [--json] [-o DIR]` through `run(argv, io)`:
 * the fixture models run on their fixture inputs, written with -o and read back
 * (parseNpy, JSON) against the fixtures' expected outputs (SNR >= 80 dB); the
 * people's view and --json; image files as inputs (PNG written with sharp);
 * every refusal one line naming the input and the file (exit 1); usage errors
 * (exit 2).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand, USAGE } from "../../src/cli/args.js";
import { outputFileName } from "../../src/cli/predict-command.js";
import { EXIT } from "../../src/cli/run.js";
import { parseNpy, encodeNpy, type NpyArray } from "../../src/predict/npy.js";
import { FIXTURES, fixtureModelFile, snrDb } from "../predict/support.js";
import { cli, expectOneLine, expectUsage, usageErrorOf, type CliResult } from "../support/cli.js";

const inputDir = (name: string, sample: string): string => join(FIXTURES, "inputs", name, sample);
const expectedDir = (name: string, sample: string): string => join(FIXTURES, "expected", name, sample);

type SharpFunction = typeof import("sharp")["default"];
let sharp: SharpFunction;
let root = "";
beforeAll(async () => {
  const mod = await import("sharp");
  sharp = typeof mod === "function" ? mod : (mod as { default: SharpFunction }).default;
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-predict-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const freshDir = (): string => mkdtempSync(join(root, "t-"));

/** `--input NAME=FILE` for every input file of a fixture sample (absent optional inputs have none). */
function inputArgs(name: string, sample: string): string[] {
  return readdirSync(inputDir(name, sample))
    .sort()
    .flatMap((file) => ["--input", `${file.replace(/\.npy$/, "")}=${join(inputDir(name, sample), file)}`]);
}

const floats = (a: NpyArray): number[] => Array.from(a.data as ArrayLike<number | bigint>, Number);

// Models covering every output kind: arrays (rank 1, [C,H,W], rank-5 sequences, exact
// layout), an image output, string and int64 labels, dictionaries, a pipeline, optional inputs.
const MODELS = [
  "ip_rank1_bias",
  "convnet_fp16",
  "convnet_linear4",
  "scale_bias",
  "pipeline_two_networks",
  "regressor",
  "style_transfer",
  "mobilenet_classifier",
  "int64_classifier",
  "gru_seq_state",
  "simple_rnn_reverse_last",
  "embedding_nd",
];

describe("-o DIR: one file an output, equal to the fixtures' expected outputs", () => {
  test.each(MODELS)("%s", async (name) => {
    for (const sample of ["0", "2"]) {
      const out = join(freshDir(), "nested", "out");
      const r = await cli(["predict", fixtureModelFile(name), ...inputArgs(name, sample), "-o", out]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
      const expected = readdirSync(expectedDir(name, sample)).sort();
      const written = readdirSync(out).sort();
      // One line an output, naming the file.
      expect(
        r.stdout
          .trimEnd()
          .split("\n")
          .map((l) => l.replace(/^wrote (\S+):.*$/, "$1"))
          .sort(),
      ).toEqual(written.map((f) => join(out, f)));
      for (const file of expected) {
        const want = readFileSync(join(expectedDir(name, sample), file));
        const output = file.replace(/\.(npy|json)$/, "");
        if (file.endsWith(".npy") && parseNpy(want).dtype === "int64") {
          // An int64 label: the fixture's scalar .npy; ours is {"value": "<decimal>"}.
          const got = JSON.parse(readFileSync(join(out, `${output}.json`), "utf8")) as { value: string };
          expect(BigInt(got.value)).toBe((parseNpy(want).data as BigInt64Array)[0]);
        } else if (file.endsWith(".npy")) {
          const got = parseNpy(readFileSync(join(out, file)));
          const e = parseNpy(want);
          expect({ dtype: got.dtype, shape: got.shape }).toEqual({ dtype: "float32", shape: e.shape });
          expect(snrDb(floats(got), floats(e))).toBeGreaterThanOrEqual(80);
        } else {
          const got = JSON.parse(readFileSync(join(out, file), "utf8")) as Record<string, unknown>;
          const e = JSON.parse(want.toString("utf8")) as Record<string, unknown>;
          if ("value" in e) {
            expect(got).toEqual(e);
          } else {
            expect(Object.keys(got).sort()).toEqual(Object.keys(e).sort());
            const keys = Object.keys(e).sort();
            expect(
              snrDb(
                keys.map((k) => got[k] as number),
                keys.map((k) => e[k] as number),
              ),
            ).toBeGreaterThanOrEqual(80);
          }
        }
      }
      expect(written.length).toBe(expected.length);
    }
  });

  test("an existing directory: files replaced, others left alone, no temporary files", async () => {
    const out = freshDir();
    writeFileSync(join(out, "probs.npy"), "old");
    writeFileSync(join(out, "keep.txt"), "mine");
    const r = await cli(["predict", fixtureModelFile("convnet_fp16"), ...inputArgs("convnet_fp16", "0"), "-o", out]);
    expect(r.code).toBe(EXIT.ok);
    expect(readdirSync(out).sort()).toEqual(["keep.txt", "probs.npy"]);
    expect(parseNpy(readFileSync(join(out, "probs.npy"))).shape).toEqual([5]);
    expect(readFileSync(join(out, "keep.txt"), "utf8")).toBe("mine");
  });

  test("-o naming a file: one line, exit 1, the file untouched", async () => {
    const file = join(freshDir(), "taken");
    writeFileSync(file, "x");
    expectOneLine(await cli(["predict", fixtureModelFile("convnet_fp16"), ...inputArgs("convnet_fp16", "0"), "-o", file]), file, "not a directory");
    expect(readFileSync(file, "utf8")).toBe("x");
  });

  test("a refused input creates no directory", async () => {
    const out = join(freshDir(), "never");
    expectOneLine(await cli(["predict", fixtureModelFile("convnet_fp16"), "--input", `x=${join(inputDir("ip_rank1_bias", "0"), "x.npy")}`, "-o", out]));
    expect(existsSync(out)).toBe(false);
  });

  test("output names become safe file names", () => {
    expect(outputFileName("probs")).toBe("probs");
    expect(outputFileName("a/b")).toBe("a%2Fb");
    expect(outputFileName("..")).toBe("%2E.");
    expect(outputFileName(".hidden")).toBe("%2Ehidden");
    expect(outputFileName("50%")).toBe("50%25");
    expect(outputFileName("c:\\x\n")).toBe("c%3A%5Cx%0A");
    expect(outputFileName("")).toBe("%");
    expect(outputFileName("with space é")).toBe("with space é");
  });
});

describe("printing", () => {
  test("labels, the top 5 of a dictionary, highest first", async () => {
    const r = await cli(["predict", fixtureModelFile("mobilenet_classifier"), ...inputArgs("mobilenet_classifier", "0")]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
    const label = (JSON.parse(readFileSync(join(expectedDir("mobilenet_classifier", "0"), "classLabel.json"), "utf8")) as { value: string }).value;
    const probs = JSON.parse(readFileSync(join(expectedDir("mobilenet_classifier", "0"), "classProbability.json"), "utf8")) as Record<string, number>;
    const ranked = Object.entries(probs).sort((a, b) => b[1] - a[1]);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`classLabel (label): ${label}`);
    expect(lines[1]).toBe(`classProbability (dictionary, ${ranked.length} classes):`);
    const rows = lines.slice(2).map((l) => l.trim().split(/\s+/));
    expect(rows.map(([, k]) => k)).toEqual(ranked.slice(0, 5).map(([k]) => k));
    rows.forEach(([p], i) => {
      expect(p).toMatch(/^0\.\d{6}$/);
      expect(Number(p)).toBeCloseTo(ranked[i]?.[1] ?? NaN, 4);
    });
  });

  test("arrays: kind, shape and the first 8 values", async () => {
    const r = await cli(["predict", fixtureModelFile("scale_bias"), ...inputArgs("scale_bias", "1")]);
    expect(r.code).toBe(EXIT.ok);
    const e = parseNpy(readFileSync(join(expectedDir("scale_bias", "1"), "y_scale_c.npy")));
    const line = r.stdout.split("\n").find((l) => l.startsWith("y_scale_c ")) ?? "";
    const m = /^y_scale_c \(multiArray \[(.*)\]\): (.*), … \((\d+) values\)$/.exec(line);
    expect(m?.[1]).toBe(e.shape.join(", "));
    expect(Number(m?.[3])).toBe(e.data.length);
    const shown = (m?.[2] ?? "").split(", ").map(Number);
    expect(shown).toHaveLength(8);
    shown.forEach((v, i) => expect(Math.abs(v - Number(e.data[i]))).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(Number(e.data[i])))));
    expect(r.stdout.split("\n").filter((l) => l !== "")).toHaveLength(7);
  });

  test("an image output is the raw float blob", async () => {
    const r = await cli(["predict", fixtureModelFile("style_transfer"), ...inputArgs("style_transfer", "0")]);
    expect(r.stdout).toMatch(/^stylized \(image, raw float blob \[3, 24, 24\]\): \S/);
  });

  test("--json: every value, parsed back equal to the expected outputs", async () => {
    for (const name of ["mobilenet_classifier", "int64_classifier", "convnet_linear4", "style_transfer", "gru_seq_state"]) {
      const r = await cli(["predict", fixtureModelFile(name), ...inputArgs(name, "1"), "--json"]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
      const json = JSON.parse(r.stdout) as { outputs: Record<string, { kind: string; value?: unknown; shape?: number[]; data?: number[] }> };
      const expected = readdirSync(expectedDir(name, "1"));
      expect(Object.keys(json.outputs).sort()).toEqual(expected.map((f) => f.replace(/\.(npy|json)$/, "")).sort());
      for (const file of expected) {
        const o = json.outputs[file.replace(/\.(npy|json)$/, "")];
        const want = readFileSync(join(expectedDir(name, "1"), file));
        if (file.endsWith(".json")) {
          const e = JSON.parse(want.toString("utf8")) as Record<string, unknown>;
          if ("value" in e) expect(o).toEqual({ kind: "label", value: e.value });
          else {
            expect(o?.kind).toBe("dictionary");
            const keys = Object.keys(e).sort();
            const got = o?.value as Record<string, number>;
            expect(Object.keys(got).sort()).toEqual(keys);
            expect(
              snrDb(
                keys.map((k) => got[k] as number),
                keys.map((k) => e[k] as number),
              ),
            ).toBeGreaterThanOrEqual(80);
          }
        } else {
          const e = parseNpy(want);
          if (e.dtype === "int64") {
            expect(o).toEqual({ kind: "label", value: String((e.data as BigInt64Array)[0]) });
          } else {
            expect(o?.kind).toBe(name === "style_transfer" ? "image" : "array");
            expect(o?.shape).toEqual(e.shape);
            expect(snrDb(o?.data ?? [], floats(e))).toBeGreaterThanOrEqual(80);
          }
        }
      }
    }
  });

  test("--json with -o: the files, and the JSON alone on stdout", async () => {
    const out = freshDir();
    const r = await cli(["predict", fixtureModelFile("convnet_fp16"), ...inputArgs("convnet_fp16", "0"), "-o", out, "--json"]);
    expect(r.code).toBe(EXIT.ok);
    const json = JSON.parse(r.stdout) as { outputs: { probs: { data: number[] } } };
    // Written as the shortest decimals that read back as the same float32 values.
    expect(json.outputs.probs.data.map(Math.fround)).toEqual(Array.from(parseNpy(readFileSync(join(out, "probs.npy"))).data as Float32Array));
    const texts = /"data": \[([^\]]*)\]/.exec(r.stdout)?.[1]?.split(", ") ?? [];
    expect(texts).toHaveLength(5);
    for (const t of texts)
      expect(
        t
          .replace(/e.*$/, "")
          .replace(/^[-0.]+/, "")
          .replace(".", "").length,
      ).toBeLessThanOrEqual(9);
  });
});

describe("image files as inputs", () => {
  /** The fixture's pixels as a PNG (lossless, the input's size: not resampled). */
  async function pngOf(name: string, sample: string, file: string): Promise<void> {
    const a = parseNpy(readFileSync(join(inputDir(name, sample), "image.npy")));
    const [height, width] = a.shape as [number, number];
    await sharp(a.data as Uint8Array, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(file);
  }

  test("a PNG of the input's size predicts as its pixels do", async () => {
    const dir = freshDir();
    const png = join(dir, "cat.PNG");
    await pngOf("mobilenet_classifier", "2", png);
    const fromPng = await cli(["predict", fixtureModelFile("mobilenet_classifier"), "--input", `image=${png}`, "--json"]);
    const fromNpy = await cli(["predict", fixtureModelFile("mobilenet_classifier"), ...inputArgs("mobilenet_classifier", "2"), "--json"]);
    expect(fromPng.code).toBe(EXIT.ok);
    expect(fromPng.stdout).toBe(fromNpy.stdout);
  });

  test("a PNG of another size is resized", async () => {
    const png = join(freshDir(), "big.png");
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 90 } } })
      .png()
      .toFile(png);
    const r = await cli(["predict", fixtureModelFile("mobilenet_classifier"), "--input", `image=${png}`]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
    expect(r.stdout).toMatch(/^classLabel \(label\): \S+\n/);
  });
});

describe("bad input: one line naming the input and the file, exit 1", () => {
  let dir = "";
  beforeAll(() => {
    dir = freshDir();
  });
  const mobilenet = (file: string, extra: string[] = []): Promise<CliResult> =>
    cli(["predict", fixtureModelFile("mobilenet_classifier"), "--input", `image=${file}`, ...extra]);
  const convnet = (file: string): Promise<CliResult> => cli(["predict", fixtureModelFile("convnet_fp16"), "--input", `x=${file}`]);

  test("an unknown input name", async () => {
    const file = join(inputDir("convnet_fp16", "0"), "x.npy");
    expectOneLine(
      await cli(["predict", fixtureModelFile("convnet_fp16"), "--input", `y=${file}`]),
      `--input y=${file}: unknown input 'y'; the model's inputs are 'x'`,
    );
  });

  test("a missing required input", async () => {
    const r = await cli(["predict", fixtureModelFile("gru_seq_state"), "--input", `h_in=${join(inputDir("gru_seq_state", "0"), "h_in.npy")}`]);
    expectOneLine(r, "input 'x' is missing: give --input x=FILE");
  });

  test("an optional input may be left out", async () => {
    const r = await cli(["predict", fixtureModelFile("simple_rnn_reverse_last"), "--input", `x=${join(inputDir("simple_rnn_reverse_last", "0"), "x.npy")}`]);
    expect(r.code).toBe(EXIT.ok);
  });

  test("a wrong shape", async () => {
    const file = join(inputDir("ip_rank1_bias", "0"), "x.npy");
    expectOneLine(await convnet(file), file, "'x'", "[3, 10, 10]");
  });

  test("a wrong element type for an image input (float32 pixels)", async () => {
    const file = join(dir, "pixels.npy");
    writeFileSync(file, encodeNpy({ dtype: "float32", shape: [32, 32, 3], data: new Float32Array(32 * 32 * 3) }));
    expectOneLine(await mobilenet(file), file, "input 'image' is an image", "float32 [32, 32, 3]");
  });

  test("pixels of the wrong size for an image input", async () => {
    const file = join(inputDir("style_transfer", "0"), "image.npy");
    expectOneLine(await mobilenet(file), file, "input 'image'", "24x24");
  });

  test("an image (file or pixels) for an array input", async () => {
    const png = join(dir, "img.png");
    await sharp({ create: { width: 10, height: 10, channels: 3, background: "#808080" } })
      .png()
      .toFile(png);
    expectOneLine(await convnet(png), png, "input 'x' is a multiArray of shape [3, 10, 10]: an image for an array input");
    const pixels = join(inputDir("mobilenet_classifier", "0"), "image.npy");
    expectOneLine(await convnet(pixels), pixels, "input 'x'", "an image for an array input");
  });

  test("a file neither .npy nor an image", async () => {
    const file = join(dir, "notes.txt");
    writeFileSync(file, "hello");
    expectOneLine(await mobilenet(file), `${file}: input 'image': not a .npy or image file`);
  });

  test("a .png that is not an image", async () => {
    const file = join(dir, "fake.png");
    writeFileSync(file, "not a png at all");
    expectOneLine(await mobilenet(file), `${file}: input 'image': not a PNG, JPEG or BMP image`);
  });

  test("a broken .npy", async () => {
    const good = readFileSync(join(inputDir("convnet_fp16", "0"), "x.npy"));
    const truncated = join(dir, "truncated.npy");
    writeFileSync(truncated, good.subarray(0, good.length - 7));
    expectOneLine(await convnet(truncated), `${truncated}: input 'x': .npy:`);
    const garbage = join(dir, "garbage.npy");
    writeFileSync(garbage, "garbage");
    expectOneLine(await convnet(garbage), `${garbage}: input 'x': .npy: not a .npy file`);
  });

  test("a missing file, a directory", async () => {
    const missing = join(dir, "missing.npy");
    expectOneLine(await convnet(missing), missing);
    const sub = join(dir, "sub.npy");
    mkdirSync(sub);
    expectOneLine(await convnet(sub), `${sub} is not a regular file`);
  });

  test("names from the command line are escaped in the one line", async () => {
    const r = await cli(["predict", fixtureModelFile("convnet_fp16"), "--input", `x\u001b[31m=${join(dir, "a.npy")}`]);
    expectOneLine(r, "\\x1b[31m");
  });
});

describe("usage (exit 2)", () => {
  const model = fixtureModelFile("convnet_fp16");
  test.each<[string[], string]>([
    [["predict"], "predict needs a MODEL file"],
    [["predict", model], "predict needs --input NAME=FILE for each input of the model"],
    [["predict", model, "--input", "x"], '--input needs NAME=FILE, got "x"'],
    [["predict", model, "--input", "=x.npy"], '--input needs NAME=FILE, got "=x.npy"'],
    [["predict", model, "--input", "x="], '--input needs NAME=FILE, got "x="'],
    [["predict", model, "--input", "x=a.npy", "--input", "x=b.npy"], '--input "x" is given twice'],
    [["predict", model, "extra", "--input", "x=a.npy"], 'unexpected argument "extra"'],
    [["predict", model, "--input", "x=a.npy", "-o", ""], "-o needs a DIR"],
    [["predict", model, "--input", "x=a.npy", "--random", "3"], "predict does not take --random"],
    [["predict", model, "--input", "x=a.npy", "--layers=a"], "predict does not take --layers"],
    [["quantize", model, "-o", "q", "--nbits", "8", "--input", "x=a.npy"], "quantize does not take --input"],
  ])("%j", async (argv, message) => {
    expectUsage(await cli(argv), message);
  });

  test("parsed: inputs in order, NAME up to the first =, FILE may hold =", () => {
    expect(parseCommand(["predict", "m", "--input", "a=x=1.npy", "--input=b=y.png", "-o", "out", "--json"])).toStrictEqual({
      command: "predict",
      model: "m",
      inputs: [
        { name: "a", file: "x=1.npy" },
        { name: "b", file: "y.png" },
      ],
      json: true,
      quiet: false,
      outputDir: "out",
    });
    expect(parseCommand(["predict", "m", "--input", "a=x.npy"])).toStrictEqual({
      command: "predict",
      model: "m",
      inputs: [{ name: "a", file: "x.npy" }],
      json: false,
      quiet: false,
    });
  });

  test("USAGE documents predict and its options", () => {
    for (const word of ["predict MODEL --input NAME=FILE", "--input NAME=FILE", "-o DIR", "--json"]) expect(USAGE).toContain(word);
    expect(usageErrorOf(["predict", "m"]).message).toContain("--input");
  });
});

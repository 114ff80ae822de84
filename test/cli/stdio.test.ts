/**
 * Standard input and output through `run(argv, io)`: `-` as a model operand reads
 * the injected stdin, `-o -` writes the model through the injected `stdoutBytes`
 * (exactly the bytes `-o FILE` writes, only once everything succeeded), with the
 * people's view on stderr; `--report -` with `-o -` is bad usage; `--quiet`.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT, run, type CliIo } from "../../src/cli/run.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import { MAX_MODEL_BYTES } from "../../src/node/model-file-limits.js";
import { readModelStream } from "../../src/node/model-files.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { FIXTURES, fixtureModelFile } from "../predict/support.js";
import { buildModel } from "../walker/helpers.js";
import { cli, expectUsage } from "../support/cli.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";

const EXAMPLE = join(__dirname, "..", "..", "examples", "cnn.mlmodel");
const MLP = join(GOLDEN_MODELS_DIR, "mlp.mlmodel");

/** What one run produced: text on stdout and stderr, and the bytes given to stdoutBytes (undefined: never called). */
interface StdioResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly bytes: Uint8Array | undefined;
}

/** `stdin` given as bytes, yielded in chunks of `chunk` bytes (as a pipe delivers them). */
async function runStdio(
  argv: readonly string[],
  stdin?: Uint8Array,
  extra: Partial<Omit<CliIo, "stdout" | "stderr" | "stdoutBytes">> = {},
  chunk = 4096,
): Promise<StdioResult> {
  let bytes: Uint8Array | undefined;
  const result = await cli(argv, {
    stdoutBytes: (chunks) => {
      expect(bytes).toBeUndefined();
      bytes = new Uint8Array(Buffer.concat(chunks));
      return Promise.resolve();
    },
    ...(stdin === undefined ? {} : { stdin: () => chunksOf(stdin, chunk) }),
    ...extra,
  });
  return { ...result, bytes };
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-stdio-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => mkdtempSync(join(root, "t-"));
const fileBytes = (file: string): Uint8Array => new Uint8Array(readFileSync(file));

/** Exit 1, one line on stderr, nothing on stdout, no model written. */
function expectRefusal(r: StdioResult, ...parts: string[]): void {
  expect({ code: r.code, stdout: r.stdout, bytes: r.bytes }).toEqual({ code: EXIT.failure, stdout: "", bytes: undefined });
  expect(r.stderr).toMatch(/^coreml-quantize: \S[^\n]*\n$/);
  for (const part of parts) expect(r.stderr).toContain(part);
}

const TRANSFORMS: readonly (readonly [string, readonly string[], string])[] = [
  ["quantize", ["--nbits", "8"], EXAMPLE],
  ["quantize", ["--nbits", "4", "--mode", "kmeans"], EXAMPLE],
  ["quantize", ["--nbits", "16"], EXAMPLE],
  ["dequantize", [], join(GOLDEN_MODELS_DIR, "..", "expected", "cnn.linear.4.mlmodel")],
  ["int8-matmul", [], MLP],
];

describe("-o -: the model on standard output", () => {
  test.each(TRANSFORMS)("%s %j: exactly the bytes -o FILE writes; the summary on stderr, nothing else on stdout", async (command, flags, input) => {
    const file = join(freshDir(), "out.mlmodel");
    const toFile = await runStdio([command, input, "-o", file, ...flags]);
    expect({ code: toFile.code, stderr: toFile.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
    const toStdout = await runStdio([command, input, "-o", "-", ...flags]);
    expect(toStdout.code).toBe(EXIT.ok);
    expect(toStdout.bytes).toEqual(fileBytes(file));
    expect(toStdout.stdout).toBe("");
    // The same people's view, naming standard output instead of the file.
    expect(toStdout.stderr).toBe(toFile.stdout.replace(`wrote ${file}:`, "wrote standard output:"));
    expect(toStdout.stderr).toMatch(/^wrote standard output: \d+ layers/);
  });

  test("with --report FILE: the report is written, the model goes to stdout", async () => {
    const report = join(freshDir(), "r.json");
    const r = await runStdio(["quantize", EXAMPLE, "-o", "-", "--nbits", "8", "--report", report]);
    expect(r.code).toBe(EXIT.ok);
    expect(decodeModel(r.bytes ?? new Uint8Array()).specificationVersion).toBeGreaterThan(0);
    expect((JSON.parse(readFileSync(report, "utf8")) as { tensors: unknown[] }).tensors.length).toBeGreaterThan(0);
    expect(r.stdout).toBe("");
  });

  test("--report - with -o -: bad usage, one line (both would write stdout)", async () => {
    for (const command of [
      ["quantize", EXAMPLE, "-o", "-", "--nbits", "8", "--report", "-"],
      ["quantize", "-", "--report", "-", "--nbits", "8", "-o", "-"],
    ]) {
      const r = await runStdio(command, fileBytes(EXAMPLE));
      expect(r.bytes).toBeUndefined();
      expectUsage(r, "-o - and --report - would both write to standard output; name a file for one of them");
    }
  });

  test("a failure during the work writes nothing to stdout", async () => {
    // A value beyond float16's range: --nbits 16 refuses it (after reading, during the work).
    const overflow = join(freshDir(), "big.mlmodel");
    writeFileSync(
      overflow,
      encodeModel(
        buildModel({
          specificationVersion: 4,
          Type: {
            case: "neuralNetwork",
            value: {
              layers: [{ name: "fc", layer: { case: "innerProduct", value: { inputChannels: 2n, outputChannels: 1n, weights: { floatValue: [1e6, 1] } } } }],
            },
          },
        }),
      ),
    );
    expectRefusal(await runStdio(["quantize", overflow, "-o", "-", "--nbits", "16"]), "65504");
    // The work itself failing.
    const failing = (): never => {
      throw new Error("worker died");
    };
    expectRefusal(await runStdio(["quantize", EXAMPLE, "-o", "-", "--nbits", "8"], undefined, { quantize: failing }), "worker died");
  });

  test("a report that cannot be written once the work is done: nothing on stdout", async () => {
    const dir = freshDir();
    const reportDir = join(dir, "reports");
    mkdirSync(reportDir);
    // The report's directory disappears while the model is quantized: the report is refused after the work.
    const quantize: CliIo["quantize"] = (model, options) => {
      rmSync(reportDir, { recursive: true });
      return quantizeWeights(model, options);
    };
    const r = await runStdio(["quantize", EXAMPLE, "-o", "-", "--nbits", "8", "--report", join(reportDir, "r.json")], undefined, { quantize });
    expectRefusal(r, join(reportDir, "r.json"));
    expect(readdirSync(dir)).toEqual([]);
  });

  test("refused when stdout is a terminal, or when the io has no binary stdout", async () => {
    expectRefusal(await runStdio(["quantize", EXAMPLE, "-o", "-", "--nbits", "8"], undefined, { stdoutIsTty: true }), "terminal", "redirect");
    let stderr = "";
    const code = await run(["dequantize", EXAMPLE, "-o", "-"], { stdout: () => undefined, stderr: (t) => (stderr += t), version: "x" });
    expect(code).toBe(EXIT.failure);
    expect(stderr).toMatch(/^coreml-quantize: cannot write a model to standard output here; name a file with -o\n$/);
  });

  test("predict -o - is bad usage (a directory is expected)", async () => {
    const r = await runStdio(["predict", EXAMPLE, "--input", "x=a.npy", "-o", "-"]);
    expectUsage(r, "predict -o takes a DIR, not - (standard output); print the outputs with --json instead");
  });
});

describe("- as a model operand: standard input", () => {
  test.each(TRANSFORMS)("%s - %j: the same output as from the file", async (command, flags, input) => {
    const fromFile = await runStdio([command, input, "-o", "-", ...flags]);
    const fromStdin = await runStdio([command, "-", "-o", "-", ...flags], fileBytes(input));
    expect(fromStdin).toEqual(fromFile);
    expect(fromStdin.bytes?.length).toBeGreaterThan(0);
  });

  test("inspect -: the same table, naming standard input; --json the same JSON", async () => {
    const fromFile = await runStdio(["inspect", EXAMPLE]);
    const fromStdin = await runStdio(["inspect", "-"], fileBytes(EXAMPLE), {}, 1000);
    expect(fromStdin.code).toBe(EXIT.ok);
    expect(fromStdin.stdout).toBe(fromFile.stdout.replace(`${EXAMPLE}:`, "standard input:"));
    expect((await runStdio(["inspect", "-", "--json"], fileBytes(EXAMPLE))).stdout).toBe((await runStdio(["inspect", EXAMPLE, "--json"])).stdout);
  });

  test("report and compare: either operand may be -, not both", async () => {
    const quantized = join(freshDir(), "q.mlmodel");
    expect((await runStdio(["quantize", EXAMPLE, "-o", quantized, "--nbits", "4"])).code).toBe(EXIT.ok);
    const expected = await runStdio(["report", EXAMPLE, quantized]);
    expect(await runStdio(["report", "-", quantized], fileBytes(EXAMPLE))).toEqual(expected);
    expect(await runStdio(["report", EXAMPLE, "-"], fileBytes(quantized))).toEqual(expected);
    // compare runs the models: one the executor runs.
    const runnable = fixtureModelFile("convnet_fp16");
    const compared = await runStdio(["compare", runnable, runnable, "--random", "2", "--json"]);
    expect(compared.code).toBe(EXIT.ok);
    expect(await runStdio(["compare", runnable, "-", "--random", "2", "--json"], fileBytes(runnable))).toEqual(compared);
    expect(await runStdio(["compare", "-", runnable, "--random", "2", "--json"], fileBytes(runnable))).toEqual(compared);
    for (const command of ["report", "compare"]) {
      const r = await runStdio([command, "-", "-", ...(command === "compare" ? ["--random", "1"] : [])], fileBytes(EXAMPLE));
      expectUsage(r, "ORIGINAL and QUANTIZED are both - (standard input); at most one model can come from it");
    }
  });

  test("predict -: the same outputs as from the file", async () => {
    const sample = join(FIXTURES, "inputs", "convnet_fp16", "0");
    const inputs = readdirSync(sample)
      .sort()
      .flatMap((file) => ["--input", `${file.replace(/\.npy$/, "")}=${join(sample, file)}`]);
    const fromFile = await runStdio(["predict", fixtureModelFile("convnet_fp16"), ...inputs, "--json"]);
    expect(fromFile.code).toBe(EXIT.ok);
    expect(await runStdio(["predict", "-", ...inputs, "--json"], fileBytes(fixtureModelFile("convnet_fp16")))).toEqual(fromFile);
  });

  test("empty, not a model, a terminal, or no stdin in the io: one-line refusals", async () => {
    expectRefusal(await runStdio(["inspect", "-"], new Uint8Array()), "standard input is empty (0 bytes)");
    expectRefusal(await runStdio(["quantize", "-", "-o", "-", "--nbits", "8"], new TextEncoder().encode("hello, not a model")));
    expectRefusal(await runStdio(["inspect", "-"], fileBytes(EXAMPLE), { stdinIsTty: true }), "standard input", "terminal");
    expectRefusal(await runStdio(["inspect", "-"]), "cannot read a model from standard input here");
  });

  test("-o FILE next to - as input: no clash check against a file named -", async () => {
    const dir = freshDir();
    const out = join(dir, "out.mlmodel");
    const r = await runStdio(["dequantize", "-", "-o", out], fileBytes(EXAMPLE));
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^wrote .*out\.mlmodel: /);
  });
});

describe("readModelStream: stdin within the size limit", () => {
  /** Chunks of 0x0a bytes (a plausible first byte), counting how many were pulled. */
  function endless(chunk: number): { source: AsyncIterable<Uint8Array>; pulled: () => number; finished: () => boolean } {
    let pulled = 0;
    let finished = false;
    const source = (async function* (): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled++;
          yield new Uint8Array(chunk).fill(0x0a);
        }
      } finally {
        finished = true;
      }
    })();
    return { source, pulled: () => pulled, finished: () => finished };
  }

  test("stops reading, and lets the stream go, as soon as it passes the limit", async () => {
    const stream = endless(1000);
    await expect(readModelStream(stream.source, "standard input", 10_500)).rejects.toThrow(
      /^cannot read standard input: it goes on past 10500 bytes; a Core ML model is at most 10500 bytes/,
    );
    // 10 chunks fit, the 11th passes the limit: nothing more is pulled, and the generator is closed.
    expect(stream.pulled()).toBe(11);
    expect(stream.finished()).toBe(true);
  });

  test("exactly at the limit is accepted; the default limit is MAX_MODEL_BYTES", async () => {
    const bytes = await readModelStream(chunksOf(new Uint8Array(3000).fill(0x0a), 1000), "x", 3000);
    expect(bytes).toEqual(new Uint8Array(3000).fill(0x0a));
    await expect(readModelStream(chunksOf(new Uint8Array(3001).fill(0x0a), 1000), "x", 3000)).rejects.toThrow(/goes on past 3000 bytes/);
    expect(MAX_MODEL_BYTES).toBe(2 ** 31 - 1);
  });

  test("a first byte no model starts with ends the read at once (an endless stream of zeros)", async () => {
    let pulled = 0;
    const zeros = (async function* (): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield new Uint8Array(1 << 16);
      }
    })();
    const bytes = await readModelStream(zeros, "standard input");
    expect({ length: bytes.length, pulled }).toEqual({ length: 1 << 16, pulled: 1 });
  });

  test("a stream that fails is one io error naming it", async () => {
    const failing = (async function* (): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([0x0a]);
      throw Object.assign(new Error("boom"), { code: "EIO" });
    })();
    await expect(readModelStream(failing, "standard input")).rejects.toMatchObject({ code: "io", message: expect.stringContaining("standard input") });
  });
});

describe("--quiet", () => {
  test.each(TRANSFORMS)("%s %j --quiet: nothing printed on success; the file as without it", async (command, flags, input) => {
    const dir = freshDir();
    const loud = await runStdio([command, input, "-o", join(dir, "a.mlmodel"), ...flags]);
    const quiet = await runStdio([command, input, "-o", join(dir, "b.mlmodel"), "--quiet", ...flags]);
    expect(loud.stdout).not.toBe("");
    expect(quiet).toEqual({ code: EXIT.ok, stdout: "", stderr: "", bytes: undefined });
    expect(fileBytes(join(dir, "b.mlmodel"))).toEqual(fileBytes(join(dir, "a.mlmodel")));
    // -q, and with -o -: the model alone.
    const piped = await runStdio([command, input, "-o", "-", "-q", ...flags]);
    expect({ ...piped, bytes: undefined }).toEqual({ code: EXIT.ok, stdout: "", stderr: "", bytes: undefined });
    expect(piped.bytes).toEqual(fileBytes(join(dir, "a.mlmodel")));
  });

  test("--report - still prints the JSON; errors are still printed", async () => {
    const r = await runStdio(["quantize", EXAMPLE, "-o", join(freshDir(), "q.mlmodel"), "--nbits", "8", "--report", "-", "--quiet"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
    expect(JSON.parse(r.stdout)).toHaveProperty("tensors");
    expectRefusal(await runStdio(["quantize", join(freshDir(), "missing.mlmodel"), "-o", "-", "--nbits", "8", "-q"]), "missing.mlmodel");
  });

  test("predict -o DIR --quiet: the files, no lines; --quiet without -o DIR is bad usage", async () => {
    const sample = join(FIXTURES, "inputs", "convnet_fp16", "0");
    const inputs = readdirSync(sample)
      .sort()
      .flatMap((file) => ["--input", `${file.replace(/\.npy$/, "")}=${join(sample, file)}`]);
    const out = join(freshDir(), "out");
    const r = await runStdio(["predict", fixtureModelFile("convnet_fp16"), ...inputs, "-o", out, "--quiet"]);
    expect(r).toEqual({ code: EXIT.ok, stdout: "", stderr: "", bytes: undefined });
    expect(readdirSync(out).length).toBeGreaterThan(0);
    expectUsage(
      await runStdio(["predict", fixtureModelFile("convnet_fp16"), ...inputs, "-q"]),
      "--quiet goes with -o DIR: without it, the outputs are what predict prints",
    );
  });

  test("commands that only print take no --quiet", async () => {
    for (const argv of [
      ["inspect", EXAMPLE, "-q"],
      ["report", EXAMPLE, EXAMPLE, "--quiet"],
      ["compare", EXAMPLE, EXAMPLE, "--random", "1", "-q"],
    ]) {
      expectUsage(await runStdio(argv), `${argv[0] as string} does not take --quiet`);
    }
  });
});

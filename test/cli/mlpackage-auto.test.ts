/**
 * `quantize PKG --nbits auto` through `run(argv, io)`: every weight it compresses
 * keeps the target (measured again on the written package), a higher target never
 * writes a smaller package, `--write-config` writes configs that `--config`
 * replays into the same package byte for byte (one object, or a list of two),
 * `--modes` limits the choice, and the refusals (one line or usage, nothing written).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Operation } from "../../src/gen/MIL_pb.js";
import type { ProgramConfigFile } from "../../src/mlprogram/auto-config.js";
import { constantTensor } from "../../src/mlprogram/evaluate-constexpr.js";
import { packageProgram } from "../../src/mlprogram/ml-package.js";
import { programReport } from "../../src/mlprogram/report-program.js";
import { opNameOf } from "../../src/mlprogram/program-values.js";
import { walkProgram } from "../../src/mlprogram/walk-program.js";
import { blobsByOffset } from "../../src/mlprogram/weight-bin.js";
import { readMlPackage } from "../../src/node/mlpackage-files.js";
import { FIXTURES } from "../mlprogram/fixtures.js";
import { cli, expectOneLine, expectUsage, type CliResult } from "../support/cli.js";

const MLP18 = join(FIXTURES, "models", "mlp_fp32_ios18.mlpackage");
const MLP16 = join(FIXTURES, "models", "mlp_fp16_ios16.mlpackage");

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-mlpackage-auto-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let outputs = 0;
function output(suffix = ".mlpackage"): string {
  outputs++;
  return join(dir, `out-${outputs}${suffix}`);
}

function ok(r: CliResult): string {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

/** A package folder's files by relative path, read without the library. */
function filesAt(folder: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const visit = (at: string, prefix: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) visit(join(at, entry.name), `${prefix}${entry.name}/`);
      else files.set(`${prefix}${entry.name}`, readFileSync(join(at, entry.name)));
    }
  };
  visit(folder, "");
  return files;
}

function folderBytes(folder: string): number {
  return [...filesAt(folder).values()].reduce((sum, file) => sum + file.length, 0);
}

/** The SNR of each weight the written package compresses, in float64 against the input's const values. */
function compressedSnrs(input: string, written: string): number[] {
  const original = readMlPackage(input);
  const blobs = original.weights === undefined ? new Map() : blobsByOffset(original.weights);
  const consts = new Map<string, Operation>();
  const visit = (ops: readonly Operation[]): void => {
    for (const op of ops) {
      if (op.type === "const") consts.set(opNameOf(op), op);
      for (const block of op.blocks) visit(block.operations);
    }
  };
  for (const fn of Object.values(packageProgram(original).functions)) for (const block of Object.values(fn.blockSpecializations)) visit(block.operations);
  const producers = new Map(walkProgram(packageProgram(original), original.weights).weights.map((w) => [`${w.opName}.${w.input}[${w.index}]`, w.producer]));
  const compressed = programReport(original, readMlPackage(written)).weights.filter((w) => w.after.chain.length > 0);
  expect(compressed.length).toBeGreaterThan(0);
  return compressed.map((w) => {
    const name = producers.get(`${w.opName}.${w.input}[${w.index}]`) as string;
    const val = consts.get(name)?.attributes.val;
    if (val === undefined) throw new Error(`no const ${name}`);
    const signal = constantTensor(val, blobs, name).values.reduce((sum, v) => sum + v * v, 0);
    return w.sse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / w.sse);
  });
}

describe("quantize PKG --nbits auto", () => {
  test("prints the table and a summary; --write-config replays through --config into the same package, byte for byte", async () => {
    const out = output();
    const config = join(dir, "two-passes.json");
    const stdout = ok(await cli(["quantize", MLP18, "-o", out, "--nbits", "auto", "--target-snr", "40", "--write-config", config]));
    expect(stdout).toContain("nbits auto: palettize_weights on 1 weight, linear_quantize_weights on 3 weights; each keeps 40 dB");
    expect(stdout).toContain("op.input");
    const written = JSON.parse(readFileSync(config, "utf8")) as ProgramConfigFile[];
    expect(written.map((pass) => pass.function)).toEqual(["palettize_weights", "linear_quantize_weights"]);
    const replayed = output();
    ok(await cli(["quantize", MLP18, "-o", replayed, "--config", config, "--quiet"]));
    expect(filesAt(replayed)).toEqual(filesAt(out));
  });

  test("one pass is written as one object, which --config reads as before", async () => {
    const out = output();
    const config = join(dir, "one-pass.json");
    ok(await cli(["quantize", MLP18, "-o", out, "--nbits", "auto", "--target-snr", "25", "--write-config", config, "--quiet"]));
    const written = JSON.parse(readFileSync(config, "utf8")) as ProgramConfigFile;
    expect(written.function).toBe("palettize_weights");
    expect(Object.keys(written.config.op_name_configs).length).toBeGreaterThan(0);
    const again = output();
    ok(await cli(["quantize", MLP18, "-o", again, "--config", config, "--quiet"]));
    expect(filesAt(again)).toEqual(filesAt(out));
  });

  test("every weight it compresses keeps the target, and a higher target never writes a smaller package", async () => {
    const sizes: number[] = [];
    for (const target of [15, 30, 45]) {
      const out = output();
      ok(await cli(["quantize", MLP18, "-o", out, "--nbits", "auto", "--target-snr", String(target), "--quiet"]));
      for (const snr of compressedSnrs(MLP18, out)) expect(snr).toBeGreaterThanOrEqual(target);
      sizes.push(folderBytes(out));
    }
    expect(sizes[1]).toBeGreaterThanOrEqual(sizes[0] as number);
    expect(sizes[2]).toBeGreaterThanOrEqual(sizes[1] as number);
    expect(sizes[2]).toBeGreaterThan(sizes[0] as number);
  });

  test("--modes kmeans_lut: only tables; an iOS16 program never gets 3-bit tables or 4-bit data", async () => {
    const config = join(dir, "kmeans-only.json");
    ok(await cli(["quantize", MLP18, "-o", output(), "--nbits", "auto", "--target-snr", "30", "--modes", "kmeans_lut", "--write-config", config, "-q"]));
    const written = JSON.parse(readFileSync(config, "utf8")) as ProgramConfigFile | ProgramConfigFile[];
    expect(Array.isArray(written) ? written.map((p) => p.function) : [written.function]).toEqual(["palettize_weights"]);
    const ios16 = join(dir, "ios16.json");
    ok(
      await cli([
        "quantize",
        MLP16,
        "-o",
        output(),
        "--nbits",
        "auto",
        "--target-snr",
        "15",
        "--modes",
        "kmeans_lut,linear,linear_symmetric",
        "--write-config",
        ios16,
        "-q",
      ]),
    );
    const text = readFileSync(ios16, "utf8");
    expect(text).not.toMatch(/"nbits": 3\b|int4|per_block/);
  });

  test("no weight keeps the target: each is listed as left as it was", async () => {
    const stdout = ok(await cli(["quantize", MLP18, "-o", output(), "--nbits", "auto", "--target-snr", "90"]));
    expect(stdout).toContain("left fc1_weight_0 as it was: no storage keeps 90 dB");
  });
});

describe("refusals", () => {
  test("--write-config without --nbits auto is a usage error", async () => {
    const out = output();
    expectUsage(
      await cli(["quantize", MLP18, "-o", out, "--nbits", "8", "--mode", "linear", "--write-config", join(dir, "x.json")]),
      "--target-snr, --modes and --write-config go with --nbits auto",
    );
    expect(existsSync(out)).toBe(false);
  });

  test("--write-config on an .mlmodel: one line, nothing written", async () => {
    const out = output(".mlmodel");
    const config = join(dir, "nn.json");
    expectOneLine(
      await cli(["quantize", join(__dirname, "..", "..", "examples", "cnn.mlmodel"), "-o", out, "--nbits", "auto", "--write-config", config]),
      "--write-config",
      "ML Program",
    );
    expect([existsSync(out), existsSync(config)]).toEqual([false, false]);
  });

  test("--write-config with --config is a usage error", async () => {
    const config = join(dir, "c.json");
    writeFileSync(config, "{}");
    expectUsage(
      await cli(["quantize", MLP18, "-o", output(), "--config", config, "--write-config", join(dir, "y.json")]),
      "--config FILE says how to compress; --write-config does not go with it",
    );
  });

  test("--write-config naming the output, or a folder: one line, nothing written", async () => {
    const out = output(".zip");
    expectOneLine(await cli(["quantize", MLP18, "-o", out, "--nbits", "auto", "--write-config", out]), "--write-config");
    expect(existsSync(out)).toBe(false);
    const folderOut = output();
    expectOneLine(await cli(["quantize", MLP18, "-o", folderOut, "--nbits", "auto", "--write-config", dir]), dir);
    expect(existsSync(folderOut)).toBe(false);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  test.each([
    ["[]", "an empty list"],
    ['[{"function": "palettize_weights", "config": {}}, {"function": "nope", "config": {}}]', "[1]: function"],
  ])("--config %s: one line naming the entry, nothing written", async (text, part) => {
    const config = join(dir, `bad-${outputs}.json`);
    writeFileSync(config, text);
    const out = output();
    expectOneLine(await cli(["quantize", MLP18, "-o", out, "--config", config]), part);
    expect(existsSync(out)).toBe(false);
  });
});

/**
 * `inspect` on ML Program packages through `run(argv, io)`: a package folder and a
 * zip of one, the table against the fixtures' own facts (cases.json), `--json`
 * against the library's `inspectProgram`, and the refusals: broken packages, and
 * every other command given a package.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helpText } from "../../src/cli/args.js";
import type { Operation, Program } from "../../src/gen/MIL_pb.js";
import { inspectProgram } from "../../src/mlprogram/inspect-program.js";
import { decodeMlPackage, encodeMlPackage, packageProgram } from "../../src/mlprogram/ml-package.js";
import { writeZipArchive } from "../../src/mlprogram/zip-archive.js";
import { displayWidth } from "../../src/report/display-width.js";
import { shortenOpPath } from "../../src/report/format-program-summary.js";
import { casesFile, FIXTURES, fixturePackages, packageFiles, WEIGHT_BIN_PATH } from "../mlprogram/fixtures.js";
import { cli, expectOneLine, type CliResult } from "../support/cli.js";

const EXAMPLE_MLMODEL = join(__dirname, "..", "..", "examples", "cnn.mlmodel");
const ATTN = "models/attn_fp32_ios18.mlpackage";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-inspect-mlpackage-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The summary `inspectProgram` gives for a fixture package read without the CLI, as JSON would carry it. */
function librarySummary(relative: string): unknown {
  return JSON.parse(JSON.stringify(inspectProgram(decodeMlPackage(packageFiles(relative)))));
}

function ok(r: CliResult): string {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

/** Writes files as a package folder under the test directory. */
function writeFolder(name: string, files: ReadonlyMap<string, Uint8Array>): string {
  const root = join(dir, name);
  for (const [path, contents] of files) {
    const file = join(root, ...path.split("/"));
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, contents);
  }
  return root;
}

/** The table's rows: the lines between the header line and the first line that is not a row (footnotes, blank). */
function tableRows(text: string): string[][] {
  const lines = text.split("\n");
  const header = lines.findIndex((line) => line.startsWith("op.input  "));
  expect(header).toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of lines.slice(header + 1)) {
    const cells = line.split(/ {2,}/);
    if (line === "" || !line.startsWith('"')) break;
    rows.push(cells);
  }
  return rows;
}

/** Whether a table's op cell shows an input of the op named `name` (whole, or with its middle left out). */
function showsOp(cell: string, name: string): boolean {
  const quoted = JSON.stringify(name);
  const op = cell.slice(0, cell.lastIndexOf('"') + 1);
  if (op === quoted) return true;
  const [head, tail] = op.split("…");
  return tail !== undefined && quoted.startsWith(head as string) && quoted.endsWith(tail);
}

describe("a package folder", () => {
  test("--json is inspectProgram's summary", async () => {
    expect(JSON.parse(ok(await cli(["inspect", join(FIXTURES, ATTN), "--json"])))).toEqual(librarySummary(ATTN));
  });

  test("the header names the model and its function; the totals are the summary's", async () => {
    const text = ok(await cli(["inspect", join(FIXTURES, "models/mlp_fp32_ios16.mlpackage")]));
    const lines = text.split("\n");
    expect(lines[0]).toBe(`${join(FIXTURES, "models/mlp_fp32_ios16.mlpackage")}: ML Program, specification version 7`);
    expect(lines[1]).toBe("  function main (CoreML6): 23 operations");
    // Five linear layers' weights and biases, 21,935 float32 values in weight.bin.
    expect(text).toMatch(/^total: 14 constants, 21941 values, 87\.8 KB; inline 21 B \(4 constants\);\n {7}weight\.bin 87\.7 KB \(10 constants in 10 blobs\)$/m);
    expect(text).toMatch(/^by type: float32 87\.7 KB \(10 constants\); int32 20 B \(3 constants\)/m);
  });

  test.each(casesFile().models.map((m) => [m.id, m] as const))("%s: one row for each weight cases.json lists, and no other", async (_id, model) => {
    const rows = tableRows(ok(await cli(["inspect", join(FIXTURES, model.path)])));
    const expected = Object.values(model.consts).flatMap((c) =>
      c.consumers.map((consumer) => ({ consumer, shape: `[${c.shape.join(", ")}]`, dtype: c.dtype })),
    );
    expect(rows).toHaveLength(expected.length);
    // Weights alike (batch_norm's four [48] parameters) show as many rows as cases.json has.
    for (const want of expected) {
      const alike = expected.filter((e) => e.consumer === want.consumer && e.shape === want.shape && e.dtype === want.dtype).length;
      const found = rows.filter(([op, , shape, dtype]) => showsOp(op as string, want.consumer) && shape === want.shape && dtype === want.dtype);
      expect({ ...want, found: found.length }).toEqual({ ...want, found: alike });
    }
    // Every row: a storage in weight.bin (the fixtures store every weight there), and bytes.
    for (const row of rows) expect(row.slice(4)).toEqual([expect.stringMatching(/^@\d+$/), expect.stringMatching(/^\d+(\.\d)? [KM]?B$/)]);
  });

  test("a compressed weight: the stored type, its bytes (every blob of it) and the constexpr ops that decompress it", async () => {
    const relative = "expected/attn_fp32_ios18__joint_prune50_then_lq_int8.mlpackage";
    const text = ok(await cli(["inspect", join(FIXTURES, relative)]));
    const rows = tableRows(text);
    expect(rows.find(([op]) => op === '"q_proj".y')).toEqual([
      '"q_proj".y',
      "matmul",
      "[64, 64]",
      "float32",
      expect.stringMatching(/^int8 @\d+ #1$/),
      "2.8 KB",
    ]);
    // The int8 data (4,096 bytes at most: half the values are pruned), the uint1 mask, the scales: 2.8 KB in all.
    expect(text).toContain("\n#1: constexpr_sparse_blockwise_shift_scale > constexpr_sparse_to_dense\n");
    // The table shared by embed and lm_head is one blob, in both rows.
    expect(rows.find(([op]) => op === '"lm_head".y')?.[4]).toBe(rows.find(([op]) => op === '"embed".x')?.[4]);
  });

  test("a folder holding Manifest.json is a package whatever its name", async () => {
    const copy = join(dir, "renamed");
    cpSync(join(FIXTURES, ATTN), copy, { recursive: true });
    expect(JSON.parse(ok(await cli(["inspect", copy, "--json"])))).toEqual(librarySummary(ATTN));
  });

  test("every fixture's output fits 100 columns", async () => {
    for (const relative of fixturePackages()) {
      const text = ok(await cli(["inspect", join(FIXTURES, relative)]));
      const wide = text
        .split("\n")
        .slice(1)
        .filter((line) => displayWidth(line) > 100);
      expect({ relative, wide }).toEqual({ relative, wide: [] });
    }
  }, 60_000);
});

describe("op names chosen by the model's author", () => {
  /** The fixture with its `fc1` op renamed. */
  function renamed(name: string, folder: string): string {
    const pkg = decodeMlPackage(packageFiles("models/mlp_fp32_ios16.mlpackage"));
    const op = operations(packageProgram(pkg)).find((o) => nameOf(o)?.values[0] === "fc1");
    (nameOf(op as Operation) as { values: string[] }).values[0] = name;
    return writeFolder(folder, encodeMlPackage(pkg));
  }

  test("controls and bidirectional overrides are escaped, in the table and in --json", async () => {
    const path = renamed("fc1\u001b[31m\u202e\nforged", "escape.mlpackage");
    const text = ok(await cli(["inspect", path]));
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain("\u202e");
    // The walker quotes names as JSON strings (escaping C0 controls); the table escapes the rest.
    expect(text).toContain('"fc1\\u001b[31m\\u202e\\nforged".weight  linear');
    const json = ok(await cli(["inspect", path, "--json"]));
    expect(json).not.toContain("\u001b");
    expect(json).not.toContain("\u202e");
    const summary = JSON.parse(json) as { weights: { opName: string }[] };
    expect(summary.weights[0]?.opName).toBe("fc1\u001b[31m\u202e\nforged");
  });

  test("a 300-character name loses its middle; the table still fits 100 columns", async () => {
    const name = `start_${"x".repeat(288)}_end!`;
    const text = ok(await cli(["inspect", renamed(name, "long.mlpackage")]));
    const row = tableRows(text).find(([op]) => (op as string).startsWith('"start_'));
    expect(row?.[0]).toMatch(/^"start_x*…x*_end!"\.(weight|bias)$/);
    expect(
      text
        .split("\n")
        .slice(1)
        .filter((line) => displayWidth(line) > 100),
    ).toEqual([]);
  });
});

describe("shortenOpPath", () => {
  test.each([
    ['"fc1".weight', 40, '"fc1".weight'],
    ['"deconv_has_output_shape_cast_fp16".weight', 27, '"deconv_h…cast_fp16".weight'],
    ['"cond_0"/blocks[0]/"deconv_has_output_shape".y', 32, '"cond_0"/blocks[0]/"deco…hape".y'],
    // The name keeps 8 columns while the blocks before it give up theirs.
    ['"cond_0"/blocks[0]/"deconv_has_output_shape".y', 22, '"con…s[0]/"dec…hape".y'],
    ["main/CoreML8/no quotes at all", 12, "main/…at all"],
  ])("%s in %d columns", (path, width, want) => {
    const got = shortenOpPath(path, width);
    expect(displayWidth(got)).toBeLessThanOrEqual(width);
    if (want !== "") expect(got).toBe(want);
  });

  test("the op's name keeps at least 8 columns while what is before it can give", () => {
    const got = shortenOpPath(`"${"c".repeat(40)}"/blocks[0]/"${"n".repeat(40)}"`, 40);
    expect(displayWidth(got)).toBe(40);
    expect(got).toMatch(/\/"n+…n+"$/);
    expect(got.slice(got.lastIndexOf('/"') + 2, -1).length).toBeGreaterThanOrEqual(8);
  });
});

describe("a zip of a package", () => {
  test.each([
    ["in a folder, as zipping the .mlpackage gives", "model.mlpackage.zip", "model.mlpackage"],
    ["with the files at its root", "model.zip", ""],
  ])("%s: --json as the folder's", async (_name, file, folder) => {
    const zip = join(dir, file);
    writeFileSync(zip, writeZipArchive(packageFiles(ATTN), { folder }));
    expect(JSON.parse(ok(await cli(["inspect", zip, "--json"])))).toEqual(librarySummary(ATTN));
    expect(ok(await cli(["inspect", zip]))).toBe(ok(await cli(["inspect", join(FIXTURES, ATTN)])).replace(join(FIXTURES, ATTN), zip));
  });

  test("read from the bytes read ahead of time (the prefetch)", async () => {
    const gone = join(dir, "gone.mlpackage.zip");
    const bytes = writeZipArchive(packageFiles(ATTN));
    expect(JSON.parse(ok(await cli(["inspect", gone, "--json"], { prefetched: { path: gone, bytes: Promise.resolve(bytes) } })))).toEqual(librarySummary(ATTN));
  });
});

describe("refusals: exit 1, one line, nothing on stdout", () => {
  test("a folder named .mlpackage without Manifest.json", async () => {
    const empty = join(dir, "Empty.mlpackage");
    mkdirSync(empty);
    for (const argv of [
      ["inspect", empty],
      ["inspect", empty, "--json"],
    ])
      expectOneLine(await cli(argv), "Empty.mlpackage", "Manifest.json");
  });

  test("a folder that is no package is still a directory, not a model file", async () => {
    const plain = join(dir, "plain");
    mkdirSync(plain);
    expectOneLine(await cli(["inspect", plain]), "plain is a directory, not an .mlmodel file");
  });

  test("a truncated weight.bin, in a folder and in a zip", async () => {
    const files = packageFiles(ATTN);
    const truncated = new Map(files).set(WEIGHT_BIN_PATH, (files.get(WEIGHT_BIN_PATH) as Uint8Array).subarray(0, 1000));
    const folder = writeFolder("truncated.mlpackage", truncated);
    expectOneLine(await cli(["inspect", folder]), "truncated.mlpackage", "weight.bin", "truncated");
    const zip = join(dir, "truncated.mlpackage.zip");
    writeFileSync(zip, writeZipArchive(truncated, { folder: "truncated.mlpackage" }));
    expectOneLine(await cli(["inspect", zip, "--json"]), "truncated.mlpackage.zip", "weight.bin", "truncated");
  });

  test("weight.bin cut after the header: the blob a constant names is missing", async () => {
    const folder = join(dir, "header-only.mlpackage");
    cpSync(join(FIXTURES, ATTN), folder, { recursive: true });
    const bin = join(folder, ...WEIGHT_BIN_PATH.split("/"));
    truncateSync(bin, 64);
    expectOneLine(await cli(["inspect", folder]), "header-only.mlpackage", "weight.bin");
  });

  test("a damaged zip", async () => {
    const zip = join(dir, "damaged.zip");
    const bytes = writeZipArchive(packageFiles(ATTN));
    writeFileSync(zip, bytes.subarray(0, bytes.length - 30));
    expectOneLine(await cli(["inspect", zip]), "damaged.zip", "zip archive");
  });

  test("a zip on standard input: - reads .mlmodel files only", async () => {
    const bytes = writeZipArchive(packageFiles(ATTN));
    const stdin = async function* (): AsyncIterable<Uint8Array> {
      yield bytes;
    };
    expectOneLine(await cli(["inspect", "-"], { stdin }), "standard input", "zip archive", "name the zipped .mlpackage as a file");
  });

  const out = (name: string): string => join(dir, "out", name);
  // quantize, dequantize and report take packages (test/cli/mlpackage-commands.test.ts).
  const otherCommands: readonly [string, (pkg: string) => string[]][] = [
    ["int8-matmul", (pkg) => ["int8-matmul", pkg, "-o", out("m.mlmodel")]],
    ["predict", (pkg) => ["predict", pkg, "--input", `x=${out("x.npy")}`]],
    ["compare", (pkg) => ["compare", EXAMPLE_MLMODEL, pkg, "--random", "2"]],
  ];

  test.each(otherCommands)("%s on a package folder and on a zip: not supported, nothing written", async (name, argv) => {
    mkdirSync(join(dir, "out"), { recursive: true });
    const zip = join(dir, "model.mlpackage.zip");
    writeFileSync(zip, writeZipArchive(packageFiles(ATTN), { folder: "model.mlpackage" }));
    for (const pkg of [join(FIXTURES, ATTN), zip]) {
      const r = await cli(argv(pkg));
      expectOneLine(r, pkg);
      // int8-matmul says what compresses a package instead.
      expect(r.stderr).toMatch(name === "int8-matmul" ? /for an ML Program use quantize/ : /running ML Programs is not supported/);
      expect(readdirSync(join(dir, "out"))).toEqual([]);
    }
  });

  test("int8-matmul refuses the package before looking at -o (which may not be writable)", async () => {
    const r = await cli(["int8-matmul", join(FIXTURES, ATTN), "-o", join(dir, "missing-dir", "out.mlmodel")]);
    expectOneLine(r, "ML Program package", "use quantize");
  });
});

test("inspect's help says MODEL may be an .mlpackage folder or a zip of one", () => {
  expect(helpText("inspect")).toMatch(/\.mlpackage folder[\s\S]*zip/);
});

/** Every op of every block of a program, nested blocks included. */
function operations(program: Program): Operation[] {
  const all: Operation[] = [];
  const visit = (ops: readonly Operation[]): void => {
    for (const op of ops) {
      all.push(op);
      op.blocks.forEach((block) => visit(block.operations));
    }
  };
  for (const fn of Object.values(program.functions)) for (const block of Object.values(fn.blockSpecializations)) visit(block.operations);
  return all;
}

/** The strings of an op's `name` attribute. */
function nameOf(op: Operation): { values: string[] } | undefined {
  const value = op.attributes.name?.value;
  const tensor = value?.case === "immediateValue" && value.value.value.case === "tensor" ? value.value.value.value.value : undefined;
  return tensor?.case === "strings" ? (tensor.value as { values: string[] }) : undefined;
}

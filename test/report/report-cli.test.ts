/**
 * `coreml-quantize report ORIGINAL QUANTIZED [--json]` through `parseCommand` and
 * `run(argv, io)`: the table and the JSON are the library's, quantize-then-report
 * through files, usage errors (exit 2) and bad input (exit 1, one line).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand, USAGE } from "../../src/cli/args.js";
import { EXIT } from "../../src/cli/run.js";
import { formatReport, reportJson } from "../../src/report/format-report.js";
import { weightReport, type WeightReport } from "../../src/report/weight-report.js";
import { cli, usageErrorOf, type CliResult } from "../support/cli.js";
import { GOLDEN_ROOT, loadGoldenFile } from "../support/golden.js";

/** Exit 1, nothing on stdout, exactly one line on stderr starting `coreml-quantize:`. */
function expectOneLineFailure(r: CliResult): string {
  expect(r.code).toBe(EXIT.failure);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^coreml-quantize: \S.*\n$/);
  expect(r.stderr.indexOf("\n")).toBe(r.stderr.length - 1);
  return r.stderr;
}

const ORIGINAL = join(GOLDEN_ROOT, "models", "cnn.mlmodel");
const QUANTIZED = join(GOLDEN_ROOT, "expected", "cnn.kmeans_lut.4.mlmodel");

describe("report: parsing", () => {
  test.each([
    [["report", "a.mlmodel", "b.mlmodel"], false],
    [["report", "a.mlmodel", "b.mlmodel", "--json"], true],
    [["--json", "report", "a.mlmodel", "b.mlmodel"], true],
  ])("%j", (argv, json) => {
    expect(parseCommand(argv)).toStrictEqual({ command: "report", original: "a.mlmodel", quantized: "b.mlmodel", json });
  });

  test.each([
    [["report"], "ORIGINAL and a QUANTIZED"],
    [["report", "a.mlmodel"], "ORIGINAL and a QUANTIZED"],
    [["report", "a", "b", "c"], 'unexpected argument "c"'],
    [["report", "a", "b", "-o", "c"], "report does not take --output"],
    [["report", "a", "b", "--nbits", "8"], "report does not take --nbits"],
  ])("%j is a usage error: %s", (argv, message) => {
    expect(usageErrorOf(argv).message).toContain(message);
  });

  test("USAGE documents the command", () => {
    expect(USAGE).toContain("report ORIGINAL QUANTIZED [--json]");
  });
});

describe("report: output", () => {
  test("the table is formatReport of weightReport", async () => {
    const r = await cli(["report", ORIGINAL, QUANTIZED]);
    expect(r).toEqual({
      code: EXIT.ok,
      stdout: formatReport(weightReport(loadGoldenFile("models/cnn.mlmodel"), loadGoldenFile("expected/cnn.kmeans_lut.4.mlmodel"))),
      stderr: "",
    });
    expect(r.stdout).toMatch(/^layer +field +storage +bytes +SNR\n/);
    expect(r.stdout).toMatch(/\ntotal: 14 tensors/);
  });

  test("--json is the report itself", async () => {
    const r = await cli(["report", ORIGINAL, QUANTIZED, "--json"]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toBe("");
    const want = weightReport(loadGoldenFile("models/cnn.mlmodel"), loadGoldenFile("expected/cnn.kmeans_lut.4.mlmodel"));
    expect(r.stdout).toBe(reportJson(want));
    expect(JSON.parse(r.stdout) as WeightReport).toEqual(want);
  });

  test("quantize, then report the two files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coreml-quantize-report-"));
    try {
      const out = join(dir, "cnn.8.mlmodel");
      expect((await cli(["quantize", ORIGINAL, "-o", out, "--nbits", "8"])).code).toBe(EXIT.ok);
      const r = await cli(["report", ORIGINAL, out, "--json"]);
      expect(r.code).toBe(EXIT.ok);
      const report = JSON.parse(r.stdout) as WeightReport;
      expect(report.tensors.some((t) => t.fused)).toBe(true);
      for (const t of report.tensors) expect(t.exact || (t.snrDb as number) > 40).toBe(true);
      expect(report.totals.ratio).toBeGreaterThan(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("report: failures", () => {
  test("models that do not correspond: exit 1, one line naming the first difference", async () => {
    const stderr = expectOneLineFailure(await cli(["report", ORIGINAL, join(GOLDEN_ROOT, "models", "mlp.mlmodel")]));
    expect(stderr).toContain("do not correspond");
    expect(stderr).toContain("layers[0]");
  });

  test("a missing file: exit 1, one line naming it", async () => {
    const missing = join(tmpdir(), "coreml-quantize-report-missing.mlmodel");
    for (const argv of [
      ["report", missing, QUANTIZED],
      ["report", ORIGINAL, missing, "--json"],
    ]) {
      expect(expectOneLineFailure(await cli(argv))).toContain(missing);
    }
  });

  test("a file that is not a model: exit 1, one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coreml-quantize-report-"));
    try {
      const text = join(dir, "notes.mlmodel");
      writeFileSync(text, "this is not a Core ML model\n");
      expectOneLineFailure(await cli(["report", ORIGINAL, text]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bad usage: exit 2 with the pointer to the help", async () => {
    const r = await cli(["report", ORIGINAL]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`coreml-quantize: report needs an ORIGINAL and a QUANTIZED file\nRun 'coreml-quantize report --help' for usage.\n`);
  });
});

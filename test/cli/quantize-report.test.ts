/**
 * The quantize command's report: the per-tensor table after every quantize,
 * `--report FILE|-`, `--nbits auto` with its flags, and `--fp16-overflow`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand, UsageError } from "../../src/cli/args.js";
import { EXIT } from "../../src/cli/run.js";
import { cli } from "../support/cli.js";

const MODELS = join(__dirname, "..", "fixtures", "golden", "models");
let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-report-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("every quantize prints the summary, then a table with an SNR per tensor, then totals", async () => {
  const r = await cli(["quantize", join(MODELS, "mlp.mlmodel"), "-o", join(dir, "o.mlmodel"), "--nbits", "4"]);
  expect(r.code).toBe(EXIT.ok);
  const lines = r.stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^wrote /);
  expect(lines[2]).toMatch(/^layer +field +storage +bytes +SNR$/);
  expect(lines.filter((l) => / dB$/.test(l)).length).toBeGreaterThan(3);
  // The totals wrap at "; " to fit 100 columns.
  expect(lines.slice(-2)).toEqual([expect.stringMatching(/^total: .*;$/), expect.stringMatching(/^ {7}SNR /)]);
});

test("--report FILE writes the JSON report; --report - puts it alone on stdout", async () => {
  const out = join(dir, "o.mlmodel");
  const file = join(dir, "report.json");
  expect((await cli(["quantize", join(MODELS, "cnn.mlmodel"), "-o", out, "--nbits", "8", "--report", file])).code).toBe(EXIT.ok);
  const report = JSON.parse(readFileSync(file, "utf8")) as { tensors: { snrDb: number | null; decision?: { storage: string } }[]; totals: { tensors: number } };
  expect(report.totals.tensors).toBe(report.tensors.length);
  expect(report.tensors.every((t) => t.decision?.storage === "linear")).toBe(true);
  const r = await cli(["quantize", join(MODELS, "cnn.mlmodel"), "-o", out, "--nbits", "8", "--report", "-", "--force"]);
  expect(JSON.parse(r.stdout)).toEqual(report);
  expect(r.stderr).toMatch(/^wrote /);
});

test("--nbits auto --target-snr --modes: every tensor reaches the target", async () => {
  const file = join(dir, "report.json");
  const r = await cli([
    "quantize",
    join(MODELS, "cnn.mlmodel"),
    "-o",
    join(dir, "o.mlmodel"),
    "--nbits",
    "auto",
    "--target-snr",
    "30",
    "--modes",
    "linear,linear_lut",
    "--report",
    file,
  ]);
  expect(r.code).toBe(EXIT.ok);
  const report = JSON.parse(readFileSync(file, "utf8")) as { tensors: { snrDb: number | null; exact: boolean; decision?: { mode?: string } }[] };
  for (const t of report.tensors) {
    expect(t.exact || (t.snrDb !== null && t.snrDb >= 30)).toBe(true);
    if (t.decision?.mode !== undefined) expect(["linear", "linear_lut"]).toContain(t.decision.mode);
  }
});

test("--fp16-overflow keep-float32 names the tensor kept; clamp names the tensor clamped; error refuses", async () => {
  const input = join(MODELS, "fp16_overflow.mlmodel");
  const kept = await cli(["quantize", input, "-o", join(dir, "k.mlmodel"), "--nbits", "16", "--fp16-overflow", "keep-float32"]);
  expect(kept.stdout).toMatch(/kept float32 \(values beyond ±65504\): .*fc_overflow/);
  const clamped = await cli(["quantize", input, "-o", join(dir, "c.mlmodel"), "--nbits", "16", "--fp16-overflow", "clamp"]);
  expect(clamped.stdout).toMatch(/clamped to ±65504: .*fc_overflow/);
  const refused = await cli(["quantize", input, "-o", join(dir, "e.mlmodel"), "--nbits", "16"]);
  expect(refused.code).toBe(EXIT.failure);
  expect(refused.stderr).toMatch(/^coreml-quantize: .*fc_overflow.*half-precision range.*\n$/);
  expect(existsSync(join(dir, "e.mlmodel"))).toBe(false);
});

test("usage errors for the new flags", () => {
  const q = ["quantize", "a", "-o", "b"];
  for (const argv of [
    [...q, "--nbits", "8", "--target-snr", "30"],
    [...q, "--nbits", "auto", "--target-snr", "loud"],
    [...q, "--nbits", "auto", "--modes", "custom_lut"],
    [...q, "--nbits", "auto", "--modes", ""],
    [...q, "--nbits", "16", "--fp16-overflow", "wrap"],
    [...q, "--nbits", "8", "--report", ""],
    ["dequantize", "a", "-o", "b", "--report", "r.json"],
  ]) {
    expect(() => parseCommand(argv)).toThrow(UsageError);
  }
  expect(parseCommand([...q, "--nbits", "auto", "--target-snr", "35.5", "--modes", "kmeans_lut"])).toMatchObject({
    nbits: "auto",
    targetSnrDb: 35.5,
    modes: ["kmeans_lut"],
  });
});

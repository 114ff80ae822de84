/**
 * Tables fit 100 columns: a model whose layer names are 200 characters long (ASCII,
 * CJK, with control characters) through inspect, quantize and report. The layer
 * column loses the middle of each name; `--json` keeps the names whole.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "../../src/cli/run.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import { displayWidth } from "../../src/report/display-width.js";
import { TABLE_WIDTH } from "../../src/report/format-table.js";
import { escapeForTerminal } from "../../src/report/terminal-text.js";
import { buildModel } from "../walker/helpers.js";
import { cli } from "../support/cli.js";

/** Layer names of 200 characters, each with its own start and end. */
const NAMES = [
  `${`encoder/${"block_12/".repeat(20)}`.padEnd(194, "b")}conv_3`,
  `${`decoder/${"层".repeat(150)}`.padEnd(199, "y")}z`,
  `head/\u001b[31m${"a".repeat(180)}\u202e`.padEnd(200, "q"),
  "x".repeat(200),
];

let dir = "";
let model = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-width-"));
  model = join(dir, "long-names.mlmodel");
  writeFileSync(
    model,
    encodeModel(
      buildModel({
        specificationVersion: 4,
        Type: {
          case: "neuralNetwork",
          value: {
            layers: NAMES.map((name, i) => ({
              name,
              input: [i === 0 ? "in" : `b${i}`],
              output: [`b${i + 1}`],
              layer: {
                case: "innerProduct" as const,
                value: {
                  inputChannels: 4n,
                  outputChannels: 4n,
                  hasBias: true,
                  weights: { floatValue: Array.from({ length: 16 }, (_, k) => (k - 7) / 3) },
                  bias: { floatValue: [0.5, -1, 2, 0.25] },
                },
              },
            })),
          },
        },
      }),
    ),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the names really are 200 characters", () => {
  for (const name of NAMES) expect([...name]).toHaveLength(200);
});

/** The table's lines: from the header (starting `layer `) to the first empty line. */
function tableLines(text: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("layer "));
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf("", start);
  return lines.slice(start, end < 0 ? undefined : end);
}

function expectFits(lines: readonly string[], rows: number): void {
  expect(lines).toHaveLength(rows + 1);
  for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(TABLE_WIDTH);
  // Every row is shortened, keeps its layer's index, and shows the ellipsis inside the quotes.
  for (const [i, line] of lines.slice(1).entries()) expect(line).toMatch(new RegExp(`^neuralNetwork/layers\\[${Math.floor(i / 2)}\\] "[^"]*…[^"]*" `));
}

test("inspect: every table line within 100 columns; --json has the names whole", async () => {
  const r = await cli(["inspect", model]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
  expectFits(tableLines(r.stdout), NAMES.length * 2);
  // The start and the end of each name are shown (escaped for the terminal).
  const lines = tableLines(r.stdout);
  NAMES.forEach((name, i) => {
    // The path quotes the name as JSON (\u001b), then the terminal escapes the rest (\u202e).
    const shown = escapeForTerminal(JSON.stringify(name).slice(1, -1));
    const cell = /"([^"]*)"/.exec(lines[1 + 2 * i] ?? "")?.[1] ?? "";
    const [head = "", tail = ""] = cell.split("…");
    expect(shown.startsWith(head) && shown.endsWith(tail)).toBe(true);
    expect(head.length).toBeGreaterThan(0);
    expect(tail.length).toBeGreaterThan(0);
  });
  const json = JSON.parse((await cli(["inspect", model, "--json"])).stdout) as { weights: { layerPath: string }[] };
  expect(json.weights.map((w) => w.layerPath)).toEqual(
    NAMES.flatMap((name, i) => {
      const path = `model/neuralNetwork/layers[${i}] ${JSON.stringify(name)}`;
      return [path, path];
    }),
  );
});

test("quantize and report: the table within 100 columns, the totals too; --report - has the names whole", async () => {
  const out = join(dir, "q.mlmodel");
  const q = await cli(["quantize", model, "-o", out, "--nbits", "8"]);
  expect({ code: q.code, stderr: q.stderr }).toEqual({ code: EXIT.ok, stderr: "" });
  expectFits(tableLines(q.stdout), NAMES.length * 2);
  const totals = q.stdout
    .slice(q.stdout.indexOf("\ntotal: ") + 1)
    .trimEnd()
    .split("\n");
  for (const line of totals) expect(displayWidth(line)).toBeLessThanOrEqual(TABLE_WIDTH);

  const report = await cli(["report", model, out]);
  expect(report.code).toBe(EXIT.ok);
  expectFits(tableLines(report.stdout), NAMES.length * 2);
  const json = JSON.parse((await cli(["report", model, out, "--json"])).stdout) as { tensors: { layer: string }[] };
  expect(json.tensors.map((t) => t.layer)).toEqual(NAMES.flatMap((name) => [name, name]));
});

test("the same model twice gives the same table (shortening is deterministic)", async () => {
  const a = await cli(["inspect", model]);
  const b = await cli(["inspect", model]);
  expect(a.stdout).toBe(b.stdout);
});

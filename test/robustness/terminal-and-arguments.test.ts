/**
 * Issue 11, items 5 and 7: names from the model and the command line never reach
 * the terminal raw (control, C1 and bidirectional characters are escaped, one
 * line stays one line), and numbers that do not read back as written are bad usage.
 */
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand, UsageError } from "../../src/cli/args.js";
import { escapeForTerminal, escapeJsonForTerminal } from "../../src/report/terminal-text.js";
import { cli } from "../support/cli.js";
import { floatValueRecords, innerProductLayer, networkModel, ONE_LINE_REFUSAL } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";

/** Every character a terminal may act on, one of each class the issue names, and the edges of each range. */
const HOSTILE = [
  "\u0000",
  "\u0007",
  "\b",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u001f",
  "\u007f",
  "\u0080",
  "\u009b",
  "\u009f",
  "\u061c",
  "\u200e",
  "\u200f",
  "\u2028",
  "\u2029",
  "\u202a",
  "\u202e",
  "\u2066",
  "\u2069",
];
/** The same set, written independently of the code under test: by code point ranges. */
const isHostile = (c: number): boolean =>
  c <= 0x1f ||
  (c >= 0x7f && c <= 0x9f) ||
  c === 0x61c ||
  c === 0x200e ||
  c === 0x200f ||
  c === 0x2028 ||
  c === 0x2029 ||
  (c >= 0x202a && c <= 0x202e) ||
  (c >= 0x2066 && c <= 0x2069);
const hostileIn = (text: string): string[] => [...text].filter((ch) => isHostile(ch.codePointAt(0) ?? 0));

describe("escapeForTerminal", () => {
  test.each(HOSTILE.map((c) => [`U+${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`, c] as const))("%s is shown as an escape", (_label, c) => {
    // Act
    const shown = escapeForTerminal(`a${c}b`);

    // Assert: the character is gone, its code point is spelled out between the neighbours
    const code = (c.codePointAt(0) ?? 0).toString(16);
    expect({ hostile: hostileIn(shown), shown }).toEqual({ hostile: [], shown: expect.stringMatching(new RegExp(`^a\\\\[xu]0*${code}b$`)) });
  });

  test("any text: nothing hostile is left, and text without hostile characters is unchanged", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const shown = escapeForTerminal(text);
        expect(hostileIn(shown)).toEqual([]);
        if (hostileIn(text).length === 0) expect(shown).toBe(text);
      }),
      { seed: propertySeed(), numRuns: 2000 },
    );
  });

  test("escapeJsonForTerminal keeps the JSON value and leaves nothing hostile", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary" }), (value, name) => {
        const json = JSON.stringify({ value, name }, null, 2);
        const safe = escapeJsonForTerminal(json);
        expect(hostileIn(safe.replace(/\n/g, ""))).toEqual([]);
        expect(JSON.parse(safe)).toEqual(JSON.parse(json));
      }),
      { seed: propertySeed(), numRuns: 1000 },
    );
  });
});

describe("the CLI prints hostile layer and file names escaped", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cq-terminal-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const names = HOSTILE.map((c, i) => `layer${i}${c}[31m${c === "\n" ? "forged line" : ""}`);
  const model = (weights: (i: number) => number[]): Uint8Array =>
    networkModel(
      names.map((name, i) => innerProductLayer(name, { inputChannels: 4, outputChannels: 4 }, floatValueRecords(weights(i)), floatValueRecords([0, 0, 0, 0]))),
    );
  const good = (): number[] => Array.from({ length: 16 }, (_, k) => k / 16 - 0.5);

  test("inspect: no raw hostile character, one table row per tensor; --json gives the names back exactly", async () => {
    // Arrange
    const path = join(dir, "names.mlmodel");
    writeFileSync(path, model(good));

    // Act
    const table = await cli(["inspect", path]);
    const json = await cli(["inspect", path, "--json"]);

    // Assert
    expect({ code: table.code, hostile: hostileIn(table.stdout.replace(/\n/g, "")), stderr: table.stderr }).toEqual({ code: 0, hostile: [], stderr: "" });
    // One row a tensor (a name too long for 100 columns loses its middle, "[31m" included).
    expect(table.stdout.split("\n").filter((line) => /^neuralNetwork\/layers\[\d+\] "layer/.test(line))).toHaveLength(names.length * 2);
    expect(hostileIn(json.stdout.replace(/\n/g, ""))).toEqual([]);
    const summary = JSON.parse(json.stdout) as { weights: { layerPath: string }[] };
    expect(summary.weights.map((w) => w.layerPath)).toEqual(
      names.flatMap((name, i) => [0, 1].map(() => `model/neuralNetwork/layers[${i}] ${JSON.stringify(name)}`)),
    );
  });

  test("quantize and report: tables and JSON carry no raw hostile character", async () => {
    // Arrange
    const path = join(dir, "names-q.mlmodel");
    const out = join(dir, "names-q.8bit.mlmodel");
    writeFileSync(path, model(good));

    // Act
    const quantized = await cli(["quantize", path, "-o", out, "--nbits", "8", "--report", "-"]);
    const report = await cli(["report", path, out]);

    // Assert
    for (const r of [quantized, report]) {
      expect({ code: r.code, out: hostileIn(r.stdout.replace(/\n/g, "")), err: hostileIn(r.stderr.replace(/\n/g, "")) }).toEqual({ code: 0, out: [], err: [] });
    }
    expect(report.stdout.split("\n").filter((line) => /^neuralNetwork\/layers\[\d+\] "layer/.test(line))).toHaveLength(names.length * 2);
  });

  test.each(HOSTILE.map((c, i) => [i, c] as const))("a refusal naming hostile layer %i stays one line", async (i) => {
    // Arrange: layer i has 15 weights where its shape declares 16
    const path = join(dir, `bad-${i}.mlmodel`);
    writeFileSync(
      path,
      model((k) => (k === i ? good().slice(1) : good())),
    );

    // Act
    const r = await cli(["inspect", path]);

    // Assert
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(ONE_LINE_REFUSAL) });
    expect(hostileIn(r.stderr.slice(0, -1))).toEqual([]);
    expect(r.stderr).toContain(`layer${i}`);
  });

  test("a file name with a newline and an escape sequence stays one escaped line", async () => {
    // Act
    const r = await cli(["inspect", join(dir, "missing\n\u001b[2Jfile\u202e.mlmodel")]);

    // Assert
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(ONE_LINE_REFUSAL) });
    expect(r.stderr).toContain("missing\\x0a\\x1b[2Jfile\\u202e.mlmodel");
  });

  test("a usage error quoting a hostile argument keeps its first line clean", async () => {
    // Act
    const r = await cli(["frobnicate\u009b31m\nnext"]);

    // Assert
    const [first] = r.stderr.split("\n");
    expect({ code: r.code, hostile: hostileIn(first ?? "") }).toEqual({ code: 2, hostile: [] });
    expect(first).toContain("frobnicate\\x9b31m\\nnext");
  });
});

describe("numbers that do not read back as written are bad usage", () => {
  const huge = "9".repeat(400);
  const q = (...rest: string[]): string[] => ["quantize", "in.mlmodel", "-o", "out.mlmodel", ...rest];
  test.each([
    ["--nbits", q("--nbits", huge)],
    ["--min-conv-weight-count", q("--nbits", "8", "--min-conv-weight-count", huge)],
    ["--min-conv-kernel-channels", q("--nbits", "8", "--min-conv-kernel-channels", "9007199254740993")],
    ["--target-snr", q("--nbits", "auto", "--target-snr", huge)],
    ["--target-snr", q("--nbits", "auto", `--target-snr=-${huge}.5`)],
    ["--min-weight-count", ["int8-matmul", "in.mlmodel", "-o", "out.mlmodel", "--min-weight-count", huge]],
  ])("%s with a number past 2^53 or of 400 digits", (option, argv) => {
    // Act
    let thrown: unknown;
    try {
      parseCommand(argv);
    } catch (error) {
      thrown = error;
    }

    // Assert: a usage error naming the option, its message short
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toContain(option);
    expect((thrown as Error).message.length).toBeLessThan(160);
  });

  test("the largest safe integer is still accepted", () => {
    expect(parseCommand(q("--nbits", "8", "--min-conv-weight-count", String(Number.MAX_SAFE_INTEGER)))).toMatchObject({
      selector: { minimumConvWeightCount: Number.MAX_SAFE_INTEGER },
    });
  });

  test("through the CLI: exit 2 with the usage", async () => {
    const r = await cli(q("--nbits", huge));
    expect({ code: r.code, first: r.stderr.split("\n")[0] }).toEqual({ code: 2, first: expect.stringContaining("--nbits needs a whole number up to") });
  });
});

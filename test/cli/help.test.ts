/**
 * Help and usage errors through the CLI: `--help` / `help` print the whole usage,
 * `COMMAND --help` / `help COMMAND` that command's section, and a usage error is
 * one line and a pointer to the help (exit 2).
 */
import { COMMAND_NAMES, helpText, USAGE, type CommandName } from "../../src/cli/args.js";
import { EXIT } from "../../src/cli/run.js";
import { cli } from "../support/cli.js";

/** Each command's options as its help spells them, and options only other commands take. */
const OWN: Record<CommandName, readonly string[]> = {
  inspect: ["--json"],
  quantize: [
    "-o, --output",
    "--force",
    "--nbits",
    "--mode",
    "--skip-layer-types",
    "--min-conv-kernel-channels",
    "--min-conv-weight-count",
    "--no-fuse",
    "--target-snr",
    "--modes",
    "--fp16-overflow",
    "--report",
    "--sample-data",
    "-q",
    "--quiet",
  ],
  dequantize: ["-o, --output", "--force", "-q", "--quiet"],
  "int8-matmul": [
    "-o, --output",
    "--force",
    "--min-weight-count",
    "--min-input-channels",
    "--min-output-channels",
    "--max-input-channels",
    "--max-output-channels",
    "--layers",
    "-q",
    "--quiet",
  ],
  report: ["--json"],
  predict: ["--input", "--json", "-o, --output", "-q", "--quiet"],
  compare: ["--samples", "--random", "--seed", "--layers", "--json"],
};
const ALL = [...new Set(Object.values(OWN).flat())];

/** The option names an Options section documents: those opening its entries' lines (before the description). */
function documented(text: string): string[] {
  const options = text.slice(text.indexOf("\nOptions:\n"));
  return [...options.matchAll(/^ {2}(-.*?)(?: {2,}|$)/gm)].flatMap((m) => (m[1] ?? "").match(/(?<![\w-])--?[a-z][a-z0-9-]*/g) ?? []);
}

describe("help of the whole program", () => {
  test("every line of every help text fits 100 columns", () => {
    for (const topic of [undefined, ...COMMAND_NAMES]) {
      const long = helpText(topic)
        .split("\n")
        .filter((line) => line.length > 100);
      expect({ topic, long }).toEqual({ topic, long: [] });
    }
  });

  test.each([[["--help"]], [["-h"]], [["help"]], [["help", "help"]]])("%j: exit 0, the whole usage on stdout", async (argv) => {
    expect(await cli(argv)).toEqual({ code: EXIT.ok, stdout: USAGE, stderr: "" });
  });

  test("the usage holds every command's synopsis and description, from the same table", () => {
    for (const name of COMMAND_NAMES) {
      const section = helpText(name);
      const synopsis = section.slice("Usage:\n".length, section.indexOf("\n\n") + 1);
      expect(USAGE).toContain(synopsis);
      expect(USAGE).toMatch(new RegExp(`^ {2}${name.replace("-", "\\-")} +\\S`, "m"));
    }
  });
});

describe("help of one command", () => {
  test.each(COMMAND_NAMES.map((name) => [name]))("%s --help, %s -h and help %s print its section", async (name) => {
    const section = helpText(name);
    for (const argv of [
      [name, "--help"],
      [name, "-h"],
      ["help", name],
      [name, "some.mlmodel", "--help"],
    ]) {
      expect(await cli(argv)).toEqual({ code: EXIT.ok, stdout: section, stderr: "" });
    }
    expect(section).not.toBe(USAGE);
    expect(section).toMatch(new RegExp(`^Usage:\\n {2}coreml-quantize ${name} `));
  });

  test.each(COMMAND_NAMES.map((name) => [name]))("%s's section documents its options and no other command's", (name) => {
    const shown = documented(helpText(name));
    for (const option of OWN[name]) expect(shown).toContain(option.replace(/^-o, /, ""));
    for (const option of ALL.filter((o) => !OWN[name].includes(o))) expect(shown).not.toContain(option.replace(/^-o, /, ""));
    expect(shown).toContain("--help");
  });

  test("quantize's section: both synopses, the description, the modes (kmeans short for kmeans_lut)", () => {
    const section = helpText("quantize");
    expect(section).toContain("coreml-quantize quantize IN -o OUT --nbits N\n      [--mode linear|linear_symmetric|linear_lut|kmeans_lut]");
    expect(section).toContain("coreml-quantize quantize IN -o OUT --nbits auto");
    expect(section).toContain("compress the weights");
    expect(section).toContain("kmeans is short for kmeans_lut");
    expect(section).not.toContain("coreml-quantize inspect");
  });
});

describe("a usage error: one line, then where to read the usage (exit 2)", () => {
  test.each([
    [["quantize", "a", "--nbit", "8"], "coreml-quantize: unknown option --nbit; did you mean --nbits?", "Run 'coreml-quantize quantize --help' for usage."],
    [["compare", "a"], "coreml-quantize: compare needs an ORIGINAL and a QUANTIZED file", "Run 'coreml-quantize compare --help' for usage."],
    [
      ["int8-matmul", "a", "-o", "b", "--nbits", "8"],
      "coreml-quantize: int8-matmul does not take --nbits",
      "Run 'coreml-quantize int8-matmul --help' for usage.",
    ],
    [["quantise", "a"], 'coreml-quantize: unknown command "quantise"; did you mean quantize?', "Run 'coreml-quantize --help' for usage."],
    [[], "coreml-quantize: no command given", "Run 'coreml-quantize --help' for usage."],
    [["help", "frobnicate"], 'coreml-quantize: unknown command "frobnicate"', "Run 'coreml-quantize --help' for usage."],
    [["dequantize", "a", "-o=b"], 'coreml-quantize: -o=b reads as -o "=b": write -o b or --output=b', "Run 'coreml-quantize dequantize --help' for usage."],
  ])("%j", async (argv, message, pointer) => {
    expect(await cli(argv)).toEqual({ code: EXIT.usage, stdout: "", stderr: `${message}\n${pointer}\n` });
  });

  test("the usage text is not printed after the error", async () => {
    const r = await cli(["quantize", "a", "-o", "b", "--nbits", "9"]);
    expect(r.stderr).not.toContain("Usage:");
    expect(r.stderr.split("\n")).toHaveLength(3);
  });
});

describe("standard input and output in the help", () => {
  test("every command's help says a model operand may be -; -o says - is standard output", () => {
    for (const name of COMMAND_NAMES) expect(helpText(name)).toContain("read that model from\n                      standard input (one operand at most)");
    for (const name of ["quantize", "dequantize", "int8-matmul"] as const) expect(helpText(name)).toContain("- for standard output");
  });
});

/**
 * parseCommand: argv -> a typed command, or a UsageError. Every command, every flag,
 * the selector objects (only the flags given), integers, comma lists, and the
 * ways a command line is wrong.
 */
import { CLI_MODES, parseCommand, UsageError, USAGE, type Command } from "../../src/cli/args.js";
import { usageErrorOf } from "../support/cli.js";

const usageError = usageErrorOf;

const q = (...rest: string[]): string[] => ["quantize", "in.mlmodel", "-o", "out.mlmodel", "--nbits", "8", ...rest];

/** The quantize command with everything at its default except `fields`. */
const quantize = (fields: Partial<Extract<Command, { command: "quantize" }>> = {}): Command => ({
  command: "quantize",
  input: "in.mlmodel",
  output: "out.mlmodel",
  force: false,
  quiet: false,
  nbits: 8,
  mode: "linear",
  fuse: true,
  selector: undefined,
  ...fields,
});

describe("help and version", () => {
  test.each([[["--help"]], [["-h"]], [["bogus-command", "--help"]], [["--help", "--version"]], [["-v", "-h"]], [["help"]], [["help", "help"]]])(
    "%j -> help (it wins over everything else)",
    (argv) => {
      expect(parseCommand(argv)).toStrictEqual({ command: "help" });
    },
  );

  test.each([
    [["quantize", "--help"], "quantize"],
    [["quantize", "in.mlmodel", "-h"], "quantize"],
    [["dequantize", "-h"], "dequantize"],
    [["int8-matmul", "--help"], "int8-matmul"],
    [["inspect", "--help"], "inspect"],
    [["compare", "--layers", "-h"], "compare"],
    [["help", "quantize"], "quantize"],
    [["help", "predict"], "predict"],
    [["quantize", "-v", "-h"], "quantize"],
  ])("%j -> the help of %s", (argv, topic) => {
    expect(parseCommand(argv)).toStrictEqual({ command: "help", topic });
  });

  test("help takes at most one known command and no options", () => {
    expect(usageError(["help", "quantise"]).message).toBe('unknown command "quantise"; did you mean quantize?');
    expect(usageError(["help", "quantize", "x"]).message).toBe('unexpected argument "x"');
    expect(usageError(["help", "--json"]).message).toBe("help does not take --json");
  });

  test.each([[["--version"]], [["-v"]], [["quantize", "-v"]]])("%j -> version", (argv) => {
    expect(parseCommand(argv)).toStrictEqual({ command: "version" });
  });

  test("an unknown option is an error even next to --help (strict parsing comes first)", () => {
    expect(usageError(["--help", "--bogus"]).message).toContain("--bogus");
  });

  test("USAGE documents every command and option", () => {
    for (const word of [
      "inspect MODEL",
      "quantize IN -o OUT --nbits N",
      "dequantize IN -o OUT",
      "int8-matmul IN -o OUT",
      "--json",
      "--mode",
      "--skip-layer-types",
      "--min-conv-kernel-channels",
      "--min-conv-weight-count",
      "--no-fuse",
      "--min-weight-count",
      "--min-input-channels",
      "--min-output-channels",
      "--max-input-channels",
      "--max-output-channels",
      "--layers",
      "--force",
      "-o, --output",
      "--help",
      "--version",
      ...CLI_MODES,
    ])
      expect(USAGE).toContain(word);
  });
});

describe("inspect", () => {
  test.each([
    [["inspect", "m.mlmodel"], false],
    [["inspect", "m.mlmodel", "--json"], true],
    [["inspect", "--json", "m.mlmodel"], true],
    [["--json", "inspect", "m.mlmodel"], true],
  ])("%j", (argv, json) => {
    expect(parseCommand(argv)).toStrictEqual({ command: "inspect", model: "m.mlmodel", json });
  });
});

describe("quantize", () => {
  test("the minimum: IN, -o, --nbits; linear, fused, default selector, no force", () => {
    expect(parseCommand(q())).toStrictEqual(quantize());
  });

  test.each(["1", "2", "3", "4", "5", "6", "7", "8", "16"])("--nbits %s is a number", (text) => {
    const c = parseCommand(q().slice(0, -1).concat(text));
    expect(c).toStrictEqual(quantize({ nbits: Number(text) }));
  });

  test("--nbits with leading zeros is the same integer", () => {
    expect(parseCommand(["quantize", "a", "-o", "b", "--nbits", "004"])).toMatchObject({ nbits: 4 });
    expect(parseCommand(["quantize", "a", "-o", "b", "--nbits", "016"])).toMatchObject({ nbits: 16 });
  });

  test.each(CLI_MODES.map((m) => [m]))("--mode %s", (mode) => {
    expect(parseCommand(q("--mode", mode))).toStrictEqual(quantize({ mode }));
    expect(parseCommand(q(`--mode=${mode}`))).toStrictEqual(quantize({ mode }));
  });

  test("--mode is kept at 16 bits (run ignores it there) and linear_symmetric is not checked against nbits here", () => {
    expect(parseCommand(["quantize", "a", "-o", "b", "--nbits", "16", "--mode", "kmeans_lut"])).toMatchObject({ nbits: 16, mode: "kmeans_lut" });
    expect(parseCommand(["quantize", "a", "-o", "b", "--nbits", "4", "--mode", "linear_symmetric"])).toMatchObject({ nbits: 4, mode: "linear_symmetric" });
  });

  test("CLI_MODES are the four file modes (custom_lut needs code, dequantization is a command)", () => {
    expect([...CLI_MODES]).toEqual(["linear", "linear_symmetric", "linear_lut", "kmeans_lut"]);
  });

  test("--no-fuse, --force", () => {
    expect(parseCommand(q("--no-fuse"))).toStrictEqual(quantize({ fuse: false }));
    expect(parseCommand(q("--force"))).toStrictEqual(quantize({ force: true }));
    expect(parseCommand(q("--force", "--no-fuse"))).toStrictEqual(quantize({ force: true, fuse: false }));
  });

  test("-o, --output, --output=, -oFILE name the output", () => {
    for (const argv of [
      ["quantize", "in.mlmodel", "-o", "out.mlmodel", "--nbits", "8"],
      ["quantize", "in.mlmodel", "--output", "out.mlmodel", "--nbits", "8"],
      ["quantize", "in.mlmodel", "--output=out.mlmodel", "--nbits=8"],
      ["quantize", "in.mlmodel", "-oout.mlmodel", "--nbits", "8"],
      ["-o", "out.mlmodel", "--nbits", "8", "quantize", "in.mlmodel"],
    ])
      expect(parseCommand(argv)).toStrictEqual(quantize());
  });

  test("after --, a file name starting with a dash is an operand", () => {
    expect(parseCommand(["quantize", "-o", "out.mlmodel", "--nbits", "8", "--", "-in.mlmodel"])).toStrictEqual(quantize({ input: "-in.mlmodel" }));
  });

  describe("selector flags: an advanced selector carrying only the flags given", () => {
    test.each<[string, string[], object]>([
      ["--skip-layer-types", ["--skip-layer-types", "batchnorm,bias"], { skipLayerTypes: ["batchnorm", "bias"] }],
      ["--skip-layer-types (one)", ["--skip-layer-types", "depthwiseConv"], { skipLayerTypes: ["depthwiseConv"] }],
      ["--min-conv-kernel-channels", ["--min-conv-kernel-channels", "8"], { minimumConvKernelChannels: 8 }],
      ["--min-conv-weight-count", ["--min-conv-weight-count", "64"], { minimumConvWeightCount: 64 }],
      ["--min-conv-weight-count 0", ["--min-conv-weight-count", "0"], { minimumConvWeightCount: 0 }],
      ["two of them", ["--min-conv-kernel-channels", "4", "--min-conv-weight-count", "64"], { minimumConvKernelChannels: 4, minimumConvWeightCount: 64 }],
      [
        "all three",
        ["--skip-layer-types", "innerProduct", "--min-conv-weight-count", "1", "--min-conv-kernel-channels", "2"],
        { skipLayerTypes: ["innerProduct"], minimumConvWeightCount: 1, minimumConvKernelChannels: 2 },
      ],
    ])("%s", (_, flags, selector) => {
      const c = parseCommand(q(...flags));
      expect(c).toStrictEqual(quantize({ selector }));
    });

    test("the numbers are integers, not strings", () => {
      const c = parseCommand(q("--min-conv-kernel-channels", "012", "--min-conv-weight-count", "4096"));
      if (c.command !== "quantize" || c.selector === undefined) throw new Error("expected a quantize command with a selector");
      expect(c.selector.minimumConvKernelChannels).toBe(12);
      expect(c.selector.minimumConvWeightCount).toBe(4096);
      expect(Number.isInteger(c.selector.minimumConvKernelChannels)).toBe(true);
    });

    test("whitespace around list items is trimmed and empty items dropped", () => {
      expect(parseCommand(q("--skip-layer-types", " batchnorm , bias ,,depthwiseConv, "))).toStrictEqual(
        quantize({ selector: { skipLayerTypes: ["batchnorm", "bias", "depthwiseConv"] } }),
      );
    });

    test("an empty list still switches to the advanced selector (with nothing skipped)", () => {
      expect(parseCommand(q("--skip-layer-types", ""))).toStrictEqual(quantize({ selector: { skipLayerTypes: [] } }));
      expect(parseCommand(q("--skip-layer-types", " , "))).toStrictEqual(quantize({ selector: { skipLayerTypes: [] } }));
    });

    test("unknown names are bad usage, naming the valid ones", () => {
      expect(() => parseCommand(q("--skip-layer-types", "conv"))).toThrow(UsageError);
      expect(() => parseCommand(q("--skip-layer-types", "bias,conv"))).toThrow(/conv.*valid: .*depthwiseConv/);
      expect(parseCommand(q("--skip-layer-types", "depthwiseConv,bias"))).toStrictEqual(quantize({ selector: { skipLayerTypes: ["depthwiseConv", "bias"] } }));
    });

    test("without selector flags the selector is undefined (coremltools' default selector)", () => {
      for (const extra of [[], ["--mode", "linear_lut"], ["--no-fuse"], ["--force"]]) {
        const c = parseCommand(q(...extra));
        expect(c.command === "quantize" && c.selector === undefined).toBe(true);
      }
    });
  });

  test.each([["9"], ["0"], ["17"], ["32"], ["-1"], ["abc"], ["4.5"], ["8.0"], ["1e1"], ["0x8"], ["+8"], [" 8"], [""], ["eight"]])(
    "--nbits %j is refused",
    (text) => {
      expect(usageError(["quantize", "a", "-o", "b", `--nbits=${text}`]).message).toContain("--nbits");
    },
  );

  test("--nbits out of range says the range; not a number says so", () => {
    expect(usageError(q().slice(0, -1).concat("9")).message).toBe("--nbits must be 16, 1..8 or auto, got 9");
    expect(usageError(q().slice(0, -1).concat("abc")).message).toBe('--nbits needs a whole number, got "abc"');
  });

  test.each([
    ["--min-conv-kernel-channels", "-4"],
    ["--min-conv-kernel-channels", "four"],
    ["--min-conv-weight-count", "1.5"],
    ["--min-conv-weight-count", "1e3"],
    ["--min-conv-weight-count", ""],
  ])("%s=%j is refused", (flag, text) => {
    expect(usageError(q(`${flag}=${text}`)).message).toBe(`${flag} needs a whole number, got ${JSON.stringify(text)}`);
  });

  test("--mode kmeans is kmeans_lut, as the library reads it", () => {
    expect(parseCommand(q("--mode", "kmeans"))).toStrictEqual(quantize({ mode: "kmeans_lut" }));
    expect(parseCommand(q("--mode=kmeans"))).toMatchObject({ mode: "kmeans_lut" });
  });

  test.each([["bogus"], ["kmean"], ["custom_lut"], ["dequantization"], ["LINEAR"], [""]])("--mode %j is refused, naming the valid ones", (mode) => {
    const { message } = usageError(q(`--mode=${mode}`));
    expect(message).toContain(JSON.stringify(mode));
    for (const m of CLI_MODES) expect(message).toContain(m);
  });

  test("missing pieces", () => {
    expect(usageError(["quantize"]).message).toBe("quantize needs an IN file");
    expect(usageError(["quantize", "-o", "b", "--nbits", "8"]).message).toBe("quantize needs an IN file");
    expect(usageError(["quantize", "a", "--nbits", "8"]).message).toBe("quantize needs -o OUT");
    expect(usageError(["quantize", "a", "-o", "b"]).message).toBe("quantize needs --nbits (16, 1..8 or auto)");
    expect(usageError(["quantize", "a", "-o"]).message).toMatch(/-o/);
    expect(usageError(["quantize", "a", "-o", "b", "--nbits"]).message).toMatch(/nbits/);
  });

  test("an extra operand", () => {
    expect(usageError(["quantize", "a", "b", "-o", "c", "--nbits", "8"]).message).toBe('unexpected argument "b"');
  });

  test.each([
    "--json",
    "--layers=a",
    "--min-weight-count=1",
    "--min-input-channels=1",
    "--min-output-channels=1",
    "--max-input-channels=1",
    "--max-output-channels=1",
  ])("%s belongs to another command", (flag) => {
    expect(usageError(q(flag)).message).toBe(`quantize does not take --${flag.replace(/^--/, "").replace(/=.*/, "")}`);
  });
});

describe("dequantize", () => {
  test("IN -o OUT [--force]", () => {
    expect(parseCommand(["dequantize", "q.mlmodel", "-o", "f.mlmodel"])).toStrictEqual({
      command: "dequantize",
      input: "q.mlmodel",
      output: "f.mlmodel",
      force: false,
      quiet: false,
    });
    expect(parseCommand(["dequantize", "q.mlmodel", "--output", "f.mlmodel", "--force"])).toStrictEqual({
      command: "dequantize",
      input: "q.mlmodel",
      output: "f.mlmodel",
      force: true,
      quiet: false,
    });
  });

  test.each([
    "--nbits=8",
    "--mode=linear",
    "--no-fuse",
    "--skip-layer-types=bias",
    "--min-conv-kernel-channels=4",
    "--min-conv-weight-count=1",
    "--layers=a",
    "--min-weight-count=1",
    "--max-output-channels=1",
    "--json",
  ])("%s belongs to another command", (flag) => {
    expect(usageError(["dequantize", "q.mlmodel", "-o", "f.mlmodel", flag]).message).toBe(
      `dequantize does not take --${flag.replace(/^--/, "").replace(/=.*/, "")}`,
    );
  });

  test("missing pieces and extra operands", () => {
    expect(usageError(["dequantize"]).message).toBe("dequantize needs an IN file");
    expect(usageError(["dequantize", "q.mlmodel"]).message).toBe("dequantize needs -o OUT");
    expect(usageError(["dequantize", "q.mlmodel", "x", "-o", "f"]).message).toBe('unexpected argument "x"');
  });
});

describe("int8-matmul", () => {
  const m = (...rest: string[]): string[] => ["int8-matmul", "in.mlmodel", "-o", "out.mlmodel", ...rest];
  const int8 = (selector: object, force = false): Command => ({
    command: "int8-matmul",
    input: "in.mlmodel",
    output: "out.mlmodel",
    force,
    quiet: false,
    selector,
  });

  test("no flags: an empty selector object (MatrixMultiplyLayerSelector's defaults)", () => {
    expect(parseCommand(m())).toStrictEqual(int8({}));
    expect(parseCommand(m("--force"))).toStrictEqual(int8({}, true));
  });

  test.each<[string, string, object]>([
    ["--min-weight-count", "100", { minimumWeightCount: 100 }],
    ["--min-input-channels", "2", { minimumInputChannels: 2 }],
    ["--min-output-channels", "3", { minimumOutputChannels: 3 }],
    ["--max-input-channels", "512", { maximumInputChannels: 512 }],
    ["--max-output-channels", "0", { maximumOutputChannels: 0 }],
    ["--layers", "fc1", { includeLayersWithNames: ["fc1"] }],
  ])("%s %s -> only that field", (flag, value, selector) => {
    expect(parseCommand(m(flag, value))).toStrictEqual(int8(selector));
  });

  test("every flag at once", () => {
    expect(
      parseCommand(
        m(
          "--min-weight-count",
          "1",
          "--min-input-channels",
          "2",
          "--min-output-channels",
          "3",
          "--max-input-channels",
          "4",
          "--max-output-channels",
          "5",
          "--layers",
          "a,b",
        ),
      ),
    ).toStrictEqual(
      int8({
        minimumWeightCount: 1,
        minimumInputChannels: 2,
        minimumOutputChannels: 3,
        maximumInputChannels: 4,
        maximumOutputChannels: 5,
        includeLayersWithNames: ["a", "b"],
      }),
    );
  });

  test("--layers: trimmed, empty items dropped, names kept verbatim inside", () => {
    expect(parseCommand(m("--layers", " fc 1 , dense_2,, "))).toStrictEqual(int8({ includeLayersWithNames: ["fc 1", "dense_2"] }));
    expect(parseCommand(m("--layers="))).toStrictEqual(int8({ includeLayersWithNames: [] }));
  });

  test.each(["--min-weight-count", "--min-input-channels", "--min-output-channels", "--max-input-channels", "--max-output-channels"])(
    "%s takes only whole numbers",
    (flag) => {
      for (const text of ["x", "-1", "2.5", "1e2", ""]) {
        expect(usageError(m(`${flag}=${text}`)).message).toBe(`${flag} needs a whole number, got ${JSON.stringify(text)}`);
      }
      const c = parseCommand(m(flag, "007"));
      expect(c.command === "int8-matmul" && Object.values(c.selector)).toEqual([7]);
    },
  );

  test.each(["--nbits=8", "--mode=linear", "--no-fuse", "--skip-layer-types=bias", "--min-conv-kernel-channels=4", "--min-conv-weight-count=1", "--json"])(
    "%s belongs to another command",
    (flag) => {
      expect(usageError(m(flag)).message).toBe(`int8-matmul does not take --${flag.replace(/^--/, "").replace(/=.*/, "")}`);
    },
  );

  test("missing pieces and extra operands", () => {
    expect(usageError(["int8-matmul"]).message).toBe("int8-matmul needs an IN file");
    expect(usageError(["int8-matmul", "in.mlmodel"]).message).toBe("int8-matmul needs -o OUT");
    expect(usageError(["int8-matmul", "in.mlmodel", "-o", "out", "more"]).message).toBe('unexpected argument "more"');
  });
});

describe("inspect refuses the writing commands' options", () => {
  test.each(["--nbits=8", "--output=x", "--force", "--mode=linear", "--no-fuse", "--layers=a", "--min-weight-count=1"])("%s", (flag) => {
    expect(usageError(["inspect", "m.mlmodel", flag]).message).toBe(`inspect does not take --${flag.replace(/^--/, "").replace(/=.*/, "")}`);
  });

  test("missing and extra operands", () => {
    expect(usageError(["inspect"]).message).toBe("inspect needs a MODEL file");
    expect(usageError(["inspect", "a", "b"]).message).toBe('unexpected argument "b"');
  });
});

describe("whole-line errors", () => {
  test.each([
    [[], "no command given"],
    [["--force"], "no command given"],
    [["frobnicate", "x"], 'unknown command "frobnicate"'],
    [["in.mlmodel", "quantize"], 'unknown command "in.mlmodel"'],
    [["Quantize", "x"], 'unknown command "Quantize"; did you mean quantize?'],
    [["quantise", "x"], 'unknown command "quantise"; did you mean quantize?'],
    [["comapre", "x", "y"], 'unknown command "comapre"; did you mean compare?'],
    [["hlep"], 'unknown command "hlep"; did you mean help?'],
  ])("%j: %s", (argv, message) => {
    expect(usageError(argv).message).toBe(message);
  });

  test.each([[["quantize", "a", "--bogus"]], [["quantize", "a", "-x"]], [["quantize", "a", "--no-fuse=yes"]], [["quantize", "a", "--force=1"]], [["--debug"]]])(
    "%j: parseArgs' own error, as a UsageError",
    (argv) => {
      const error = usageError(argv);
      expect(error.name).toBe("UsageError");
      expect(error.message.length).toBeGreaterThan(0);
    },
  );

  test("an option-looking value is refused as ambiguous (write --output=-x or -o-x)", () => {
    expect(usageError(["quantize", "a", "-o", "--force", "--nbits", "8"]).message).toMatch(/ambiguous/);
    expect(usageError(["quantize", "a", "-o", "b", "--nbits", "-1"]).message).toMatch(/ambiguous/);
    expect(parseCommand(["quantize", "a", "--output=-x", "--nbits", "8"])).toMatchObject({ output: "-x" });
    expect(parseCommand(["quantize", "a", "-o-x", "--nbits", "8"])).toMatchObject({ output: "-x" });
  });
});

describe("did you mean: the closest option of the command, at most two edits away", () => {
  test.each([
    [q("--nbit", "8"), "unknown option --nbit; did you mean --nbits?"],
    [q("--nibts", "8"), "unknown option --nibts; did you mean --nbits?"],
    [q("--no-fused"), "unknown option --no-fused; did you mean --no-fuse?"],
    [q("--fp16-overflw=clamp"), "unknown option --fp16-overflw; did you mean --fp16-overflow?"],
    [["compare", "a", "b", "--random", "3", "--sed", "1"], "unknown option --sed; did you mean --seed?"],
    [["compare", "a", "b", "--lyers"], "unknown option --lyers; did you mean --layers?"],
    [["inspect", "a", "--jsn"], "unknown option --jsn; did you mean --json?"],
    [["predict", "m", "--inputs", "x=y"], "unknown option --inputs; did you mean --input?"],
    [["--hlep"], "unknown option --hlep; did you mean --help?"],
  ])("%j: %s", (argv, message) => {
    expect(usageError(argv).message).toBe(message);
  });

  test("only the command's own options are suggested; nothing close: parseArgs' message", () => {
    // --seed is compare's: quantize has nothing within two edits of --sed.
    expect(usageError(q("--sed", "1")).message).not.toContain("did you mean");
    expect(usageError(q("--frobnicate")).message).toContain("--frobnicate");
    expect(usageError(q("--frobnicate")).message).not.toContain("did you mean");
    expect(usageError(["frobnicate", "x"]).message).toBe('unknown command "frobnicate"');
  });

  test("a usage error of a known command carries the command (for the pointer to its help)", () => {
    expect(usageError(q("--nbit", "8")).command).toBe("quantize");
    expect(usageError(["compare", "a"]).command).toBe("compare");
    expect(usageError(["quantise", "a"]).command).toBeUndefined();
    expect(usageError([]).command).toBeUndefined();
  });
});

describe("-o=x is refused, not read as a file named =x", () => {
  test.each([[q("-o=x")], [["dequantize", "a", "-o=x"]], [["predict", "m", "--input", "a=b", "-o=dir"]], [q("-o==x")]])("%j", (argv) => {
    const { message } = usageError(argv);
    expect(message).toMatch(/^-o=/);
    expect(message).toContain("write -o ");
    expect(message).toContain(" or --output=");
  });

  test("the message gives both spellings of the value", () => {
    expect(usageError(["dequantize", "a", "-o=out.mlmodel"]).message).toBe(
      '-o=out.mlmodel reads as -o "=out.mlmodel": write -o out.mlmodel or --output=out.mlmodel',
    );
  });

  test("-o x, -ox, --output=x and --output==x still name x (or =x, spelt out in full)", () => {
    expect(parseCommand(["dequantize", "a", "-o", "x"])).toMatchObject({ output: "x" });
    expect(parseCommand(["dequantize", "a", "-ox"])).toMatchObject({ output: "x" });
    expect(parseCommand(["dequantize", "a", "--output=x"])).toMatchObject({ output: "x" });
    expect(parseCommand(["dequantize", "a", "--output==x"])).toMatchObject({ output: "=x" });
    expect(parseCommand(["dequantize", "a", "-o", "=x"])).toMatchObject({ output: "=x" });
  });
});

describe("source bugs", () => {
  // An empty -o passes as a file name: run() then fails at write time with
  // "cannot write : ENOENT" (exit 1) after quantizing, having created its temporary
  // file in the working directory.
  test("-o with an empty name is a usage error", () => {
    expect(usageError(["quantize", "a", "-o", "", "--nbits", "8"]).message).toMatch(/-o/);
    expect(usageError(["dequantize", "a", "--output="]).message).toMatch(/-o/);
  });
});

describe("- (standard input and output) and --quiet", () => {
  test("- as IN and as -o: the operand and the output as given", () => {
    expect(parseCommand(["quantize", "-", "-o", "-", "--nbits", "8"])).toStrictEqual(quantize({ input: "-", output: "-" }));
    expect(parseCommand(["dequantize", "-", "-o", "out.mlmodel"])).toStrictEqual({
      command: "dequantize",
      input: "-",
      output: "out.mlmodel",
      force: false,
      quiet: false,
    });
    expect(parseCommand(["inspect", "-"])).toStrictEqual({ command: "inspect", model: "-", json: false });
    expect(parseCommand(["report", "a.mlmodel", "-"])).toStrictEqual({ command: "report", original: "a.mlmodel", quantized: "-", json: false });
  });

  test("--report - with -o -, two operands from stdin: usage errors", () => {
    expect(usageError(["quantize", "in", "-o", "-", "--nbits", "8", "--report", "-"]).message).toBe(
      "-o - and --report - would both write to standard output; name a file for one of them",
    );
    expect(usageError(["report", "-", "-"]).message).toBe("ORIGINAL and QUANTIZED are both - (standard input); at most one model can come from it");
    expect(usageError(["compare", "-", "-", "--random", "1"]).message).toBe(
      "ORIGINAL and QUANTIZED are both - (standard input); at most one model can come from it",
    );
    // Each alone is fine.
    expect(parseCommand(["quantize", "in", "-o", "-", "--nbits", "8", "--report", "r.json"])).toStrictEqual(
      quantize({ input: "in", output: "-", report: "r.json" }),
    );
    expect(parseCommand(["quantize", "in", "-o", "out", "--nbits", "8", "--report", "-"])).toStrictEqual(quantize({ input: "in", output: "out", report: "-" }));
  });

  test("-q and --quiet: quiet on the commands that write files; refused elsewhere", () => {
    expect(parseCommand(q("-q"))).toStrictEqual(quantize({ quiet: true }));
    expect(parseCommand(q("--quiet"))).toStrictEqual(quantize({ quiet: true }));
    expect(parseCommand(["int8-matmul", "a", "-o", "b", "-q"])).toMatchObject({ quiet: true });
    expect(parseCommand(["predict", "m", "--input", "x=a.npy", "-o", "dir", "-q"])).toMatchObject({ quiet: true, outputDir: "dir" });
    expect(usageError(["inspect", "m", "-q"]).message).toBe("inspect does not take --quiet");
    expect(usageError(["predict", "m", "--input", "x=a.npy", "-q"]).message).toBe("--quiet goes with -o DIR: without it, the outputs are what predict prints");
  });
});

/**
 * Issue 5's hostile corpus, generated here in a temporary directory, run through the
 * CLI both in-process (`run(argv, io)`) and as the real binary (`node
 * dist/bin/coreml-quantize.js`) with `inspect`, `quantize --nbits 8` and `quantize --nbits 16`.
 *
 * Bad input: exit 1, exactly one line on stderr starting `coreml-quantize:` (no
 * stack, never an "internal error"), naming the layer and field where there is one;
 * no output file, no temporary file, the input unchanged. Valid but unusual
 * encodings: success, with the same output file as the canonical encoding.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, WeightParams } from "../../src/codec/model-types.js";
import { isQuantizeError, type ErrorCode } from "../../src/errors.js";
import { inspectModel } from "../../src/inspect-model.js";
import { readModelFile } from "../../src/node/model-files.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { assertHasNetwork, validateWeights } from "../../src/validate-model.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import {
  ascii,
  concat,
  ensureBuiltCli,
  F,
  fcModel,
  float32Bytes,
  float64Bytes,
  floatValueRecords,
  GOLDEN_MODELS,
  innerProductLayer,
  lengthDelimited,
  listing,
  nestedBranches,
  networkModel,
  ONE_LINE_REFUSAL,
  pool,
  prng,
  runBinary,
  runBinaryAsync,
  runInProcess,
  sha256,
  sixteen,
  tag,
  topLevelBoundaries,
  varint,
  varintField,
  WIRE,
  type CliResult,
  type FloatEncoding,
} from "./helpers.js";

// ---------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------

/** What a command must do with an input. */
type Expectation =
  /** exit 1, one line matching `message`; `code` is what the library throws (checked in-process). */
  | { readonly kind: "refuse"; readonly message: RegExp; readonly code?: ErrorCode }
  /** exit 0; for quantize, OUT holds a valid model. */
  | { readonly kind: "ok"; readonly stdout?: RegExp }
  /** Either of the above (random mutations may leave a valid model): never a crash. */
  | { readonly kind: "either" };

interface HostileCase {
  readonly name: string;
  /** Creates the input under `dir`, returns the path to pass as IN. */
  readonly make: (dir: string) => string;
  readonly inspect: Expectation;
  readonly q8: Expectation;
  readonly q16: Expectation;
  /** Also run through the real binary (family members beyond the first few run in-process only, to keep the suite quick). @defaultValue true */
  readonly binary?: boolean;
}

const refuse = (message: RegExp, code?: ErrorCode): Expectation => (code === undefined ? { kind: "refuse", message } : { kind: "refuse", message, code });
const ok = (stdout?: RegExp): Expectation => (stdout === undefined ? { kind: "ok" } : { kind: "ok", stdout });
const allRefuse = (message: RegExp, code?: ErrorCode): Pick<HostileCase, "inspect" | "q8" | "q16"> => ({
  inspect: refuse(message, code),
  q8: refuse(message, code),
  q16: refuse(message, code),
});

const file =
  (name: string, bytes: Uint8Array | string) =>
  (dir: string): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

const golden = (name: string): Uint8Array => new Uint8Array(readFileSync(join(GOLDEN_MODELS, `${name}.mlmodel`)));

const NOT_A_MODEL = /not a valid Core ML model/;

/** Cut points of `bytes` that are strictly inside a top-level record. */
function cutsInside(bytes: Uint8Array, fractions: readonly number[]): number[] {
  const boundaries = new Set(topLevelBoundaries(bytes));
  return fractions.map((f) => {
    let cut = Math.max(1, Math.floor(bytes.length * f));
    while (boundaries.has(cut)) cut++;
    return cut;
  });
}

/** Flips `count` pseudo-random bits of `bytes` (seeded). */
function flipBits(bytes: Uint8Array, seed: number, count: number): Uint8Array {
  const out = bytes.slice();
  const r = prng(seed);
  for (let i = 0; i < count; i++) {
    const at = r.next() % out.length;
    out[at] = (out[at] as number) ^ (1 << (r.next() % 8));
  }
  return out;
}

const mlp = golden("mlp");
const cnn = golden("cnn");
const controlFlow = golden("control_flow");
/** Where mlp's last top-level record, its neuralNetwork (tag 0xa2 0x1f: field 500, wire type 2), starts. */
const MLP_NETWORK_AT = topLevelBoundaries(mlp).at(-2) ?? 0;

const MLPACKAGE_MANIFEST = JSON.stringify({
  fileFormatVersion: "1.0.0",
  itemInfoEntries: {
    x: { author: "com.apple.CoreML", description: "CoreML Model Specification", name: "model.mlmodel", path: "com.apple.CoreML/model.mlmodel" },
  },
  rootModelIdentifier: "x",
});
const ML_PROGRAM_MODEL = concat(varintField(F.model.specificationVersion, 7), lengthDelimited(F.model.mlProgram));

const CASES: readonly HostileCase[] = [
  { name: "an empty file", make: file("empty.mlmodel", new Uint8Array(0)), ...allRefuse(/empty \(0 bytes\)/, "invalid-protobuf") },
  ...cutsInside(mlp, [0.001, 0.01, 0.25, 0.5, 0.9, 0.999]).map(
    (cut, i): HostileCase => ({
      name: `mlp.mlmodel truncated to ${cut} of ${mlp.length} bytes`,
      binary: i === 0 || i === 5,
      make: file("truncated.mlmodel", mlp.subarray(0, cut)),
      ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
    }),
  ),
  ...cutsInside(cnn, [0.5, 0.999]).map(
    (cut): HostileCase => ({
      name: `cnn.mlmodel truncated to ${cut} of ${cnn.length} bytes`,
      binary: false,
      make: file("truncated.mlmodel", cnn.subarray(0, cut)),
      ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
    }),
  ),
  {
    // A cut between two top-level records leaves a well-formed model without its network.
    name: "mlp.mlmodel truncated right before its network record",
    make: file("header-only.mlmodel", mlp.subarray(0, MLP_NETWORK_AT)),
    inspect: ok(/none, specification version 4[\s\S]*no neural network/),
    q8: refuse(/no model type is set/, "unsupported-model"),
    q16: refuse(/no model type is set/, "unsupported-model"),
  },
  ...[1, 2, 3].map(
    (seed): HostileCase => ({
      name: `4 KiB of random bytes (seed ${seed})`,
      binary: seed === 1,
      make: file("random.mlmodel", prng(seed).bytes(4096)),
      ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
    }),
  ),
  {
    name: "mlp.mlmodel with its network record's length bit-flipped past the end",
    make: file(
      "flipped-length.mlmodel",
      (() => {
        const b = mlp.slice();
        // Two tag bytes, then a two-byte length varint: flipping bit 6 of its high byte adds 8192.
        b[MLP_NETWORK_AT + 3] = (b[MLP_NETWORK_AT + 3] as number) ^ 0x40;
        return b;
      })(),
    ),
    ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
  },
  ...[
    [mlp, "mlp"],
    [cnn, "cnn"],
    [controlFlow, "control_flow"],
  ].flatMap(([bytes, name]) =>
    [11, 12, 13].map(
      (seed): HostileCase => ({
        name: `${String(name)}.mlmodel with 16 random bits flipped (seed ${seed})`,
        binary: false,
        make: file("flipped.mlmodel", flipBits(bytes as Uint8Array, seed, 16)),
        inspect: { kind: "either" },
        q8: { kind: "either" },
        q16: { kind: "either" },
      }),
    ),
  ),
  {
    name: "a text file",
    make: file("README.mlmodel", "# My model\n\nThis is not a Core ML model, just some notes.\n"),
    ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
  },
  {
    name: "a JSON file",
    make: file("model.json.mlmodel", JSON.stringify({ format: "onnx", layers: [1, 2, 3] })),
    ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
  },
  ...[2n ** 31n, 2n ** 32n - 1n, 2n ** 35n, 2n ** 64n - 1n].map(
    (length): HostileCase => ({
      name: `a neuralNetwork record declaring a length of ${length}`,
      make: file(
        "huge-length.mlmodel",
        concat(varintField(F.model.specificationVersion, 4), tag(F.model.neuralNetwork, WIRE.lengthDelimited), varint(length), Uint8Array.from([0x0a, 0x00])),
      ),
      ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
    }),
  ),
  {
    name: "a floatValue record declaring 2^31 bytes inside a good layer",
    make: file(
      "huge-floats.mlmodel",
      networkModel([
        innerProductLayer(
          "fc",
          { inputChannels: 4, outputChannels: 4 },
          concat(tag(F.weights.floatValue, WIRE.lengthDelimited), varint(2n ** 31n), float32Bytes(sixteen())),
        ),
      ]),
    ),
    ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
  },
  {
    name: "a tag with wire type 7",
    make: file("wire-type-7.mlmodel", concat(varintField(F.model.specificationVersion, 4), tag(F.model.neuralNetwork, 7), Uint8Array.from([1, 2, 3]))),
    ...allRefuse(NOT_A_MODEL, "invalid-protobuf"),
  },
  {
    name: "a layer name that is not UTF-8",
    make: file("bad-utf8.mlmodel", networkModel([lengthDelimited(F.layer.name, Uint8Array.from([0x66, 0xc3, 0x28, 0xff]))])),
    ...allRefuse(/not a valid Core ML model.*utf-?8/i, "invalid-protobuf"),
  },
  {
    // Real models nest a few levels: the depth limit must not refuse them.
    name: "10 nested branch layers (not hostile: well under the nesting limit)",
    make: file("nested.mlmodel", nestedBranches(10)),
    inspect: ok(/network model\/neuralNetwork: 1 layers/),
    q8: ok(),
    q16: ok(),
  },
  {
    name: "20,000 nested branch layers",
    make: file("deep.mlmodel", nestedBranches(20_000)),
    ...allRefuse(/not a valid Core ML model.*(depth|nest|recursion)/i, "invalid-protobuf"),
  },
  {
    name: "an innerProduct declaring 4x4 with 15 weights",
    make: file("shape-mismatch.mlmodel", fcModel(floatValueRecords(sixteen().slice(0, 15)))),
    ...allRefuse(/layers\[0\] "fc"\/weights: 15 float32 values, but the layer declares shape \[4, 4\] \(16 values\)/, "invalid-weights"),
  },
  {
    // The layer table divides outputChannels by nGroups: 16 / 3 gives a shape [4, 5.33, 2, 2].
    name: "a deconvolution whose outputChannels (16) is not a multiple of nGroups (3)",
    make: file(
      "deconv-groups.mlmodel",
      networkModel([
        concat(
          lengthDelimited(F.layer.name, ascii("deconv")),
          lengthDelimited(
            F.layer.convolution,
            varintField(F.convolution.outputChannels, 16),
            varintField(F.convolution.kernelChannels, 4),
            varintField(F.convolution.nGroups, 3),
            lengthDelimited(F.convolution.kernelSize, varint(2), varint(2)),
            varintField(F.convolution.isDeconvolution, 1),
            lengthDelimited(F.convolution.weights, floatValueRecords(Array.from({ length: 64 }, (_, i) => i / 64))),
          ),
        ),
      ]),
    ),
    ...allRefuse(/layers\[0\] "deconv"\/weights: (?=.*outputChannels)(?=.*nGroups)(?!.*\d\.\d)/, "invalid-weights"),
  },
  {
    name: "a NaN weight",
    make: file("nan.mlmodel", fcModel(floatValueRecords(sixteen(NaN)))),
    inspect: ok(/fc/),
    q8: refuse(/layers\[0\] "fc"\/weights.*NaN/, "non-finite-weight"),
    // docs/modes/half-precision.md: NaN has a half-precision form and is kept.
    q16: ok(),
  },
  ...[Infinity, -Infinity].map(
    (v): HostileCase => ({
      name: `a weight of ${v}`,
      make: file("inf.mlmodel", fcModel(floatValueRecords(sixteen(v)))),
      inspect: ok(/fc/),
      q8: refuse(new RegExp(`layers\\[0\\] "fc"/weights.*${v < 0 ? "-" : "[^-]"}Infinity`), "non-finite-weight"),
      q16: refuse(new RegExp(`layers\\[0\\] "fc"/weights.*${v < 0 ? "-" : "[^-]"}Infinity.*half-precision`), "float16-overflow"),
    }),
  ),
  {
    name: "a WeightParams with floatValue and float16Value both set",
    make: file("two-storages.mlmodel", fcModel(concat(floatValueRecords(sixteen()), lengthDelimited(F.weights.float16Value, new Uint8Array(32))))),
    ...allRefuse(/layers\[0\] "fc"\/weights: .*floatValue and float16Value/, "invalid-weights"),
  },
  {
    name: "an ML Program model (Model.mlProgram, an empty Program)",
    make: file("program.mlmodel", ML_PROGRAM_MODEL),
    inspect: ok(/mlProgram[\s\S]*no neural network/),
    q8: refuse(/ML Program.*neuralNetwork.*coremltools\.optimize/, "unsupported-model"),
    q16: refuse(/ML Program.*neuralNetwork.*coremltools\.optimize/, "unsupported-model"),
  },
  {
    name: "a GLM regressor (no network)",
    make: file(
      "glm.mlmodel",
      concat(
        varintField(F.model.specificationVersion, 1),
        lengthDelimited(
          F.model.glmRegressor,
          lengthDelimited(F.glm.weights, lengthDelimited(F.doubleArray.value, float64Bytes([1, 2]))),
          lengthDelimited(F.glm.offset, float64Bytes([0.5])),
        ),
      ),
    ),
    inspect: ok(/glmRegressor[\s\S]*no neural network/),
    q8: refuse(/glmRegressor.*no neural network/, "unsupported-model"),
    q16: refuse(/glmRegressor.*no neural network/, "unsupported-model"),
  },
  {
    name: "a model with no type at all",
    make: file("untyped.mlmodel", varintField(F.model.specificationVersion, 4)),
    inspect: ok(/no neural network/),
    q8: refuse(/no model type is set/, "unsupported-model"),
    q16: refuse(/no model type is set/, "unsupported-model"),
  },
  { name: "a missing path", make: (dir) => join(dir, "missing.mlmodel"), ...allRefuse(/cannot read \S*missing\.mlmodel: ENOENT/, "io") },
  {
    name: "a directory",
    make: (dir) => {
      mkdirSync(join(dir, "folder"));
      return join(dir, "folder");
    },
    ...allRefuse(/folder is a directory, not an \.mlmodel file$/m, "io"),
  },
  {
    name: "an .mlpackage directory",
    make: (dir) => {
      const pkg = join(dir, "Model.mlpackage");
      mkdirSync(join(pkg, "Data", "com.apple.CoreML"), { recursive: true });
      writeFileSync(join(pkg, "Manifest.json"), MLPACKAGE_MANIFEST);
      writeFileSync(join(pkg, "Data", "com.apple.CoreML", "model.mlmodel"), ML_PROGRAM_MODEL);
      return pkg;
    },
    // inspect reads ML Programs; quantize compresses them, but not into a file named out.mlmodel
    // (the library's readModelFile refuses the folder: "io").
    inspect: ok(/ML Program, specification version 7[\s\S]*no weights/),
    q8: refuse(/out\.mlmodel: an ML Program is written as a folder named \*\.mlpackage, or a zip of one/, "io"),
    q16: refuse(/--nbits 16 applies to \.mlmodel files; an ML Program takes/, "io"),
  },
];

// ---------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------

const COMMANDS = ["inspect", "q8", "q16"] as const;
type CommandName = (typeof COMMANDS)[number];
type RunnerName = "binary" | "run";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-hostile-"));
  console.log(`hostile corpus: ${ensureBuiltCli()}`);
}, 200_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** What the library itself throws for this input (the code behind the CLI's line). */
function libraryCode(path: string, command: CommandName): ErrorCode | "ok" {
  try {
    const model = readModelFile(path);
    if (command === "inspect") {
      inspectModel(model);
      validateWeights(model);
    } else {
      assertHasNetwork(model);
      validateWeights(model);
      validateWeights(quantizeWeights(model, { nbits: command === "q8" ? 8 : 16 }));
    }
    return "ok";
  } catch (error) {
    if (isQuantizeError(error)) return error.code;
    throw error;
  }
}

/** One case and command, its input made in a directory of its own. */
interface Prepared {
  readonly c: HostileCase;
  readonly command: CommandName;
  readonly input: string;
  readonly inDir: string;
  readonly outDir: string;
  readonly out: string;
  readonly argv: readonly string[];
  readonly inputHash: string;
  readonly inputListing: readonly string[];
}

const hashOrCode = (path: string): string => {
  try {
    return sha256(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unreadable";
  }
};

function prepare(c: HostileCase, command: CommandName): Prepared {
  const dir = mkdtempSync(join(root, "case-"));
  const inDir = join(dir, "in");
  const outDir = join(dir, "out");
  mkdirSync(inDir);
  mkdirSync(outDir);
  const input = c.make(inDir);
  const out = join(outDir, "out.mlmodel");
  const argv = command === "inspect" ? ["inspect", input] : ["quantize", input, "-o", out, "--nbits", command === "q8" ? "8" : "16"];
  return { c, command, input, inDir, outDir, out, argv, inputHash: hashOrCode(input), inputListing: listing(inDir) };
}

function verify(p: Prepared, r: CliResult, runnerName: RunnerName): void {
  const want = p.c[p.command];
  expect({ signal: r.signal ?? null, fast: r.ms < 10_000 }).toEqual({ signal: null, fast: true });
  // No stack traces, whatever the outcome.
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const refused = r.code !== 0;
  if (want.kind === "refuse" || (want.kind === "either" && refused)) {
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout: "", stderr: expect.stringMatching(ONE_LINE_REFUSAL) });
    if (want.kind === "refuse") expect(r.stderr).toMatch(want.message);
    expect(listing(p.outDir)).toEqual([]);
    if (runnerName === "run" && want.kind === "refuse" && want.code !== undefined) expect(libraryCode(p.input, p.command)).toBe(want.code);
  } else {
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    if (want.kind === "ok" && want.stdout !== undefined) expect(r.stdout).toMatch(want.stdout);
    if (p.command === "inspect") expect(listing(p.outDir)).toEqual([]);
    else {
      expect(listing(p.outDir)).toEqual(["out.mlmodel"]);
      validateWeights(decodeModel(readFileSync(p.out)));
    }
  }
  expect({ hash: hashOrCode(p.input), listing: listing(p.inDir) }).toEqual({ hash: p.inputHash, listing: p.inputListing });
}

const ROWS = CASES.flatMap((c) => COMMANDS.map((command) => [c.name, command, c] as const));
// The binary adds the process around run() (exit code, one stderr line, no crash
// outside it), the same for every command: inspect and q8 cover decoding, quantizing
// and writing; q16 goes through run() only, which saves a third of the corpus's
// process start-ups (the suite's largest cost).
const BINARY_ROWS = ROWS.filter(([, command, c]) => c.binary !== false && command !== "q16");

/** The binary's runs, by `case/command`. */
const results = new Map<string, { p: Prepared; r: CliResult }>();

// The binary first: a hang there is killed after 20 s and shows as a signal, and the
// in-process run of that input (which nothing could interrupt) is then skipped.
describe("hostile corpus through the binary (node dist/bin/coreml-quantize.js)", () => {
  beforeAll(async () => {
    const prepared = BINARY_ROWS.map(([, command, c]) => prepare(c, command));
    const ran = await pool(
      prepared.map((p) => () => runBinaryAsync(p.argv)),
      Math.max(2, Math.min(8, availableParallelism())),
    );
    prepared.forEach((p, i) => results.set(`${p.c.name}/${p.command}`, { p, r: ran[i] as CliResult }));
  }, 200_000);

  test.each(BINARY_ROWS)("%s: %s", (name, command) => {
    const got = results.get(`${name}/${command}`);
    if (got === undefined) throw new Error("not run");
    verify(got.p, got.r, "binary");
  });
});

describe("hostile corpus through run(argv, io)", () => {
  test.each(ROWS)(
    "%s: %s",
    async (name, command, c) => {
      // q16 has no binary run: a hang of the binary on q8 stands for it.
      const binary = results.get(`${name}/${command}`) ?? results.get(`${name}/q8`);
      if ((binary?.r.signal ?? null) !== null) throw new Error("the binary hung on this input: not run in-process");
      const p = prepare(c, command);
      verify(p, await runInProcess(p.argv), "run");
    },
    10_000,
  );
});

describe("the binary's exit codes and --debug", () => {
  test("usage errors exit 2 with the pointer to the help; nothing written", () => {
    const dir = mkdtempSync(join(root, "usage-"));
    const r = runBinary(["quantize", join(GOLDEN_MODELS, "mlp.mlmodel"), "-o", join(dir, "out.mlmodel"), "--nbits", "9"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^coreml-quantize: --nbits [^\n]*got 9\nRun 'coreml-quantize quantize --help' for usage\.\n$/);
    expect(listing(dir)).toEqual([]);
  }, 20_000);

  test("--debug (or COREML_QUANTIZE_DEBUG=1) adds the stack after the one line; still exit 1", () => {
    const dir = mkdtempSync(join(root, "debug-"));
    const input = file("text.mlmodel", "not a model\n")(dir);
    for (const [argv, env] of [
      [["inspect", input, "--debug"], {}],
      [["inspect", input], { COREML_QUANTIZE_DEBUG: "1" }],
    ] as const) {
      const r = runBinary(argv, 20_000, env);
      expect(r.code).toBe(1);
      const [first, ...rest] = r.stderr.split("\n");
      expect(first).toMatch(/^coreml-quantize: not a valid Core ML model/);
      expect(rest.some((line) => /^\s+at /.test(line))).toBe(true);
    }
  }, 20_000);

  test("a valid model exits 0 with nothing on stderr", () => {
    const dir = mkdtempSync(join(root, "ok-"));
    const out = join(dir, "out.mlmodel");
    const r = runBinary(["quantize", join(GOLDEN_MODELS, "mlp.mlmodel"), "-o", out, "--nbits", "8"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readFileSync(out).equals(readFileSync(join(GOLDEN_MODELS, "..", "expected", "mlp.linear.8.mlmodel")))).toBe(true);
  }, 20_000);
});

// ---------------------------------------------------------------------------
// Valid but unusual encodings: the same output as the canonical one
// ---------------------------------------------------------------------------

/** Two innerProduct layers with biases, each WeightParams' floatValue written with `encoding`. */
function twoLayers(encoding: FloatEncoding, order: "canonical" | "shuffled" = "canonical"): Uint8Array {
  const r = prng(7);
  const values = (n: number): number[] => Array.from({ length: n }, () => Math.fround(r.float()));
  const w1 = values(32);
  const b1 = values(8);
  const w2 = values(32);
  const b2 = values(4);
  if (order === "canonical") {
    return networkModel([
      innerProductLayer("fc1", { inputChannels: 4, outputChannels: 8 }, floatValueRecords(w1, encoding), floatValueRecords(b1, encoding)),
      innerProductLayer("fc2", { inputChannels: 8, outputChannels: 4 }, floatValueRecords(w2, encoding), floatValueRecords(b2, encoding)),
    ]);
  }
  // Every message's fields in reverse number order.
  const layer = (name: string, inputChannels: number, outputChannels: number, w: number[], b: number[]): Uint8Array =>
    concat(
      lengthDelimited(
        F.layer.innerProduct,
        lengthDelimited(F.innerProduct.bias, floatValueRecords(b, encoding)),
        lengthDelimited(F.innerProduct.weights, floatValueRecords(w, encoding)),
        varintField(F.innerProduct.hasBias, 1),
        varintField(F.innerProduct.outputChannels, outputChannels),
        varintField(F.innerProduct.inputChannels, inputChannels),
      ),
      lengthDelimited(F.layer.output, ascii(`${name}_out`)),
      lengthDelimited(F.layer.input, ascii(`${name}_in`)),
      lengthDelimited(F.layer.name, ascii(name)),
    );
  return concat(
    lengthDelimited(
      F.model.neuralNetwork,
      lengthDelimited(F.network.layers, layer("fc1", 4, 8, w1, b1)),
      lengthDelimited(F.network.layers, layer("fc2", 8, 4, w2, b2)),
    ),
    varintField(F.model.specificationVersion, 4),
  );
}

/**
 * A golden model re-encoded with every floatValue as one fixed32 record per value
 * (or as packed records cut every `split` values), written after the WeightParams'
 * other fields: through the codec's unknown-field pass-through, so nothing but the
 * floatValue framing changes.
 */
function reencodeGolden(name: string, style: "unpacked" | "split"): Uint8Array {
  const model = decodeModel(golden(name));
  for (const { layer } of allLayers(model)) {
    for (const ref of layerWeights(layer)) {
      const wp = ref.weightParams as WeightParams & { $unknown?: { no: number; wireType: number; data: Uint8Array }[] };
      const values = Array.from(wp.floatValue);
      if (values.length === 0) continue;
      const records =
        style === "unpacked"
          ? values.map((v) => ({ no: F.weights.floatValue, wireType: WIRE.fixed32, data: float32Bytes([v]) }))
          : chunksOf(values, 3).map((chunk) => ({
              no: F.weights.floatValue,
              wireType: WIRE.lengthDelimited,
              data: concat(varint(chunk.length * 4), float32Bytes(chunk)),
            }));
      wp.floatValue = new Float32Array(0);
      wp.$unknown = [...(wp.$unknown ?? []), ...records];
    }
  }
  return encodeModel(model as Model);
}

const chunksOf = <T>(list: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

interface EncodingFamily {
  readonly name: string;
  readonly canonical: Uint8Array;
  readonly variants: readonly (readonly [string, Uint8Array])[];
}

const FAMILIES: readonly EncodingFamily[] = [
  {
    name: "two innerProduct layers, built by hand",
    canonical: twoLayers({ kind: "packed" }),
    variants: [
      ["unpacked (fixed32 per value)", twoLayers({ kind: "unpacked" })],
      ["packed, split over 3 records", twoLayers({ kind: "split", at: [1, 5] })],
      ["packed, split with an empty record", twoLayers({ kind: "split", at: [2, 2] })],
      ["fields in reverse number order", twoLayers({ kind: "packed" }, "shuffled")],
      ["unpacked and in reverse order", twoLayers({ kind: "unpacked" }, "shuffled")],
    ],
  },
  ...["mlp", "cnn", "control_flow", "pipeline_classifier"].map(
    (name): EncodingFamily => ({
      name: `golden ${name}.mlmodel`,
      canonical: golden(name),
      variants: [
        ["unpacked (fixed32 per value)", reencodeGolden(name, "unpacked")],
        ["packed, split every 3 values", reencodeGolden(name, "split")],
      ],
    }),
  ),
];

describe("valid but unusual encodings give the canonical encoding's output", () => {
  /** quantize at 8 and 16 bits and `inspect --json` of `input`. */
  async function outputsOf(input: string, outPrefix: string, binary: boolean): Promise<{ q8: Buffer; q16: Buffer; inspect: string }> {
    const quantized: Buffer[] = [];
    for (const nbits of ["8", "16"]) {
      const out = `${outPrefix}.${nbits}.out`;
      const argv = ["quantize", input, "-o", out, "--nbits", nbits];
      const r = binary ? runBinary(argv) : await runInProcess(argv);
      expect({ input, nbits, code: r.code, stderr: r.stderr }).toEqual({ input, nbits, code: 0, stderr: "" });
      quantized.push(readFileSync(out));
    }
    const r = await runInProcess(["inspect", input, "--json"]);
    expect(r.code).toBe(0);
    return { q8: quantized[0] as Buffer, q16: quantized[1] as Buffer, inspect: r.stdout };
  }

  test.each(FAMILIES.map((f, i) => [f.name, f, i < 2] as const))(
    "%s",
    async (_name, family, throughBinary) => {
      // Arrange
      const dir = mkdtempSync(join(root, "enc-"));
      const canonicalIn = join(dir, "canonical.mlmodel");
      writeFileSync(canonicalIn, family.canonical);
      const want = await outputsOf(canonicalIn, join(dir, "canonical"), false);

      for (const [variantName, bytes] of family.variants) {
        // The variant really is another byte string for the same model.
        expect(Buffer.from(bytes).equals(Buffer.from(family.canonical))).toBe(false);
        expect(decodeModel(bytes)).toEqual(decodeModel(family.canonical));
        const stem = variantName.replace(/\W+/g, "-");
        const input = join(dir, `${stem}.mlmodel`);
        writeFileSync(input, bytes);
        const hash = sha256(input);

        for (const binary of throughBinary ? [false, true] : [false]) {
          // Act
          const got = await outputsOf(input, join(dir, `${stem}.${binary ? "bin" : "run"}`), binary);

          // Assert
          expect({ variantName, binary, same8: got.q8.equals(want.q8), same16: got.q16.equals(want.q16), inspect: got.inspect }).toEqual({
            variantName,
            binary,
            same8: true,
            same16: true,
            inspect: want.inspect,
          });
        }
        expect(sha256(input)).toBe(hash);
      }
      expect(listing(dir).filter((f) => f.startsWith("."))).toEqual([]);
    },
    60_000,
  );

  test("the golden re-encodings match the reference's expected outputs", async () => {
    const dir = mkdtempSync(join(root, "enc-golden-"));
    for (const name of ["mlp", "cnn"]) {
      for (const style of ["unpacked", "split"] as const) {
        const input = join(dir, `${name}.${style}.mlmodel`);
        writeFileSync(input, reencodeGolden(name, style));
        for (const nbits of [8, 16]) {
          const out = join(dir, `${name}.${style}.${nbits}.out`);
          expect((await runInProcess(["quantize", input, "-o", out, "--nbits", String(nbits)])).code).toBe(0);
          const expected = readFileSync(join(GOLDEN_MODELS, "..", "expected", `${name}.linear.${nbits}.mlmodel`));
          expect({ name, style, nbits, same: readFileSync(out).equals(expected) }).toEqual({ name, style, nbits, same: true });
        }
      }
    }
  }, 30_000);
});

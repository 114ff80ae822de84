/**
 * Shared by the robustness tests: a tiny protobuf writer (every byte of the hostile
 * inputs is spelled out here, independent of the codec under test), model builders
 * on top of it, the CLI run in-process and as the real binary, and file helpers.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { run } from "../../src/cli/run.js";

// ---------------------------------------------------------------------------
// Field numbers, from proto/Model.proto, proto/NeuralNetwork.proto, proto/GLMRegressor.proto
// ---------------------------------------------------------------------------

export const F = {
  model: { specificationVersion: 1, description: 2, glmRegressor: 300, neuralNetwork: 500, mlProgram: 502 },
  network: { layers: 1 },
  layer: { name: 1, input: 2, output: 3, convolution: 100, activation: 130, innerProduct: 140, branch: 605 },
  activation: { relu: 10 },
  convolution: { outputChannels: 1, kernelChannels: 2, nGroups: 10, kernelSize: 20, isDeconvolution: 60, weights: 90 },
  branch: { ifBranch: 1, elseBranch: 2 },
  innerProduct: { inputChannels: 1, outputChannels: 2, hasBias: 10, weights: 20, bias: 21 },
  weights: { floatValue: 1, float16Value: 2, rawValue: 30, int8RawValue: 31, quantization: 40, isUpdatable: 50 },
  glm: { weights: 1, offset: 2 },
  doubleArray: { value: 1 },
} as const;

export const WIRE = { varint: 0, fixed64: 1, lengthDelimited: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

// ---------------------------------------------------------------------------
// A tiny protobuf writer
// ---------------------------------------------------------------------------

/** A varint of any non-negative integer up to 2^64 - 1. */
export function varint(value: number | bigint): Uint8Array {
  let rest = BigInt(value);
  if (rest < 0n) throw new Error("varint: negative");
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Uint8Array.from(out);
}

export const concat = (...parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

export const tag = (field: number, wireType: number): Uint8Array => varint(field * 8 + wireType);

export const varintField = (field: number, value: number | bigint): Uint8Array => concat(tag(field, WIRE.varint), varint(value));

export const lengthDelimited = (field: number, ...payload: readonly Uint8Array[]): Uint8Array => {
  const body = concat(...payload);
  return concat(tag(field, WIRE.lengthDelimited), varint(body.length), body);
};

export const ascii = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "utf8"));

/** Little-endian float32 bytes. */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(values);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

/** Little-endian float64 bytes. */
export function float64Bytes(values: ArrayLike<number>): Uint8Array {
  const f = Float64Array.from(values);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

/** How a WeightParams' floatValue is written. */
export type FloatEncoding =
  | { readonly kind: "packed" }
  | { readonly kind: "unpacked" } // one fixed32 record per value
  | { readonly kind: "split"; readonly at: readonly number[] }; // packed records cut at these value indices

/** The floatValue records of a WeightParams. */
export function floatValueRecords(values: ArrayLike<number>, encoding: FloatEncoding = { kind: "packed" }): Uint8Array {
  const all = Array.from(values);
  switch (encoding.kind) {
    case "packed":
      return lengthDelimited(F.weights.floatValue, float32Bytes(all));
    case "unpacked":
      return concat(...all.map((v) => concat(tag(F.weights.floatValue, WIRE.fixed32), float32Bytes([v]))));
    case "split": {
      const cuts = [0, ...encoding.at, all.length];
      const records: Uint8Array[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        records.push(lengthDelimited(F.weights.floatValue, float32Bytes(all.slice(cuts[i], cuts[i + 1]))));
      }
      return concat(...records);
    }
  }
}

/** An innerProduct layer; `weights` and `bias` are the bytes of WeightParams messages. */
export function innerProductLayer(name: string, shape: { inputChannels: number; outputChannels: number }, weights: Uint8Array, bias?: Uint8Array): Uint8Array {
  const params = concat(
    varintField(F.innerProduct.inputChannels, shape.inputChannels),
    varintField(F.innerProduct.outputChannels, shape.outputChannels),
    ...(bias === undefined ? [] : [varintField(F.innerProduct.hasBias, 1)]),
    lengthDelimited(F.innerProduct.weights, weights),
    ...(bias === undefined ? [] : [lengthDelimited(F.innerProduct.bias, bias)]),
  );
  return concat(
    lengthDelimited(F.layer.name, ascii(name)),
    lengthDelimited(F.layer.input, ascii(`${name}_in`)),
    lengthDelimited(F.layer.output, ascii(`${name}_out`)),
    lengthDelimited(F.layer.innerProduct, params),
  );
}

/** Model { specificationVersion, neuralNetwork { layers } }; each layer is a NeuralNetworkLayer's bytes. */
export function networkModel(layers: readonly Uint8Array[], specificationVersion = 4): Uint8Array {
  const network = concat(...layers.map((l) => lengthDelimited(F.network.layers, l)));
  return concat(varintField(F.model.specificationVersion, specificationVersion), lengthDelimited(F.model.neuralNetwork, network));
}

/** A 4x4 innerProduct "fc" whose weights are `weights` (a WeightParams' bytes), plus a good 4-value bias. */
export const fcModel = (weights: Uint8Array): Uint8Array =>
  networkModel([innerProductLayer("fc", { inputChannels: 4, outputChannels: 4 }, weights, floatValueRecords([0.1, -0.2, 0.3, -0.4]))]);

/** 16 small weights for {@link fcModel}; the sixth is `special` when given. */
export const sixteen = (special?: number): number[] => Array.from({ length: 16 }, (_, i) => (i === 5 && special !== undefined ? special : (i - 7.5) / 8));

/**
 * Model.neuralNetwork > layers > NeuralNetworkLayer.branch > BranchLayerParams.ifBranch
 * > layers > … `depth` branch layers deep, around an empty network. Built from the
 * inside out as a list of headers (each record's tag and length), so neither this
 * builder nor its cost grows with the square of the depth.
 */
export function nestedBranches(depth: number): Uint8Array {
  const headers: Uint8Array[] = []; // innermost first
  let size = 0; // bytes after the header being written
  const wrap = (field: number): void => {
    const header = concat(tag(field, WIRE.lengthDelimited), varint(size));
    headers.push(header);
    size += header.length;
  };
  for (let i = 0; i < depth; i++) {
    wrap(F.branch.ifBranch); // BranchLayerParams.ifBranch: NeuralNetwork
    wrap(F.layer.branch); // NeuralNetworkLayer.branch: BranchLayerParams
    wrap(F.network.layers); // NeuralNetwork.layers: NeuralNetworkLayer
  }
  wrap(F.model.neuralNetwork);
  return concat(varintField(F.model.specificationVersion, 4), ...headers.reverse());
}

// ---------------------------------------------------------------------------
// Deterministic pseudo-random data
// ---------------------------------------------------------------------------

/** xorshift32: deterministic bytes and numbers for a given seed. */
export function prng(seed: number): { next: () => number; bytes: (n: number) => Uint8Array; float: () => number } {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    next,
    bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
    float: () => next() / 4294967296 - 0.5,
  };
}

// ---------------------------------------------------------------------------
// Top-level record boundaries (to cut a model inside a record, never between two)
// ---------------------------------------------------------------------------

/** Offsets at which a top-level record of `bytes` ends (0 included). */
export function topLevelBoundaries(bytes: Uint8Array): number[] {
  const out = [0];
  let pos = 0;
  const readVarint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new Error("truncated varint");
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(readVarint());
    switch (key & 7) {
      case WIRE.varint:
        readVarint();
        break;
      case WIRE.fixed64:
        pos += 8;
        break;
      case WIRE.fixed32:
        pos += 4;
        break;
      case WIRE.lengthDelimited: {
        const length = Number(readVarint()); // read before `pos +=` evaluates pos
        pos += length;
        break;
      }
      default:
        throw new Error(`unexpected wire type ${key & 7}`);
    }
    out.push(pos);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The CLI: in-process and as the real binary
// ---------------------------------------------------------------------------

/** What one CLI run gave. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the binary was killed by a signal (e.g. its timeout). */
  readonly signal?: NodeJS.Signals | null;
  readonly ms: number;
}

export const REPO = join(__dirname, "..", "..");
/** The executable npm installs (package.json `bin`): the bundled CLI. */
export const MAIN = join(REPO, "dist", "bin", "coreml-quantize.js");
export const GOLDEN_MODELS = join(REPO, "test", "fixtures", "golden", "models");

/** `run(argv, io)` with captured output. */
export async function runInProcess(argv: readonly string[], debug = false): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const started = Date.now();
  const code = await run(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    version: "0.0.0-robustness",
    debug,
  });
  return { code, stdout, stderr, ms: Date.now() - started };
}

/** `node dist/bin/coreml-quantize.js ...argv`, killed after `timeoutMs`. */
export function runBinary(argv: readonly string[], timeoutMs = 20_000, env: NodeJS.ProcessEnv = {}): CliResult {
  const started = Date.now();
  const r = spawnSync(process.execPath, [MAIN, ...argv], {
    cwd: REPO,
    encoding: "utf8",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 64 << 20,
    env: { ...process.env, COREML_QUANTIZE_DEBUG: "", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal, ms: Date.now() - started };
}

/** {@link runBinary} without blocking: many can run at once. */
export function runBinaryAsync(argv: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, COREML_QUANTIZE_DEBUG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, signal, ms: Date.now() - started });
    });
  });
}

/** Runs `jobs` with at most `limit` at a time, results in order. */
export async function pool<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return results;
}

function* listSources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* listSources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Every `.ts` under src/ whose `.js` in dist/ is missing or older, and the bundle if older than any. */
function staleOutputs(): string[] {
  const stale: string[] = [];
  let newest = 0;
  for (const path of listSources(join(REPO, "src"))) {
    const mtime = statSync(path).mtimeMs;
    newest = Math.max(newest, mtime);
    if (path.endsWith(".d.ts")) continue;
    const out = join(REPO, "dist", relative(join(REPO, "src"), path)).replace(/\.ts$/, ".js");
    if (!existsSync(out) || statSync(out).mtimeMs < mtime) stale.push(relative(REPO, path));
  }
  // The bundle is made from dist/: older than any source means older than its inputs.
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs < newest) stale.push(relative(REPO, MAIN));
  return stale;
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Runs `npm run build` when dist/ is missing or older than src/. A lock directory
 * keeps two test files (jest workers) from building at once; a lock older than two
 * minutes is taken to be left by a dead run.
 *
 * @returns what happened, for the test log
 */
export function ensureBuiltCli(): string {
  if (staleOutputs().length === 0 && existsSync(MAIN)) return "dist up to date";
  const lock = join(tmpdir(), "coreml-quantize-robustness-build.lock");
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmdirSync(lock);
      } catch {
        // gone already
      }
      if (Date.now() > deadline) throw new Error(`could not take the build lock ${lock}`);
      sleep(200);
    }
  }
  try {
    const stale = staleOutputs();
    if (stale.length === 0 && existsSync(MAIN)) return "dist built by another test file";
    const r = spawnSync("npm", ["run", "build"], { cwd: REPO, encoding: "utf8", timeout: 170_000 });
    if (!existsSync(MAIN)) throw new Error(`npm run build produced no ${MAIN}:\n${r.stdout}\n${r.stderr}`);
    return r.status === 0
      ? `rebuilt dist (stale: ${stale.join(", ")})`
      : `npm run build exited ${String(r.status)} (others' work in progress?); using what it emitted:\n${r.stdout}${r.stderr}`;
  } finally {
    rmdirSync(lock);
  }
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

export const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

/** A directory's entries, sorted. */
export const listing = (dir: string): string[] => readdirSync(dir).sort();

/**
 * How writeFileAtomic names its temporary file for `out.mlmodel`: hidden, pid, time,
 * `.tmp` (for a name so long that the whole would pass 255 bytes, the name part is
 * cut short, which this pattern does not match).
 */
export const TEMP_NAME = (base: string): RegExp => new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.\\d+\\.\\d+\\.tmp$`);

/** A one-line refusal: `coreml-quantize: …\n`, nothing else, no stack, not an internal error. */
export const ONE_LINE_REFUSAL = /^coreml-quantize: (?!internal error)\S[^\n]*\n$/;

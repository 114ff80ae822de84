/**
 * Fuzzing decodeModel and the operations on random and mutated byte strings (seed
 * from the environment, see test/support/property-seed.ts; bounded runs, time-bounded): the only error that may escape is
 * QuantizeError, never a RangeError, TypeError or stack overflow; whatever an
 * operation returns is a model validateWeights accepts and that survives
 * encode -> decode.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, WeightParams } from "../../src/codec/model-types.js";
import { isQuantizeError, type ErrorCode } from "../../src/errors.js";
import { inspectModel } from "../../src/inspect-model.js";
import { activateInt8Int8MatrixMultiplications, dequantizeWeights, quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { model as modelArbitrary } from "../../src/testing/model.js";
import { assertHasNetwork, validateWeights } from "../../src/validate-model.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import { propertySeed } from "../support/property-seed.js";
import { concat, float32Bytes, GOLDEN_MODELS, lengthDelimited, tag, varint, WIRE } from "./helpers.js";

/** Fixed in CI, new on every local run: printed with the outcomes so a run can be replayed. */
const SEED = propertySeed();
/** Wall time per property; runs left when it is reached are skipped, not failed. */
const TIME_LIMIT_MS = 4_000;
/** The slowest single input allowed: anything slower is a hang in the making. */
const SLOWEST_INPUT_MS = 5_000;

const params = (numRuns: number): fc.Parameters<unknown> => ({
  seed: SEED,
  numRuns,
  interruptAfterTimeLimit: TIME_LIMIT_MS,
  markInterruptAsFailure: false,
});

const GOLDEN: readonly (readonly [string, Uint8Array])[] = readdirSync(GOLDEN_MODELS)
  .filter((f) => f.endsWith(".mlmodel"))
  .sort()
  .map((f) => [f, new Uint8Array(readFileSync(join(GOLDEN_MODELS, f)))] as const);

// ---------------------------------------------------------------------------
// What is run on every input
// ---------------------------------------------------------------------------

type Operation = "quantize 8" | "quantize 16" | "linear_lut 3" | "kmeans_lut 2" | "linear_symmetric 8" | "dequantize" | "int8-matmul";
const OPERATIONS: Record<Operation, (m: Model) => Model> = {
  "quantize 8": (m) => quantizeWeights(m, { nbits: 8 }),
  "quantize 16": (m) => quantizeWeights(m, { nbits: 16 }),
  "linear_lut 3": (m) => quantizeWeights(m, { nbits: 3, mode: "linear_lut" }),
  "kmeans_lut 2": (m) => quantizeWeights(m, { nbits: 2, mode: "kmeans_lut" }),
  "linear_symmetric 8": (m) => quantizeWeights(m, { nbits: 8, mode: "linear_symmetric" }),
  dequantize: (m) => dequantizeWeights(m),
  "int8-matmul": (m) => activateInt8Int8MatrixMultiplications(m),
};
const operation = fc.constantFrom(...(Object.keys(OPERATIONS) as Operation[]));

/** Tally of outcomes, printed at the end so the report can say what was reached. */
const outcomes = new Map<string, number>();
let slowest = { ms: 0, what: "" };
const count = (key: string): void => {
  const category = key.replace(/ \([^)]*\.mlmodel\)/, "");
  outcomes.set(category, (outcomes.get(category) ?? 0) + 1);
};
afterAll(() => {
  const lines = [...outcomes.entries()].sort().map(([k, v]) => `  ${k}: ${v}`);
  console.log(`fuzz outcomes (seed ${SEED}; slowest input ${slowest.ms} ms: ${slowest.what}):\n${lines.join("\n")}`);
});

/** Rethrows anything but a QuantizeError; returns its code. */
function refusal(error: unknown): ErrorCode {
  if (isQuantizeError(error)) return error.code;
  throw error;
}

/**
 * decodeModel and inspectModel; then the CLI's order (assertHasNetwork and
 * validateWeights, `op`, validateWeights of the result: what the CLI would write
 * must validate and survive encode -> decode). With `direct`, also `op` straight on
 * the decoded model, as a library user may call it: quantizeWeights must then
 * refuse (QuantizeError) or return a model that validates, whatever it was given.
 */
function exercise(source: string, bytes: Uint8Array, op: Operation, direct = true): void {
  const started = Date.now();
  let model: Model;
  try {
    model = decodeModel(bytes.slice());
  } catch (error) {
    count(`${source}: decode refused (${refusal(error)})`);
    return;
  }
  try {
    inspectModel(model);
  } catch (error) {
    count(`${source}: inspect refused (${refusal(error)})`);
  }

  let accepted = true;
  try {
    assertHasNetwork(model);
    validateWeights(model);
  } catch (error) {
    count(`${source}: input refused (${refusal(error)})`);
    accepted = false;
  }
  if (accepted) {
    let output: Model | undefined;
    try {
      output = OPERATIONS[op](model);
    } catch (error) {
      count(`${source}: ${op} refused (${refusal(error)})`);
    }
    if (output !== undefined) {
      count(`${source}: ${op} done`);
      validateWeights(output);
      const encoded = encodeModel(output);
      const again = decodeModel(encoded);
      validateWeights(again);
      expect(encodeModel(again)).toEqual(encoded);
    }
  }

  if (direct && !accepted && QUANTIZING.has(op)) {
    let output: Model | undefined;
    try {
      output = OPERATIONS[op](model);
    } catch (error) {
      refusal(error);
    }
    if (output !== undefined) {
      count(`${source}: ${op} returned a model for an input validateWeights refuses`);
      validateWeights(output);
    }
  }
  const ms = Date.now() - started;
  if (ms > slowest.ms) slowest = { ms, what: `${source} ${op} (${bytes.length} bytes)` };
  expect(ms).toBeLessThan(SLOWEST_INPUT_MS);
}

/** The operations that are quantizeWeights (the others pass the layers they do not select through untouched). */
const QUANTIZING: ReadonlySet<Operation> = new Set(["quantize 8", "quantize 16", "linear_lut 3", "kmeans_lut 2", "linear_symmetric 8"]);

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/** Edits of a byte string. */
type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "set"; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly length: number }
  | { readonly kind: "duplicate"; readonly at: number; readonly length: number; readonly to: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("flip" as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }).map((m) => m as unknown as Mutation),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        kind: fc.constant("set" as const),
        at: position,
        value: fc.oneof(fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12), fc.integer({ min: 0, max: 255 })),
      })
      .map((m) => m as unknown as Mutation),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: position }).map((m) => m as unknown as Mutation) },
  {
    weight: 1,
    arbitrary: fc
      .record({ kind: fc.constant("insert" as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) })
      .map((m) => m as unknown as Mutation),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("delete" as const), at: position, length: fc.integer({ min: 1, max: 16 }) }).map((m) => m as unknown as Mutation),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ kind: fc.constant("duplicate" as const), at: position, length: fc.integer({ min: 1, max: 64 }), to: position })
      .map((m) => m as unknown as Mutation),
  },
);

/** Applies the edits in turn; positions are fractions of the current length. */
function mutate(original: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let b: Uint8Array = original.slice();
  for (const e of edits) {
    if (b.length === 0) break;
    const at = Math.floor(e.at * b.length);
    switch (e.kind) {
      case "flip":
        b[at] = (b[at] as number) ^ (1 << e.bit);
        break;
      case "set":
        b[at] = e.value;
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "insert":
        b = concat(b.subarray(0, at), e.bytes, b.subarray(at));
        break;
      case "delete":
        b = concat(b.subarray(0, at), b.subarray(at + e.length));
        break;
      case "duplicate": {
        const piece = b.slice(at, at + e.length);
        const to = Math.floor(e.to * b.length);
        b = concat(b.subarray(0, to), piece, b.subarray(to));
        break;
      }
    }
  }
  return b;
}

/** A golden input, drawn by name so counterexamples print short. */
const goldenModel = fc.constantFrom(...GOLDEN.map(([name]) => name));
const goldenBytes = (name: string): Uint8Array => GOLDEN.find(([n]) => n === name)?.[1] ?? new Uint8Array(0);
const edits = fc.array(mutation, { minLength: 1, maxLength: 6 });

/**
 * Protobuf-shaped noise: records with the field numbers Core ML uses for models,
 * networks, layers and weights (so decoding gets past the first byte), wire types
 * mostly right, nested a few levels, payloads of floats (NaN and infinities
 * included), varints small and huge, or raw bytes.
 */
const FIELD_NUMBERS = [1, 2, 3, 10, 20, 21, 30, 31, 40, 50, 90, 91, 100, 101, 102, 140, 300, 500, 501, 502, 605, 615];
const record: fc.Memo<Uint8Array> = fc.memo((depth) => {
  const field = fc.constantFrom(...FIELD_NUMBERS);
  const leaf = fc.oneof(
    fc
      .tuple(field, fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(2 ** 31, 2 ** 32 - 1, 2 ** 53 - 1)))
      .map(([f, v]) => concat(tag(f, WIRE.varint), varint(v))),
    fc.tuple(field, fc.array(fc.float(), { maxLength: 40 })).map(([f, values]) => lengthDelimited(f, float32Bytes(values))),
    fc.tuple(field, fc.float()).map(([f, v]) => concat(tag(f, WIRE.fixed32), float32Bytes([v]))),
    fc.tuple(field, fc.uint8Array({ maxLength: 24 })).map(([f, bytes]) => lengthDelimited(f, bytes)),
    fc.tuple(field, fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 6 })).map(([f, wt, bytes]) => concat(tag(f, wt), bytes)),
  );
  if (depth <= 1) return leaf;
  return fc.oneof(
    { weight: 2, arbitrary: leaf },
    { weight: 3, arbitrary: fc.tuple(field, fc.array(record(depth - 1), { maxLength: 5 })).map(([f, children]) => lengthDelimited(f, ...children)) },
  );
});
const protobufNoise = fc.array(record(5), { minLength: 1, maxLength: 6 }).map((records) => concat(...records));

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe("only QuantizeError escapes; whatever is returned is valid", () => {
  test("random byte strings", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), operation, (bytes, op) => exercise("random bytes", bytes, op)),
      params(1500),
    );
  }, 60_000);

  test("protobuf-shaped noise with Core ML field numbers", () => {
    fc.assert(
      fc.property(protobufNoise, operation, (bytes, op) => exercise("protobuf noise", bytes, op)),
      params(1500),
    );
  }, 60_000);

  test("mutated golden models (bit flips, byte edits, truncation, insertion, deletion, duplication)", () => {
    fc.assert(
      fc.property(goldenModel, edits, operation, (name, e, op) => exercise(`mutated golden (${name})`, mutate(goldenBytes(name), e), op)),
      params(800),
    );
  }, 60_000);

  test("two golden models spliced together", () => {
    fc.assert(
      fc.property(goldenModel, goldenModel, position, position, operation, (a, b, cutA, cutB, op) => {
        const [x, y] = [goldenBytes(a), goldenBytes(b)];
        exercise("spliced golden", concat(x.subarray(0, Math.floor(cutA * x.length)), y.subarray(Math.floor(cutB * y.length))), op);
      }),
      params(400),
    );
  }, 60_000);

  test("mutated encodings of generated models (every layer kind the testing kit makes)", () => {
    const generated = modelArbitrary({ network: { maxLayers: 4, edgeValues: true } }).map((m) => encodeModel(m));
    fc.assert(
      fc.property(generated, fc.array(mutation, { minLength: 0, maxLength: 4 }), operation, (bytes, e, op) =>
        exercise("mutated generated", mutate(bytes, e), op),
      ),
      params(400),
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------
// Decoded, then made inconsistent: the validation's and the quantizers' edge
// ---------------------------------------------------------------------------

/** Edits of a decoded model that keep it encodable but may make it inconsistent. */
type ModelEdit =
  | { readonly kind: "floats"; readonly target: number; readonly values: readonly number[] }
  | { readonly kind: "float16"; readonly target: number; readonly bytes: Uint8Array }
  | {
      readonly kind: "raw";
      readonly target: number;
      readonly bytes: Uint8Array;
      readonly nbits: number;
      readonly lut: boolean;
      readonly table: readonly number[];
    }
  | { readonly kind: "int8"; readonly target: number; readonly bytes: Uint8Array; readonly scale: readonly number[] }
  | { readonly kind: "dimension"; readonly target: number; readonly field: number; readonly value: bigint };

const specialFloat = fc.oneof(fc.float(), fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 65504, 65520, 3.4e38, 1e-45));
const modelEdit: fc.Arbitrary<ModelEdit> = fc.oneof(
  fc.record({ kind: fc.constant("floats" as const), target: fc.nat(), values: fc.array(specialFloat, { maxLength: 80 }) }),
  fc.record({ kind: fc.constant("float16" as const), target: fc.nat(), bytes: fc.uint8Array({ maxLength: 80 }) }),
  fc.record({
    kind: fc.constant("raw" as const),
    target: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 80 }),
    nbits: fc.integer({ min: 0, max: 12 }),
    lut: fc.boolean(),
    table: fc.array(specialFloat, { maxLength: 20 }),
  }),
  fc.record({ kind: fc.constant("int8" as const), target: fc.nat(), bytes: fc.uint8Array({ maxLength: 80 }), scale: fc.array(specialFloat, { maxLength: 3 }) }),
  fc.record({
    kind: fc.constant("dimension" as const),
    target: fc.nat(),
    field: fc.nat(),
    value: fc.oneof(fc.bigInt({ min: 0n, max: 64n }), fc.constantFrom(0n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n)),
  }),
) as fc.Arbitrary<ModelEdit>;

type Node = Record<string, unknown>;

/** The bigint fields (declared dimensions) of a layer's parameters, one level deep and in lists. */
function dimensionSlots(params: Node): { holder: Node | bigint[]; key: string | number }[] {
  const slots: { holder: Node | bigint[]; key: string | number }[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "bigint") slots.push({ holder: params, key });
    else if (Array.isArray(value) && value.every((v) => typeof v === "bigint")) value.forEach((_, i) => slots.push({ holder: value as bigint[], key: i }));
  }
  return slots;
}

function applyEdit(model: Model, edit: ModelEdit): void {
  const layers = allLayers(model);
  if (layers.length === 0) return;
  if (edit.kind === "dimension") {
    const layer = layers[edit.target % layers.length]?.layer;
    const slots = layer === undefined ? [] : dimensionSlots(layer.layer.value as unknown as Node);
    const slot = slots[edit.field % Math.max(1, slots.length)];
    if (slot !== undefined) (slot.holder as Record<string | number, unknown>)[slot.key] = edit.value;
    return;
  }
  const refs = layers.flatMap(({ layer }) => layerWeights(layer));
  const wp = refs[edit.target % Math.max(1, refs.length)]?.weightParams as WeightParams | undefined;
  if (wp === undefined) return;
  switch (edit.kind) {
    case "floats":
      wp.floatValue = Float32Array.from(edit.values);
      break;
    case "float16":
      wp.float16Value = edit.bytes;
      break;
    case "raw":
      wp.rawValue = edit.bytes;
      wp.quantization = {
        $typeName: "CoreML.Specification.QuantizationParams",
        numberOfBits: BigInt(edit.nbits),
        QuantizationType: edit.lut
          ? { case: "lookupTableQuantization", value: { $typeName: "CoreML.Specification.LookUpTableQuantizationParams", floatValue: [...edit.table] } }
          : {
              case: "linearQuantization",
              value: { $typeName: "CoreML.Specification.LinearQuantizationParams", scale: [...edit.table], bias: [...edit.table] },
            },
      } as WeightParams["quantization"];
      break;
    case "int8":
      wp.int8RawValue = edit.bytes;
      wp.quantization = {
        $typeName: "CoreML.Specification.QuantizationParams",
        numberOfBits: 8n,
        QuantizationType: {
          case: "linearQuantization",
          value: { $typeName: "CoreML.Specification.LinearQuantizationParams", scale: [...edit.scale], bias: [] },
        },
      } as WeightParams["quantization"];
      break;
  }
}

/** A golden model with `modelEdits` applied, encoded; undefined when the edits make it unencodable (e.g. 2^63 in an int64). */
function edited(name: string, modelEdits: readonly ModelEdit[]): Uint8Array | undefined {
  const model = decodeModel(goldenBytes(name));
  for (const e of modelEdits) applyEdit(model, e);
  try {
    return encodeModel(model);
  } catch {
    return undefined; // not a model any file could hold
  }
}

describe("decoded golden models made inconsistent (wrong sizes, two storages, bad quantization parameters, odd dimensions, NaN, infinities)", () => {
  const modelEdits = fc.array(modelEdit, { minLength: 1, maxLength: 3 });

  test("in the CLI's order (validate, operate, validate) only QuantizeError escapes and the result validates", () => {
    fc.assert(
      fc.property(goldenModel, modelEdits, operation, (name, e, op) => {
        const bytes = edited(name, e);
        if (bytes !== undefined) exercise(`edited golden (${name})`, bytes, op, false);
      }),
      params(1000),
    );
  }, 60_000);

  // Fails today: quantizeWeights does not check the input's sizes against the declared
  // shapes and returns a model validateWeights refuses (library-refusals.test.ts pins it).
  test("quantizeWeights called directly refuses them or returns a model that validates", () => {
    fc.assert(
      fc.property(goldenModel, modelEdits, operation, (name, e, op) => {
        const bytes = edited(name, e);
        if (bytes !== undefined) exercise(`edited golden, direct (${name})`, bytes, op, true);
      }),
      params(1000),
    );
  }, 60_000);
});

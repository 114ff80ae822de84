import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, WeightParams } from "../../src/codec/model-types.js";
import { QuantizeError, isQuantizeError } from "../../src/errors.js";
import { propertySeed } from "../support/property-seed.js";

const GOLDEN_MODELS = readdirSync(join(__dirname, "..", "fixtures", "golden", "models")).map((name) =>
  join(__dirname, "..", "fixtures", "golden", "models", name),
);

/** Both ways floatValue records become unknown fields: the schema without floatValue, and the in-place rename in a buffer the decoder owns. */
const DECODE_ROUTES: Array<[string, (bytes: Uint8Array) => Model]> = [
  ["schema route", (bytes) => decodeModel(bytes)],
  ["in-place rename", (bytes) => decodeModel(bytes.slice(), { reuseInput: true })],
];

// A tiny protobuf writer, so every byte of the inputs is spelled out here.
// Field numbers from proto/Model.proto and proto/NeuralNetwork.proto:
const MODEL_SPECIFICATION_VERSION = 1;
const MODEL_PIPELINE = 202; // Model.pipeline
const PIPELINE_MODELS = 1; // Pipeline.models
const MODEL_NEURAL_NETWORK = 500; // Model.neuralNetwork
const NETWORK_LAYERS = 1; // NeuralNetwork.layers
const LAYER_NAME = 1; // NeuralNetworkLayer.name
const LAYER_INNER_PRODUCT = 140; // NeuralNetworkLayer.innerProduct
const INNER_PRODUCT_WEIGHTS = 20; // InnerProductLayerParams.weights
const WEIGHTS_FLOAT_VALUE = 1; // WeightParams.floatValue
const WEIGHTS_IS_UPDATABLE = 50; // WeightParams.isUpdatable
// Numbers no message here uses (WeightParams tops out at 50, Model at 3000).
const UNUSED_WEIGHTS_FIELD = 60;
const UNUSED_WEIGHTS_FIELD_2 = 61;
const UNUSED_WEIGHTS_FIELD_3 = 62;
const UNUSED_MODEL_FIELD = 4000;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

type Bytes = number[];

function varint(value: number): Bytes {
  const out: Bytes = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function tag(field: number, wireType: number): Bytes {
  return varint(field * 8 + wireType);
}

function varintField(field: number, value: number): Bytes {
  return [...tag(field, VARINT), ...varint(value)];
}

function lengthDelimited(field: number, payload: Bytes): Bytes {
  return [...tag(field, LENGTH_DELIMITED), ...varint(payload.length), ...payload];
}

function fixed32Field(field: number, bits: number): Bytes {
  return [...tag(field, FIXED32), ...littleEndian32(bits)];
}

function littleEndian32(bits: number): Bytes {
  return [bits & 0xff, (bits >>> 8) & 0xff, (bits >>> 16) & 0xff, bits >>> 24];
}

function packedFloats(bitsList: readonly number[]): Bytes {
  return lengthDelimited(WEIGHTS_FLOAT_VALUE, bitsList.flatMap(littleEndian32));
}

function unpackedFloats(bitsList: readonly number[]): Bytes {
  return bitsList.flatMap((bits) => fixed32Field(WEIGHTS_FLOAT_VALUE, bits));
}

function ascii(text: string): Bytes {
  return Array.from(text, (c) => c.charCodeAt(0));
}

/** Model { specificationVersion: 4, neuralNetwork { layers [{ name: "ip", innerProduct { weights } }] } }. */
function modelWithWeights(weightParams: Bytes, modelTail: Bytes = []): Uint8Array {
  const innerProduct = lengthDelimited(INNER_PRODUCT_WEIGHTS, weightParams);
  const layer = [...lengthDelimited(LAYER_NAME, ascii("ip")), ...lengthDelimited(LAYER_INNER_PRODUCT, innerProduct)];
  const network = lengthDelimited(NETWORK_LAYERS, layer);
  return Uint8Array.from([...varintField(MODEL_SPECIFICATION_VERSION, 4), ...lengthDelimited(MODEL_NEURAL_NETWORK, network), ...modelTail]);
}

function innerProductWeights(model: Model): WeightParams {
  if (model.Type.case !== "neuralNetwork") throw new Error(`expected a neuralNetwork, got ${model.Type.case}`);
  const layer = model.Type.value.layers[0];
  if (layer?.layer.case !== "innerProduct") throw new Error("expected an innerProduct layer");
  const weights = layer.layer.value.weights;
  if (weights === undefined) throw new Error("expected weights");
  return weights;
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function hex(bitsList: readonly number[]): string[] {
  return bitsList.map((bits) => bits.toString(16).padStart(8, "0"));
}

function caught(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalidProtobuf(act: () => unknown): void {
  const error = caught(act);
  expect(error).toBeInstanceOf(QuantizeError);
  expect(isQuantizeError(error, "invalid-protobuf")).toBe(true);
}

/** decodeModel either returns or throws QuantizeError("invalid-protobuf"); nothing else escapes. */
function decodeOrRefuse(bytes: Uint8Array): Model | undefined {
  try {
    return decodeModel(bytes);
  } catch (error) {
    if (isQuantizeError(error, "invalid-protobuf")) return undefined;
    throw error;
  }
}

// 1, -pi, float32 min subnormal, float32 max, -0, a NaN with a payload, -Infinity.
const VALUES = [0x3f800000, 0xc0490fdb, 0x00000001, 0x7f7fffff, 0x80000000, 0x7fc00001, 0xff800000];
const CANONICAL = modelWithWeights(packedFloats(VALUES));

describe.each(DECODE_ROUTES)("floatValue encodings decode to the same Float32Array (%s)", (_route, decode) => {
  const isUpdatable = varintField(WEIGHTS_IS_UPDATABLE, 1);
  const cases: Array<[string, Bytes]> = [
    ["canonical packed", packedFloats(VALUES)],
    ["packed, split over 2 records", [...packedFloats(VALUES.slice(0, 3)), ...packedFloats(VALUES.slice(3))]],
    ["packed, split over 3 records", [...packedFloats(VALUES.slice(0, 1)), ...packedFloats(VALUES.slice(1, 5)), ...packedFloats(VALUES.slice(5))]],
    ["packed, with an empty record in between", [...packedFloats(VALUES.slice(0, 2)), ...packedFloats([]), ...packedFloats(VALUES.slice(2))]],
    [
      "packed, its length written as a padded (non-minimal) varint",
      [...tag(WEIGHTS_FLOAT_VALUE, LENGTH_DELIMITED), (VALUES.length * 4) | 0x80, 0x80, 0x00, ...VALUES.flatMap(littleEndian32)],
    ],
    ["unpacked: one fixed32 record per value", unpackedFloats(VALUES)],
    [
      "a mix of packed and unpacked records",
      [...unpackedFloats(VALUES.slice(0, 1)), ...packedFloats(VALUES.slice(1, 3)), ...unpackedFloats(VALUES.slice(3, 5)), ...packedFloats(VALUES.slice(5))],
    ],
  ];

  test.each(cases)("%s", (_name, weightParams) => {
    // Arrange
    const bytes = modelWithWeights(weightParams);

    // Act
    const model = decode(bytes);

    // Assert
    const weights = innerProductWeights(model);
    expect(weights.floatValue).toBeInstanceOf(Float32Array);
    expect(hex(bitsOf(weights.floatValue))).toEqual(hex(VALUES));
    expect(model.specificationVersion).toBe(4);
  });

  test.each(cases)("%s re-encodes as the canonical packed bytes", (_name, weightParams) => {
    // Act
    const encoded = encodeModel(decode(modelWithWeights(weightParams)));

    // Assert
    expect(Array.from(encoded)).toEqual(Array.from(CANONICAL));
  });

  test("WeightParams fields out of number order (isUpdatable = 50 before floatValue = 1)", () => {
    // Arrange
    const bytes = modelWithWeights([...isUpdatable, ...packedFloats(VALUES)]);
    const canonical = modelWithWeights([...packedFloats(VALUES), ...isUpdatable]);

    // Act
    const model = decode(bytes);

    // Assert
    const weights = innerProductWeights(model);
    expect(hex(bitsOf(weights.floatValue))).toEqual(hex(VALUES));
    expect(weights.isUpdatable).toBe(true);
    expect(Array.from(encodeModel(model))).toEqual(Array.from(canonical));
  });

  test("isUpdatable between two floatValue records", () => {
    // Arrange
    const bytes = modelWithWeights([...packedFloats(VALUES.slice(0, 2)), ...isUpdatable, ...unpackedFloats(VALUES.slice(2))]);

    // Act
    const weights = innerProductWeights(decode(bytes));

    // Assert
    expect(hex(bitsOf(weights.floatValue))).toEqual(hex(VALUES));
    expect(weights.isUpdatable).toBe(true);
  });

  test("no floatValue at all gives an empty Float32Array", () => {
    // Act
    const weights = innerProductWeights(decode(modelWithWeights(isUpdatable)));

    // Assert
    expect(weights.floatValue).toBeInstanceOf(Float32Array);
    expect(weights.floatValue.length).toBe(0);
  });

  test("the canonical model decodes from an unaligned view to the same values", () => {
    // Arrange
    const backing = new Uint8Array(CANONICAL.length + 3);
    backing.set(CANONICAL, 3);

    // Act
    const weights = innerProductWeights(decode(backing.subarray(3)));

    // Assert
    expect(hex(bitsOf(weights.floatValue))).toEqual(hex(VALUES));
  });
});

describe.each(DECODE_ROUTES)("unknown fields survive decode -> encode byte for byte (%s)", (_route, decode) => {
  const weightsTail = [
    ...varintField(UNUSED_WEIGHTS_FIELD, 300),
    ...lengthDelimited(UNUSED_WEIGHTS_FIELD_2, ascii("kept")),
    ...fixed32Field(UNUSED_WEIGHTS_FIELD_3, 0x3f800000), // fixed32, like an unpacked float, but not field 1
  ];
  const modelTail = lengthDelimited(UNUSED_MODEL_FIELD, [1, 2, 3]);

  test.each([
    ["inside WeightParams", modelWithWeights([...packedFloats(VALUES), ...weightsTail])],
    ["inside the Model", modelWithWeights(packedFloats(VALUES), modelTail)],
    ["inside both", modelWithWeights([...packedFloats(VALUES), ...weightsTail], modelTail)],
    ["inside a WeightParams with no floatValue", modelWithWeights(weightsTail, modelTail)],
  ])("%s", (_name, bytes) => {
    // Act
    const model = decode(bytes);
    const encoded = encodeModel(model);

    // Assert
    expect(Array.from(encoded)).toEqual(Array.from(bytes));
    expect(decode(encoded)).toEqual(model);
  });

  test("an unknown fixed32 field in WeightParams does not join floatValue", () => {
    // Act
    const weights = innerProductWeights(decode(modelWithWeights([...packedFloats(VALUES), ...weightsTail])));

    // Assert
    expect(hex(bitsOf(weights.floatValue))).toEqual(hex(VALUES));
  });
});

describe("the in-place rename of floatValue records (reuseInput)", () => {
  test("steps aside when a WeightParams already holds the spare field 3: values right, field 3 kept", () => {
    // Arrange
    const bytes = modelWithWeights([...packedFloats(VALUES), ...varintField(3, 7)]);

    // Act
    const model = decodeModel(bytes.slice(), { reuseInput: true });

    // Assert
    expect(hex(bitsOf(innerProductWeights(model).floatValue))).toEqual(hex(VALUES));
    expect(Array.from(encodeModel(model))).toEqual(Array.from(bytes));
  });

  test("renames every record of an unpacked encoding, and the result equals the schema route", () => {
    // Arrange
    const bytes = modelWithWeights([...unpackedFloats(VALUES), ...packedFloats(VALUES)]);

    // Act
    const renamed = decodeModel(bytes.slice(), { reuseInput: true });

    // Assert
    expect(renamed).toEqual(decodeModel(bytes));
  });

  test("on every golden model: the same model as the schema route", () => {
    for (const file of GOLDEN_MODELS) {
      const bytes = readFileSync(file);
      expect(decodeModel(Uint8Array.from(bytes), { reuseInput: true })).toEqual(decodeModel(bytes));
    }
  });
});

describe("malformed floatValue records are refused with invalid-protobuf", () => {
  test.each([
    ["wire type 0 (varint)", varintField(WEIGHTS_FLOAT_VALUE, 5)],
    ["wire type 1 (fixed64)", [...tag(WEIGHTS_FLOAT_VALUE, FIXED64), 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]],
    ["wire type 3 (group)", [...tag(WEIGHTS_FLOAT_VALUE, START_GROUP), ...tag(WEIGHTS_FLOAT_VALUE, END_GROUP)]],
    ["a packed payload of 6 bytes", lengthDelimited(WEIGHTS_FLOAT_VALUE, [0, 0, 0x80, 0x3f, 0, 0])],
    ["a packed payload of 1 byte", lengthDelimited(WEIGHTS_FLOAT_VALUE, [0])],
    [
      "records of 6 and 2 bytes (8 in all: still not whole floats per record)",
      [...lengthDelimited(WEIGHTS_FLOAT_VALUE, [0, 0, 0x80, 0x3f, 0, 0]), ...lengthDelimited(WEIGHTS_FLOAT_VALUE, [0x80, 0x3f])],
    ],
    ["a good packed record, then a varint one", [...packedFloats(VALUES), ...varintField(WEIGHTS_FLOAT_VALUE, 1)]],
  ])("%s", (_name, weightParams) => {
    // Arrange
    const bytes = modelWithWeights(weightParams);

    // Act / Assert
    expectInvalidProtobuf(() => decodeModel(bytes));
  });
});

describe("bad input throws QuantizeError(invalid-protobuf) and nothing else", () => {
  const golden = new Uint8Array(readFileSync(join(__dirname, "..", "fixtures", "golden", "models", "mlp.mlmodel")));

  test("every truncation of a model made of one top-level record is refused", () => {
    // Arrange: a Model with only its neuralNetwork record, so no strict prefix is valid
    const network = lengthDelimited(NETWORK_LAYERS, [
      ...lengthDelimited(LAYER_NAME, ascii("ip")),
      ...lengthDelimited(LAYER_INNER_PRODUCT, lengthDelimited(INNER_PRODUCT_WEIGHTS, packedFloats(VALUES))),
    ]);
    const bytes = Uint8Array.from(lengthDelimited(MODEL_NEURAL_NETWORK, network));
    expect(innerProductWeights(decodeModel(bytes)).floatValue.length).toBe(VALUES.length);

    for (let length = 1; length < bytes.length; length++) {
      // Act / Assert
      expectInvalidProtobuf(() => decodeModel(bytes.subarray(0, length)));
    }
  });

  test("a golden model cut inside its last record is refused", () => {
    expectInvalidProtobuf(() => decodeModel(golden.subarray(0, golden.length - 1)));
  });

  test("nesting beyond the recursion limit is refused", () => {
    // Arrange: Model { pipeline { models [ Model { pipeline { ... } } ] } }, 200 deep
    let bytes: Bytes = [];
    for (let depth = 0; depth < 200; depth++) {
      bytes = lengthDelimited(MODEL_PIPELINE, lengthDelimited(PIPELINE_MODELS, bytes));
    }

    // Act / Assert
    expectInvalidProtobuf(() => decodeModel(Uint8Array.from(bytes)));
  });

  test("shallow nesting is fine", () => {
    // Arrange
    let bytes: Bytes = [];
    for (let depth = 0; depth < 10; depth++) {
      bytes = lengthDelimited(MODEL_PIPELINE, lengthDelimited(PIPELINE_MODELS, bytes));
    }
    const input = Uint8Array.from(bytes);

    // Act
    const model = decodeModel(input);

    // Assert
    expect(model.Type.case).toBe("pipeline");
    expect(Array.from(encodeModel(model))).toEqual(Array.from(input));
  });

  test("deeply nested unknown groups are refused", () => {
    // Arrange
    const depth = 100_000;
    const bytes = new Uint8Array(depth * 2 * 3);
    const open = tag(UNUSED_MODEL_FIELD, START_GROUP);
    const close = tag(UNUSED_MODEL_FIELD, END_GROUP);
    for (let i = 0; i < depth; i++) bytes.set(open, i * 3);
    for (let i = 0; i < depth; i++) bytes.set(close, (depth + i) * 3);

    // Act / Assert
    expectInvalidProtobuf(() => decodeModel(bytes));
  });

  test("random byte strings: decodeModel returns or throws QuantizeError(invalid-protobuf)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeOrRefuse(bytes);
      }),
      { seed: propertySeed(), numRuns: 2000 },
    );
  });

  test("random truncations of a golden model: returns or throws QuantizeError(invalid-protobuf)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: golden.length - 1 }), (length) => {
        decodeOrRefuse(golden.subarray(0, length));
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("random bit flips in a golden model: returns or throws QuantizeError(invalid-protobuf)", () => {
    const flips = fc.array(fc.tuple(fc.integer({ min: 0, max: golden.length - 1 }), fc.integer({ min: 0, max: 7 })), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(flips, (positions) => {
        // Arrange
        const bytes = golden.slice();
        for (const [index, bit] of positions) bytes[index] = (bytes[index] as number) ^ (1 << bit);

        // Act / Assert
        decodeOrRefuse(bytes);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("whatever a mangled model decodes to re-encodes and decodes to itself", () => {
    const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: golden.length - 1 }), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(edits, (replacements) => {
        // Arrange
        const bytes = golden.slice();
        for (const [index, value] of replacements) bytes[index] = value;

        // Act
        const model = decodeOrRefuse(bytes);
        if (model === undefined) return;
        const again = decodeModel(encodeModel(model));

        // Assert
        expect(again).toEqual(model);
      }),
      { seed: propertySeed(), numRuns: 200 },
    );
  });
});

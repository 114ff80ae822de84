/**
 * The decoder's limits (issue 11): tags no Core ML model holds are refused at their
 * first byte, repeated scalar fields that describe structure are capped by
 * MAX_REPEATED_SCALARS, anything but bytes is refused by name; and a model of very
 * many layers goes through every step, checked here by what the steps produce,
 * never by the clock (timing is bench/run.mjs's).
 */
import { MAX_MESSAGES, MAX_REPEATED_SCALARS } from "../../src/codec/check-framing.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel, encodeModelChunks } from "../../src/codec/encode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { isQuantizeError, type QuantizeError } from "../../src/errors.js";
import { inspectModel } from "../../src/inspect-model.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { formatReport } from "../../src/report/format-report.js";
import { formatTable } from "../../src/report/format-table.js";
import { weightReport } from "../../src/report/weight-report.js";
import { validateWeights } from "../../src/validate-model.js";
import {
  ascii,
  concat,
  F,
  fcModel,
  float32Bytes,
  float64Bytes,
  floatValueRecords,
  innerProductLayer,
  lengthDelimited,
  networkModel,
  sixteen,
  tag,
  varint,
  varintField,
  WIRE,
} from "./helpers.js";

/** What decodeModel threw for `bytes`; fails the test when it returned or threw anything but a QuantizeError. */
function refusal(bytes: unknown): QuantizeError {
  try {
    decodeModel(bytes as Uint8Array);
  } catch (error) {
    if (isQuantizeError(error)) return error;
    throw error;
  }
  throw new Error("decodeModel accepted the input");
}

const SPEC_VERSION = varintField(F.model.specificationVersion, 4); // 2 bytes: tags below start at offset 2

/** A model whose one layer is `fields` (a NeuralNetworkLayer's bytes after its name), and where those fields start. */
function layerModel(fields: Uint8Array): { bytes: Uint8Array; fieldsAt: number } {
  const bytes = networkModel([concat(lengthDelimited(F.layer.name, ascii("x")), fields)]);
  return { bytes, fieldsAt: bytes.length - fields.length };
}

describe("tags no Core ML model holds are refused at their first byte, naming the offset", () => {
  test("a file of zeros is refused at offset 0", () => {
    // Arrange: a megabyte of zeros (the reported case was 2 GiB)
    const zeros = new Uint8Array(1 << 20);

    // Act
    const error = refusal(zeros);

    // Assert
    expect({ code: error.code, message: error.message }).toEqual({
      code: "invalid-protobuf",
      message: "not a valid Core ML model: field number 0 at offset 0",
    });
  });

  test("a zero first byte fails there, whatever follows", () => {
    // Arrange: a good model behind the zero byte
    const bytes = concat(Uint8Array.of(0), fcModel(floatValueRecords(sixteen())));

    // Act
    const error = refusal(bytes);

    // Assert
    expect(error.message).toBe("not a valid Core ML model: field number 0 at offset 0");
  });

  test("field number 0 inside a layer names its offset", () => {
    // Arrange
    const { bytes, fieldsAt } = layerModel(Uint8Array.of(0, 0));

    // Act
    const error = refusal(bytes);

    // Assert
    expect(error.message).toBe(`not a valid Core ML model: field number 0 at offset ${fieldsAt}`);
  });

  test.each([6, 7])("wire type %i, at the top and inside a layer", (wireType) => {
    // Arrange
    const top = concat(SPEC_VERSION, tag(F.model.neuralNetwork, wireType), Uint8Array.of(1, 2, 3));
    const nested = layerModel(concat(tag(F.layer.input, wireType), Uint8Array.of(1, 2, 3)));

    // Act
    const errors = [refusal(top), refusal(nested.bytes)];

    // Assert
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ["invalid-protobuf", `not a valid Core ML model: wire type ${wireType} at offset 2, which protobuf does not define`],
      ["invalid-protobuf", `not a valid Core ML model: wire type ${wireType} at offset ${nested.fieldsAt}, which protobuf does not define`],
    ]);
  });

  test.each([
    ["start", WIRE.startGroup],
    ["end", WIRE.endGroup],
  ])("a group %s (wire type %i), at the top and inside a layer", (_which, wireType) => {
    // Arrange: Core ML's schema is proto3, which has no groups
    const top = concat(SPEC_VERSION, tag(F.model.description, wireType));
    const nested = layerModel(concat(tag(F.layer.output, wireType), lengthDelimited(F.layer.name, ascii("y"))));

    // Act
    const errors = [refusal(top), refusal(nested.bytes)];

    // Assert
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ["invalid-protobuf", `not a valid Core ML model: a group (wire type ${wireType}) at offset 2; Core ML's schema has none`],
      ["invalid-protobuf", `not a valid Core ML model: a group (wire type ${wireType}) at offset ${nested.fieldsAt}; Core ML's schema has none`],
    ]);
  });

  test("field number 2^29 is refused; 2^29 - 1, the largest protobuf allows, is kept as an unknown field", () => {
    // Arrange
    const tooLarge = concat(SPEC_VERSION, tag(2 ** 29, WIRE.varint), varint(1));
    const largest = concat(SPEC_VERSION, tag(2 ** 29 - 1, WIRE.varint), varint(1));

    // Act
    const error = refusal(tooLarge);
    const kept = encodeModel(decodeModel(largest));

    // Assert
    expect(error.message).toBe("not a valid Core ML model: field number 536870912 at offset 2, above the largest protobuf allows (2^29 - 1)");
    expect(Buffer.from(kept).equals(Buffer.from(largest))).toBe(true);
  });
});

/** A model with one convolution whose kernelSize is `records` (ConvolutionLayerParams field 20, repeated uint64). */
function convolutionModel(...records: readonly Uint8Array[]): Uint8Array {
  return networkModel([
    concat(
      lengthDelimited(F.layer.name, ascii("conv")),
      lengthDelimited(F.layer.convolution, varintField(F.convolution.outputChannels, 1), varintField(F.convolution.kernelChannels, 1), ...records),
    ),
  ]);
}

/** A packed kernelSize record of `entries` values of 3 (one byte each). */
const packedKernelSize = (entries: number): Uint8Array => lengthDelimited(F.convolution.kernelSize, new Uint8Array(entries).fill(3));

const kernelSizeOf = (model: Model): number => {
  const layer = model.Type.case === "neuralNetwork" ? model.Type.value.layers[0] : undefined;
  return layer?.layer.case === "convolution" ? layer.layer.value.kernelSize.length : -1;
};

describe(`repeated scalar fields of structure have at most MAX_REPEATED_SCALARS (${MAX_REPEATED_SCALARS}) entries per message`, () => {
  const over = MAX_REPEATED_SCALARS + 1;
  const refused = (what: string, entries: number): string => `${what} has ${entries} entries (the record at offset`;

  test("exactly the limit is accepted", () => {
    // Act
    const model = decodeModel(convolutionModel(packedKernelSize(MAX_REPEATED_SCALARS)));

    // Assert
    expect(kernelSizeOf(model)).toBe(MAX_REPEATED_SCALARS);
  });

  test.each([
    ["in one packed record", [packedKernelSize(over)]],
    ["packed, split over two records", [packedKernelSize(MAX_REPEATED_SCALARS - 10), packedKernelSize(11)]],
    ["unpacked, one record per value", [concat(...Array.from({ length: over }, () => concat(tag(F.convolution.kernelSize, WIRE.varint), varint(3))))]],
  ])("one more is refused, %s", (_how, records) => {
    // Act
    const error = refusal(convolutionModel(...records));

    // Assert
    expect(error.code).toBe("invalid-protobuf");
    expect(error.message).toContain(refused("ConvolutionLayerParams.kernelSize", over));
    expect(error.message).toContain(`at most ${MAX_REPEATED_SCALARS} are accepted (MAX_REPEATED_SCALARS)`);
  });

  test("ten million entries are refused before any is decoded, with their count", () => {
    // Arrange: 10 MB (the reported case, 150M entries, killed V8)
    const bytes = convolutionModel(packedKernelSize(10_000_000));

    // Act
    const error = refusal(bytes);

    // Assert
    expect(error.message).toContain(refused("ConvolutionLayerParams.kernelSize", 10_000_000));
  });

  test("the limit is per message: two convolutions of the limit each are accepted", () => {
    // Arrange
    const conv = (name: string): Uint8Array =>
      concat(
        lengthDelimited(F.layer.name, ascii(name)),
        lengthDelimited(F.layer.convolution, varintField(F.convolution.outputChannels, 1), packedKernelSize(MAX_REPEATED_SCALARS)),
      );

    // Act
    const model = decodeModel(networkModel([conv("a"), conv("b")]));

    // Assert
    expect(model.Type.case === "neuralNetwork" ? model.Type.value.layers.length : 0).toBe(2);
  });

  test("strings count too: a layer with one input more than the limit", () => {
    // Arrange
    const inputs = Array.from({ length: over }, () => lengthDelimited(F.layer.input, ascii("x")));

    // Act
    const error = refusal(networkModel([concat(lengthDelimited(F.layer.name, ascii("concat")), ...inputs)]));

    // Assert
    expect(error.message).toContain(refused("NeuralNetworkLayer.input", over));
  });

  test("data is not capped: float weights and a GLM's doubles of more than the limit decode", () => {
    // Arrange: a 1 x (limit + 1) innerProduct, and a GLM regressor with as many weights
    const values = Array.from({ length: over }, (_, i) => (i % 7) / 7);
    const network = networkModel([innerProductLayer("wide", { inputChannels: over, outputChannels: 1 }, floatValueRecords(values))]);
    const glm = concat(
      varintField(F.model.specificationVersion, 1),
      lengthDelimited(F.model.glmRegressor, lengthDelimited(F.glm.weights, lengthDelimited(F.doubleArray.value, float64Bytes(values)))),
    );

    // Act
    const weights = decodeModel(network);
    const regressor = decodeModel(glm);

    // Assert
    const layer = weights.Type.case === "neuralNetwork" ? weights.Type.value.layers[0] : undefined;
    expect(layer?.layer.case === "innerProduct" ? layer.layer.value.weights?.floatValue.length : -1).toBe(over);
    expect(regressor.Type.case === "glmRegressor" ? regressor.Type.value.weights[0]?.value.length : -1).toBe(over);
  });
});

describe(`a model of more than MAX_MESSAGES (${MAX_MESSAGES}) messages is refused before any is decoded`, () => {
  test("a network of empty layers, 2 bytes each in the file and some 300 in memory", () => {
    // Arrange: the model, its network and MAX_MESSAGES - 1 empty layers (the reported
    // crash: a 60 MB file of them ran V8 out of its 4 GB heap)
    const layerTag = tag(F.network.layers, WIRE.lengthDelimited)[0] as number; // one byte, then the length 0
    const layers = new Uint8Array(2 * (MAX_MESSAGES - 1));
    for (let i = 0; i < layers.length; i += 2) layers[i] = layerTag;
    const bytes = concat(SPEC_VERSION, tag(F.model.neuralNetwork, WIRE.lengthDelimited), varint(layers.length), layers);

    // Act
    const error = refusal(bytes);

    // Assert: the last layer's record is the one too many
    expect({ code: error.code, message: error.message }).toEqual({
      code: "invalid-protobuf",
      message: `the model holds more than ${MAX_MESSAGES} messages (the record at offset ${bytes.length - 2} is one more); at most ${MAX_MESSAGES} are decoded (MAX_MESSAGES): each costs some 300 bytes of memory`,
    });
  });
});

describe("decodeModel refuses what is not bytes, naming what it got and what it expects", () => {
  /** A view whose memory was transferred away (as to a worker): the view and its buffer are detached. */
  const detachedView = (): Uint8Array => {
    const view = new Uint8Array(16);
    structuredClone(view.buffer, { transfer: [view.buffer] });
    return view;
  };
  const hostile = {
    toString: (): string => {
      throw new Error("toString");
    },
  };
  test.each([
    ["a string", "model.mlmodel", /got "model\.mlmodel" \(a string\)/],
    ["null", null, /got null$/],
    ["undefined", undefined, /got undefined$/],
    ["a number", 42, /got 42 \(a number\)/],
    ["a symbol", Symbol("model"), /got Symbol\(model\) \(a symbol\)/],
    ["an object whose toString throws", hostile, /got \{ toString \} \(an object\)/],
    ["an array of numbers", [8, 4], /got \[8, 4\] \(an array\)/],
    ["a detached ArrayBuffer", detachedView().buffer, /got a detached ArrayBuffer/],
    ["a view of a detached ArrayBuffer", detachedView(), /got a view of a detached ArrayBuffer/],
  ])("%s", (_name, given, described) => {
    // Act
    const error = refusal(given);

    // Assert
    expect(error.code).toBe("invalid-protobuf");
    expect(error.message).toMatch(/^decodeModel expects the bytes of an \.mlmodel file \(a Uint8Array such as a Node Buffer, or an ArrayBuffer\), got /);
    expect(error.message).toMatch(described);
  });

  test("an ArrayBuffer, a view at an offset and a Node Buffer are accepted", () => {
    // Arrange
    const bytes = fcModel(floatValueRecords(sixteen()));
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);

    // Act
    const models = [decodeModel(bytes.slice().buffer), decodeModel(padded.subarray(3)), decodeModel(Buffer.from(bytes))];

    // Assert
    expect(models.map((m) => encodeModel(m).length)).toEqual([bytes.length, bytes.length, bytes.length]);
  });
});

/** `count` layers, each with a name, an input, an output and ReLU activation parameters, chained. */
function reluNetwork(count: number): Uint8Array {
  const layers: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    layers.push(
      concat(
        lengthDelimited(F.layer.name, ascii(`relu${i}`)),
        lengthDelimited(F.layer.input, ascii(i === 0 ? "data" : `r${i - 1}`)),
        lengthDelimited(F.layer.output, ascii(`r${i}`)),
        lengthDelimited(F.layer.activation, lengthDelimited(F.activation.relu)),
      ),
    );
  }
  return networkModel(layers);
}

describe("a model of 100,000 layers goes through every step (the benchmark times the million-layer one)", () => {
  const LAYERS = 100_000;
  const bytes = reluNetwork(LAYERS);
  const model = decodeModel(bytes);

  test("it encodes back byte for byte, in a few chunks, not one or more per layer", () => {
    // Act
    const { chunks, byteLength } = encodeModelChunks(model);
    const encoded = encodeModel(model);

    // Assert
    expect(Buffer.from(encoded).equals(Buffer.from(bytes))).toBe(true);
    expect({ byteLength, fewChunks: chunks.length <= Math.ceil(byteLength / 4096) }).toEqual({ byteLength: bytes.length, fewChunks: true });
  });

  test("inspect, quantize at 8 and 16 bits, validate and report complete", () => {
    // Act
    const summary = inspectModel(model);
    const outputs = [8, 16].map((nbits) => quantizeWeights(model, { nbits }));
    outputs.forEach(validateWeights);
    const reports = outputs.map((out) => weightReport(model, out));

    // Assert
    expect(summary.networks).toEqual([{ path: "model/neuralNetwork", layers: LAYERS }]);
    expect(outputs.map((out) => encodeModel(out).length)).toEqual([bytes.length, bytes.length]);
    expect(reports.map((r) => r.totals.tensors)).toEqual([0, 0]);
  });
});

describe("tables of more rows than the stack has room for", () => {
  test("a report of 200,000 tensors is formatted (widths are not taken with Math.max(...cells))", () => {
    // Arrange
    const rows = Array.from({ length: 200_000 }, (_, i) => [`layer${i}`, "weights", String(i)]);

    // Act
    const table = formatTable([{ header: "layer" }, { header: "field" }, { header: "n", align: "right" }], rows);

    // Assert
    const lines = table.split("\n");
    expect({ lines: lines.length, last: lines.at(-1) }).toEqual({ lines: 200_001, last: "layer199999  weights  199999" });
  });

  test("formatReport of a quantized model of 30,000 weighted layers", () => {
    // Arrange: 30,000 innerProducts of 2 x 2 weights and 2 biases: 60,000 tensors
    const weights = float32Bytes([0.5, -0.25, 0.125, 1]);
    const layers = Array.from({ length: 30_000 }, (_, i) =>
      innerProductLayer(`fc${i}`, { inputChannels: 2, outputChannels: 2 }, lengthDelimited(F.weights.floatValue, weights), floatValueRecords([0.5, -0.5])),
    );
    const original = decodeModel(networkModel(layers));

    // Act
    const text = formatReport(weightReport(original, quantizeWeights(original, { nbits: 8 })));

    // Assert
    expect(text.split("\n").length).toBeGreaterThan(60_000);
    expect(text).toMatch(/^total: 60000 tensors/m);
  });
});

/**
 * Every field of WeightParams goes through the codec: encoded as protobuf-es's
 * toBinary encodes it, and decoded back to the same value inside a model. The
 * decoder reads `floatValue` by hand and the encoder writes from the descriptors,
 * so a field added to WeightParams (a new storage) fails here until it has a
 * sample below and the codec has been checked to carry it.
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeMessage, encodeModel } from "../../src/codec/encode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import {
  InnerProductLayerParamsSchema,
  NeuralNetworkLayerSchema,
  NeuralNetworkSchema,
  QuantizationParamsSchema,
  WeightParamsSchema,
  LinearQuantizationParamsSchema,
  type WeightParams,
} from "../../src/gen/NeuralNetwork_pb.js";

/** One non-default value for each WeightParams field, by field name. */
const SAMPLES: Readonly<Record<string, MessageInitShape<typeof WeightParamsSchema>>> = {
  floatValue: { floatValue: [0.5, -2, 3.25] },
  float16Value: { float16Value: Uint8Array.of(0x00, 0x3c, 0x00, 0xc0) },
  rawValue: { rawValue: Uint8Array.of(1, 2, 3) },
  int8RawValue: { int8RawValue: Uint8Array.of(0xff, 0x7f) },
  quantization: {
    quantization: create(QuantizationParamsSchema, {
      numberOfBits: 8n,
      QuantizationType: { case: "linearQuantization", value: create(LinearQuantizationParamsSchema, { scale: [0.5], bias: [1] }) },
    }),
  },
  isUpdatable: { isUpdatable: true },
};

const FIELDS = WeightParamsSchema.fields.map((f) => f.localName);

/** A model of one inner-product layer whose weights are `weights`. */
function modelWith(weights: WeightParams): Uint8Array {
  const layer = create(NeuralNetworkLayerSchema, {
    name: "dense",
    input: ["x"],
    output: ["y"],
    layer: { case: "innerProduct", value: create(InnerProductLayerParamsSchema, { inputChannels: 1n, outputChannels: 1n, weights }) },
  });
  return encodeModel(
    create(ModelSchema, {
      specificationVersion: 1,
      Type: { case: "neuralNetwork", value: create(NeuralNetworkSchema, { layers: [layer] }) },
    }) as unknown as Model,
  );
}

test("every WeightParams field has a sample (a new field fails here until the codec is checked to carry it)", () => {
  expect([...FIELDS].sort()).toEqual(Object.keys(SAMPLES).sort());
});

test.each(FIELDS)("WeightParams.%s: the bytes of toBinary, and the same value after a model round trip", (name) => {
  const weights = create(WeightParamsSchema, SAMPLES[name]);
  const encoded = encodeMessage(WeightParamsSchema, weights);
  expect(encoded.length).toBeGreaterThan(0);
  expect(encoded).toEqual(toBinary(WeightParamsSchema, weights));

  const decoded = decodeModel(modelWith(weights));
  if (decoded.Type.case !== "neuralNetwork") throw new Error("expected a neural network");
  const layer = decoded.Type.value.layers[0]?.layer;
  if (layer?.case !== "innerProduct") throw new Error("expected an inner-product layer");
  const back = layer.value.weights as unknown as Record<string, unknown>;
  const sent = weights as unknown as Record<string, unknown>;
  const value = (v: unknown): unknown => (ArrayBuffer.isView(v) && !(v instanceof Uint8Array) ? Array.from(v as Float32Array) : v);
  expect(value(back[name])).toEqual(value(sent[name]));
});

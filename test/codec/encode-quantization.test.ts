/**
 * The encoder's own message writer against protobuf-es's toBinary, byte for byte:
 * on random QuantizationParams of both kinds (with and without unknown fields), on
 * random models of every generated kind, and on messages of every scalar type, map
 * and oneof the schema's writer has to handle.
 */
import { create, toBinary, type MessageShape } from "@bufbuild/protobuf";
import fc from "fast-check";
import { encodeMessage, encodeModel } from "../../src/codec/encode-model.js";
import { isQuantizeError } from "../../src/errors.js";
import { ModelSchema, ModelDescriptionSchema, MetadataSchema } from "../../src/gen/Model_pb.js";
import { ArrayFeatureType_ShapeRangeSchema, ArrayFeatureTypeSchema, SizeRangeSchema } from "../../src/gen/FeatureTypes_pb.js";
import { CoefficientsSchema, DenseSupportVectorsSchema, DenseVectorSchema, SupportVectorClassifierSchema } from "../../src/gen/SVM_pb.js";
import { Int64ToDoubleMapSchema, Int64ToStringMapSchema, Int64VectorSchema, StringToDoubleMapSchema } from "../../src/gen/DataStructures_pb.js";
import { TensorValueSchema, TensorValue_RepeatedLongIntsSchema, TensorValue_RepeatedStringsSchema } from "../../src/gen/MIL_pb.js";
import {
  ConvolutionLayerParamsSchema,
  LinearQuantizationParamsSchema,
  LookUpTableQuantizationParamsSchema,
  QuantizationParamsSchema,
  ReshapeLayerParamsSchema,
} from "../../src/gen/NeuralNetwork_pb.js";
import { model } from "../../src/testing/index.js";
import { propertySeed } from "../support/property-seed.js";

const floats = fc.array(fc.float(), { maxLength: 300 });
const unknownFields = fc
  .array(fc.record({ no: fc.integer({ min: 60, max: 2 ** 29 - 1 }), value: fc.integer({ min: 0, max: 2 ** 31 }) }), { maxLength: 3 })
  .map((list) => list.map(({ no, value }) => ({ no, wireType: 0, data: Uint8Array.from(varint(value)) })));
const params = fc
  .record({
    bits: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 40n })),
    kind: fc.constantFrom("linear", "lut", "none"),
    scale: floats,
    bias: floats,
    unknown: unknownFields,
  })
  .map(({ bits, kind, scale, bias, unknown }) => {
    const message = create(QuantizationParamsSchema, {
      numberOfBits: bits,
      QuantizationType:
        kind === "linear"
          ? { case: "linearQuantization", value: create(LinearQuantizationParamsSchema, { scale, bias }) }
          : kind === "lut"
            ? { case: "lookupTableQuantization", value: create(LookUpTableQuantizationParamsSchema, { floatValue: scale }) }
            : { case: undefined },
    });
    if (unknown.length > 0) message.$unknown = unknown;
    return message;
  });

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

test("QuantizationParams: the same bytes as toBinary, unknown fields last", () => {
  fc.assert(
    fc.property(params, (message) => {
      expect(encodeMessage(QuantizationParamsSchema, message)).toEqual(toBinary(QuantizationParamsSchema, message));
    }),
    { seed: propertySeed(), numRuns: 500 },
  );
});

test("random models of every generated kind: the same bytes as toBinary", () => {
  fc.assert(
    fc.property(model(), (m) => {
      expect(Buffer.from(encodeModel(m)).equals(Buffer.from(toBinary(ModelSchema, m as unknown as MessageShape<typeof ModelSchema>)))).toBe(true);
    }),
    { seed: propertySeed(), numRuns: 200 },
  );
});

test("every scalar type, negative and large integers, strings beyond ASCII, maps and oneofs: the same bytes as toBinary", () => {
  // Arrange
  const messages = [
    [ReshapeLayerParamsSchema, create(ReshapeLayerParamsSchema, { targetShape: [-1n, 0n, 2n ** 62n, -(2n ** 63n)], mode: 1 })],
    [
      ConvolutionLayerParamsSchema,
      create(ConvolutionLayerParamsSchema, {
        outputChannels: 2n ** 64n - 1n,
        kernelSize: [3n, 2n ** 40n],
        isDeconvolution: true,
        hasBias: false,
        ConvolutionPaddingType: { case: "same", value: { $typeName: "CoreML.Specification.SamePadding", asymmetryMode: 1 } },
      }),
    ],
    [
      ModelDescriptionSchema,
      create(ModelDescriptionSchema, {
        predictedFeatureName: "é ✓ 𝄞 \ud800 lone",
        predictedProbabilitiesName: "x".repeat(5000),
        metadata: create(MetadataSchema, { shortDescription: "ß".repeat(100), userDefined: { b: "2", a: "1", "": "" } }),
      }),
    ],
    [Int64ToStringMapSchema, create(Int64ToStringMapSchema, { map: { "-5": "minus five", "9223372036854775807": "max", "0": "" } })],
    [Int64ToDoubleMapSchema, create(Int64ToDoubleMapSchema, { map: { "1": -0, "2": Number.NaN, "3": -Infinity } })],
    [StringToDoubleMapSchema, create(StringToDoubleMapSchema, { map: { one: 1.5e300, two: 5e-324 } })],
    // Two oneofs set at once, the second a zero value (a set case is written whatever its value).
    [
      ArrayFeatureTypeSchema,
      create(ArrayFeatureTypeSchema, {
        shape: [3n, 224n],
        dataType: 65568,
        ShapeFlexibility: {
          case: "shapeRange",
          value: create(ArrayFeatureType_ShapeRangeSchema, { sizeRanges: [create(SizeRangeSchema, { lowerBound: 1n, upperBound: -1n })] }),
        },
        defaultOptionalValue: { case: "intDefaultValue", value: 0 },
      }),
    ],
    // Two oneofs, one numbered between other fields (3-4 between 2 and 5), one after them all.
    [
      SupportVectorClassifierSchema,
      create(SupportVectorClassifierSchema, {
        numberOfSupportVectorsPerClass: [1, 2],
        supportVectors: {
          case: "denseSupportVectors",
          value: create(DenseSupportVectorsSchema, { vectors: [create(DenseVectorSchema, { values: [0.5, -1] })] }),
        },
        coefficients: [create(CoefficientsSchema, { alpha: [1, -1] })],
        rho: [0.25],
        probA: [1],
        probB: [-1],
        ClassLabels: { case: "int64ClassLabels", value: create(Int64VectorSchema, { vector: [7n, -7n] }) },
      }),
    ],
    [TensorValueSchema, create(TensorValueSchema, { value: { case: "longInts", value: create(TensorValue_RepeatedLongIntsSchema, { values: [-1n, 1n] }) } })],
    [
      TensorValueSchema,
      create(TensorValueSchema, { value: { case: "strings", value: create(TensorValue_RepeatedStringsSchema, { values: ["", "a", "ü"] }) } }),
    ],
  ] as const;

  // Act / Assert
  for (const [schema, message] of messages) {
    expect({ type: schema.typeName, bytes: Array.from(encodeMessage(schema, message)) }).toEqual({
      type: schema.typeName,
      bytes: Array.from(toBinary(schema, message)),
    });
  }
});

test("a value its type cannot hold is refused, naming the field", () => {
  // Arrange: an int32 field given 2^40, as a model built by hand might
  const message = create(ReshapeLayerParamsSchema);
  (message as unknown as { mode: number }).mode = 2 ** 40;

  // Act
  let thrown: unknown;
  try {
    encodeMessage(ReshapeLayerParamsSchema, message);
  } catch (error) {
    thrown = error;
  }

  // Assert
  expect(isQuantizeError(thrown, "unsupported-model")).toBe(true);
  expect((thrown as Error).message).toBe("cannot encode CoreML.Specification.ReshapeLayerParams.mode: 1099511627776 (a number) is not a valid int32");
});

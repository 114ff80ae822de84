/**
 * The `coreml-quantize/schema` entry (src/schema.ts): the generated message types,
 * schemas and enums, so a model can be built with protobuf-es's `create`, then
 * quantized and encoded by the library.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { decodeModel, encodeModel, quantizeWeights, readWeights } from "../src/index.js";
import * as schema from "../src/schema.js";
import { ModelSchema, NeuralNetworkMultiArrayShapeMapping } from "../src/schema.js";

const WEIGHTS = [0.5, -1, 2, 0.25, 0, 1.5];

test("a model built with create(ModelSchema, …) from the schema entry is quantized and encoded", () => {
  const built = create(ModelSchema, {
    specificationVersion: 4,
    Type: {
      case: "neuralNetwork",
      value: {
        arrayInputShapeMapping: NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING,
        layers: [
          {
            name: "dense",
            input: ["x"],
            output: ["y"],
            layer: { case: "innerProduct", value: { inputChannels: 3n, outputChannels: 2n, weights: { floatValue: WEIGHTS } } },
          },
        ],
      },
    },
  });

  const quantized = quantizeWeights(decodeModel(toBinary(ModelSchema, built)), { nbits: 8 });
  const written = fromBinary(ModelSchema, encodeModel(quantized));

  if (written.Type.case !== "neuralNetwork") throw new Error(`expected a neural network, got ${written.Type.case}`);
  const network = written.Type.value;
  expect(network.arrayInputShapeMapping).toBe(NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING);
  const layer = network.layers[0]?.layer;
  if (layer?.case !== "innerProduct" || layer.value.weights === undefined) throw new Error("expected the innerProduct layer with weights");
  const weights = layer.value.weights;
  expect(weights.floatValue).toHaveLength(0);
  expect(weights.rawValue).toHaveLength(WEIGHTS.length);
  expect(weights.quantization?.numberOfBits).toBe(8n);
  // Back to floats within 8-bit linear precision: a step of (max - min) / 255 per channel.
  const restored = readWeights({ ...weights, floatValue: new Float32Array(0) }, { shape: [2, 3] });
  restored.forEach((value, i) => expect(Math.abs(value - (WEIGHTS[i] ?? Number.NaN))).toBeLessThanOrEqual(3 / 255));
});

test("the schema entry re-exports every export of every generated file", async () => {
  const files = readdirSync(join("src", "gen")).filter((name) => name.endsWith("_pb.ts"));
  expect(files.length).toBeGreaterThan(30);
  const exported: Record<string, unknown> = schema;
  for (const file of files) {
    const generated = (await import(`../src/gen/${file.replace(/\.ts$/, ".js")}`)) as Record<string, unknown>;
    const missing = Object.keys(generated).filter((name) => exported[name] !== generated[name]);
    expect({ file, missing }).toEqual({ file, missing: [] });
  }
});

/**
 * Shared by the walker and CLI tests: small model builders
 * and an independent walk over a model's layers (written from Model.proto and the
 * documented path format, not from src/walker).
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import type { Model, NeuralNetwork, NeuralNetworkLayer, WeightParams } from "../../src/codec/model-types.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import type { NeuralNetworkLayerSchema } from "../../src/gen/NeuralNetwork_pb.js";

/** A model built from a protobuf-es init object, passed through the real codec. */
export function buildModel(init: MessageInitShape<typeof ModelSchema>): Model {
  return decodeModel(toBinary(ModelSchema, create(ModelSchema, init)));
}

/** One layer, built in a one-layer network and passed through the codec. */
export function buildLayer(init: MessageInitShape<typeof NeuralNetworkLayerSchema>): NeuralNetworkLayer {
  const model = buildModel({ specificationVersion: 4, Type: { case: "neuralNetwork", value: { layers: [init] } } });
  if (model.Type.case !== "neuralNetwork") throw new Error("unreachable");
  const [layer] = model.Type.value.layers;
  if (layer === undefined) throw new Error("unreachable");
  return layer;
}

/** WeightParams init holding `n` float32 values 0, 1, ... */
export const floats = (n: number): { floatValue: number[] } => ({ floatValue: Array.from({ length: n }, (_, i) => i / 8) });

/**
 * How many values a WeightParams holds: floatValue length or float16 bytes / 2.
 * Throws when it uses any other storage, or more than one.
 */
export function floatCount(wp: WeightParams): number {
  const f32 = wp.floatValue.length;
  const f16 = wp.float16Value.length;
  if (wp.rawValue.length > 0 || wp.int8RawValue.length > 0) throw new Error("quantized storage");
  if (f32 > 0 && f16 > 0) throw new Error("two storages");
  if (f16 % 2 !== 0) throw new Error("odd float16 byte count");
  return f32 > 0 ? f32 : f16 / 2;
}

/** A layer with its path in the documented format. */
export interface FoundLayer {
  readonly path: string;
  readonly networkPath: string;
  readonly layer: NeuralNetworkLayer;
}

/**
 * Every layer of every network, in file order, nested bodies right after the layer
 * that holds them. Paths: `model/<network kind>/layers[i] "name"`, pipelines add
 * `/pipeline.models[i]` (or `/pipelineClassifier.pipeline.models[i]`, ...), nested
 * bodies add `/<field>` after the holding layer's path.
 */
export function walkLayers(model: Model): FoundLayer[] {
  const out: FoundLayer[] = [];
  const visitNetwork = (network: NeuralNetwork | { layers: NeuralNetworkLayer[] }, networkPath: string): void => {
    network.layers.forEach((layer, i) => {
      const path = `${networkPath}/layers[${i}] ${JSON.stringify(layer.name)}`;
      out.push({ path, networkPath, layer });
      const l = layer.layer;
      if (l.case === "branch") {
        if (l.value.ifBranch !== undefined) visitNetwork(l.value.ifBranch, `${path}/ifBranch`);
        if (l.value.elseBranch !== undefined) visitNetwork(l.value.elseBranch, `${path}/elseBranch`);
      } else if (l.case === "loop") {
        if (l.value.conditionNetwork !== undefined) visitNetwork(l.value.conditionNetwork, `${path}/conditionNetwork`);
        if (l.value.bodyNetwork !== undefined) visitNetwork(l.value.bodyNetwork, `${path}/bodyNetwork`);
      }
    });
  };
  const visitModel = (m: Model, path: string): void => {
    const t = m.Type;
    switch (t.case) {
      case "neuralNetwork":
      case "neuralNetworkClassifier":
      case "neuralNetworkRegressor":
        visitNetwork(t.value, `${path}/${t.case}`);
        break;
      case "pipeline":
        t.value.models.forEach((sub, i) => visitModel(sub, `${path}/pipeline.models[${i}]`));
        break;
      case "pipelineClassifier":
      case "pipelineRegressor":
        (t.value.pipeline?.models ?? []).forEach((sub, i) => visitModel(sub, `${path}/${t.case}.pipeline.models[${i}]`));
        break;
      default:
        break;
    }
  };
  visitModel(model, "model");
  return out;
}

/** A deep copy for before/after comparisons (typed arrays copied too). */
export const snapshot = <T>(value: T): T => structuredClone(value);

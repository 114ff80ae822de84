/**
 * Shared by the executor's tests (test/predict and the predict and compare
 * commands' tests): the fixture models of test/fixtures/predict, models and
 * one-layer networks built through the real codec, preparing one layer as the
 * framework does, a seeded PRNG, the SNR the fixtures' README compares with, and
 * the assertion of a QuantizeError.
 *
 * Nothing here computes what a layer or a metric computes: the oracles stay in
 * the tests, written independently of src/.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import type { LayerKind, Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { isQuantizeError, type ErrorCode } from "../../src/errors.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import type { NeuralNetworkLayerSchema } from "../../src/gen/NeuralNetwork_pb.js";
import type { BlobLayout, LayerContext, LayerImpl, LayerImpls, PreparedLayer } from "../../src/predict/layer-runner.js";

export { mulberry32 } from "../quantizer/helpers.js";

/** test/fixtures/predict: models, inputs and expected outputs (see its README). */
export const FIXTURES = join(__dirname, "../fixtures/predict");

/** The file of a fixture model, by name. */
export const fixtureModelFile = (name: string): string => join(FIXTURES, "models", `${name}.mlmodel`);

/** A fixture model, decoded. */
export const loadFixtureModel = (name: string): Model => decodeModel(readFileSync(fixtureModelFile(name)));

/** The init object of a model. */
export type ModelInit = MessageInitShape<typeof ModelSchema>;

/** A model built from `init` and passed through the codec, as a model file would give it. */
export const buildModel = (init: ModelInit): Model => decodeModel(toBinary(ModelSchema, create(ModelSchema, init)));

/** The init object of one layer. */
export type LayerInit = MessageInitShape<typeof NeuralNetworkLayerSchema>;

/** One layer, built in a one-layer network and passed through the codec. */
export function buildLayer(init: LayerInit): NeuralNetworkLayer {
  const model = buildModel({ specificationVersion: 4, Type: { case: "neuralNetwork", value: { layers: [init] } } });
  if (model.Type.case !== "neuralNetwork") throw new Error("unreachable");
  const [layer] = model.Type.value.layers;
  if (layer === undefined) throw new Error("unreachable");
  return layer;
}

/** The context of a layer at `path` in a network without nested networks. */
export function layerContext(path: string, layout: BlobLayout = "rank5"): LayerContext {
  return {
    layout,
    path,
    prepareNetwork: () => {
      throw new Error("no nested networks here");
    },
  };
}

/**
 * Prepares a built layer with the implementation of its kind in `table`, as the
 * framework does.
 */
export function prepareLayer(table: LayerImpls, layer: NeuralNetworkLayer, context: LayerContext): PreparedLayer {
  const kind = layer.layer.case;
  if (kind === undefined) throw new Error("layer without kind");
  const impl = table[kind] as LayerImpl<LayerKind> | undefined;
  if (impl === undefined) throw new Error(`no implementation of ${kind} in this table`);
  return impl.prepare(layer.layer.value as never, layer, context);
}

/** The README's SNR: 10*log10(sum e^2 / sum (a-e)^2) in float64, +Infinity for an exact match. */
export function snrDb(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const d = (actual[i] as number) - e;
    signal += e * e;
    noise += d * d;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

/** Expects `fn` to throw a QuantizeError of `code` whose message matches `pattern`. */
export function expectError(fn: () => unknown, code: ErrorCode, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeDefined();
  expect((caught as Error).message).toMatch(pattern);
  expect(isQuantizeError(caught, code)).toBe(true);
}

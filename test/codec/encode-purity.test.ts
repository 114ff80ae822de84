import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, WeightParams } from "../../src/codec/model-types.js";
import { propertySeed } from "../support/property-seed.js";

const MODELS = join(__dirname, "..", "fixtures", "golden", "models");
const inputs = readdirSync(MODELS)
  .filter((name) => name.endsWith(".mlmodel"))
  .sort();

function readModelFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(MODELS, name)));
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected);
}

/** Freezes every plain object and array below `value` (typed arrays cannot be frozen). */
function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function innerProductWeights(model: Model, layerIndex: number): WeightParams {
  if (model.Type.case !== "neuralNetwork") throw new Error(`expected a neuralNetwork, got ${model.Type.case}`);
  const layer = model.Type.value.layers[layerIndex];
  if (layer?.layer.case !== "innerProduct") throw new Error(`layer ${layerIndex} is not an innerProduct`);
  const weights = layer.layer.value.weights;
  if (weights === undefined) throw new Error(`layer ${layerIndex} has no weights`);
  return weights;
}

/** `model` with one innerProduct layer's floatValue replaced, built by spreading (no mutation). */
function withInnerProductFloats(model: Model, layerIndex: number, floatValue: Float32Array): Model {
  if (model.Type.case !== "neuralNetwork") throw new Error("expected a neuralNetwork");
  const network = model.Type.value;
  const layer = network.layers[layerIndex];
  if (layer?.layer.case !== "innerProduct") throw new Error(`layer ${layerIndex} is not an innerProduct`);
  const params = layer.layer.value;
  if (params.weights === undefined) throw new Error(`layer ${layerIndex} has no weights`);
  const edited = {
    ...layer,
    layer: { case: "innerProduct" as const, value: { ...params, weights: { ...params.weights, floatValue } } },
  };
  const layers = network.layers.map((l, i) => (i === layerIndex ? edited : l));
  return { ...model, Type: { case: "neuralNetwork", value: { ...network, layers } } };
}

describe.each(inputs)("encodeModel leaves %s alone", (name) => {
  test("the model deep-equals its snapshot after encoding, and its input bytes are unchanged", () => {
    // Arrange
    const file = readModelFile(name);
    const fileCopy = file.slice();
    const model = decodeModel(file);
    const snapshot = structuredClone(model);

    // Act
    const first = encodeModel(model);
    const second = encodeModel(model);

    // Assert
    expect(model).toEqual(snapshot);
    expect(sameBytes(file, fileCopy)).toBe(true);
    expect(sameBytes(first, fileCopy)).toBe(true);
    expect(sameBytes(second, first)).toBe(true);
  });

  test("a deep-frozen model encodes without error to the same bytes", () => {
    // Arrange
    const file = readModelFile(name);
    const model = decodeModel(file);
    deepFreeze(model);

    // Act
    const encoded = encodeModel(model);

    // Assert
    expect(sameBytes(encoded, file)).toBe(true);
  });
});

describe("an edited model encodes to the edit", () => {
  const file = readModelFile("mlp.mlmodel");
  const LAYER = 0;

  test("replacing one floatValue by spreading", () => {
    // Arrange
    const model = decodeModel(file);
    const snapshot = structuredClone(model);
    const original = innerProductWeights(model, LAYER).floatValue;
    const replacement = Float32Array.from(original, (_v, i) => (i % 7) - 3.25);
    const edited = withInnerProductFloats(model, LAYER, replacement);

    // Act
    const decoded = decodeModel(encodeModel(edited));

    // Assert
    expect(Array.from(innerProductWeights(decoded, LAYER).floatValue)).toEqual(Array.from(replacement));
    expect(decoded).toEqual(edited);
    expect(decoded).not.toEqual(model);
    expect(model).toEqual(snapshot);
    expect(sameBytes(encodeModel(model), file)).toBe(true);
  });

  test("a replacement of another length that is a view into a larger buffer writes only the view", () => {
    // Arrange
    const model = decodeModel(file);
    const backing = new Float32Array([111, 1.5, -2.5, 0.125, 222]);
    const replacement = backing.subarray(1, 4);
    const edited = withInnerProductFloats(model, LAYER, replacement);

    // Act
    const decoded = decodeModel(encodeModel(edited));

    // Assert
    expect(Array.from(innerProductWeights(decoded, LAYER).floatValue)).toEqual([1.5, -2.5, 0.125]);
    expect(decoded).toEqual(edited);
  });

  test("an emptied floatValue decodes as empty", () => {
    // Arrange
    const model = decodeModel(file);
    const edited = withInnerProductFloats(model, LAYER, new Float32Array(0));

    // Act
    const decoded = decodeModel(encodeModel(edited));

    // Assert
    expect(innerProductWeights(decoded, LAYER).floatValue.length).toBe(0);
    expect(decoded).toEqual(edited);
  });

  test("random replacements (any bit patterns, NaN payloads included) come back bit for bit", () => {
    // Arrange
    const model = decodeModel(file);
    const snapshot = structuredClone(model);
    const replacements = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 300 });

    fc.assert(
      fc.property(replacements, fc.constantFrom(0, 3), (bitsList, layerIndex) => {
        // Arrange
        const replacement = new Float32Array(Uint32Array.from(bitsList).buffer);
        const edited = withInnerProductFloats(model, layerIndex, replacement);

        // Act
        const decoded = decodeModel(encodeModel(edited));

        // Assert
        expect(bitsOf(innerProductWeights(decoded, layerIndex).floatValue)).toEqual(bitsList);
        expect(bitsOf(innerProductWeights(decoded, layerIndex === 0 ? 3 : 0).floatValue)).toEqual(
          bitsOf(innerProductWeights(model, layerIndex === 0 ? 3 : 0).floatValue),
        );
      }),
      { seed: propertySeed(), numRuns: 50 },
    );
    expect(model).toEqual(snapshot);
  });
});

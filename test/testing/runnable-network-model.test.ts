import * as fc from "fast-check";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { prepareModel, randomInputs, type ArrayOutput } from "../../src/predict/index.js";
import { runnableNetworkModel, type RunnableNetworkModelConstraints } from "../../src/testing/index.js";
import { validateWeights } from "../../src/validate-model.js";
import { fuseLayers } from "../../src/walker/fuse.js";
import { layerWeights } from "../../src/walker/weights.js";
import { sameBytes } from "./helpers.js";

const seed = 42;

function layersOf(model: Model): NeuralNetworkLayer[] {
  if (model.Type.case !== "neuralNetwork") throw new Error(`not a neuralNetwork: ${String(model.Type.case)}`);
  return model.Type.value.layers;
}

const declaredShape = (model: Model, which: "input" | "output"): number[] => {
  const t = model.description?.[which][0]?.type?.Type;
  if (t?.case !== "multiArrayType") throw new Error(`${which} is not a multiArray`);
  return t.value.shape.map(Number);
};

describe("runnableNetworkModel", () => {
  const samples = fc.sample(runnableNetworkModel(), { seed, numRuns: 300 });

  test("every model is valid, survives the codec and predicts the declared output shape", () => {
    for (const model of samples) {
      expect(() => validateWeights(model)).not.toThrow();
      const bytes = encodeModel(model);
      expect(sameBytes(encodeModel(decodeModel(bytes)), bytes)).toBe(true);
      const prepared = prepareModel(model);
      expect(prepared.inputNames).toEqual(["input"]);
      for (const inputs of randomInputs(model, 2, seed)) {
        const out = prepared.predict(inputs).output as ArrayOutput;
        expect(out.shape).toEqual(declaredShape(model, "output"));
        expect(out.data).toBeInstanceOf(Float32Array);
        expect(out.data.every(Number.isFinite)).toBe(true);
      }
    }
  });

  test("layers are chained by blob name, each reading what the one before wrote (an add also its block's producer)", () => {
    for (const model of samples) {
      const layers = layersOf(model);
      const written = new Set(["input"]);
      layers.forEach((layer, i) => {
        expect(layer.name).toBe(`layer${i}`);
        expect(layer.input[0]).toBe(i === 0 ? "input" : layers[i - 1]?.output[0]);
        for (const blob of layer.input) expect(written.has(blob)).toBe(true);
        expect(layer.input.length).toBe(layer.layer.case === "add" ? 2 : 1);
        written.add(layer.output[0] as string);
      });
      expect(layers.at(-1)?.output).toEqual(["output"]);
    }
  });

  /** `b` is the only reader of `a`'s blob. */
  const feedsOnly = (layers: NeuralNetworkLayer[], a: NeuralNetworkLayer, b: NeuralNetworkLayer): boolean =>
    layers.filter((l) => l.input.includes(a.output[0] as string)).length === 1 && b.input[0] === a.output[0];
  /** Per-channel parameter shapes: [C] or [C, 1, 1]. */
  const perChannel = (shape: readonly bigint[], c: number): boolean =>
    Number(shape[0]) === c && shape.slice(1).every((d) => d === 1n) && (shape.length === 1 || shape.length === 3);

  test("every pattern fuseLayers folds is generated (and folds), and so are the neighbours that must not fold", () => {
    const seen = new Map<string, number>();
    const count = (key: string): void => void seen.set(key, (seen.get(key) ?? 0) + 1);
    for (const model of samples) {
      const layers = layersOf(model);
      const fused = fuseLayers(layers);
      const kept = new Set(fused.map((l) => l.name));
      // What fuseLayers folded: a layer gone from the fused list, absorbed by the first kept layer up its chain.
      const producerOf = (l: NeuralNetworkLayer): NeuralNetworkLayer | undefined => layers.find((x) => x.output[0] === l.input[0]);
      for (const b of layers.filter((l) => !kept.has(l.name))) {
        let a = producerOf(b);
        while (a !== undefined && !kept.has(a.name)) a = producerOf(a);
        count(`folds ${a?.layer.case ?? "?"} + ${b.layer.case ?? "?"}`);
      }
      layers.forEach((a, i) => {
        const b = layers[i + 1];
        if (b === undefined) return;
        if (!feedsOnly(layers, a, b)) {
          if (b.input.length === 1 && layers.some((l) => l.layer.case === "add" && l.input.includes(a.output[0] as string))) count("fan-out");
          return;
        }
        const kinds = `${a.layer.case} + ${b.layer.case}`;
        const producerBias = (a.layer.case === "convolution" || a.layer.case === "innerProduct") && a.layer.value.hasBias;
        if (a.layer.case === "convolution" && a.layer.value.isDeconvolution) count(`deconvolution + ${b.layer.case}`);
        const c = a.layer.case === "convolution" || a.layer.case === "innerProduct" ? Number(a.layer.value.outputChannels) : 0;
        if (b.layer.case === "batchnorm") {
          if (b.layer.value.instanceNormalization) count(`${kinds} (instanceNormalization)`);
          else if (b.layer.value.computeMeanVar) count(`${kinds} (computeMeanVar)`);
          else if (b.layer.value.epsilon === 0) count(`${kinds} (epsilon 0)`);
        }
        if (b.layer.case === "scale" && !b.layer.value.hasBias && producerBias) count(`${kinds} (scale without bias, producer with bias)`);
        const shape = b.layer.case === "scale" ? b.layer.value.shapeScale : b.layer.case === "bias" ? b.layer.value.shape : undefined;
        if (shape !== undefined && c > 0 && shape.length === 3 && shape[0] === 1n && Number(shape[1]) * Number(shape[2]) === c) {
          count(`${kinds} ([1, H, W] with H * W = C)`);
        }
        if (shape !== undefined && c > 0 && !perChannel(shape, c) && shape.length === 3 && shape[0] !== 1n) count(`${kinds} ([C, H, W])`);
      });
    }
    const expected = [
      "folds convolution + batchnorm",
      "folds convolution + scale",
      "folds convolution + bias",
      "folds innerProduct + scale",
      "folds innerProduct + bias",
      "folds batchnorm + scale",
      "convolution + batchnorm (instanceNormalization)",
      "convolution + batchnorm (computeMeanVar)",
      "convolution + batchnorm (epsilon 0)",
      "convolution + scale (scale without bias, producer with bias)",
      "innerProduct + scale (scale without bias, producer with bias)",
      "convolution + scale ([1, H, W] with H * W = C)",
      "convolution + bias ([1, H, W] with H * W = C)",
      "convolution + scale ([C, H, W])",
      "convolution + bias ([C, H, W])",
      "deconvolution + batchnorm",
      "deconvolution + scale",
      "deconvolution + bias",
      "fan-out",
    ];
    const missing = expected.filter((key) => (seen.get(key) ?? 0) < 3);
    expect(missing).toEqual([]);
  });

  test("constraints are honoured", () => {
    const constraints: RunnableNetworkModelConstraints = {
      producers: ["convolution"],
      followers: ["batchnorm"],
      minBlocks: 2,
      maxBlocks: 2,
      maxFollowers: 1,
      maxChannels: 3,
      maxSpatial: 2,
      storages: ["float32"],
      maxMagnitude: 0.5,
      edgeValues: false,
      nonFusable: false,
      namePrefix: "n",
      input: "x",
      output: "y",
    };
    for (const model of fc.sample(runnableNetworkModel(constraints), { seed, numRuns: 100 })) {
      const layers = layersOf(model);
      expect(declaredShape(model, "input")[0]).toBeLessThanOrEqual(3);
      expect(
        declaredShape(model, "input")
          .slice(1)
          .every((d) => d <= 2),
      ).toBe(true);
      expect(layers[0]?.input).toEqual(["x"]);
      expect(layers.at(-1)?.output).toEqual(["y"]);
      expect(layers.filter((l) => l.layer.case === "convolution")).toHaveLength(2);
      for (const layer of layers) {
        expect(layer.name.startsWith("n")).toBe(true);
        expect(["convolution", "batchnorm"]).toContain(layer.layer.case);
        if (layer.layer.case === "convolution") {
          expect(layer.layer.value.isDeconvolution).toBe(false);
          expect(Number(layer.layer.value.outputChannels)).toBeLessThanOrEqual(3);
        }
        if (layer.layer.case === "batchnorm") expect(layer.layer.value.computeMeanVar).toBe(false);
        for (const ref of layerWeights(layer)) {
          expect(ref.weightParams.float16Value.length).toBe(0);
          expect(ref.weightParams.floatValue.every((v) => Math.abs(v) <= 0.5)).toBe(true);
        }
      }
      expect(() => prepareModel(model).predict(randomInputs(model, 1, seed)[0] as never)).not.toThrow();
    }
    const plain = fc.sample(runnableNetworkModel({ maxFollowers: 0, nonFusable: false }), { seed, numRuns: 50 });
    for (const model of plain) {
      for (const layer of layersOf(model)) expect(["convolution", "innerProduct"]).toContain(layer.layer.case);
    }
  });

  test.each([
    [{ minBlocks: 3, maxBlocks: 2 }, RangeError, "minBlocks (3) must not exceed maxBlocks (2)"],
    [{ minBlocks: 0 }, RangeError, "minBlocks must be an integer from 1 to 16, got 0"],
    [{ maxChannels: 1.5 }, RangeError, "maxChannels must be an integer from 1 to 64, got 1.5"],
    [{ producers: ["batchnorm" as never] }, RangeError, 'producers has unknown value "batchnorm"; valid: convolution, innerProduct'],
    [{ followers: [] }, RangeError, "followers must be a non-empty array"],
    [{ maxMagnitude: 70000 }, RangeError, "maxMagnitude must be at most 65504 (the largest float16) when float16 is a storage, got 70000"],
    [{ maxMagnitude: Infinity, storages: ["float32" as const] }, RangeError, "maxMagnitude must be finite, got Infinity"],
    [{ maxMagnitude: -1 }, RangeError, "maxMagnitude must be a positive number, got -1"],
    [{ nonFusable: "yes" as never }, TypeError, "nonFusable must be a boolean, got yes"],
  ] as [RunnableNetworkModelConstraints, typeof Error, string][])("refuses %j when called", (constraints, type, message) => {
    expect(() => runnableNetworkModel(constraints)).toThrow(type);
    expect(() => runnableNetworkModel(constraints)).toThrow(`runnableNetworkModel: ${message}`);
  });
});

import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { packedByteLength } from "../../src/codec/bit-pack.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { weightStorage } from "../../src/codec/weight-storage.js";
import { readWeights } from "../../src/walker/read-weights.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { AdvancedQuantizedLayerSelector, MatrixMultiplyLayerSelector } from "../../src/selectors.js";
import { fuseLayers } from "../../src/walker/fuse.js";
import { activateInt8Int8MatrixMultiplications, dequantizeWeights, quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { ABSORBED_KINDS } from "../../src/testing/internal/layer-kinds.js";
import { LAYER_WEIGHTS, type WeightedLayerKind } from "../../src/walker/layer-table.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import {
  advancedSelectorOptions,
  EDGE_VALUES,
  GENERATED_LAYER_KINDS,
  GENERATED_MODEL_KINDS,
  GENERATED_STORAGES,
  layer,
  matrixMultiplySelectorOptions,
  model,
  network,
  weightParams,
  weightTensor,
  type GeneratedWeightParams,
} from "../../src/testing/index.js";
import { allModels, allNetworks, carrierModel, networkModels, sameBytes, storagesUsed } from "./helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { product } from "../support/product.js";

/** Pinned for fc.sample: the tests below look at particular samples. Properties use propertySeed(). */
const seed = 42;

/** Expected size of the payload of one generated WeightParams. */
function expectSizes(g: GeneratedWeightParams): void {
  const wp = g.weightParams;
  const count = product(g.shape);
  const q = wp.quantization?.QuantizationType;
  switch (g.storage) {
    case "float32":
      expect(wp.floatValue.length).toBe(count);
      break;
    case "float16":
      expect(wp.float16Value.length).toBe(2 * count);
      break;
    case "int8":
      expect(wp.int8RawValue.length).toBe(count);
      expect(wp.quantization?.numberOfBits).toBe(8n);
      expect(q?.case === "linearQuantization" ? q.value.scale.length : -1).toBe(1);
      break;
    case "linear": {
      expect(wp.rawValue.length).toBe(packedByteLength(count, g.nbits));
      expect(wp.quantization?.numberOfBits).toBe(BigInt(g.nbits));
      if (q?.case !== "linearQuantization") throw new Error("linear storage without linear parameters");
      const channels = g.shape.length >= 2 ? [1, g.shape[g.axis]] : [1];
      expect(channels).toContain(q.value.scale.length);
      expect(q.value.bias.length).toBe(q.value.scale.length);
      break;
    }
    case "lut":
      expect(wp.rawValue.length).toBe(packedByteLength(count, g.nbits));
      expect(wp.quantization?.numberOfBits).toBe(BigInt(g.nbits));
      expect(q?.case === "lookupTableQuantization" ? q.value.floatValue.length : -1).toBe(2 ** g.nbits);
      break;
  }
}

const sameFloats = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** The number of WeightParams a layer's flags call for (biDirectionalLSTM: two sets). */
function expectedFieldCount(l: NeuralNetworkLayer): number {
  const kind = l.layer.case as WeightedLayerKind;
  const row = LAYER_WEIGHTS[kind] as { fields: readonly { when?: (p: unknown) => boolean }[] };
  const sets = kind === "biDirectionalLSTM" ? 2 : 1;
  return row.fields.filter((f) => f.when === undefined || f.when(l.layer.value)).length * sets;
}

describe("weightTensor", () => {
  test("shapes multiply to the value count; sizes, rank and magnitude stay in bounds", () => {
    fc.assert(
      fc.property(
        fc.record({
          minLength: fc.integer({ min: 0, max: 20 }),
          extra: fc.integer({ min: 0, max: 40 }),
          maxRank: fc.integer({ min: 1, max: 5 }),
          maxMagnitude: fc.constantFrom(1, 65504, 1e30),
        }),
        fc.nat(),
        (c, sampleSeed) => {
          const constraints = { minLength: c.minLength, maxLength: c.minLength + c.extra, maxRank: c.maxRank, maxMagnitude: c.maxMagnitude };
          for (const t of fc.sample(weightTensor(constraints), { numRuns: 5, seed: sampleSeed })) {
            expect(product(t.shape)).toBe(t.values.length);
            expect(t.values.length).toBeGreaterThanOrEqual(c.minLength);
            expect(t.values.length).toBeLessThanOrEqual(c.minLength + c.extra);
            expect(t.shape.length).toBeLessThanOrEqual(c.maxRank);
            expect(t.values.every((v) => Math.abs(v) <= c.maxMagnitude)).toBe(true);
          }
        },
      ),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("edge values, constant and two-valued tensors, and (when allowed) non-finite values appear", () => {
    const samples = fc.sample(weightTensor({ minLength: 4, maxLength: 16 }), { numRuns: 400, seed });
    const all = samples.flatMap((t) => Array.from(t.values));
    for (const edge of [-0, 2 ** -149, 65504, -65520, 3.4028234663852886e38]) expect(all.some((v) => Object.is(v, edge))).toBe(true);
    expect(samples.some((t) => new Set(t.values).size === 1)).toBe(true);
    expect(samples.some((t) => new Set(t.values).size === 2)).toBe(true);
    expect(all.every(Number.isFinite)).toBe(true);
    const loose = fc.sample(weightTensor({ finite: false }), { numRuns: 200, seed }).flatMap((t) => Array.from(t.values));
    expect(loose.some(Number.isNaN)).toBe(true);
    expect(loose.some((v) => v === Infinity)).toBe(true);
    const plain = fc.sample(weightTensor({ edgeValues: false, maxMagnitude: 65504 }), { numRuns: 200, seed }).flatMap((t) => Array.from(t.values));
    expect(plain.every((v) => Math.abs(v) <= 65504)).toBe(true);
    expect(EDGE_VALUES.filter((v) => Math.abs(v) <= 65504)).toContain(65504);
  });

  test("refuses bad constraints with messages naming them", () => {
    expect(() => weightTensor({ minLength: 5, maxLength: 2 })).toThrow("weightTensor: minLength (5) must not exceed maxLength (2)");
    expect(() => weightTensor({ maxRank: 0 })).toThrow(/maxRank must be an integer from 1 to 8, got 0/);
    expect(() => weightTensor({ minLength: 1.5 })).toThrow(/minLength must be an integer/);
    expect(() => weightTensor({ maxMagnitude: -1 })).toThrow(/maxMagnitude must be a positive number/);
  });
});

describe("weightParams", () => {
  test("exactly one storage, of the size its shape and bit width call for, decoding to the stated values", () => {
    fc.assert(
      fc.property(weightParams(), (g) => {
        expect(storagesUsed(g.weightParams)).toHaveLength(1);
        expect(weightStorage(g.weightParams).kind).toBe(g.storage);
        expectSizes(g);
        expect(sameFloats(readWeights(g.weightParams, { shape: g.shape, axis: g.axis }), g.values)).toBe(true);
        expect(g.values.every((v) => Number.isFinite(v) && Math.abs(v) <= 65504)).toBe(true);
        if (g.shape.length === 1) expect(g.axis).toBe(0);
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });

  test("round-trips through the codec inside a layer", () => {
    fc.assert(
      fc.property(weightParams(), (g) => {
        const bytes = encodeModel(carrierModel(g.weightParams, g.shape));
        const back = decodeModel(bytes);
        expect(sameBytes(encodeModel(back), bytes)).toBe(true);
        const [ref] = allLayers(back).flatMap((l) => layerWeights(l.layer));
        if (ref === undefined) throw new Error("no weights after decoding");
        expect(sameFloats(readWeights(ref.weightParams, { shape: g.shape, axis: g.axis }), g.values)).toBe(true);
      }),
      { seed: propertySeed(), numRuns: 150 },
    );
  });

  test("generates every storage, every bit width and both axes; honours storages and bit bounds", () => {
    const samples = fc.sample(weightParams(), { numRuns: 500, seed });
    expect(new Set(samples.map((g) => g.storage))).toEqual(new Set(GENERATED_STORAGES));
    const quantized = samples.filter((g) => g.storage === "linear" || g.storage === "lut");
    expect(new Set(quantized.map((g) => g.nbits))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(samples.some((g) => g.axis === 1)).toBe(true);
    const narrow = fc.sample(weightParams({ storages: ["lut"], minBits: 3, maxBits: 4, minLength: 10, maxLength: 12 }), { numRuns: 50, seed });
    expect(narrow.every((g) => g.storage === "lut" && g.nbits >= 3 && g.nbits <= 4 && product(g.shape) >= 10 && product(g.shape) <= 12)).toBe(true);
  });

  test("a given shape and axis (a layer's declared weight shape) are honoured in every storage", () => {
    fc.assert(
      fc.property(weightParams({ shape: [4, 3, 1, 2], axis: 1 }), weightParams({ axis: 1, maxRank: 1 }), (g, h) => {
        expect([g.shape, g.axis]).toEqual([[4, 3, 1, 2], 1]);
        expect(sameFloats(readWeights(g.weightParams, { shape: g.shape, axis: g.axis }), g.values)).toBe(true);
        expectSizes(g);
        expect(h.axis).toBe(1);
        expect(h.shape.length).toBeGreaterThanOrEqual(2);
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });

  test("refuses bad constraints", () => {
    expect(() => weightParams({ shape: [3, 0] })).toThrow(/shape must be a non-empty list of positive integers/);
    expect(() => weightParams({ shape: [3], axis: 1 })).toThrow(/axis 1 needs a shape of rank 2 or more, got \[3\]/);
    expect(() => weightParams({ axis: 2 as never })).toThrow(/axis must be 0 or 1, got 2/);
    expect(() => weightParams({ storages: ["float64" as never] })).toThrow(/storages has unknown value "float64"; valid: float32, float16, linear, lut, int8/);
    expect(() => weightParams({ storages: [] })).toThrow(/non-empty/);
    expect(() => weightParams({ minLength: 0 })).toThrow(/minLength must be an integer from 1/);
    expect(() => weightParams({ minBits: 6, maxBits: 2 })).toThrow(/minBits \(6\) must not exceed maxBits \(2\)/);
    expect(() => weightParams({ maxBits: 9 })).toThrow(/maxBits must be an integer from 1 to 8, got 9/);
  });
});

/** Checks every layer of a model: weights float, one storage, value counts = product of the declared shape, all fields present. */
function expectConsistentLayers(m: Model): void {
  for (const { layer: l, path } of allLayers(m)) {
    const refs = layerWeights(l);
    if (l.layer.case === "branch" || l.layer.case === "loop") {
      expect(refs).toHaveLength(0);
      continue;
    }
    expect({ path, fields: refs.length }).toEqual({ path, fields: expectedFieldCount(l) });
    for (const ref of refs) {
      expect(storagesUsed(ref.weightParams)).toHaveLength(1);
      const storage = weightStorage(ref.weightParams);
      expect(["float32", "float16"]).toContain(storage.kind);
      expect({ path, field: ref.field, count: storage.kind === "empty" ? 0 : (storage as { count: number }).count }).toEqual({
        path,
        field: ref.field,
        count: product(ref.shape),
      });
      expect(readWeights(ref.weightParams).every((v) => Math.abs(v) <= 65504)).toBe(true);
    }
  }
}

/** Layer i writes what layer i + 1 reads, in every network. */
function expectChained(m: Model): void {
  for (const net of allNetworks(m)) {
    for (let i = 0; i + 1 < net.layers.length; i++) {
      expect((net.layers[i] as NeuralNetworkLayer).output).toEqual((net.layers[i + 1] as NeuralNetworkLayer).input);
    }
  }
}

describe("layer, network, model", () => {
  test("models encode and decode back to the same bytes, with consistent shapes and chained blobs", () => {
    fc.assert(
      fc.property(model(), (m) => {
        const bytes = encodeModel(m);
        const back = decodeModel(bytes);
        expect(sameBytes(encodeModel(back), bytes)).toBe(true);
        expect(allLayers(back).map((l) => l.path)).toEqual(allLayers(m).map((l) => l.path));
        expectConsistentLayers(m);
        expectChained(m);
      }),
      { seed: propertySeed(), numRuns: 150 },
    );
  });

  test("every layer kind and convolution variant appears, and chained layers fuse", () => {
    const models = fc.sample(model({ network: { maxDepth: 2 } }), { numRuns: 300, seed });
    const layers = models.flatMap((m) => allLayers(m).map((l) => l.layer));
    expect(new Set(layers.map((l) => l.layer.case))).toEqual(new Set(GENERATED_LAYER_KINDS));
    const convs = layers.flatMap((l) => (l.layer.case === "convolution" ? [l.layer.value] : []));
    expect(convs.some((c) => c.isDeconvolution)).toBe(true);
    expect(convs.some((c) => c.kernelChannels === 1n && c.nGroups > 1n)).toBe(true);
    expect(convs.some((c) => !c.isDeconvolution && c.kernelChannels > 1n && c.nGroups > 1n)).toBe(true);
    expect(convs.some((c) => c.kernelSize.length === 0)).toBe(true);
    // A layer after one that can absorb it is often of a kind it absorbs: about 1 model
    // in 8 has a network that fuses (3 in 100 when each layer's kind was drawn on its own).
    const fusing = models.filter((m) => allNetworks(m).some((n) => fuseLayers(n.layers).length < n.layers.length));
    expect(fusing.length).toBeGreaterThanOrEqual(models.length / 12);
    const nestedTwice = models.some((m) => allLayers(m).some((l) => (l.path.match(/(ifBranch|elseBranch|bodyNetwork|conditionNetwork)/g) ?? []).length >= 2));
    expect(nestedTwice).toBe(true);
    expect(new Set(models.map((m) => m.Type.case))).toEqual(new Set(GENERATED_MODEL_KINDS));
    expect(models.some((m) => allModels(m).some((s) => s.Type.case === "scaler"))).toBe(true);
  });

  test("ABSORBED_KINDS are the pairs quantizeWeights fuses: each listed pair fuses in some networks, no other pair in any", () => {
    const kinds = GENERATED_LAYER_KINDS.filter((k) => k !== "branch" && k !== "loop");
    for (const first of kinds) {
      for (const second of kinds) {
        const nets = fc
          .sample(network({ kinds: first === second ? [first] : [first, second], minLayers: 2, maxLayers: 2, maxDepth: 0, edgeValues: false }), {
            numRuns: 60,
            seed,
          })
          .filter((n) => n.layers[0]?.layer.case === first && n.layers[1]?.layer.case === second);
        const fuses = nets.some((n) => fuseLayers(n.layers).length === 1);
        expect({ first, second, fuses }).toEqual({ first, second, fuses: ABSORBED_KINDS[first]?.includes(second) === true });
      }
    }
  });

  test("the models quantize without refusal: quantizeWeights in every mode, dequantizeWeights, int8 matmul", () => {
    fc.assert(
      fc.property(model(), fc.integer({ min: 1, max: 8 }), (m, nbits) => {
        for (const mode of ["linear", "linear_lut", "kmeans_lut"] as const) quantizeWeights(m, { nbits, mode });
        quantizeWeights(m, { nbits: 8, mode: "linear_symmetric" });
        quantizeWeights(m, { nbits: 16 });
        dequantizeWeights(m);
        activateInt8Int8MatrixMultiplications(m);
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });

  test("honours kinds, storages, depth, layer counts, spec versions and isUpdatable", () => {
    fc.assert(
      fc.property(
        model({
          kinds: ["pipeline"],
          network: { kinds: ["innerProduct", "bias", "loop"], storages: ["float16"], maxDepth: 1, minLayers: 2, maxLayers: 3, maxChannels: 3 },
          minSpecificationVersion: 2,
          maxSpecificationVersion: 4,
          isUpdatable: true,
        }),
        (m) => {
          expect(m.Type.case).toBe("pipeline");
          expect(m.isUpdatable).toBe(true);
          for (const s of allModels(m)) expect(s.specificationVersion >= 2 && s.specificationVersion <= 4).toBe(true);
          for (const net of allNetworks(m)) expect(net.layers.length >= 2 && net.layers.length <= 3).toBe(true);
          for (const { layer: l, path } of allLayers(m)) {
            expect(["innerProduct", "bias", "loop"]).toContain(l.layer.case);
            if (path.includes("bodyNetwork") || path.includes("conditionNetwork")) expect(l.layer.case).not.toBe("loop");
            for (const ref of layerWeights(l)) expect(weightStorage(ref.weightParams).kind).toBe("float16");
          }
        },
      ),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("layer() and network() give consistent values on their own", () => {
    fc.assert(
      fc.property(layer({ name: "x", input: "a", output: "b" }), network({ maxDepth: 0 }), (l, net) => {
        expect([l.name, l.input, l.output]).toEqual(["x", ["a"], ["b"]]);
        const m = {
          ...(create(ModelSchema, { specificationVersion: 4 }) as unknown as Model),
          Type: { case: "neuralNetwork", value: { ...net, layers: [l, ...net.layers] } },
        } as Model;
        expectConsistentLayers(m);
        expect(net.layers.every((x) => x.layer.case !== "branch" && x.layer.case !== "loop")).toBe(true);
        expect(net.layers[0]?.input).toEqual(["input"]);
        expect(net.layers[net.layers.length - 1]?.output).toEqual(["output"]);
      }),
      { seed: propertySeed(), numRuns: 80 },
    );
  });

  test("refuse bad constraints", () => {
    expect(() => network({ kinds: ["branch", "loop"] })).toThrow(/network: kinds must include a kind other than branch and loop/);
    expect(() => layer({ kinds: ["dense" as never] })).toThrow(/layer: kinds has unknown value "dense"; valid: convolution, innerProduct/);
    expect(() => network({ maxChannels: 0 })).toThrow(/maxChannels must be an integer from 1 to 64, got 0/);
    expect(() => network({ maxDepth: 5 })).toThrow(/maxDepth must be an integer from 0 to 4, got 5/);
    expect(() => network({ minLayers: 3, maxLayers: 2 })).toThrow(/minLayers \(3\) must not exceed maxLayers \(2\)/);
    expect(() => network({ storages: ["int8" as never] })).toThrow(/storages has unknown value "int8"; valid: float32, float16/);
    expect(() => model({ minSpecificationVersion: 5, maxSpecificationVersion: 3 })).toThrow(
      /minSpecificationVersion \(5\) must not exceed maxSpecificationVersion \(3\)/,
    );
    expect(() => model({ kinds: ["glmRegressor" as never] })).toThrow(/model: kinds has unknown value/);
  });

  test("pipeline members are network models or scalers, at least one a network; networkModels finds every network", () => {
    for (const m of fc.sample(model({ kinds: ["pipelineClassifier", "pipelineRegressor"], maxPipelineModels: 3 }), { numRuns: 100, seed })) {
      const members = allModels(m).slice(1);
      expect(members.length).toBeGreaterThan(0);
      for (const s of members) expect(["neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor", "scaler"]).toContain(s.Type.case);
      expect(networkModels(m)).toHaveLength(members.filter((s) => s.Type.case !== "scaler").length);
      expect(networkModels(m).length).toBeGreaterThan(0); // a model holding no network is refused by the library
    }
  });
});

describe("selector options", () => {
  test("advancedSelectorOptions are accepted and sometimes leave fields out", () => {
    const samples = fc.sample(advancedSelectorOptions(), { numRuns: 200, seed });
    for (const options of samples) expect(() => new AdvancedQuantizedLayerSelector(options)).not.toThrow();
    expect(samples.some((o) => o.skipLayerTypes === undefined)).toBe(true);
    expect(samples.some((o) => (o.skipLayerTypes?.length ?? 0) > 2)).toBe(true);
    expect(samples.every((o) => (o.minimumConvKernelChannels ?? 0) <= 8 && (o.minimumConvWeightCount ?? 0) <= 8192)).toBe(true);
    expect(() => advancedSelectorOptions({ maxKernelChannels: -1 })).toThrow(/maxKernelChannels must be an integer from 0/);
  });

  test("matrixMultiplySelectorOptions are accepted and pick names from layerNames", () => {
    const samples = fc.sample(matrixMultiplySelectorOptions({ layerNames: ["a", "b"] }), { numRuns: 200, seed });
    for (const options of samples) expect(() => new MatrixMultiplyLayerSelector(options)).not.toThrow();
    expect(samples.every((o) => (o.includeLayersWithNames ?? []).every((n) => n === "a" || n === "b"))).toBe(true);
    expect(samples.some((o) => o.maximumInputChannels === undefined)).toBe(true);
    expect(() => matrixMultiplySelectorOptions({ layerNames: [1 as never] })).toThrow(/layerNames must be an array of strings/);
  });
});

/**
 * compareModels: every figure checked against a plain float64 computation from
 * the two models' own predictions (written here, from coremltools' formulas);
 * labels and dictionaries on hand-made classifiers; the floor rule; the per-layer
 * table finding a layer damaged by hand; fusion; the text and JSON forms.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../../src/codec/decode-model.js";
import type { Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { ArrayFeatureType_ArrayDataType } from "../../src/gen/FeatureTypes_pb.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { COREMLTOOLS_NOISE_FLOOR, errorSums, meanVariance, toPixels } from "../../src/predict/compare-metrics.js";
import {
  compareModels,
  type ArrayComparison,
  type ComparedLayer,
  type DictionaryComparison,
  type LabelComparison,
  type ModelComparison,
} from "../../src/predict/compare-models.js";
import type { ArrayOutput, PredictInputs, PredictOutputs } from "../../src/predict/feature-io.js";
import { comparisonJson, formatComparison } from "../../src/report/format-comparison.js";
import { prepareModel } from "../../src/predict/predict.js";
import { randomInputs } from "../../src/predict/random-inputs.js";
import { buildModel, expectError, loadFixtureModel } from "./support.js";

/** A tiny deterministic generator for test data (independent of randomInputs). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** The layer of that name, searched in the top network. */
function layerNamed(model: Model, name: string): NeuralNetworkLayer {
  const type = model.Type;
  if (type.case !== "neuralNetwork" && type.case !== "neuralNetworkClassifier" && type.case !== "neuralNetworkRegressor") throw new Error("not a network");
  const layer = type.value.layers.find((l) => l.name === name);
  if (layer === undefined) throw new Error(`no layer ${name}`);
  return layer;
}

/** Adds noise of relative size `amount` to a convolution or innerProduct's weights, in place (on a model of our own). */
function damage(model: Model, name: string, amount: number, seed = 7): void {
  const layer = layerNamed(model, name);
  if (layer.layer.case !== "convolution" && layer.layer.case !== "innerProduct") throw new Error("not a weighted layer");
  const weights = layer.layer.value.weights;
  if (weights === undefined) throw new Error("no weights");
  const rand = lcg(seed);
  let scale = 0;
  for (const w of weights.floatValue) scale = Math.max(scale, Math.abs(w));
  weights.floatValue = weights.floatValue.map((w) => w + amount * scale * rand());
}

/** Both models' predictions of every sample, run independently of compareModels. */
function predictions(original: Model, quantized: Model, samples: readonly PredictInputs[]): [PredictOutputs[], PredictOutputs[]] {
  const a = prepareModel(original);
  const b = prepareModel(quantized);
  return [samples.map((s) => a.predict(s)), samples.map((s) => b.predict(s))];
}

/** coremltools' NoiseMetrics, written out plainly in float64, with numpy's mean and population variance. */
function coremltoolsOracle(as: readonly ArrayLike<number>[], bs: readonly ArrayLike<number>[]) {
  const snr: number[] = [];
  const psnr: number[] = [];
  for (let s = 0; s < as.length; s++) {
    const a = as[s] as ArrayLike<number>;
    const b = bs[s] as ArrayLike<number>;
    let noise = 0;
    let energy = 0;
    let maxEnergy = -Infinity;
    for (let i = 0; i < a.length; i++) {
      noise += ((a[i] as number) - (b[i] as number)) ** 2;
      energy += (b[i] as number) ** 2;
      maxEnergy = Math.max(maxEnergy, (b[i] as number) ** 2);
    }
    const noiseVar = noise / a.length + 1e-7;
    snr.push(10 * Math.log10(energy / a.length / noiseVar));
    psnr.push(10 * Math.log10(maxEnergy / noiseVar));
  }
  const mean = (v: number[]): number => v.reduce((x, y) => x + y, 0) / v.length;
  const variance = (v: number[]): number => mean(v.map((x) => (x - mean(v)) ** 2));
  return { snr, psnr, snrMean: mean(snr), snrVar: variance(snr), psnrMean: mean(psnr), psnrVar: variance(psnr) };
}

/** The same ratios without the floor, pooled over all samples, plus the other figures. */
function plainOracle(as: readonly ArrayLike<number>[], bs: readonly ArrayLike<number>[]) {
  let noise = 0;
  let signal = 0;
  let peak = 0;
  let count = 0;
  let maxAbs = 0;
  const cosines: number[] = [];
  const perSampleSnr: number[] = [];
  for (let s = 0; s < as.length; s++) {
    const a = as[s] as ArrayLike<number>;
    const b = bs[s] as ArrayLike<number>;
    let dot = 0;
    let na = 0;
    let nb = 0;
    let sn = 0;
    let ss = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      noise += (x - y) ** 2;
      sn += (x - y) ** 2;
      signal += y * y;
      ss += y * y;
      peak = Math.max(peak, y * y);
      maxAbs = Math.max(maxAbs, Math.abs(x - y));
      dot += x * y;
      na += x * x;
      nb += y * y;
      count++;
    }
    cosines.push(dot / Math.sqrt(na * nb));
    perSampleSnr.push(10 * Math.log10(ss / sn));
  }
  return {
    snr: 10 * Math.log10(signal / noise),
    psnr: 10 * Math.log10(peak / (noise / count)),
    maxAbs,
    cosine: cosines.reduce((x, y) => x + y, 0) / cosines.length,
    worst: perSampleSnr.indexOf(Math.min(...perSampleSnr)),
  };
}

const arrayData = (v: unknown): Float32Array => (v as ArrayOutput).data;

function output<K extends ModelComparison["outputs"][number]["kind"]>(result: ModelComparison, name: string, kind: K) {
  const o = result.outputs.find((x) => x.name === name);
  expect(o?.kind).toBe(kind);
  return o as Extract<ModelComparison["outputs"][number], { kind: K }>;
}

describe("array outputs: coremltools' figures and the corrected ones", () => {
  const original = loadFixtureModel("regressor");
  const quantized = quantizeWeights(original, { nbits: 4 });
  const samples = randomInputs(original, 6, 11);
  const result = compareModels(original, quantized, samples);
  const [pa, pb] = predictions(original, quantized, samples);
  const as = pa.map((p) => arrayData(p.y));
  const bs = pb.map((p) => arrayData(p.y));

  test("coremltools' SNR and PSNR: per sample, then mean and population variance, as its formulas give", () => {
    const y: ArrayComparison = output(result, "y", "array");
    const ct = coremltoolsOracle(as, bs);
    expect(result.samples).toBe(6);
    y.perSample.forEach((s, i) => {
      expect(s.coremltoolsSnrDb).toBeCloseTo(ct.snr[i] as number, 10);
      expect(s.coremltoolsPsnrDb).toBeCloseTo(ct.psnr[i] as number, 10);
    });
    expect(y.coremltools.snrDb.mean).toBeCloseTo(ct.snrMean, 10);
    expect(y.coremltools.snrDb.variance).toBeCloseTo(ct.snrVar, 10);
    expect(y.coremltools.psnrDb.mean).toBeCloseTo(ct.psnrMean, 10);
    expect(y.coremltools.psnrDb.variance).toBeCloseTo(ct.psnrVar, 10);
  });

  test("SNR and PSNR without the floor, max error, cosine, worst sample", () => {
    const y: ArrayComparison = output(result, "y", "array");
    const plain = plainOracle(as, bs);
    expect(y.snrDb).toBeCloseTo(plain.snr, 10);
    expect(y.psnrDb).toBeCloseTo(plain.psnr, 10);
    expect(y.maxAbsError).toBe(plain.maxAbs);
    expect(y.cosineSimilarity).toBeCloseTo(plain.cosine, 12);
    expect(y.worstSample).toBe(plain.worst);
    expect(y.snrDb).toBeLessThan(60); // 4-bit weights: a real, finite loss
    expect(y.floorDominated).toBe(false);
  });

  test("a model compared with itself: every figure says equal, and coremltools' SNR stays finite", () => {
    const same = compareModels(original, original, samples.slice(0, 2));
    const y: ArrayComparison = output(same, "y", "array");
    expect(y.snrDb).toBe(Infinity);
    expect(y.psnrDb).toBe(Infinity);
    expect(y.maxAbsError).toBe(0);
    expect(y.cosineSimilarity).toBeCloseTo(1, 12);
    expect(y.worstSample).toBeUndefined();
    expect(Number.isFinite(y.coremltools.snrDb.mean)).toBe(true);
    expect(same.layers.every((r) => r.status === "compared" && r.snrDb === Infinity)).toBe(true);
  });

  test("perLayer: false compares the outputs only, with the same figures", () => {
    const quick = compareModels(original, quantized, samples, { perLayer: false });
    expect(quick.layers).toEqual([]);
    expect(quick.outputs).toEqual(result.outputs);
  });
});

describe("image outputs are compared as 8-bit pixels", () => {
  test("round and clamp to 0..255, then the same formulas", () => {
    expect(Array.from(toPixels([-3, 0.49, 0.5, 254.5, 300, 127.2]))).toEqual([0, 0, 1, 255, 255, 127]);
    expect(Number.isNaN(toPixels([NaN])[0])).toBe(true);

    const original = loadFixtureModel("style_transfer");
    const quantized = quantizeWeights(original, { nbits: 4 });
    const samples = randomInputs(original, 3, 5);
    const result = compareModels(original, quantized, samples, { perLayer: false });
    const [pa, pb] = predictions(original, quantized, samples);
    const pixels = (p: PredictOutputs): Float64Array => {
      // Plainly: clamp, then round.
      return Float64Array.from(arrayData(p.stylized), (v) => Math.round(Math.min(255, Math.max(0, v))));
    };
    const as = pa.map(pixels);
    const bs = pb.map(pixels);
    const o: ArrayComparison = output(result, "stylized", "image");
    const ct = coremltoolsOracle(as, bs);
    const plain = plainOracle(as, bs);
    expect(o.coremltools.snrDb.mean).toBeCloseTo(ct.snrMean, 10);
    expect(o.coremltools.psnrDb.variance).toBeCloseTo(ct.psnrVar, 10);
    expect(o.snrDb).toBeCloseTo(plain.snr, 10);
    expect(o.maxAbsError).toBe(plain.maxAbs);
    expect(Number.isInteger(o.maxAbsError)).toBe(true);
  });
});

describe("labels and probability dictionaries", () => {
  /** A classifier of `classes` string (or int64) labels: innerProduct 4 -> classes, softmax. */
  function classifier(classes: number, int64: boolean, seed: number): Model {
    const rand = lcg(seed);
    const labels = Array.from({ length: classes }, (_, i) => (int64 ? BigInt(100 + i) : `class${i}`));
    return buildModel({
      specificationVersion: 1,
      description: {
        input: [{ name: "x", type: { Type: { case: "multiArrayType", value: { shape: [4n], dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } } }],
        output: [
          { name: "label", type: { Type: int64 ? { case: "int64Type", value: {} } : { case: "stringType", value: {} } } },
          {
            name: "probs",
            type: { Type: { case: "dictionaryType", value: { KeyType: int64 ? { case: "int64KeyType", value: {} } : { case: "stringKeyType", value: {} } } } },
          },
        ],
        predictedFeatureName: "label",
        predictedProbabilitiesName: "probs",
      },
      Type: {
        case: "neuralNetworkClassifier",
        value: {
          layers: [
            {
              name: "fc",
              input: ["x"],
              output: ["logits"],
              layer: {
                case: "innerProduct",
                value: { inputChannels: 4n, outputChannels: BigInt(classes), weights: { floatValue: Array.from({ length: 4 * classes }, () => 4 * rand()) } },
              },
            },
            { name: "sm", input: ["logits"], output: ["p"], layer: { case: "softmax", value: {} } },
          ],
          ClassLabels: int64
            ? { case: "int64ClassLabels", value: { vector: labels as bigint[] } }
            : { case: "stringClassLabels", value: { vector: labels as string[] } },
          labelProbabilityLayerName: "p",
        },
      },
    });
  }

  /** coremltools' TopKMetrics, written out: k = min(5, classes); the original's top class among the quantized model's top k. */
  function topKOracle(pa: readonly PredictOutputs[], pb: readonly PredictOutputs[]) {
    let agreedK = 0;
    let agreed1 = 0;
    let k = 5;
    for (let s = 0; s < pa.length; s++) {
      const p = pa[s]?.probs as ReadonlyMap<unknown, number>;
      const q = pb[s]?.probs as ReadonlyMap<unknown, number>;
      k = Math.min(k, p.size);
      const sortDesc = (m: ReadonlyMap<unknown, number>): unknown[] => [...m.keys()].sort((x, y) => (m.get(y) as number) - (m.get(x) as number));
      const top = sortDesc(p)[0];
      const qTop = sortDesc(q).slice(0, k);
      if (qTop.includes(top)) agreedK++;
      if (qTop[0] === top) agreed1++;
    }
    return { k, agreementK: agreedK / pa.length, agreement1: agreed1 / pa.length };
  }

  for (const int64 of [false, true]) {
    test(`${int64 ? "int64" : "string"} labels: top-1 agreement and the disagreements; dictionary: top-5 of 9 classes`, () => {
      const original = classifier(9, int64, 3);
      const quantized = classifier(9, int64, 3);
      damage(quantized, "fc", 0.8);
      const samples = Array.from({ length: 40 }, (_, s) => {
        const rand = lcg(100 + s);
        return { x: Float32Array.from({ length: 4 }, () => 2 * rand()) };
      });
      const result = compareModels(original, quantized, samples);
      const [pa, pb] = predictions(original, quantized, samples);

      const label: LabelComparison = output(result, "label", "label");
      const differ = pa.flatMap((p, s) => (p.label === pb[s]?.label ? [] : [s]));
      expect(differ.length).toBeGreaterThan(0);
      expect(differ.length).toBeLessThan(40);
      expect(label.agreement).toBeCloseTo(1 - differ.length / 40, 12);
      expect(label.disagreements.map((d) => d.sample)).toEqual(differ);
      expect(label.worstSample).toBe(differ[0]);
      const first = label.disagreements[0];
      expect(typeof first?.original).toBe(int64 ? "bigint" : "string");
      expect(first?.original).toBe(pa[differ[0] as number]?.label);
      expect(first?.quantized).toBe(pb[differ[0] as number]?.label);

      const dict: DictionaryComparison = output(result, "probs", "dictionary");
      const oracle = topKOracle(pa, pb);
      expect(dict.topK).toBe(5);
      expect(dict.agreement).toBeCloseTo(oracle.agreementK, 12);
      expect(dict.top1Agreement).toBeCloseTo(oracle.agreement1, 12);
      expect(dict.top1Agreement).toBeCloseTo(label.agreement, 12);
      expect(dict.agreement).toBeGreaterThanOrEqual(dict.top1Agreement);
      let maxAbs = 0;
      pa.forEach((p, s) => {
        const q = pb[s]?.probs as ReadonlyMap<unknown, number>;
        for (const [key, v] of p.probs as ReadonlyMap<unknown, number>) maxAbs = Math.max(maxAbs, Math.abs(v - (q.get(key) as number)));
      });
      expect(dict.maxAbsError).toBe(maxAbs);
      // The worst sample is one where the original's top class is ranked lowest.
      const worst = dict.perSample[dict.worstSample as number];
      expect(Math.max(...dict.perSample.map((s) => s.rank))).toBe(worst?.rank);
    });
  }

  test("fewer than 5 classes: k is the class count (the fixture int64 classifier, 4 classes)", () => {
    const original = loadFixtureModel("int64_classifier");
    const quantized = loadFixtureModel("int64_classifier");
    damage(quantized, "fc2", 1);
    const result = compareModels(original, quantized, randomInputs(original, 20, 2));
    const dict: DictionaryComparison = output(result, "classProbability", "dictionary");
    expect(dict.topK).toBe(4);
    expect(dict.agreement).toBe(1); // the top class is always among all four
    expect(output(result, "classLabel", "label").agreement).toBeCloseTo(dict.top1Agreement, 12);
  });

  test("the fixture MobileNet: string label and 5-class dictionary, 8-bit weights agree", () => {
    const original = loadFixtureModel("mobilenet_classifier");
    const result = compareModels(original, quantizeWeights(original, { nbits: 8 }), randomInputs(original, 4, 9));
    expect(output(result, "classLabel", "label").agreement).toBe(1);
    expect(output(result, "classProbability", "dictionary").topK).toBe(5);
  });
});

describe("the noise floor", () => {
  /** y = W x, W of 3x4 values scaled by `scale`; `nudge` moves every weight by one float32 step. */
  function linear(scale: number, nudge: boolean): Model {
    const rand = lcg(42);
    const w = Float32Array.from({ length: 12 }, () => scale * rand());
    if (nudge) {
      const bits = new Uint32Array(w.buffer);
      for (let i = 0; i < bits.length; i++) bits[i] = (bits[i] as number) + 1;
    }
    const feature = (name: string, n: number) => ({
      name,
      type: { Type: { case: "multiArrayType" as const, value: { shape: [BigInt(n)], dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } },
    });
    return buildModel({
      specificationVersion: 1,
      description: { input: [feature("x", 4)], output: [feature("y", 3)] },
      Type: {
        case: "neuralNetwork",
        value: {
          layers: [
            {
              name: "fc",
              input: ["x"],
              output: ["y"],
              layer: { case: "innerProduct", value: { inputChannels: 4n, outputChannels: 3n, weights: { floatValue: Array.from(w) } } },
            },
          ],
        },
      },
    });
  }

  const samples = Array.from({ length: 5 }, (_, s) => {
    const rand = lcg(s + 1);
    return { x: Float32Array.from({ length: 4 }, () => 2 * rand()) };
  });

  test("outputs of ~1e-3: one float32 step reads as a poor coremltools SNR, floorDominated says so", () => {
    const y: ArrayComparison = output(compareModels(linear(2e-3, false), linear(2e-3, true), samples), "y", "array");
    expect(y.floorDominated).toBe(true);
    expect(y.coremltoolsCeilingDb).toBeLessThan(40);
    // coremltools' figure sits at its ceiling; the real SNR is a float32 rounding step's.
    expect(y.coremltools.snrDb.mean).toBeLessThan(40);
    expect(y.snrDb).toBeGreaterThan(120);
  });

  test("outputs of ~1: the same step reads as a high SNR in both; not floor-dominated", () => {
    const y: ArrayComparison = output(compareModels(linear(2, false), linear(2, true), samples), "y", "array");
    expect(y.floorDominated).toBe(false);
    expect(y.coremltoolsCeilingDb).toBeGreaterThan(40);
    expect(y.coremltools.snrDb.mean).toBeGreaterThan(55);
    expect(y.snrDb).toBeGreaterThan(120);
  });

  test("the ceiling is 10 log10(mean b^2 / 1e-7): 40 dB at mean b^2 = 1e-3", () => {
    const sums = errorSums([0, 0], [Math.sqrt(1e-3), Math.sqrt(1e-3)]);
    expect(10 * Math.log10(sums.signal / sums.count / COREMLTOOLS_NOISE_FLOOR)).toBeCloseTo(40, 10);
    expect(meanVariance([1, 2, 3, 4])).toEqual({ mean: 2.5, variance: 1.25 });
  });
});

describe("per layer", () => {
  test("a layer damaged by hand is where the SNR first drops, and the only one losing anything alone", () => {
    const original = loadFixtureModel("mobilenet_classifier");
    const damaged = loadFixtureModel("mobilenet_classifier");
    damage(damaged, "pw2", 0.05);
    const result = compareModels(original, damaged, randomInputs(original, 3, 4));
    const compared = result.layers.filter((r): r is ComparedLayer => r.status === "compared");
    expect(compared.length).toBe(result.layers.length); // nothing fused, nothing removed
    const firstDrop = compared.findIndex((r) => r.snrDb !== Infinity);
    expect(compared[firstDrop]?.layer?.name).toBe("pw2");
    expect(compared[firstDrop]?.inputSnrDb).toBe(Infinity);
    expect(compared[firstDrop]?.snrDb).toBeLessThan(60);
    // Everything before it is exact, and the inputs come first.
    expect(compared.slice(0, firstDrop).every((r) => r.snrDb === Infinity && r.maxAbsError === 0)).toBe(true);
    expect(compared[0]?.layer).toBeUndefined();
    expect(compared[0]?.blob).toBe("image");
    // Run alone on the original's inputs, only the damaged layer loses anything, though every later blob drifts.
    for (const r of compared) {
      if (r.layer === undefined) expect(r.aloneSnrDb).toBeUndefined();
      else if (r.layer.name === "pw2") expect(r.aloneSnrDb).toBeCloseTo(r.snrDb, 10);
      else expect(r.aloneSnrDb).toBe(Infinity);
    }
    expect(compared.slice(firstDrop).every((r) => r.snrDb < 60)).toBe(true);
    expect(formatComparison(result)).toMatch(/lowest SNR alone .*: 'pw2' \d+\.\d dB\n/);
  });

  test("SNR alone is the layer's own error: a damaged layer after another damaged one still reads its own loss", () => {
    const original = loadFixtureModel("mobilenet_classifier");
    const damaged = loadFixtureModel("mobilenet_classifier");
    damage(damaged, "dw2", 0.05, 1);
    damage(damaged, "fc", 0.3, 2);
    const result = compareModels(original, damaged, randomInputs(original, 3, 4));
    const row = (blob: string) => result.layers.find((r) => r.blob === blob) as ComparedLayer;
    const dw2 = row("c2");
    const fc = row("logits");
    expect(dw2.aloneSnrDb).toBeCloseTo(dw2.snrDb, 10); // its inputs were exact
    expect(Number.isFinite(fc.aloneSnrDb)).toBe(true);
    expect(fc.aloneSnrDb as number).toBeGreaterThan(fc.snrDb); // alone, it does not carry dw2's error
    expect(row("g").aloneSnrDb).toBe(Infinity);
    expect(row("g").inputSnrDb).toBe(row("a4").snrDb);
    expect(formatComparison(result)).toMatch(/lowest SNR alone .*: '(dw2|fc)' .*'(dw2|fc)'/);
  });

  test("rows follow the network order and match the network's blobs one to one", () => {
    const original = loadFixtureModel("regressor");
    const result = compareModels(original, quantizeWeights(original, { nbits: 6 }), randomInputs(original, 2, 1));
    const type = original.Type;
    if (type.case !== "neuralNetworkRegressor") throw new Error("a regressor");
    expect(result.layers.map((r) => r.blob)).toEqual(["x", ...type.value.layers.map((l) => l.output[0])]);
    expect(result.layers.every((r) => r.network === "model/neuralNetworkRegressor")).toBe(true);
  });

  test("fusion: the fused convolution is compared against the batchnorm's blob, the convolution's own blob is removed", () => {
    const original = loadFixtureModel("mobilenet_classifier");
    const quantized = quantizeWeights(original, { nbits: 8 });
    const result = compareModels(original, quantized, randomInputs(original, 2, 3));
    const removed = result.layers.find((r) => r.blob === "c1");
    expect(removed).toMatchObject({ status: "removed", fusedInto: "b1", originalLayer: { name: "conv1", kind: "convolution" } });
    const fused = result.layers.find((r) => r.blob === "b1");
    expect(fused).toMatchObject({
      status: "compared",
      fused: true,
      layer: { name: "conv1", kind: "convolution" },
      originalLayer: { name: "bn1", kind: "batchnorm" },
    });
    expect((fused as ComparedLayer).snrDb).toBeGreaterThan(25);
    expect((fused as ComparedLayer).aloneSnrDb).toBeCloseTo((fused as ComparedLayer).snrDb, 10); // the first layer: its inputs are exact
    expect(formatComparison(result)).toMatch(/conv1 \* \(\+ bn1\)/);
  });

  test("pipelines: one section per network, by its path", () => {
    const original = loadFixtureModel("pipeline_two_networks");
    const result = compareModels(original, quantizeWeights(original, { nbits: 4 }), randomInputs(original, 2, 1));
    expect([...new Set(result.layers.map((r) => r.network))]).toEqual(["model/pipeline/models[0]/neuralNetwork", "model/pipeline/models[1]/neuralNetwork"]);
    expect(formatComparison(result)).toMatch(/pipeline\/models\[1\]\/neuralNetwork/);
  });
});

describe("text and JSON", () => {
  const original = loadFixtureModel("int64_classifier");
  const quantized = loadFixtureModel("int64_classifier");
  damage(quantized, "fc2", 1);
  const result = compareModels(original, quantized, randomInputs(original, 12, 8));

  test("the table names every output and blob, and reads an exact SNR as exact", () => {
    const text = formatComparison(result);
    expect(text).toMatch(/^compared on 12 samples\n/);
    expect(text).toMatch(/classLabel\s+label\s+\d+\.\d\d% top-1/);
    expect(text).toMatch(/classProbability\s+dictionary\s+100\.00% top-4/);
    for (const blob of ["features", "h", "hr", "logits", "probs"]) expect(text).toContain(blob);
    expect(text).toMatch(/relu\s+activation\s+hr\s+exact/);
    expect(text.endsWith("\n")).toBe(true);
  });

  test("a floor-dominated output gets a note", () => {
    const tiny = buildModel({
      specificationVersion: 1,
      description: {
        input: [{ name: "x", type: { Type: { case: "multiArrayType", value: { shape: [2n], dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } } }],
        output: [{ name: "y", type: { Type: { case: "multiArrayType", value: { shape: [2n], dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } } }],
      },
      Type: {
        case: "neuralNetwork",
        value: {
          layers: [
            { name: "s", input: ["x"], output: ["y"], layer: { case: "activation", value: { NonlinearityType: { case: "linear", value: { alpha: 1e-3 } } } } },
          ],
        },
      },
    });
    const text = formatComparison(compareModels(tiny, tiny, [{ x: Float32Array.of(1, -1) }]));
    expect(text).toMatch(/'y' is small .*caps its SNR at 10\.0 dB/);
  });

  test("JSON: infinities as strings, int64 labels as decimal strings, the rest as is", () => {
    const parsed = JSON.parse(comparisonJson(result)) as {
      samples: number;
      outputs: { name: string; disagreements?: { original: string }[] }[];
      layers: { blob: string; snrDb: unknown }[];
    };
    expect(parsed.samples).toBe(12);
    expect(parsed.layers.find((l) => l.blob === "hr")?.snrDb).toBe("Infinity");
    expect(typeof parsed.layers.find((l) => l.blob === "probs")?.snrDb).toBe("number");
    const label = parsed.outputs.find((o) => o.name === "classLabel");
    const d = (result.outputs[0] as LabelComparison).disagreements;
    expect(label?.disagreements?.length).toBe(d.length);
    if (d.length > 0) expect(label?.disagreements?.[0]?.original).toBe(String(d[0]?.original));
  });
});

describe("refusals", () => {
  const model = loadFixtureModel("regressor");

  test("no samples", () => {
    expectError(() => compareModels(model, model, []), "invalid-input", /at least one sample/);
  });

  test("a bad sample names the sample and the model", () => {
    const good = randomInputs(model, 1, 1)[0] as PredictInputs;
    expectError(() => compareModels(model, model, [good, { x: new Float32Array(3) }]), "invalid-input", /^sample 1, the original model: .*'x'/);
  });

  test("models whose outputs differ", () => {
    const other = loadFixtureModel("int64_classifier");
    expectError(() => compareModels(model, other, randomInputs(model, 1, 1)), "models-differ", /quantized model has no output 'y'/);
  });

  test("options are checked", () => {
    expectError(() => compareModels(model, model, randomInputs(model, 1, 1), { perLayer: "yes" as unknown as boolean }), "invalid-option", /perLayer/);
  });

  test("a double output is compared as one value, not refused as coremltools does", () => {
    // The executor does not produce double outputs yet: what fails is preparing the model, not the comparison.
    const double = buildModel({
      specificationVersion: 1,
      description: {
        input: [{ name: "x", type: { Type: { case: "multiArrayType", value: { shape: [1n], dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } } }],
        output: [{ name: "y", type: { Type: { case: "doubleType", value: {} } } }],
      },
      Type: { case: "neuralNetworkRegressor", value: { layers: [] } },
    });
    let message = "";
    try {
      compareModels(double, double, [{ x: Float32Array.of(1) }]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toMatch(/cannot be compared/);
  });
});

describe("empty probability dictionaries (a k-NN stage with no samples yet)", () => {
  test("two empty dictionaries agree: 100% top-k and top-1, not 0% of top-0", () => {
    // Arrange: Apple's updatable drawing classifier, whose k-NN index ships empty
    const bytes = readFileSync(join(__dirname, "..", "fixtures", "golden", "models", "real_updatable_drawing_pipeline_nn_knn.mlmodel"));
    const model = decodeModel(new Uint8Array(bytes));

    // Act
    const result = compareModels(model, model, randomInputs(model, 2, 3), { perLayer: false });

    // Assert
    const dictionary = result.outputs.find((o) => o.kind === "dictionary");
    expect(dictionary).toMatchObject({ kind: "dictionary", agreement: 1, top1Agreement: 1 });
  });
});

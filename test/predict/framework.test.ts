/**
 * The executor's framework: feature values to blobs and back, image
 * preprocessing, classifiers, pipelines, kNN, refusals. Models are built here
 * with protobuf-es and passed through the real codec; the layers used are a few
 * trivial ones injected through `prepareModel`'s `layers` option, so these tests
 * do not depend on the layer implementations.
 */
import type { Model } from "../../src/codec/model-types.js";
import { ArrayFeatureType_ArrayDataType, ImageFeatureType_ColorSpace } from "../../src/gen/FeatureTypes_pb.js";
import { NeuralNetworkMultiArrayShapeMapping } from "../../src/gen/NeuralNetwork_pb.js";
import type { ArrayOutput } from "../../src/predict/feature-io.js";
import type { LayerImpls, Tensor } from "../../src/predict/layer-runner.js";
import { prepareModel } from "../../src/predict/predict.js";
import { buildModel, expectError, type ModelInit } from "./support.js";

type Description = NonNullable<ModelInit["description"]>;
type FeatureInit = NonNullable<Description["input"]>[number];

/** Test layers: `copy` passes its input on, `addBroadcastable` records the shapes it sees (and adds). */
const seen: (readonly number[])[] = [];
const LAYERS: LayerImpls = {
  copy: {
    prepare:
      () =>
      ([x]) => [x as Tensor],
  },
  addBroadcastable: {
    prepare:
      () =>
      ([a, b]) => {
        seen.push((a as Tensor).shape);
        const x = (a as Tensor).data;
        const y = (b as Tensor).data;
        return [{ shape: (a as Tensor).shape, data: x.map((v, i) => v + (y[i % y.length] as number)) }];
      },
  },
};

const arrayFeature = (name: string, shape: number[], optional: { isOptional?: boolean } = {}, flex: object = {}): FeatureInit => ({
  name,
  type: {
    isOptional: optional.isOptional === true,
    Type: { case: "multiArrayType", value: { shape: shape.map(BigInt), dataType: ArrayFeatureType_ArrayDataType.FLOAT32, ...flex } },
  },
});

const copyLayer = (name: string, input: string, output: string) => ({
  name,
  input: [input],
  output: [output],
  layer: { case: "copy" as const, value: {} },
});

function network(layers: ReturnType<typeof copyLayer>[], exact = false) {
  return {
    layers,
    arrayInputShapeMapping: exact ? NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING : NeuralNetworkMultiArrayShapeMapping.RANK5_ARRAY_MAPPING,
  };
}

const asArray = (v: unknown): ArrayOutput => v as ArrayOutput;

describe("multiArray layout", () => {
  test("rank5: [C] and [C,H,W] inputs become rank-5 blobs; outputs come back in the declared shape", () => {
    const model = buildModel({
      specificationVersion: 1,
      description: { input: [arrayFeature("v", [3]), arrayFeature("m", [2, 1, 2])], output: [arrayFeature("vo", [3]), arrayFeature("mo", [2, 1, 2])] },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "v", "vo"), copyLayer("b", "m", "mo")]) },
    });
    const prepared = prepareModel(model, { layers: LAYERS });
    const { outputs, blobs } = prepared.predictWithBlobs({
      v: new Float32Array([1, 2, 3]),
      m: { shape: [2, 1, 2], data: new Float64Array([1, 2, 3, 4]) },
    });
    const net = blobs.get("model/neuralNetwork");
    expect(net?.get("v")?.shape).toEqual([1, 1, 3, 1, 1]);
    expect(net?.get("m")?.shape).toEqual([1, 1, 2, 1, 2]);
    expect(asArray(outputs.vo).shape).toEqual([3]);
    expect(Array.from(asArray(outputs.vo).data)).toEqual([1, 2, 3]);
    expect(asArray(outputs.mo).shape).toEqual([2, 1, 2]);
    expect(asArray(outputs.mo).data).toBeInstanceOf(Float32Array);
  });

  test("rank5: a sequence given as [Seq, 1, C, 1, 1] is taken as is and returned as is", () => {
    const model = buildModel({
      specificationVersion: 1,
      description: { input: [arrayFeature("x", [2])], output: [arrayFeature("y", [2])] },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "y")]) },
    });
    const out = prepareModel(model, { layers: LAYERS }).predict({ x: { shape: [3, 1, 2, 1, 1], data: new Float32Array(6).fill(7) } });
    expect(asArray(out.y).shape).toEqual([3, 1, 2, 1, 1]);
    expectError(
      () => prepareModel(model, { layers: LAYERS }).predict({ x: { shape: [3, 1, 4, 1, 1], data: new Float32Array(12) } }),
      "invalid-input",
      /'x'.*\[4\] is not the declared shape \[2\]/,
    );
  });

  test("exact: blobs keep the declared rank; int32 and int64 data are converted", () => {
    const model = buildModel({
      specificationVersion: 4,
      description: { input: [arrayFeature("x", [2, 3])], output: [arrayFeature("y", [2, 3])] },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "y")], true) },
    });
    const prepared = prepareModel(model, { layers: LAYERS });
    const a = prepared.predict({ x: { shape: [2, 3], data: new Int32Array([1, 2, 3, 4, 5, -6]) } });
    expect(asArray(a.y).shape).toEqual([2, 3]);
    expect(Array.from(asArray(a.y).data)).toEqual([1, 2, 3, 4, 5, -6]);
    const b = prepared.predict({ x: { shape: [2, 3], data: new BigInt64Array([1n, 2n, 3n, 4n, 5n, -6n]) } });
    expect(Array.from(asArray(b.y).data)).toEqual([1, 2, 3, 4, 5, -6]);
  });

  test("the caller's input data is copied, never shared or changed", () => {
    const model = buildModel({
      specificationVersion: 4,
      description: { input: [arrayFeature("x", [2])], output: [arrayFeature("y", [2])] },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "y")], true) },
    });
    const x = new Float32Array([1, 2]);
    const out = prepareModel(model, { layers: LAYERS }).predict({ x });
    asArray(out.y).data[0] = 99;
    expect(Array.from(x)).toEqual([1, 2]);
  });

  test("flexible shapes: enumerated shapes and ranges accept any allowed shape", () => {
    const enumerated = buildModel({
      specificationVersion: 4,
      description: {
        input: [arrayFeature("x", [2], {}, { ShapeFlexibility: { case: "enumeratedShapes", value: { shapes: [{ shape: [2n] }, { shape: [4n] }] } } })],
        output: [arrayFeature("y", [2])],
      },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "y")], true) },
    });
    const p = prepareModel(enumerated, { layers: LAYERS });
    expect(asArray(p.predict({ x: { shape: [4], data: new Float32Array(4) } }).y).shape).toEqual([4]);
    expectError(() => p.predict({ x: { shape: [3], data: new Float32Array(3) } }), "invalid-input", /not one of the enumerated shapes \[2\], \[4\]/);

    const ranged = buildModel({
      specificationVersion: 4,
      description: {
        input: [
          arrayFeature(
            "x",
            [1, 2],
            {},
            {
              ShapeFlexibility: {
                case: "shapeRange",
                value: {
                  sizeRanges: [
                    { lowerBound: 1n, upperBound: -1n },
                    { lowerBound: 2n, upperBound: 3n },
                  ],
                },
              },
            },
          ),
        ],
        output: [arrayFeature("y", [1, 2])],
      },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "y")], true) },
    });
    const r = prepareModel(ranged, { layers: LAYERS });
    expect(asArray(r.predict({ x: { shape: [50, 3], data: new Float32Array(150) } }).y).shape).toEqual([50, 3]);
    expectError(() => r.predict({ x: { shape: [5, 4], data: new Float32Array(20) } }), "invalid-input", /dimension 1 .* outside the range \[2, 3\]/);
  });

  test("optional inputs left out are their default value (zeros when none)", () => {
    const model = buildModel({
      specificationVersion: 4,
      description: {
        input: [
          arrayFeature("x", [3]),
          arrayFeature("h", [3], { isOptional: true }),
          {
            name: "d",
            type: {
              isOptional: true,
              Type: {
                case: "multiArrayType",
                value: { shape: [3n], dataType: ArrayFeatureType_ArrayDataType.FLOAT32, defaultOptionalValue: { case: "floatDefaultValue", value: 0.5 } },
              },
            },
          },
        ],
        output: [arrayFeature("y", [3]), arrayFeature("z", [3])],
      },
      Type: {
        case: "neuralNetwork",
        value: {
          arrayInputShapeMapping: NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING,
          layers: [
            { name: "a", input: ["x", "h"], output: ["y"], layer: { case: "addBroadcastable", value: {} } },
            { name: "b", input: ["x", "d"], output: ["z"], layer: { case: "addBroadcastable", value: {} } },
          ],
        },
      },
    });
    const out = prepareModel(model, { layers: LAYERS }).predict({ x: new Float32Array([1, 2, 3]) });
    expect(Array.from(asArray(out.y).data)).toEqual([1, 2, 3]);
    expect(Array.from(asArray(out.z).data)).toEqual([1.5, 2.5, 3.5]);
  });
});

describe("image inputs", () => {
  const imageFeature = (name: string, colorSpace: ImageFeatureType_ColorSpace, width = 2, height = 1): FeatureInit => ({
    name,
    type: { Type: { case: "imageType", value: { width: BigInt(width), height: BigInt(height), colorSpace } } },
  });
  const imageModel = (colorSpace: ImageFeatureType_ColorSpace, preprocessing: object[] = []): Model =>
    buildModel({
      specificationVersion: 1,
      description: { input: [imageFeature("img", colorSpace)], output: [imageFeature("out", colorSpace)] },
      Type: { case: "neuralNetwork", value: { layers: [copyLayer("a", "img", "out")], preprocessing } },
    });
  // Two pixels, R G B each.
  const pixels = { width: 2, height: 1, data: new Uint8Array([10, 20, 30, 40, 50, 60]) };

  test("RGB: blob [1,1,3,H,W] with red first; the output is the raw blob [C,H,W]", () => {
    const p = prepareModel(imageModel(ImageFeatureType_ColorSpace.RGB), { layers: LAYERS });
    const { outputs, blobs } = p.predictWithBlobs({ img: pixels });
    expect(blobs.get("model/neuralNetwork")?.get("img")?.shape).toEqual([1, 1, 3, 1, 2]);
    expect(asArray(outputs.out).shape).toEqual([3, 1, 2]);
    expect(Array.from(asArray(outputs.out).data)).toEqual([10, 40, 20, 50, 30, 60]);
  });

  test("BGR: blue first; scaler scale*x + per-channel bias in the model's channel order; RGBA alpha ignored", () => {
    const p = prepareModel(
      imageModel(ImageFeatureType_ColorSpace.BGR, [
        { featureName: "img", preprocessor: { case: "scaler", value: { channelScale: 0.5, redBias: 1, greenBias: 2, blueBias: 3 } } },
      ]),
      { layers: LAYERS },
    );
    const rgba = { width: 2, height: 1, data: new Uint8Array([10, 20, 30, 255, 40, 50, 60, 0]) };
    const out = asArray(p.predict({ img: rgba }).out);
    // Channel 0 is blue: 0.5*30+3, 0.5*60+3; then green; then red.
    expect(Array.from(out.data)).toEqual([18, 33, 12, 27, 6, 21]);
  });

  test("mean image is subtracted after the scaler, in the network's order", () => {
    const p = prepareModel(
      imageModel(ImageFeatureType_ColorSpace.RGB, [
        { featureName: "img", preprocessor: { case: "scaler", value: { channelScale: 2 } } },
        { featureName: "img", preprocessor: { case: "meanImage", value: { meanImage: [1, 2, 3, 4, 5, 6] } } },
      ]),
      { layers: LAYERS },
    );
    expect(Array.from(asArray(p.predict({ img: pixels }).out).data)).toEqual([19, 78, 37, 96, 55, 114]);
  });

  test("grayscale: colour pixels give BT.601 luma, one channel", () => {
    const p = prepareModel(
      imageModel(ImageFeatureType_ColorSpace.GRAYSCALE, [{ featureName: "img", preprocessor: { case: "scaler", value: { channelScale: 1, grayBias: -1 } } }]),
      { layers: LAYERS },
    );
    const out = asArray(p.predict({ img: pixels }).out);
    expect(out.shape).toEqual([1, 1, 2]);
    expect(out.data[0]).toBeCloseTo(0.299 * 10 + 0.587 * 20 + 0.114 * 30 - 1, 4);
    const gray = asArray(p.predict({ img: { width: 2, height: 1, data: new Uint8Array([7, 9]) } }).out);
    expect(Array.from(gray.data)).toEqual([6, 8]);
  });

  test("refuses the wrong size and non-images", () => {
    const p = prepareModel(imageModel(ImageFeatureType_ColorSpace.RGB), { layers: LAYERS });
    expectError(() => p.predict({ img: { width: 1, height: 2, data: new Uint8Array(6) } }), "invalid-input", /size 1x2 is not the declared 2x1/);
    expectError(() => p.predict({ img: { width: 2, height: 1, data: new Uint8Array(5) } }), "invalid-input", /5 bytes for a 2x1 image/);
    expectError(() => p.predict({ img: new Float32Array(6) }), "invalid-input", /is an image/);
  });
});

describe("classifiers and regressors", () => {
  const probsIn = arrayFeature("p", [3]);
  test("string labels: the label of the largest probability, and the dictionary", () => {
    const model = buildModel({
      specificationVersion: 1,
      description: {
        input: [probsIn],
        output: [
          { name: "label", type: { Type: { case: "stringType", value: {} } } },
          { name: "probs", type: { Type: { case: "dictionaryType", value: { KeyType: { case: "stringKeyType", value: {} } } } } },
        ],
        predictedFeatureName: "label",
        predictedProbabilitiesName: "probs",
      },
      Type: {
        case: "neuralNetworkClassifier",
        value: { layers: [copyLayer("a", "p", "q")], ClassLabels: { case: "stringClassLabels", value: { vector: ["cat", "dog", "eel"] } } },
      },
    });
    const out = prepareModel(model, { layers: LAYERS }).predict({ p: new Float32Array([0.25, 0.5, 0.25]) });
    expect(out.label).toBe("dog");
    expect(out.probs).toEqual(
      new Map([
        ["cat", 0.25],
        ["dog", 0.5],
        ["eel", 0.25],
      ]),
    );
  });

  test("int64 labels and labelProbabilityLayerName choosing another blob", () => {
    const model = buildModel({
      specificationVersion: 1,
      description: {
        input: [probsIn],
        output: [{ name: "label", type: { Type: { case: "int64Type", value: {} } } }, arrayFeature("last", [3])],
        predictedFeatureName: "label",
      },
      Type: {
        case: "neuralNetworkClassifier",
        value: {
          layers: [copyLayer("a", "p", "scores"), copyLayer("b", "p", "last")],
          ClassLabels: { case: "int64ClassLabels", value: { vector: [10n, 20n, 30n] } },
          labelProbabilityLayerName: "scores",
        },
      },
    });
    const out = prepareModel(model, { layers: LAYERS }).predict({ p: new Float32Array([0.7, 0.2, 0.1]) });
    expect(out.label).toBe(10n);
    expect(asArray(out.last).shape).toEqual([3]);
  });

  test("a label count that does not match the probabilities is refused", () => {
    const model = buildModel({
      specificationVersion: 1,
      description: { input: [probsIn], output: [{ name: "label", type: { Type: { case: "stringType", value: {} } } }], predictedFeatureName: "label" },
      Type: {
        case: "neuralNetworkClassifier",
        value: { layers: [copyLayer("a", "p", "q")], ClassLabels: { case: "stringClassLabels", value: { vector: ["a", "b"] } } },
      },
    });
    expectError(() => prepareModel(model, { layers: LAYERS }).predict({ p: new Float32Array(3) }), "unsupported-model", /3 values for 2 class labels/);
  });

  test("regressor outputs are arrays", () => {
    const model = buildModel({
      specificationVersion: 1,
      description: { input: [probsIn], output: [arrayFeature("y", [3])], predictedFeatureName: "y" },
      Type: { case: "neuralNetworkRegressor", value: { layers: [copyLayer("a", "p", "y")] } },
    });
    expect(asArray(prepareModel(model, { layers: LAYERS }).predict({ p: new Float32Array(3) }).y).shape).toEqual([3]);
  });
});

describe("pipelines and kNN", () => {
  /** The kNN oracle: squared distances, k nearest (stable), votes by 1 or 1/d. */
  function knnOracle(samples: number[][], labels: string[], k: number, inverse: boolean, x: number[]): { label: string; probs: Map<string, number> } {
    const d = samples.map((s, i) => ({ i, d: s.reduce((acc, v, j) => acc + (v - (x[j] as number)) ** 2, 0) }));
    d.sort((a, b) => a.d - b.d || a.i - b.i);
    const near = d.slice(0, k);
    const votes = new Map<string, number>(labels.map((l) => [l, 0]));
    for (const { i, d: dist } of near) votes.set(labels[i] as string, (votes.get(labels[i] as string) as number) + (inverse ? 1 / dist : 1));
    const total = [...votes.values()].reduce((a, b) => a + b, 0);
    let best = labels[(near[0] as { i: number }).i] as string;
    for (const { i } of near) if ((votes.get(labels[i] as string) as number) > (votes.get(best) as number)) best = labels[i] as string;
    return { label: best, probs: new Map([...votes].map(([l, v]) => [l, v / total])) };
  }

  const samples = [
    [0, 0],
    [1, 0],
    [0, 1],
    [5, 5],
    [6, 5],
    [5, 7],
  ];
  const labels = ["a", "a", "b", "c", "c", "b"];
  const knnModel = (k: number, inverse: boolean, kdTree = false, empty = false): Model =>
    buildModel({
      specificationVersion: 4,
      description: {
        input: [arrayFeature("x", [2])],
        output: [
          { name: "label", type: { Type: { case: "stringType", value: {} } } },
          { name: "probs", type: { Type: { case: "dictionaryType", value: { KeyType: { case: "stringKeyType", value: {} } } } } },
        ],
        predictedFeatureName: "label",
        predictedProbabilitiesName: "probs",
      },
      Type: {
        case: "pipelineClassifier",
        value: {
          pipeline: {
            models: [
              {
                specificationVersion: 4,
                description: { input: [arrayFeature("x", [2])], output: [arrayFeature("emb", [2])] },
                Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "emb")], true) },
              },
              {
                specificationVersion: 4,
                description: {
                  input: [arrayFeature("emb", [2])],
                  output: [
                    { name: "label", type: { Type: { case: "stringType", value: {} } } },
                    { name: "probs", type: { Type: { case: "dictionaryType", value: { KeyType: { case: "stringKeyType", value: {} } } } } },
                  ],
                  predictedFeatureName: "label",
                  predictedProbabilitiesName: "probs",
                },
                Type: {
                  case: "kNearestNeighborsClassifier",
                  value: {
                    nearestNeighborsIndex: {
                      numberOfDimensions: 2,
                      floatSamples: empty ? [] : samples.map((vector) => ({ vector })),
                      IndexType: kdTree ? { case: "singleKdTreeIndex", value: { leafSize: 4 } } : { case: "linearIndex", value: {} },
                      DistanceFunction: { case: "squaredEuclideanDistance", value: {} },
                    },
                    numberOfNeighbors: { defaultValue: BigInt(k) },
                    ClassLabels: { case: "stringClassLabels", value: { vector: empty ? [] : labels } },
                    DefaultClassLabel: { case: "defaultStringLabel", value: "unknown" },
                    WeightingScheme: inverse ? { case: "inverseDistanceWeighting", value: {} } : { case: "uniformWeighting", value: {} },
                  },
                },
              },
            ],
          },
        },
      },
    });

  test.each([
    [1, false],
    [3, false],
    [3, true],
    [5, true],
    [6, false],
  ])("k=%d inverse=%s agrees with the oracle", (k, inverse) => {
    const prepared = prepareModel(knnModel(k, inverse), { layers: LAYERS });
    for (const x of [
      [0.2, 0.1],
      [4, 4],
      [2.6, 2.5],
      [0, 0.9],
      [5.5, 6],
    ]) {
      const out = prepared.predict({ x: new Float32Array(x) });
      const want = knnOracle(samples, labels, k, inverse, x);
      expect(out.label).toBe(want.label);
      const probs = out.probs as Map<string, number>;
      expect([...probs.keys()].sort()).toEqual([...want.probs.keys()].sort());
      for (const [l, v] of want.probs) expect(probs.get(l)).toBeCloseTo(v, 6);
    }
  });

  test("an exact match takes the whole inverse-distance vote; an empty index gives the default label", () => {
    const out = prepareModel(knnModel(3, true), { layers: LAYERS }).predict({ x: new Float32Array([5, 7]) });
    expect(out.label).toBe("b");
    expect((out.probs as Map<string, number>).get("b")).toBe(1);
    const none = prepareModel(knnModel(3, true, false, true), { layers: LAYERS }).predict({ x: new Float32Array([5, 7]) });
    expect(none.label).toBe("unknown");
    expect((none.probs as Map<string, number>).size).toBe(0);
  });

  test("a kd-tree index is refused, naming the stage", () => {
    const model = knnModel(1, false, true);
    expectError(
      () => prepareModel(model, { layers: LAYERS }),
      "unsupported-model",
      /model\/pipelineClassifier\/pipeline\/models\[1\]\/kNearestNeighborsClassifier: .*singleKdTreeIndex/,
    );
  });

  test("pipeline stages are wired by feature name", () => {
    const model = buildModel({
      specificationVersion: 4,
      description: { input: [arrayFeature("a", [2])], output: [arrayFeature("c", [2])] },
      Type: {
        case: "pipeline",
        value: {
          models: [
            {
              specificationVersion: 4,
              description: { input: [arrayFeature("a", [2])], output: [arrayFeature("b", [2])] },
              Type: {
                case: "neuralNetwork",
                value: { arrayInputShapeMapping: 1, layers: [{ name: "s", input: ["a", "a"], output: ["b"], layer: { case: "addBroadcastable", value: {} } }] },
              },
            },
            {
              specificationVersion: 4,
              description: { input: [arrayFeature("b", [2])], output: [arrayFeature("c", [2])] },
              Type: {
                case: "neuralNetwork",
                value: { arrayInputShapeMapping: 1, layers: [{ name: "t", input: ["b", "b"], output: ["c"], layer: { case: "addBroadcastable", value: {} } }] },
              },
            },
          ],
        },
      },
    });
    const { outputs, blobs } = prepareModel(model, { layers: LAYERS }).predictWithBlobs({ a: new Float32Array([1, -2]) });
    expect(Array.from(asArray(outputs.c).data)).toEqual([4, -8]);
    expect([...blobs.keys()]).toEqual(["model/pipeline/models[0]/neuralNetwork", "model/pipeline/models[1]/neuralNetwork"]);
  });
});

describe("refusals", () => {
  const model = buildModel({
    specificationVersion: 4,
    description: { input: [arrayFeature("x", [2])], output: [arrayFeature("y", [2])] },
    Type: {
      case: "neuralNetwork",
      value: network([copyLayer("a", "x", "t"), { name: "p", input: ["t"], output: ["y"], layer: { case: "pooling", value: {} } } as never], true),
    },
  });

  test("a layer kind without implementation, at prepare time, naming the layer and kind", () => {
    expectError(() => prepareModel(model, { layers: LAYERS }), "unsupported-layer", /model\/neuralNetwork\/layers\[1\] "p": layer kind "pooling"/);
  });

  test("a model kind the executor does not run, naming it", () => {
    const glm = buildModel({ specificationVersion: 1, description: { input: [arrayFeature("x", [2])] }, Type: { case: "glmRegressor", value: {} } });
    expectError(() => prepareModel(glm), "unsupported-model", /model: model kind "glmRegressor" is not supported/);
  });

  test("unknown, missing and ill-shaped inputs", () => {
    const ok = buildModel({
      specificationVersion: 4,
      description: { input: [arrayFeature("x", [2])], output: [arrayFeature("y", [2])] },
      Type: { case: "neuralNetwork", value: network([copyLayer("a", "x", "y")], true) },
    });
    const p = prepareModel(ok, { layers: LAYERS });
    expectError(() => p.predict({ x: new Float32Array(2), z: new Float32Array(2) }), "invalid-input", /unknown input 'z'; the model's inputs are: 'x'/);
    expectError(() => p.predict({}), "invalid-input", /input 'x' is missing/);
    expectError(() => p.predict({ x: new Float32Array(3) }), "invalid-input", /3 values given for the declared shape \[2\]/);
    expectError(() => p.predict({ x: { shape: [2], data: new Float32Array(3) } }), "invalid-input", /3 values for shape \[2\]/);
    expectError(() => p.predict({ x: { width: 1, height: 2, data: new Uint8Array(2) } }), "invalid-input", /is a multiArray/);
  });
});

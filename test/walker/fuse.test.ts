/**
 * fuseLayers on small hand-built networks, against weights computed here by hand
 * from the formulas of /work/shared/reference/QUANTIZATION.md ("Fusion before
 * quantizing") and reference fix 10 of /work/shared/golden/README.md:
 * (a) a scale without a bias scales the layer's own bias, (b) a batchnorm with
 * computeMeanVar is not folded, (c) scale and bias layers fold only per channel,
 * (d) a batchnorm epsilon of 0 is 1e-5; and blobs read outside a network survive.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Model, NeuralNetworkLayer, WeightParams } from "../../src/codec/model-types.js";
import type { NeuralNetworkLayerSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { weightReport } from "../../src/report/weight-report.js";
import { fuseLayers, modelBlobsKept, nestedBlobsKept } from "../../src/walker/fuse.js";
import { buildLayer, buildModel, walkLayers } from "./helpers.js";

type LayerInit = MessageInitShape<typeof NeuralNetworkLayerSchema>;

// ---------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------

const f32 = (values: readonly number[]): { floatValue: number[] } => ({ floatValue: [...values] });

/** innerProduct `name`: input -> output, weights row-major [oc, ic]. */
function innerProduct(name: string, input: string, output: string, oc: number, weights: number[], bias?: number[]): LayerInit {
  return {
    name,
    input: [input],
    output: [output],
    layer: {
      case: "innerProduct",
      value: {
        inputChannels: BigInt(weights.length / oc),
        outputChannels: BigInt(oc),
        weights: f32(weights),
        hasBias: bias !== undefined,
        ...(bias === undefined ? {} : { bias: f32(bias) }),
      },
    },
  };
}

/** 1x1 convolution `name` with one kernel channel: weights [oc, 1, 1, 1]. */
function conv(name: string, input: string, output: string, weights: number[], bias?: number[]): LayerInit {
  return {
    name,
    input: [input],
    output: [output],
    layer: {
      case: "convolution",
      value: {
        outputChannels: BigInt(weights.length),
        kernelChannels: 1n,
        nGroups: 1n,
        kernelSize: [1n, 1n],
        stride: [1n, 1n],
        dilationFactor: [1n, 1n],
        weights: f32(weights),
        hasBias: bias !== undefined,
        ...(bias === undefined ? {} : { bias: f32(bias) }),
      },
    },
  };
}

function scale(name: string, input: string, output: string, shape: number[], s: number[], bias?: { shape: number[]; values: number[] }): LayerInit {
  return {
    name,
    input: [input],
    output: [output],
    layer: {
      case: "scale",
      value: {
        shapeScale: shape.map(BigInt),
        scale: f32(s),
        hasBias: bias !== undefined,
        ...(bias === undefined ? {} : { shapeBias: bias.shape.map(BigInt), bias: f32(bias.values) }),
      },
    },
  };
}

function bias(name: string, input: string, output: string, shape: number[], values: number[]): LayerInit {
  return { name, input: [input], output: [output], layer: { case: "bias", value: { shape: shape.map(BigInt), bias: f32(values) } } };
}

interface BatchnormInit {
  gamma: number[];
  beta: number[];
  mean: number[];
  variance: number[];
  epsilon: number;
  computeMeanVar?: boolean;
}

function batchnorm(name: string, input: string, output: string, p: BatchnormInit): LayerInit {
  return {
    name,
    input: [input],
    output: [output],
    layer: {
      case: "batchnorm",
      value: {
        channels: BigInt(p.gamma.length),
        epsilon: p.epsilon,
        computeMeanVar: p.computeMeanVar ?? false,
        gamma: f32(p.gamma),
        beta: f32(p.beta),
        mean: f32(p.mean),
        variance: f32(p.variance),
      },
    },
  };
}

const relu = (name: string, input: string, output: string): LayerInit => ({
  name,
  input: [input],
  output: [output],
  layer: { case: "activation", value: { NonlinearityType: { case: "ReLU", value: {} } } },
});

/** Each layer through the real codec, as a decoded model holds it. */
const layers = (...inits: LayerInit[]): NeuralNetworkLayer[] => inits.map(buildLayer);

/** The float32 values of a WeightParams (fusion writes float32). */
function values(wp: WeightParams | undefined): number[] {
  if (wp === undefined) throw new Error("no WeightParams");
  return Array.from(wp.floatValue);
}

/** The weights and bias of a fused convolution or innerProduct. */
function affine(layer: NeuralNetworkLayer | undefined): { weights: number[]; hasBias: boolean; bias: number[] } {
  const l = layer?.layer;
  if (l?.case !== "convolution" && l?.case !== "innerProduct") throw new Error(`not an affine layer: ${String(l?.case)}`);
  return { weights: values(l.value.weights), hasBias: l.value.hasBias, bias: l.value.hasBias ? values(l.value.bias) : [] };
}

/** Element-wise float32 rounding, as the fused weights are stored. */
const stored = (xs: readonly number[]): number[] => xs.map(Math.fround);

// ---------------------------------------------------------------------------
// (a) a scale layer without a bias scales the layer's own bias
// ---------------------------------------------------------------------------

describe("(a) scale without a bias", () => {
  test("innerProduct -> scale: W' = s·W per row and b' = s·b (the bias is scaled too)", () => {
    const [fused, ...rest] = fuseLayers(layers(innerProduct("fc", "x", "f", 2, [1, 2, 3, 4], [0.5, -1]), scale("s", "f", "y", [2], [2, 0.25])));
    expect(rest).toEqual([]);
    expect(fused?.output).toEqual(["y"]);
    // s·(Wx + b) = (sW)x + s·b
    expect(affine(fused)).toEqual({ weights: [2 * 1, 2 * 2, 0.25 * 3, 0.25 * 4], hasBias: true, bias: [2 * 0.5, 0.25 * -1] });
  });

  test("convolution -> scale [C,1,1]: the conv bias is scaled", () => {
    const [fused] = fuseLayers(layers(conv("c", "x", "c0", [3, -2], [1, 1]), scale("s", "c0", "y", [2, 1, 1], [0.5, 3])));
    expect(affine(fused)).toEqual({ weights: [1.5, -6], hasBias: true, bias: [0.5, 3] });
  });

  test("a layer without a bias keeps none", () => {
    const [fused] = fuseLayers(layers(conv("c", "x", "c0", [3, -2]), scale("s", "c0", "y", [2], [0.5, 3])));
    expect(affine(fused)).toEqual({ weights: [1.5, -6], hasBias: false, bias: [] });
  });

  test("with a scale bias and no bias of its own, the layer takes the scale bias as it is (-0 included)", () => {
    const [fused] = fuseLayers(layers(conv("c", "x", "c0", [3, -2]), scale("s", "c0", "y", [2], [2, 0.5], { shape: [2], values: [-0, 0.75] })));
    const { bias: b } = affine(fused);
    expect(Object.is(b[0], -0)).toBe(true);
    expect(b[1]).toBe(0.75);
  });

  test("with both biases: b' = s·b + sb", () => {
    const [fused] = fuseLayers(
      layers(innerProduct("fc", "x", "f", 2, [1, 2, 3, 4], [0.5, -1]), scale("s", "f", "y", [2], [2, 0.25], { shape: [2], values: [0.125, 4] })),
    );
    expect(affine(fused).bias).toEqual([2 * 0.5 + 0.125, 0.25 * -1 + 4]);
  });
});

// ---------------------------------------------------------------------------
// (b) a batchnorm with computeMeanVar is not folded
// ---------------------------------------------------------------------------

describe("(b) computeMeanVar", () => {
  const stats: BatchnormInit = { gamma: [2, 3], beta: [0.5, -0.5], mean: [1, 2], variance: [1, 4], epsilon: 0.5 };

  test("convolution -> batchnorm with computeMeanVar stays two layers (stored statistics are ignored at run time)", () => {
    const input = layers(conv("c", "x", "c0", [1, 2], [0, 0]), batchnorm("bn", "c0", "y", { ...stats, computeMeanVar: true }));
    expect(fuseLayers(input)).toEqual(input);
  });

  test("the same batchnorm with stored statistics is folded", () => {
    expect(fuseLayers(layers(conv("c", "x", "c0", [1, 2], [0, 0]), batchnorm("bn", "c0", "y", stats)))).toHaveLength(1);
  });

  test("a computeMeanVar batchnorm still absorbs a per-channel scale: gamma' = s·gamma, beta' = s·beta + sb", () => {
    const [fused, ...rest] = fuseLayers(
      layers(batchnorm("bn", "x", "b0", { ...stats, computeMeanVar: true }), scale("s", "b0", "y", [2], [0.5, 4], { shape: [2], values: [1, 2] })),
    );
    expect(rest).toEqual([]);
    if (fused?.layer.case !== "batchnorm") throw new Error("not a batchnorm");
    expect(values(fused.layer.value.gamma)).toEqual([1, 12]);
    expect(values(fused.layer.value.beta)).toEqual([0.5 * 0.5 + 1, -0.5 * 4 + 2]);
    expect(fused.layer.value.computeMeanVar).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// (c) scale and bias layers are folded only per channel
// ---------------------------------------------------------------------------

describe("(c) per channel only", () => {
  test.each([
    ["innerProduct -> scalar bias [1]", innerProduct("fc", "x", "f", 2, [1, 2, 3, 4], [0.5, -1]), bias("b", "f", "y", [1], [3])],
    ["convolution -> scalar scale [1]", conv("c", "x", "f", [3, -2], [1, 1]), scale("s", "f", "y", [1], [2])],
    ["convolution -> scale [C] with a scalar bias [1]", conv("c", "x", "f", [3, -2], [1, 1]), scale("s", "f", "y", [2], [2, 3], { shape: [1], values: [1] })],
    ["convolution -> bias [1,1,C] (C values, but along the width)", conv("c", "x", "f", [3, -2], [1, 1]), bias("b", "f", "y", [1, 1, 2], [5, 6])],
    ["convolution -> spatial bias [C,2,2]", conv("c", "x", "f", [3, -2], [1, 1]), bias("b", "f", "y", [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])],
    [
      "batchnorm -> scalar scale [1]",
      batchnorm("bn", "x", "f", { gamma: [1, 1], beta: [0, 0], mean: [0, 0], variance: [1, 1], epsilon: 1e-3 }),
      scale("s", "f", "y", [1], [2]),
    ],
  ])("%s stays two layers", (_name, first, second) => {
    const input = layers(first, second);
    expect(fuseLayers(input)).toEqual(input);
  });

  test("convolution -> bias [C,1,1]: b' = b + bb", () => {
    const [fused, ...rest] = fuseLayers(layers(conv("c", "x", "f", [3, -2], [1, 1]), bias("b", "f", "y", [2, 1, 1], [0.5, -3])));
    expect(rest).toEqual([]);
    expect(affine(fused)).toEqual({ weights: [3, -2], hasBias: true, bias: [1.5, -2] });
  });

  test("innerProduct -> bias [C]: a layer without a bias takes bb", () => {
    const [fused] = fuseLayers(layers(innerProduct("fc", "x", "f", 2, [1, 2, 3, 4]), bias("b", "f", "y", [2], [0.5, -3])));
    expect(affine(fused)).toEqual({ weights: [1, 2, 3, 4], hasBias: true, bias: [0.5, -3] });
  });
});

// ---------------------------------------------------------------------------
// (d) a batchnorm epsilon of 0 is the format's default 1e-5
// ---------------------------------------------------------------------------

describe("(d) epsilon 0", () => {
  /** The folding formula of QUANTIZATION.md, in float64, stored as float32. */
  function folded(w: number[], b: number[], bn: BatchnormInit, epsilon: number): { weights: number[]; bias: number[] } {
    const root = bn.variance.map((v) => Math.sqrt(v + epsilon));
    return {
      weights: stored(w.map((x, c) => ((bn.gamma[c] as number) / (root[c] as number)) * x)),
      bias: stored(
        b.map((x, c) => {
          const g = bn.gamma[c] as number;
          const r = root[c] as number;
          return (g * x) / r - (g * (bn.mean[c] as number)) / r + (bn.beta[c] as number);
        }),
      ),
    };
  }

  test("convolution -> batchnorm with epsilon 0 and a zero variance folds with 1e-5 (float32): finite weights", () => {
    const bn: BatchnormInit = { gamma: [1, 2], beta: [0, 0.5], mean: [0.25, 1], variance: [0, 3], epsilon: 0 };
    const [fused] = fuseLayers(layers(conv("c", "x", "c0", [1, 2], [0.5, -1]), batchnorm("bn", "c0", "y", bn)));
    const got = affine(fused);
    const want = folded([1, 2], [0.5, -1], bn, 9.99999974737875e-6);
    expect(got).toEqual({ weights: want.weights, hasBias: true, bias: want.bias });
    expect(got.weights.every(Number.isFinite)).toBe(true);
    // 1/sqrt(1e-5) is about 316.2
    expect(got.weights[0]).toBeCloseTo(316.2278, 3);
  });

  test("a non-zero epsilon is used as given", () => {
    const bn: BatchnormInit = { gamma: [1, 2], beta: [0, 0], mean: [0, 0], variance: [0.5, 3.5], epsilon: 0.5 };
    const [fused] = fuseLayers(layers(conv("c", "x", "c0", [1, 2]), batchnorm("bn", "c0", "y", bn)));
    // sqrt(0.5 + 0.5) = 1, sqrt(3.5 + 0.5) = 2: factors 1 and 1
    expect(affine(fused)).toEqual({ weights: [1, 2], hasBias: true, bias: [0, 0] });
  });
});

// ---------------------------------------------------------------------------
// Blobs read outside the network survive
// ---------------------------------------------------------------------------

describe("blobs read outside the network", () => {
  const pair = (): NeuralNetworkLayer[] => layers(innerProduct("fc", "x", "f", 2, [1, 2, 3, 4], [0.5, -1]), bias("b", "f", "y", [2], [1, 1]));

  test("a layer writing a kept blob absorbs nothing", () => {
    const input = pair();
    expect(fuseLayers(input, { keep: new Set(["f"]) })).toEqual(input);
    expect(fuseLayers(input, { keep: new Set(["y"]) })).toHaveLength(1); // the absorbed layer's outputs survive fusion anyway
    expect(fuseLayers(input)).toHaveLength(1);
  });

  test("a chain stops at the kept blob: fc absorbs the bias, not the scale after it", () => {
    const [fused, ...rest] = fuseLayers(
      layers(innerProduct("fc", "x", "f", 2, [1, 2, 3, 4]), bias("b", "f", "g", [2], [1, 1]), scale("s", "g", "y", [2], [2, 2])),
      { keep: new Set(["g"]) },
    );
    expect(fused?.output).toEqual(["g"]);
    expect(rest.map((l) => l.name)).toEqual(["s"]);
  });

  test("modelBlobsKept: the model's outputs, a classifier's labelProbabilityLayerName, loss layer inputs", () => {
    const model = buildModel({
      specificationVersion: 4,
      description: { output: [{ name: "classLabel" }, { name: "probs" }] },
      Type: {
        case: "neuralNetworkClassifier",
        value: {
          layers: [],
          labelProbabilityLayerName: "softmax_out",
          updateParams: {
            lossLayers: [{ name: "loss", LossLayerType: { case: "categoricalCrossEntropyLossLayer", value: { input: "probs_in", target: "t" } } }],
          },
        },
      },
    });
    expect(modelBlobsKept(model)).toEqual(new Set(["classLabel", "probs", "softmax_out", "probs_in"]));
  });

  test("nestedBlobsKept: a body keeps what the enclosing network, a sibling body or the loop itself reads", () => {
    const body = { layers: [conv("bc", "x", "inner", [1, 2]), bias("bb", "inner", "shared", [2], [1, 1]), relu("br", "shared", "cond")] };
    const other = { layers: [relu("or", "shared", "z")] };
    const outer = layers(
      { name: "loop", input: [], output: [], layer: { case: "loop", value: { conditionVar: "cond", conditionNetwork: other, bodyNetwork: body } } },
      relu("after", "inner", "out"),
    );
    const loop = outer[0]?.layer;
    if (loop?.case !== "loop" || loop.value.bodyNetwork === undefined) throw new Error("unreachable");
    const kept = nestedBlobsKept(outer, new Set(["model_out"]))(loop.value.bodyNetwork);
    // inner: read by "after"; shared: by the condition network; cond: by the loop. Not "x" (not written in the body).
    expect(kept).toEqual(new Set(["inner", "shared", "cond"]));
    expect(nestedBlobsKept(outer, new Set(["inner"]))(loop.value.bodyNetwork)).toContain("inner");
  });

  test("quantizeWeights keeps a fused layer's output that is a model output, and a body's blob read after the branch", () => {
    const model: Model = buildModel({
      specificationVersion: 4,
      description: { output: [{ name: "f" }, { name: "y" }, { name: "out" }] },
      Type: {
        case: "neuralNetwork",
        value: {
          layers: [
            innerProduct("fc", "x", "f", 2, [1, 2, 3, 4], [0.5, -1]),
            bias("b", "f", "y", [2], [1, 1]),
            {
              name: "branch",
              input: ["c"],
              output: [],
              layer: {
                case: "branch",
                value: { ifBranch: { layers: [innerProduct("bfc", "x", "bf", 2, [1, 2, 3, 4]), bias("bb", "bf", "by", [2], [1, 1])] } },
              },
            },
            relu("after", "bf", "out"),
          ],
        },
      },
    });
    const quantized = quantizeWeights(model, { nbits: 8 });
    expect(walkLayers(quantized).map(({ layer }) => `${layer.name}:${layer.output.join(",")}`)).toEqual([
      "fc:f",
      "b:y",
      "branch:",
      "bfc:bf",
      "bb:by",
      "after:out",
    ]);
    // The report fuses the original the same way, so the networks still correspond.
    expect(weightReport(model, quantized).tensors.length).toBeGreaterThan(0);
  });

  test("where nothing outside reads the blob, quantizeWeights still fuses (top level and body)", () => {
    const model: Model = buildModel({
      specificationVersion: 4,
      description: { output: [{ name: "y" }] },
      Type: {
        case: "neuralNetwork",
        value: {
          layers: [
            innerProduct("fc", "x", "f", 2, [1, 2, 3, 4], [0.5, -1]),
            bias("b", "f", "y", [2], [1, 1]),
            {
              name: "branch",
              input: ["c"],
              output: [],
              layer: {
                case: "branch",
                value: { ifBranch: { layers: [innerProduct("bfc", "x", "bf", 2, [1, 2, 3, 4]), bias("bb", "bf", "by", [2], [1, 1])] } },
              },
            },
          ],
        },
      },
    });
    const quantized = quantizeWeights(model, { nbits: 8 });
    expect(walkLayers(quantized).map(({ layer }) => `${layer.name}:${layer.output.join(",")}`)).toEqual(["fc:y", "branch:", "bfc:by"]);
    expect(weightReport(model, quantized).tensors.length).toBeGreaterThan(0);
  });
});

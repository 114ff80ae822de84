/**
 * Fusion never turns finite weights into non-finite ones. The folded values follow
 * the reference's numpy types (float16 arithmetic when both operands are float16,
 * float32 storage), where they can overflow although the two layers compute finite
 * values: such a pair stays two layers, each quantized on its own, instead of the
 * fused layer being refused as `non-finite-weight` for weights the model does not hold.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { encodeFloat16 } from "../../src/codec/float16.js";
import type { NeuralNetworkLayer } from "../../src/codec/model-types.js";
import type { NeuralNetworkLayerSchema, WeightParamsSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { dequantizeWeights, quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { fuseLayers } from "../../src/walker/fuse.js";
import { buildLayer, buildModel, walkLayers } from "./helpers.js";

type LayerInit = MessageInitShape<typeof NeuralNetworkLayerSchema>;
type WeightsInit = MessageInitShape<typeof WeightParamsSchema>;

const f32 = (values: readonly number[]): WeightsInit => ({ floatValue: [...values] });
const f16 = (values: readonly number[]): WeightsInit => ({ float16Value: encodeFloat16(Float32Array.from(values)) });

/** 1x1 convolution with one kernel channel: one weight per output channel. */
function conv(input: string, output: string, weights: WeightsInit, bias?: WeightsInit): LayerInit {
  const channels = BigInt((weights.floatValue?.length ?? 0) + (weights.float16Value?.length ?? 0) / 2);
  return {
    name: "c",
    input: [input],
    output: [output],
    layer: {
      case: "convolution",
      value: {
        outputChannels: channels,
        kernelChannels: 1n,
        nGroups: 1n,
        kernelSize: [1n, 1n],
        stride: [1n, 1n],
        dilationFactor: [1n, 1n],
        weights,
        hasBias: bias !== undefined,
        ...(bias === undefined ? {} : { bias }),
      },
    },
  };
}

function batchnorm(
  input: string,
  output: string,
  p: { gamma: WeightsInit; beta: WeightsInit; mean: WeightsInit; variance: WeightsInit; channels: number },
): LayerInit {
  const { channels, ...weights } = p;
  return {
    name: "bn",
    input: [input],
    output: [output],
    layer: { case: "batchnorm", value: { channels: BigInt(channels), epsilon: Math.fround(1e-5), ...weights } },
  };
}

function scale(input: string, output: string, channels: number, s: WeightsInit): LayerInit {
  return { name: "s", input: [input], output: [output], layer: { case: "scale", value: { shapeScale: [BigInt(channels)], scale: s, hasBias: false } } };
}

function bias(input: string, output: string, channels: number, b: WeightsInit): LayerInit {
  return { name: "b", input: [input], output: [output], layer: { case: "bias", value: { shape: [BigInt(channels)], bias: b } } };
}

const layers = (...inits: LayerInit[]): NeuralNetworkLayer[] => inits.map(buildLayer);

const cases: { name: string; pair: () => LayerInit[] }[] = [
  {
    // float16 gamma / sqrt(variance + 1e-5) = -207.4 / 0.003164 = -65548: -Infinity in float16; 0 * -Infinity is NaN.
    name: "convolution -> batchnorm: float16 gamma -207.4 over a zero float16 variance",
    pair: () => [
      conv("x", "c0", f32([0, 1])),
      batchnorm("c0", "y", {
        channels: 2,
        gamma: f16([-207.4, -207.4]),
        beta: f32([0, 0]),
        mean: f32([0, 0]),
        variance: f16([0, 0]),
      }),
    ],
  },
  {
    name: "convolution -> scale: float16 65504 times float16 2",
    pair: () => [conv("x", "c0", f16([65504, 1])), scale("c0", "y", 2, f16([2, 2]))],
  },
  {
    name: "convolution -> bias: float16 bias 65504 plus float16 65504",
    pair: () => [conv("x", "c0", f32([1, 1]), f16([65504, 0])), bias("c0", "y", 2, f16([65504, 0]))],
  },
  {
    name: "convolution -> scale: float32 3e38 times 2 is beyond float32",
    pair: () => [conv("x", "c0", f32([3e38, 1])), scale("c0", "y", 2, f32([2, 2]))],
  },
  {
    name: "batchnorm -> scale: float16 gamma 65504 times float16 2",
    pair: () => [
      batchnorm("x", "b0", {
        channels: 2,
        gamma: f16([65504, 1]),
        beta: f32([0, 0]),
        mean: f32([0, 0]),
        variance: f32([1, 1]),
      }),
      scale("b0", "y", 2, f16([2, 2])),
    ],
  },
];

describe("a fusion that would overflow is not made", () => {
  test.each(cases)("$name: two layers stay", ({ pair }) => {
    const input = layers(...pair());
    expect(fuseLayers(input)).toEqual(input);
  });

  test.each(cases)("$name: quantizeWeights keeps and quantizes both layers (no non-finite-weight refusal)", ({ pair }) => {
    const model = buildModel({ specificationVersion: 4, Type: { case: "neuralNetwork", value: { layers: pair() } } });
    const out = quantizeWeights(model, { nbits: 8 });
    expect(walkLayers(out).map(({ layer }) => layer.name)).toEqual(pair().map((l) => l.name));
  });

  test("the batchnorm pair folds once its weights are float32 (after dequantization): float64 arithmetic does not overflow", () => {
    const model = buildModel({ specificationVersion: 4, Type: { case: "neuralNetwork", value: { layers: (cases[0] as (typeof cases)[number]).pair() } } });
    const q = quantizeWeights(model, { nbits: 8 });
    expect(walkLayers(q)).toHaveLength(2);
    expect(walkLayers(quantizeWeights(dequantizeWeights(q), { nbits: 8 }))).toHaveLength(1);
  });

  test("the same pairs without the overflow still fold (float16 arithmetic as before)", () => {
    // 2 * 2 in float16 is 4: nothing to refuse.
    const [fused, ...rest] = fuseLayers(layers(conv("x", "c0", f16([2, 1])), scale("c0", "y", 2, f16([2, 2]))));
    expect(rest).toEqual([]);
    const l = fused?.layer;
    if (l?.case !== "convolution") throw new Error("not a convolution");
    expect(Array.from(l.value.weights?.floatValue ?? [])).toEqual([4, 2]);
  });
});

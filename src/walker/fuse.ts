/**
 * Layer fusion before quantizing: a convolution or innerProduct followed by the
 * batchnorm, scale or bias layer it alone feeds absorbs that layer (and a
 * batchnorm absorbs a following scale), as the reference does, so fewer tensors
 * are quantized and the folded weights are quantized together.
 *
 * Producers and consumers are indexed by blob name once per pass, so a pass is
 * linear in the number of layers (the reference rebuilds its graph per fusion).
 *
 * @packageDocumentation
 */
import type { NeuralNetworkLayer, WeightParams } from "../codec/model-types.js";
import { readWeights, withFloat32, weightStorage } from "../codec/weight-storage.js";
import { create } from "@bufbuild/protobuf";
import { WeightParamsSchema } from "../gen/NeuralNetwork_pb.js";
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../codec/float16.js";

type Layer = NeuralNetworkLayer;
type ConvParams = Extract<Layer["layer"], { case: "convolution" }>["value"];
type InnerProductParams = Extract<Layer["layer"], { case: "innerProduct" }>["value"];
type BatchnormParams = Extract<Layer["layer"], { case: "batchnorm" }>["value"];
type ScaleParams = Extract<Layer["layer"], { case: "scale" }>["value"];
type BiasParams = Extract<Layer["layer"], { case: "bias" }>["value"];

/** A weighted layer's view for fusion: its weights (one row per output channel) and bias. */
interface Affine {
  readonly weights: Vector;
  readonly channels: number;
  readonly bias: Vector | undefined;
}

/** How one kind of first layer absorbs one kind of second layer; undefined: not fusable. */
type Fusion = (first: Layer, second: Layer) => Layer | undefined;

/**
 * The fusions, in the order the reference tries them: for each first-layer kind
 * (all convolutions in layer order, then innerProducts, then batchnorms), the
 * second-layer kinds it absorbs, in order.
 */
const FUSIONS: readonly { readonly first: string; readonly second: readonly { readonly kind: string; readonly fuse: Fusion }[] }[] = [
  {
    first: "convolution",
    second: [
      { kind: "batchnorm", fuse: (a, b) => fuseAffine(a, b, batchnormUpdate) },
      { kind: "scale", fuse: (a, b) => fuseAffine(a, b, scaleUpdate) },
      { kind: "bias", fuse: (a, b) => fuseAffine(a, b, biasUpdate) },
    ],
  },
  {
    first: "innerProduct",
    second: [
      { kind: "scale", fuse: (a, b) => fuseAffine(a, b, scaleUpdate) },
      { kind: "bias", fuse: (a, b) => fuseAffine(a, b, biasUpdate) },
    ],
  },
  { first: "batchnorm", second: [{ kind: "scale", fuse: fuseBatchnormScale }] },
];

/**
 * Fuses the layers of one network (not of nested networks) until nothing fuses.
 *
 * @param layers - the network's layers; not modified
 * @returns the fused layer list (`layers` itself when nothing fused)
 */
export function fuseLayers(layers: readonly Layer[]): Layer[] {
  let current = layers.slice();
  for (;;) {
    const next = fuseFirst(current);
    if (next === undefined) return current;
    current = next;
  }
}

function fuseFirst(layers: Layer[]): Layer[] | undefined {
  const producers = new Map<string, number[]>();
  const consumers = new Map<string, number[]>();
  layers.forEach((layer, i) => {
    for (const name of layer.output) push(producers, name, i);
    for (const name of layer.input) push(consumers, name, i);
  });
  for (const { first, second } of FUSIONS) {
    for (let i = 0; i < layers.length; i++) {
      const a = layers[i] as Layer;
      if (a.layer.case !== first) continue;
      const fed = unique(a.output.flatMap((name) => consumers.get(name) ?? []));
      if (fed.length !== 1) continue;
      const j = fed[0] as number;
      const b = layers[j] as Layer;
      if (unique(b.input.flatMap((name) => producers.get(name) ?? [])).length !== 1) continue;
      for (const candidate of second) {
        if (b.layer.case !== candidate.kind) continue;
        const fused = candidate.fuse(a, b);
        if (fused === undefined) break;
        const out = layers.slice();
        out[i] = { ...fused, output: b.output.slice() };
        out.splice(j, 1);
        return out;
      }
    }
  }
  return undefined;
}

/**
 * A vector as the reference holds it in numpy: float32 storage is read as float64,
 * float16 storage stays float16, and arithmetic between two float16 operands
 * rounds to float16 (numpy's type promotion). Fused values match the reference's
 * bit for bit only if that is followed.
 */
interface Vector {
  readonly values: Float64Array;
  readonly half: boolean;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
/** `x` rounded to float16 when `half`: exact for + - * / sqrt of float16 operands. */
function round(half: boolean, x: number): number {
  if (!half) return x;
  scratch[0] = x;
  scratchBits[0] = float16BitsToFloat32Bits(float32BitsToFloat16Bits(scratchBits[0] as number));
  return scratch[0] as number;
}

/** How a first layer's weights and bias change; undefined: not fusable. */
interface AffineUpdate {
  /** Per-channel multiplier of the weights (and of the bias, unless `bias` says otherwise). */
  readonly multiply: Vector | undefined;
  /** The new bias of channel c from the old one (b = 0 and `hasBias` false: `undefined`). */
  readonly bias: ((b: number, bHalf: boolean, c: number) => number) | undefined;
}

function fuseAffine(first: Layer, second: Layer, updateOf: (second: Layer, channels: number) => AffineUpdate | undefined): Layer | undefined {
  const affine = affineOf(first);
  if (affine === undefined) return undefined;
  const update = updateOf(second, affine.channels);
  if (update === undefined) return undefined;
  let weights = Float32Array.from(affine.weights.values);
  const { multiply } = update;
  if (multiply !== undefined) {
    const rowLength = weights.length / affine.channels;
    const half = multiply.half && affine.weights.half;
    for (let c = 0; c < affine.channels; c++) {
      const m = multiply.values[c] as number;
      for (let k = c * rowLength; k < (c + 1) * rowLength; k++) weights[k] = round(half, m * (affine.weights.values[k] as number));
    }
  }
  if (update.bias === undefined) return withAffine(first, weights, affine.bias === undefined ? undefined : Float32Array.from(affine.bias.values));
  const bias = new Float32Array(affine.channels);
  for (let c = 0; c < affine.channels; c++) {
    bias[c] = update.bias(affine.bias === undefined ? 0 : (affine.bias.values[c] as number), affine.bias?.half ?? false, c);
  }
  return withAffine(first, weights, bias);
}

function affineOf(layer: Layer): Affine | undefined {
  const params = layer.layer.value as ConvParams | InnerProductParams;
  if (layer.layer.case === "convolution" && (params as ConvParams).isDeconvolution) return undefined;
  const weights = vectorOf(params.weights);
  if (weights === undefined) return undefined;
  const channels = Number(params.outputChannels);
  if (channels === 0 || weights.values.length % channels !== 0) return undefined;
  let bias: Vector | undefined;
  if (params.hasBias) {
    bias = vectorOf(params.bias);
    if (bias === undefined || bias.values.length !== channels) return undefined;
  }
  return { weights, channels, bias };
}

function withAffine(layer: Layer, weights: Float32Array, bias: Float32Array | undefined): Layer {
  const params = layer.layer.value as ConvParams | InnerProductParams;
  const next = {
    ...params,
    weights: withFloat32(params.weights ?? emptyWeights(), weights),
    ...(bias === undefined ? {} : { hasBias: true, bias: withFloat32(params.bias ?? emptyWeights(), bias) }),
  };
  return { ...layer, layer: { case: layer.layer.case, value: next } as Layer["layer"] };
}

function batchnormUpdate(second: Layer, channels: number): AffineUpdate | undefined {
  const bn = second.layer.value as BatchnormParams;
  if (bn.instanceNormalization) return undefined;
  const [gamma, beta, mean, variance] = [bn.gamma, bn.beta, bn.mean, bn.variance].map(vectorOf);
  if (gamma === undefined || beta === undefined || mean === undefined || variance === undefined) return undefined;
  if ([gamma, beta, mean, variance].some((v) => v.values.length !== channels)) return undefined;
  const root = new Float64Array(channels);
  const factor = new Float64Array(channels);
  const factorHalf = gamma.half && variance.half;
  for (let c = 0; c < channels; c++) {
    root[c] = round(variance.half, Math.sqrt(round(variance.half, (variance.values[c] as number) + bn.epsilon)));
    factor[c] = round(factorHalf, (gamma.values[c] as number) / (root[c] as number));
  }
  // b' = gamma*b/sqrt(v+eps) - gamma*mean/sqrt(v+eps) + beta, in this order.
  const bias = (b: number, bHalf: boolean, c: number): number => {
    const g = gamma.values[c] as number;
    const r = root[c] as number;
    const h1 = gamma.half && bHalf;
    const t1 = round(h1 && variance.half, round(h1, g * b) / r);
    const h2 = gamma.half && mean.half;
    const t2 = round(h2 && variance.half, round(h2, g * (mean.values[c] as number)) / r);
    const h3 = h1 && variance.half && h2 && variance.half;
    return round(h3 && beta.half, round(h3, t1 - t2) + (beta.values[c] as number));
  };
  return { multiply: { values: factor, half: factorHalf }, bias };
}

function scaleUpdate(second: Layer, channels: number): AffineUpdate | undefined {
  const scale = second.layer.value as ScaleParams;
  const s = perChannel(vectorOf(scale.scale), channels);
  if (s === undefined) return undefined;
  if (!scale.hasBias) return { multiply: s, bias: undefined };
  const sb = perChannel(vectorOf(scale.bias), channels);
  if (sb === undefined) return undefined;
  // With a scale bias: no bias of its own -> sb; else s*b + sb.
  return {
    multiply: s,
    bias: (b, bHalf, c) => {
      const h = s.half && bHalf;
      return round(h && sb.half, round(h, (s.values[c] as number) * b) + (sb.values[c] as number));
    },
  };
}

function biasUpdate(second: Layer, channels: number): AffineUpdate | undefined {
  const bb = perChannel(vectorOf((second.layer.value as BiasParams).bias), channels);
  if (bb === undefined) return undefined;
  return { multiply: undefined, bias: (b, bHalf, c) => round(bHalf && bb.half, b + (bb.values[c] as number)) };
}

function fuseBatchnormScale(first: Layer, second: Layer): Layer | undefined {
  const bn = first.layer.value as BatchnormParams;
  const channels = Number(bn.channels);
  const gamma = vectorOf(bn.gamma);
  const beta = vectorOf(bn.beta);
  const scale = second.layer.value as ScaleParams;
  const s = perChannel(vectorOf(scale.scale), channels);
  const sb = scale.hasBias ? perChannel(vectorOf(scale.bias), channels) : undefined;
  if (gamma === undefined || beta === undefined || s === undefined || (scale.hasBias && sb === undefined)) return undefined;
  if (gamma.values.length !== channels || beta.values.length !== channels) return undefined;
  const newGamma = new Float32Array(channels);
  const newBeta = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const sc = s.values[c] as number;
    newGamma[c] = round(gamma.half && s.half, (gamma.values[c] as number) * sc);
    const scaled = round(beta.half && s.half, (beta.values[c] as number) * sc);
    newBeta[c] = sb === undefined ? scaled : round(beta.half && s.half && sb.half, scaled + (sb.values[c] as number));
  }
  const value = {
    ...bn,
    gamma: withFloat32(bn.gamma ?? emptyWeights(), newGamma),
    beta: withFloat32(bn.beta ?? emptyWeights(), newBeta),
  };
  return { ...first, layer: { case: "batchnorm", value } };
}

/** Float32 or float16 weights as a {@link Vector}; undefined for quantized or missing ones (not fusable). */
function vectorOf(weightParams: WeightParams | undefined): Vector | undefined {
  if (weightParams === undefined) return undefined;
  const kind = weightStorage(weightParams).kind;
  if (kind !== "float32" && kind !== "float16") return undefined;
  return { values: Float64Array.from(readWeights(weightParams)), half: kind === "float16" };
}

/** A per-channel vector, a single value broadcast to every channel. */
function perChannel(vector: Vector | undefined, channels: number): Vector | undefined {
  if (vector === undefined) return undefined;
  if (vector.values.length === channels) return vector;
  if (vector.values.length === 1) return { values: new Float64Array(channels).fill(vector.values[0] as number), half: vector.half };
  return undefined;
}

function emptyWeights(): WeightParams {
  return { ...create(WeightParamsSchema), floatValue: new Float32Array(0) };
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function unique(values: number[]): number[] {
  return [...new Set(values)];
}

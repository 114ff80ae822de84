/**
 * Layer fusion before quantizing: a convolution or innerProduct followed by the
 * batchnorm, scale or bias layer it alone feeds absorbs that layer (and a
 * batchnorm absorbs a following scale), as the reference does, so fewer tensors
 * are quantized and the folded weights are quantized together.
 *
 * Unlike the reference, fusion never changes what the network computes
 * (docs/reference-fixes.md, fix 10): scale and bias layers fold only when per
 * channel, a batchnorm with run-time statistics never folds, an epsilon of 0 is
 * the format's 1e-5, a scale without a bias scales the layer's bias too, a fold
 * whose values overflow (float16 arithmetic, float32 storage) is not made, and a
 * blob read outside the network ({@link FuseOptions}) is never fused away.
 *
 * Producers and consumers are indexed by blob name once and kept current as
 * layers are absorbed, so fusion is linear in the number of layers (the reference
 * rebuilds its graph per fusion and starts over).
 *
 * @packageDocumentation
 */
import { MAX_NESTING_DEPTH } from "../codec/decode-model.js";
import type { Model, NeuralNetwork, NeuralNetworkLayer, WeightParams } from "../codec/model-types.js";
import { withFloat32, weightStorage } from "../codec/weight-storage.js";
import { readWeights } from "./read-weights.js";
import { create } from "@bufbuild/protobuf";
import { WeightParamsSchema } from "../gen/NeuralNetwork_pb.js";
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../codec/float16.js";
import { QuantizeError } from "../errors.js";
import { isNetworkModel, nestedNetworks } from "./networks.js";

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

/** Options of {@link fuseLayers}. */
export interface FuseOptions {
  /**
   * Blobs that must survive fusion because something outside the network reads
   * them: for a model's network {@link modelBlobsKept}, for a branch or loop body
   * {@link nestedBlobsKept}. A layer writing one absorbs nothing (the fused layer
   * would write the absorbed layer's outputs instead).
   * @defaultValue none: every blob may vanish
   */
  readonly keep?: ReadonlySet<string>;
}

/**
 * Fuses the layers of one network (not of nested networks) until nothing fuses.
 *
 * The reference starts over from the first layer after each fusion. Only the layer
 * that absorbed another can fuse where it could not before (the absorbed layer read
 * nothing but its output, so no other layer's producers or consumers change), so
 * trying that layer again at once, then going on, fuses the same pairs in the same
 * order, in one pass per kind of first layer.
 *
 * @param layers - the network's layers; not modified
 * @param options - the blobs that must survive
 * @returns the fused layer list (a copy of `layers` when nothing fused)
 */
export function fuseLayers(layers: readonly Layer[], options: FuseOptions = {}): Layer[] {
  const { keep } = options;
  const out: (Layer | undefined)[] = layers.slice();
  const blobs = new BlobIndex(layers);
  let fused = false;
  for (const { first, second } of FUSIONS) {
    for (let i = 0; i < out.length; i++) {
      while (out[i]?.layer.case === first && fuseNext(out, blobs, i, second, keep)) fused = true;
    }
  }
  return fused ? out.filter((layer): layer is Layer => layer !== undefined) : (out as Layer[]);
}

/** Fuses layer `i` with the one layer it feeds, if that one can be absorbed; whether it did. */
function fuseNext(
  layers: (Layer | undefined)[],
  blobs: BlobIndex,
  i: number,
  second: (typeof FUSIONS)[number]["second"],
  keep: ReadonlySet<string> | undefined,
): boolean {
  const a = layers[i] as Layer;
  // Fusing would replace a's outputs by b's: one read outside the network must stay.
  if (keep !== undefined && a.output.some((name) => keep.has(name))) return false;
  const fed = blobs.consumersOf(a.output);
  if (fed.length !== 1) return false;
  const j = fed[0] as number;
  const b = layers[j] as Layer;
  if (blobs.producersOf(b.input).length !== 1) return false;
  const candidate = second.find((c) => c.kind === b.layer.case);
  const fused = candidate?.fuse(a, b);
  if (fused === undefined) return false;
  layers[i] = { ...fused, output: b.output.slice() };
  layers[j] = undefined;
  blobs.absorb(i, a, j, b);
  return true;
}

/**
 * The blobs of a network model that are read outside its network: the model's
 * outputs, a classifier's `labelProbabilityLayerName` and the inputs of its loss
 * layers (updatable models). Fusion must keep them (see {@link FuseOptions}).
 *
 * @param model - a model (anything but a network model keeps nothing)
 * @returns the blob names
 */
export function modelBlobsKept(model: Model): Set<string> {
  const kept = new Set<string>();
  if (!isNetworkModel(model)) return kept;
  for (const feature of model.description?.output ?? []) kept.add(feature.name);
  const network = model.Type.value;
  if (model.Type.case === "neuralNetworkClassifier" && model.Type.value.labelProbabilityLayerName !== "") {
    kept.add(model.Type.value.labelProbabilityLayerName);
  }
  for (const loss of network.updateParams?.lossLayers ?? []) {
    if (loss.LossLayerType.value !== undefined) kept.add(loss.LossLayerType.value.input);
  }
  return kept;
}

/**
 * For the networks nested in the layers of one network (branch and loop bodies):
 * the blobs each must keep (see {@link FuseOptions}), being read outside it: by
 * another layer of the enclosing network or of the networks nested there (a
 * sibling body included), by the branch or loop layer itself (a loop's
 * `conditionVar` included), or kept by the enclosing network.
 *
 * @param layers - the enclosing network's layers (as fused, if they were)
 * @param keep - the blobs the enclosing network keeps
 * @returns the blobs to keep for a body nested in one of `layers`
 * @throws {@link QuantizeError} `unsupported-model` when networks nest deeper than
 *   a decoded model can (a body that contains itself)
 */
export function nestedBlobsKept(layers: readonly Layer[], keep: ReadonlySet<string> | undefined): (body: NeuralNetwork) => Set<string> {
  let outer: Map<string, number> | undefined; // reads anywhere in `layers`, counted once, when first needed
  return (body) => {
    outer ??= countReads(layers);
    const inner = countReads(body.layers);
    const kept = new Set<string>();
    forEachNestedLayer(body.layers, 1, (layer) => {
      for (const name of layer.output) {
        if (keep?.has(name) === true || (outer?.get(name) ?? 0) > (inner.get(name) ?? 0)) kept.add(name);
      }
    });
    return kept;
  };
}

/** How often each blob is read by `layers` and the networks nested in them. */
function countReads(layers: readonly Layer[]): Map<string, number> {
  const counts = new Map<string, number>();
  const read = (name: string): void => void counts.set(name, (counts.get(name) ?? 0) + 1);
  forEachNestedLayer(layers, 1, (layer) => {
    layer.input.forEach(read);
    if (layer.layer.case === "loop" && layer.layer.value.conditionVar !== "") read(layer.layer.value.conditionVar);
  });
  return counts;
}

function forEachNestedLayer(layers: readonly Layer[], depth: number, visit: (layer: Layer) => void): void {
  if (depth > MAX_NESTING_DEPTH) {
    throw new QuantizeError("unsupported-model", `networks nest more than ${MAX_NESTING_DEPTH} deep; does a network contain itself?`);
  }
  for (const layer of layers) {
    visit(layer);
    for (const { network } of nestedNetworks(layer)) forEachNestedLayer(network.layers, depth + 1, visit);
  }
}

/**
 * Which layers write and read each blob that fusion asks about, by layer index
 * (blobs written by a layer that may fuse, or read by one that may be absorbed),
 * kept current as layers are absorbed.
 */
class BlobIndex {
  private readonly producers = new Map<string, number[]>();
  private readonly consumers = new Map<string, number[]>();
  /** Blobs read by a layer that may be absorbed: their producers are asked for. */
  private readonly read = new Set<string>();

  constructor(layers: readonly Layer[]) {
    const firsts = new Set(FUSIONS.map((f) => f.first));
    const seconds = new Set(FUSIONS.flatMap((f) => f.second.map((s) => s.kind)));
    // Blobs written by a layer that may fuse: their consumers are asked for.
    const written = new Set<string>();
    for (const layer of layers) {
      const kind = layer.layer.case ?? "";
      if (firsts.has(kind) || seconds.has(kind)) for (const name of layer.output) written.add(name);
      if (seconds.has(kind)) for (const name of layer.input) this.read.add(name);
    }
    layers.forEach((layer, i) => {
      for (const name of layer.output) if (this.read.has(name)) push(this.producers, name, i);
      for (const name of layer.input) if (written.has(name)) push(this.consumers, name, i);
    });
  }

  /** The layers reading any of `names`, each once. */
  consumersOf(names: readonly string[]): number[] {
    return unique(names.flatMap((name) => this.consumers.get(name) ?? []));
  }

  /** The layers writing any of `names`, each once. */
  producersOf(names: readonly string[]): number[] {
    return unique(names.flatMap((name) => this.producers.get(name) ?? []));
  }

  /** Layer `i` (was `a`) absorbed layer `j` (was `b`): it now writes b's outputs, and `j` is gone. */
  absorb(i: number, a: Layer, j: number, b: Layer): void {
    for (const name of b.input) remove(this.consumers, name, j);
    for (const name of a.output) remove(this.producers, name, i);
    for (const name of b.output) remove(this.producers, name, j);
    for (const name of b.output) if (this.read.has(name)) push(this.producers, name, i);
  }
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
  /** Per-channel multiplier of the weights. */
  readonly multiply: Vector | undefined;
  /** The new bias of channel c from the layer's own `b` (`undefined` when it has none, `bHalf` false then). */
  readonly bias: (b: number | undefined, bHalf: boolean, c: number) => number;
  /** Whether a layer without a bias gets one. */
  readonly addsBias: boolean;
}

function fuseAffine(first: Layer, second: Layer, updateOf: (second: Layer, channels: number) => AffineUpdate | undefined): Layer | undefined {
  const affine = affineOf(first);
  if (affine === undefined) return undefined;
  const update = updateOf(second, affine.channels);
  if (update === undefined) return undefined;
  const weights = Float32Array.from(affine.weights.values);
  const { multiply } = update;
  if (multiply !== undefined) {
    const rowLength = weights.length / affine.channels;
    const half = multiply.half && affine.weights.half;
    for (let c = 0; c < affine.channels; c++) {
      const m = multiply.values[c] as number;
      for (let k = c * rowLength; k < (c + 1) * rowLength; k++) weights[k] = round(half, m * (affine.weights.values[k] as number));
    }
  }
  if (!allFinite(weights)) return undefined;
  const own = affine.bias;
  if (own === undefined && !update.addsBias) return withAffine(first, weights, undefined);
  const bias = new Float32Array(affine.channels);
  for (let c = 0; c < affine.channels; c++) {
    bias[c] = update.bias(own === undefined ? undefined : (own.values[c] as number), own?.half ?? false, c);
  }
  return allFinite(bias) ? withAffine(first, weights, bias) : undefined;
}

/**
 * Whether every folded value is finite. Folding follows the reference's numpy types
 * (float16 arithmetic, float32 storage), where it can overflow although each of the
 * two layers computes finite values (a float16 gamma of -207.4 over a zero float16
 * variance gives an infinite factor, so a zero weight becomes NaN): such a pair stays
 * two layers, since a fold must not change what the network computes.
 */
function allFinite(values: Float32Array): boolean {
  return values.every(Number.isFinite);
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
  // Statistics computed at run time (computeMeanVar, or per instance) are no constants to fold.
  if (bn.instanceNormalization || bn.computeMeanVar) return undefined;
  const epsilon = batchnormEpsilon(bn);
  const [gamma, beta, mean, variance] = [bn.gamma, bn.beta, bn.mean, bn.variance].map(vectorOf);
  if (gamma === undefined || beta === undefined || mean === undefined || variance === undefined) return undefined;
  if ([gamma, beta, mean, variance].some((v) => v.values.length !== channels)) return undefined;
  const root = new Float64Array(channels);
  const factor = new Float64Array(channels);
  const factorHalf = gamma.half && variance.half;
  for (let c = 0; c < channels; c++) {
    root[c] = round(variance.half, Math.sqrt(round(variance.half, (variance.values[c] as number) + epsilon)));
    factor[c] = round(factorHalf, (gamma.values[c] as number) / (root[c] as number));
  }
  // b' = gamma*b/sqrt(v+eps) - gamma*mean/sqrt(v+eps) + beta, in this order.
  // b = 0 when the layer has no bias of its own.
  const bias = (own: number | undefined, bHalf: boolean, c: number): number => {
    const b = own ?? 0;
    const g = gamma.values[c] as number;
    const r = root[c] as number;
    const h1 = gamma.half && bHalf;
    const t1 = round(h1 && variance.half, round(h1, g * b) / r);
    const h2 = gamma.half && mean.half;
    const t2 = round(h2 && variance.half, round(h2, g * (mean.values[c] as number)) / r);
    const h3 = h1 && variance.half && h2 && variance.half;
    return round(h3 && beta.half, round(h3, t1 - t2) + (beta.values[c] as number));
  };
  return { multiply: { values: factor, half: factorHalf }, bias, addsBias: true };
}

/**
 * The format's default epsilon, 1e-5 as float32: what the runtime uses for a
 * batchnorm whose `epsilon` is 0 (folding 0 made a zero-variance channel infinite).
 */
const DEFAULT_BATCHNORM_EPSILON = Math.fround(1e-5);

/** A batchnorm's epsilon as the runtime reads it. */
function batchnormEpsilon(bn: BatchnormParams): number {
  return bn.epsilon === 0 ? DEFAULT_BATCHNORM_EPSILON : bn.epsilon;
}

function scaleUpdate(second: Layer, channels: number): AffineUpdate | undefined {
  const scale = second.layer.value as ScaleParams;
  const s = perChannel(vectorOf(scale.scale), scale.shapeScale, channels);
  if (s === undefined) return undefined;
  // s·(Wx + b) = (sW)x + s·b: without a scale bias, a bias of the layer's own is scaled too.
  if (!scale.hasBias) return { multiply: s, bias: (b, bHalf, c) => round(s.half && bHalf, (s.values[c] as number) * (b ?? 0)), addsBias: false };
  const sb = perChannel(vectorOf(scale.bias), scale.shapeBias, channels);
  if (sb === undefined) return undefined;
  // With a scale bias: no bias of its own -> sb; else s*b + sb.
  return {
    multiply: s,
    bias: (b, bHalf, c) => {
      if (b === undefined) return sb.values[c] as number;
      const h = s.half && bHalf;
      return round(h && sb.half, round(h, (s.values[c] as number) * b) + (sb.values[c] as number));
    },
    addsBias: true,
  };
}

function biasUpdate(second: Layer, channels: number): AffineUpdate | undefined {
  const params = second.layer.value as BiasParams;
  const bb = perChannel(vectorOf(params.bias), params.shape, channels);
  if (bb === undefined) return undefined;
  // No bias of its own -> bb; else b + bb.
  return {
    multiply: undefined,
    bias: (b, bHalf, c) => (b === undefined ? (bb.values[c] as number) : round(bHalf && bb.half, b + (bb.values[c] as number))),
    addsBias: true,
  };
}

function fuseBatchnormScale(first: Layer, second: Layer): Layer | undefined {
  const bn = first.layer.value as BatchnormParams;
  const channels = Number(bn.channels);
  const gamma = vectorOf(bn.gamma);
  const beta = vectorOf(bn.beta);
  const scale = second.layer.value as ScaleParams;
  const s = perChannel(vectorOf(scale.scale), scale.shapeScale, channels);
  const sb = scale.hasBias ? perChannel(vectorOf(scale.bias), scale.shapeBias, channels) : undefined;
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
  if (!allFinite(newGamma) || !allFinite(newBeta)) return undefined;
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

/**
 * A scale or bias layer's vector when it is one value per channel: shape `[C]` or
 * `[C, 1, 1]` and C values. Scalar (broadcast) and spatial ones are not folded:
 * undefined.
 */
function perChannel(vector: Vector | undefined, shape: readonly bigint[], channels: number): Vector | undefined {
  if (vector === undefined || vector.values.length !== channels) return undefined;
  const [first, ...rest] = shape;
  if (first !== BigInt(channels) || !(rest.length === 0 || (rest.length === 2 && rest.every((d) => d === 1n)))) return undefined;
  return vector;
}

function emptyWeights(): WeightParams {
  return { ...create(WeightParamsSchema), floatValue: new Float32Array(0) };
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function remove(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list !== undefined)
    map.set(
      key,
      list.filter((v) => v !== value),
    );
}

function unique(values: number[]): number[] {
  return [...new Set(values)];
}

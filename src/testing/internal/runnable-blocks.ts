/**
 * The blocks of runnableNetworkModel: a producer (convolution or innerProduct)
 * and the layers after it, the blob's `[C, H, W]` tracked from layer to layer so
 * that every layer accepts what it reads.
 *
 * @internal
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import type { NeuralNetworkLayer, WeightParams } from "../../codec/model-types.js";
import {
  ActivationParamsSchema,
  AddLayerParamsSchema,
  BatchnormLayerParamsSchema,
  BiasLayerParamsSchema,
  ConvolutionLayerParamsSchema,
  InnerProductLayerParamsSchema,
  SamePadding_SamePaddingMode,
  ScaleLayerParamsSchema,
  type ActivationParams,
} from "../../gen/NeuralNetwork_pb.js";
import { EDGE_VALUES, float32AtMost } from "./float-values.js";
import { floatWeightParams, product, typed, type FloatStorage } from "./messages.js";

/** The first layer of a block: the kinds fusion folds into. */
export type RunnableProducerKind = "convolution" | "innerProduct";
/** The layers after a producer: the kinds fusion folds, and activations (which stop it). */
export type RunnableFollowerKind = "batchnorm" | "scale" | "bias" | "activation";

/** Normalised constraints of runnableNetworkModel. */
export interface RunnableOptions {
  readonly producers: readonly RunnableProducerKind[];
  readonly followers: readonly RunnableFollowerKind[];
  readonly minBlocks: number;
  readonly maxBlocks: number;
  readonly maxFollowers: number;
  readonly maxChannels: number;
  readonly maxSpatial: number;
  readonly storages: readonly FloatStorage[];
  readonly maxMagnitude: number;
  readonly edgeValues: boolean;
  readonly nonFusable: boolean;
}

/** A blob as the trailing `[C, H, W]` axes of the rank-5 layout. */
export interface ChwShape {
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

type LayerOneof = NeuralNetworkLayer["layer"];

/**
 * A layer before it is named. It reads the blob the layer before it wrote
 * (`previous`; the network's input for the first layer) and, for the join of a
 * fan-out, the blob its block's producer wrote (`producer`).
 */
export interface LayerDraft {
  readonly layer: LayerOneof;
  readonly reads: readonly ("previous" | "producer")[];
}

/** A block's layers, producer first, and the shape of the blob the last one writes. */
export interface BlockDraft {
  readonly layers: readonly LayerDraft[];
  readonly output: ChwShape;
}

const big = BigInt;

/**
 * One weight value: mostly uniform on `[-m, m]` (a grid of 2^20 steps, which
 * shrinks towards 0), sometimes any float32 in range (mostly tiny: fast-check
 * draws exponents evenly), and with `edgeValues` the edge values within range.
 */
function value(options: RunnableOptions): fc.Arbitrary<number> {
  const m = float32AtMost(options.maxMagnitude);
  const steps = 1 << 20;
  const arbitraries: fc.WeightedArbitrary<number>[] = [
    { arbitrary: fc.integer({ min: -steps, max: steps }).map((i) => Math.fround((i / steps) * m)), weight: 8 },
    { arbitrary: fc.float({ min: -m, max: m, noNaN: true }), weight: 1 },
  ];
  if (options.edgeValues) arbitraries.push({ arbitrary: fc.constantFrom(...EDGE_VALUES.filter((v) => Math.abs(v) <= m)), weight: 1 });
  return fc.oneof(...arbitraries);
}

/** `count` values in a float storage; non-negative ones (variances) when asked. With edge values, sometimes one constant value. */
function weights(options: RunnableOptions, count: number, nonNegative = false): fc.Arbitrary<WeightParams> {
  const element = value(options);
  const plain = fc.array(element, { minLength: count, maxLength: count }).map((a) => Float32Array.from(a));
  const values =
    options.edgeValues && count > 1
      ? fc.oneof({ arbitrary: plain, weight: 5 }, { arbitrary: element.map((v) => new Float32Array(count).fill(v)), weight: 1 })
      : plain;
  return fc.tuple(fc.constantFrom(...options.storages), values).map(([storage, v]) => floatWeightParams(storage, nonNegative ? v.map(Math.abs) : v));
}

/** `{ [key]: value }`, or `{}` for undefined: optional message fields stay absent. */
const field = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

/** Divisors of `n` above 1. */
function divisorsAbove1(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => d > 1 && n % d === 0);
}

/** Output size of a convolution along one axis. */
function convolved(size: number, kernel: number, stride: number, same: boolean): number {
  return same ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/**
 * A convolution reading `x`: plain, grouped or depthwise (with `nonFusable`, also
 * a deconvolution, which never fuses); valid (kernel no larger than the input) or
 * same padding; stride 1 or 2. The output channel count is sometimes the output's
 * `H * W`, so that a scale or bias of shape `[1, H, W]` holds exactly C values.
 */
function convolution(options: RunnableOptions, x: ChwShape): fc.Arbitrary<BlockDraft> {
  const variants = ["plain", "grouped", "depthwise", ...(options.nonFusable ? ["deconvolution"] : [])];
  return fc
    .record({
      variant: fc.constantFrom(...variants),
      same: fc.boolean(),
      kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      stride: fc.constantFrom(1, 2),
      pick: fc.nat(),
      perGroup: fc.integer({ min: 1, max: options.maxChannels }),
      square: fc.boolean(),
      hasBias: fc.boolean(),
    })
    .chain((p) => {
      const deconv = p.variant === "deconvolution";
      const divisors = divisorsAbove1(x.c);
      // Grouped: a divisor of the input channels (none for 1 channel: one group); a deconvolution: one group half the time.
      const someGroups = divisors.length > 0 ? (divisors[p.pick % divisors.length] as number) : 1;
      const groups = p.variant === "depthwise" ? x.c : p.variant === "grouped" || (deconv && p.pick % 2 === 0) ? someGroups : 1;
      const same = p.same && !deconv;
      const stride = deconv ? 1 : p.stride;
      const kh = same ? p.kernel[0] : Math.min(p.kernel[0], x.h);
      const kw = same ? p.kernel[1] : Math.min(p.kernel[1], x.w);
      const h = deconv ? x.h + kh - 1 : convolved(x.h, kh, stride, same);
      const w = deconv ? x.w + kw - 1 : convolved(x.w, kw, stride, same);
      let oc = groups * Math.min(p.perGroup, Math.max(1, Math.floor(options.maxChannels / groups)));
      if (p.variant === "depthwise") oc = 2 * x.c <= options.maxChannels && p.pick % 2 === 1 ? 2 * x.c : x.c;
      else if (p.square && h * w <= options.maxChannels && (h * w) % groups === 0) oc = h * w;
      const kc = deconv ? x.c : x.c / groups;
      const count = deconv ? kc * (oc / groups) * kh * kw : oc * kc * kh * kw;
      return fc.record({ weights: weights(options, count), bias: p.hasBias ? weights(options, oc) : fc.constant(undefined) }).map(
        (wp): BlockDraft => ({
          layers: [
            {
              reads: ["previous"],
              layer: {
                case: "convolution",
                value: {
                  ...typed(
                    create(ConvolutionLayerParamsSchema, {
                      outputChannels: big(oc),
                      kernelChannels: big(kc),
                      nGroups: big(groups),
                      kernelSize: [big(kh), big(kw)],
                      stride: [big(stride), big(stride)],
                      dilationFactor: [1n, 1n],
                      isDeconvolution: deconv,
                      hasBias: p.hasBias,
                      ConvolutionPaddingType: same
                        ? {
                            case: "same",
                            value: {
                              asymmetryMode: p.pick % 3 === 0 ? SamePadding_SamePaddingMode.TOP_LEFT_HEAVY : SamePadding_SamePaddingMode.BOTTOM_RIGHT_HEAVY,
                            },
                          }
                        : { case: "valid", value: {} },
                    }),
                  ),
                  weights: wp.weights,
                  ...field("bias", wp.bias),
                },
              },
            },
          ],
          output: { c: oc, h, w },
        }),
      );
    });
}

/** An innerProduct reading `x` (all of `C * H * W`), writing `[C', 1, 1]`. */
function innerProduct(options: RunnableOptions, x: ChwShape): fc.Arbitrary<BlockDraft> {
  const ic = x.c * x.h * x.w;
  return fc.record({ oc: fc.integer({ min: 1, max: options.maxChannels }), hasBias: fc.boolean() }).chain(({ oc, hasBias }) =>
    fc.record({ weights: weights(options, oc * ic), bias: hasBias ? weights(options, oc) : fc.constant(undefined) }).map(
      (wp): BlockDraft => ({
        layers: [
          {
            reads: ["previous"],
            layer: {
              case: "innerProduct",
              value: {
                ...typed(create(InnerProductLayerParamsSchema, { inputChannels: big(ic), outputChannels: big(oc), hasBias })),
                weights: wp.weights,
                ...field("bias", wp.bias),
              },
            },
          },
        ],
        output: { c: oc, h: 1, w: 1 },
      }),
    ),
  );
}

/**
 * A batchnorm with stored statistics; with `nonFusable`, sometimes one computing
 * them (`computeMeanVar`, per instance or not), which must never fold. Epsilon 0
 * (which the format reads as 1e-5), 1e-5 or 1e-3.
 */
function batchnorm(options: RunnableOptions, x: ChwShape): fc.Arbitrary<LayerOneof> {
  const c = x.c;
  const modes = [
    { arbitrary: fc.constant("stored"), weight: 4 },
    ...(options.nonFusable
      ? [
          { arbitrary: fc.constant("computed"), weight: 1 },
          { arbitrary: fc.constant("instance"), weight: 1 },
        ]
      : []),
  ];
  return fc
    .record({
      mode: fc.oneof(...modes),
      epsilon: fc.constantFrom(0, Math.fround(1e-5), Math.fround(1e-3)),
      gamma: weights(options, c),
      beta: weights(options, c),
      mean: weights(options, c),
      variance: weights(options, c, true),
    })
    .map(
      (p): LayerOneof => ({
        case: "batchnorm",
        value: {
          ...typed(
            create(BatchnormLayerParamsSchema, {
              channels: big(c),
              computeMeanVar: p.mode !== "stored",
              instanceNormalization: p.mode === "instance",
              epsilon: p.epsilon,
            }),
          ),
          gamma: p.gamma,
          beta: p.beta,
          mean: p.mean,
          variance: p.variance,
        },
      }),
    );
}

/** Shapes a scale or bias parameter may have on `x`: `[1]`, `[C]`, `[C, 1, 1]`; with `nonFusable` also `[1, H, W]` and `[C, H, W]`. */
function parameterShape(options: RunnableOptions, x: ChwShape): fc.Arbitrary<number[]> {
  const shapes = [[1], [x.c], [x.c, 1, 1]];
  if (options.nonFusable) shapes.push([1, x.h, x.w], [x.c, x.h, x.w]);
  return fc.constantFrom(...shapes);
}

function scale(options: RunnableOptions, x: ChwShape): fc.Arbitrary<LayerOneof> {
  return fc.record({ shapeScale: parameterShape(options, x), shapeBias: parameterShape(options, x), hasBias: fc.boolean() }).chain((p) =>
    fc
      .record({
        scale: weights(options, product(p.shapeScale)),
        bias: p.hasBias ? weights(options, product(p.shapeBias)) : fc.constant(undefined),
      })
      .map(
        (wp): LayerOneof => ({
          case: "scale",
          value: {
            ...typed(
              create(ScaleLayerParamsSchema, {
                shapeScale: p.shapeScale.map(big),
                hasBias: p.hasBias,
                shapeBias: p.hasBias ? p.shapeBias.map(big) : [],
              }),
            ),
            scale: wp.scale,
            ...field("bias", wp.bias),
          },
        }),
      ),
  );
}

function bias(options: RunnableOptions, x: ChwShape): fc.Arbitrary<LayerOneof> {
  return parameterShape(options, x).chain((shape) =>
    weights(options, product(shape)).map(
      (b): LayerOneof => ({
        case: "bias",
        value: { ...typed(create(BiasLayerParamsSchema, { shape: shape.map(big) })), bias: b },
      }),
    ),
  );
}

/** Activations without weights: ReLU, leaky ReLU, tanh, sigmoid, linear. */
function activation(): fc.Arbitrary<LayerOneof> {
  const coefficient = fc.float({ min: -2, max: 2, noNaN: true });
  const params: fc.Arbitrary<ActivationParams> = fc.oneof(
    fc.constant(null).map(() => create(ActivationParamsSchema, { NonlinearityType: { case: "ReLU", value: {} } })),
    coefficient.map((alpha) => create(ActivationParamsSchema, { NonlinearityType: { case: "leakyReLU", value: { alpha } } })),
    fc.constant(null).map(() => create(ActivationParamsSchema, { NonlinearityType: { case: "tanh", value: {} } })),
    fc.constant(null).map(() => create(ActivationParamsSchema, { NonlinearityType: { case: "sigmoid", value: {} } })),
    fc.tuple(coefficient, coefficient).map(([alpha, beta]) => create(ActivationParamsSchema, { NonlinearityType: { case: "linear", value: { alpha, beta } } })),
  );
  return params.map((value): LayerOneof => ({ case: "activation", value: typed(value) }));
}

const FOLLOWERS: { readonly [K in RunnableFollowerKind]: (options: RunnableOptions, x: ChwShape) => fc.Arbitrary<LayerOneof> } = {
  batchnorm,
  scale,
  bias,
  activation: () => activation(),
};

const PRODUCERS: { readonly [K in RunnableProducerKind]: (options: RunnableOptions, x: ChwShape) => fc.Arbitrary<BlockDraft> } = {
  convolution,
  innerProduct,
};

/**
 * One block reading a blob of shape `x`: a producer, 0 to `maxFollowers` layers
 * after it (none changes the shape), and with `nonFusable`, sometimes an add of
 * the last blob and the producer's, so that the producer feeds two layers and
 * must not absorb the one after it.
 *
 * @param options - the constraints
 * @param x - the shape of the blob read
 * @returns the arbitrary
 */
export function blockArbitrary(options: RunnableOptions, x: ChwShape): fc.Arbitrary<BlockDraft> {
  const follower = (y: ChwShape): fc.Arbitrary<LayerDraft> =>
    fc
      .constantFrom(...options.followers)
      .chain((kind) => FOLLOWERS[kind](options, y))
      .map((layer): LayerDraft => ({ layer, reads: ["previous"] }));
  return fc
    .constantFrom(...options.producers)
    .chain((kind) => PRODUCERS[kind](options, x))
    .chain((block) =>
      fc
        .record({
          followers: fc.array(follower(block.output), { maxLength: options.maxFollowers }),
          fanOut: options.nonFusable ? fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }) : fc.constant(false),
        })
        .map(({ followers, fanOut }): BlockDraft => {
          const join: LayerDraft[] =
            fanOut && followers.length > 0 ? [{ layer: { case: "add", value: typed(create(AddLayerParamsSchema)) }, reads: ["previous", "producer"] }] : [];
          return { layers: [...block.layers, ...followers, ...join], output: block.output };
        }),
    );
}

/**
 * `count` blocks, each reading what the one before wrote.
 *
 * @param options - the constraints
 * @param count - how many blocks
 * @param x - the shape of the first block's input
 * @returns the arbitrary
 */
export function blocksArbitrary(options: RunnableOptions, count: number, x: ChwShape): fc.Arbitrary<BlockDraft[]> {
  if (count === 0) return fc.constant([]);
  return blockArbitrary(options, x).chain((block) => blocksArbitrary(options, count - 1, block.output).map((rest) => [block, ...rest]));
}

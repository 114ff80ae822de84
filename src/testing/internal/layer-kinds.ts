/**
 * One arbitrary per generated layer kind: the layer's parameters with consistent
 * sizes and every WeightParams its flags call for (value count = the product of the
 * shape src/walker/layer-table.ts declares).
 *
 * @internal
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import type { NeuralNetwork, NeuralNetworkLayer, WeightParams, WithTypedWeights } from "../../codec/model-types.js";
import {
  BatchedMatMulLayerParamsSchema,
  BatchnormLayerParamsSchema,
  BiasLayerParamsSchema,
  BiDirectionalLSTMLayerParamsSchema,
  BranchLayerParamsSchema,
  ConvolutionLayerParamsSchema,
  EmbeddingLayerParamsSchema,
  EmbeddingNDLayerParamsSchema,
  GRULayerParamsSchema,
  InnerProductLayerParamsSchema,
  LoadConstantLayerParamsSchema,
  LoadConstantNDLayerParamsSchema,
  LoopLayerParamsSchema,
  LSTMParamsSchema,
  LSTMWeightParamsSchema,
  ScaleLayerParamsSchema,
  SimpleRecurrentLayerParamsSchema,
  UniDirectionalLSTMLayerParamsSchema,
  type LSTMParams,
  type LSTMWeightParams,
} from "../../gen/NeuralNetwork_pb.js";
import { typed } from "./messages.js";

/** The layer kinds the arbitraries generate: every kind whose weights quantizeWeights changes, and branch and loop. */
export const GENERATED_LAYER_KINDS = [
  "convolution",
  "innerProduct",
  "batchedMatmul",
  "embedding",
  "embeddingND",
  "batchnorm",
  "scale",
  "bias",
  "loadConstant",
  "loadConstantND",
  "simpleRecurrent",
  "gru",
  "uniDirectionalLSTM",
  "biDirectionalLSTM",
  "branch",
  "loop",
] as const;

/** A layer kind {@link GENERATED_LAYER_KINDS} lists. */
export type GeneratedLayerKind = (typeof GENERATED_LAYER_KINDS)[number];

/** Kinds holding networks of their own. */
export const NESTING_KINDS: readonly GeneratedLayerKind[] = ["branch", "loop"];

/**
 * The kinds quantizeWeights folds into the layer before them, by that layer's kind
 * (src/walker/fuse.ts; test/testing/arbitraries.test.ts checks the two agree). The
 * network arbitrary often places one of them right after such a layer, so about 1
 * model in 8 fuses somewhere (3 in 100 when each layer's kind was drawn on its own).
 */
export const ABSORBED_KINDS: { readonly [K in GeneratedLayerKind]?: readonly GeneratedLayerKind[] } = {
  convolution: ["batchnorm", "scale", "bias"],
  innerProduct: ["scale", "bias"],
  batchnorm: ["scale"],
};

/** What a kind builder needs from the network it is in. */
export interface KindContext {
  /** The network's channel count: the output channels of every layer, so chained layers fit and fuse. */
  readonly channels: number;
  /** Largest size of any other dimension. */
  readonly maxChannels: number;
  /** Weights of `count` values (non-negative ones for variances). */
  readonly weights: (count: number, nonNegative?: boolean) => fc.Arbitrary<WeightParams>;
  /** A nested network for the field `field` of this layer. */
  readonly nested: (field: string) => fc.Arbitrary<NeuralNetwork>;
}

type LayerOneof = NeuralNetworkLayer["layer"];
type Builder = (ctx: KindContext) => fc.Arbitrary<LayerOneof>;

const big = BigInt;
const dim = (ctx: KindContext): fc.Arbitrary<number> => fc.integer({ min: 1, max: ctx.maxChannels });
/** `arbitrary` when `present`, else undefined (spread as `{}`). */
const maybe = <T>(present: boolean, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => (present ? arbitrary : fc.constant(undefined));
/** `{ [key]: value }`, or `{}` for undefined: optional message fields stay absent. */
const field = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
/** A shape for C per-channel values: [C], [1] (broadcast) or [C, 1, 1]. */
const channelShape = (c: number): fc.Arbitrary<number[]> => fc.constantFrom([c], [1], [c, 1, 1]);

const convolution: Builder = (ctx) =>
  fc
    .record({
      variant: fc.constantFrom("plain", "grouped", "depthwise", "deconvolution"),
      kernelChannels: dim(ctx),
      groups: fc.integer({ min: 2, max: 3 }),
      perGroup: fc.integer({ min: 1, max: Math.max(1, Math.ceil(ctx.maxChannels / 2)) }),
      kernel: fc.oneof(fc.constant([] as number[]), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))),
      hasBias: fc.boolean(),
    })
    .chain((p) => {
      let oc = ctx.channels;
      let kc = p.kernelChannels;
      let groups = 1;
      if (p.variant === "grouped") {
        groups = p.groups;
        oc = groups * p.perGroup;
      } else if (p.variant === "depthwise") {
        kc = 1;
        oc = Math.max(2, ctx.channels);
        groups = oc;
      } else if (p.variant === "deconvolution") {
        groups = p.groups - 1; // 1 or 2
        oc = groups * p.perGroup;
      }
      const [kh = 3, kw = 3] = p.kernel; // the format's default kernel is 3x3
      const deconv = p.variant === "deconvolution";
      const count = deconv ? kc * (oc / groups) * kh * kw : oc * kc * kh * kw;
      return fc.record({ weights: ctx.weights(count), bias: maybe(p.hasBias, ctx.weights(oc)) }).map(
        (w): LayerOneof => ({
          case: "convolution",
          value: {
            ...typed(
              create(ConvolutionLayerParamsSchema, {
                outputChannels: big(oc),
                kernelChannels: big(kc),
                nGroups: big(groups),
                kernelSize: p.kernel.map(big),
                stride: [1n, 1n],
                dilationFactor: [1n, 1n],
                isDeconvolution: deconv,
                hasBias: p.hasBias,
                ConvolutionPaddingType: { case: "valid", value: {} },
              }),
            ),
            weights: w.weights,
            ...field("bias", w.bias),
          },
        }),
      );
    });

const innerProduct: Builder = (ctx) =>
  fc.record({ ic: dim(ctx), hasBias: fc.boolean() }).chain(({ ic, hasBias }) => {
    const oc = ctx.channels;
    return fc.record({ weights: ctx.weights(oc * ic), bias: maybe(hasBias, ctx.weights(oc)) }).map(
      (w): LayerOneof => ({
        case: "innerProduct",
        value: {
          ...typed(create(InnerProductLayerParamsSchema, { inputChannels: big(ic), outputChannels: big(oc), hasBias })),
          weights: w.weights,
          ...field("bias", w.bias),
        },
      }),
    );
  });

const batchedMatmul: Builder = (ctx) =>
  fc.record({ first: dim(ctx), hasBias: fc.boolean() }).chain(({ first, hasBias }) => {
    const second = ctx.channels;
    return fc.record({ weights: ctx.weights(second * first), bias: maybe(hasBias, ctx.weights(second)) }).map(
      (w): LayerOneof => ({
        case: "batchedMatmul",
        value: {
          ...typed(
            create(BatchedMatMulLayerParamsSchema, {
              weightMatrixFirstDimension: big(first),
              weightMatrixSecondDimension: big(second),
              hasBias,
            }),
          ),
          weights: w.weights,
          ...field("bias", w.bias),
        },
      }),
    );
  });

const embedding: Builder = (ctx) =>
  fc.record({ inputDim: dim(ctx), hasBias: fc.boolean() }).chain(({ inputDim, hasBias }) => {
    const oc = ctx.channels;
    return fc.record({ weights: ctx.weights(oc * inputDim), bias: maybe(hasBias, ctx.weights(oc)) }).map(
      (w): LayerOneof => ({
        case: "embedding",
        value: {
          ...typed(create(EmbeddingLayerParamsSchema, { inputDim: big(inputDim), outputChannels: big(oc), hasBias })),
          weights: w.weights,
          ...field("bias", w.bias),
        },
      }),
    );
  });

const embeddingND: Builder = (ctx) =>
  fc.record({ vocab: dim(ctx), hasBias: fc.boolean() }).chain(({ vocab, hasBias }) => {
    const size = ctx.channels;
    return fc.record({ weights: ctx.weights(size * vocab), bias: maybe(hasBias, ctx.weights(size)) }).map(
      (w): LayerOneof => ({
        case: "embeddingND",
        value: {
          ...typed(create(EmbeddingNDLayerParamsSchema, { vocabSize: big(vocab), embeddingSize: big(size), hasBias })),
          weights: w.weights,
          ...field("bias", w.bias),
        },
      }),
    );
  });

const batchnorm: Builder = (ctx) => {
  const c = ctx.channels;
  return fc
    .record({
      instance: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
      epsilon: fc.constantFrom(Math.fround(1e-5), Math.fround(1e-3)),
      gamma: ctx.weights(c),
      beta: ctx.weights(c),
      mean: ctx.weights(c),
      variance: ctx.weights(c, true),
    })
    .map(
      (p): LayerOneof => ({
        case: "batchnorm",
        value: {
          ...typed(
            create(BatchnormLayerParamsSchema, {
              channels: big(c),
              computeMeanVar: p.instance,
              instanceNormalization: p.instance,
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
};

const scale: Builder = (ctx) =>
  fc.record({ shapeScale: channelShape(ctx.channels), shapeBias: channelShape(ctx.channels), hasBias: fc.boolean() }).chain((p) =>
    fc
      .record({
        scale: ctx.weights(p.shapeScale.reduce((a, b) => a * b, 1)),
        bias: maybe(p.hasBias, ctx.weights(p.shapeBias.reduce((a, b) => a * b, 1))),
      })
      .map(
        (w): LayerOneof => ({
          case: "scale",
          value: {
            ...typed(
              create(ScaleLayerParamsSchema, {
                shapeScale: p.shapeScale.map(big),
                hasBias: p.hasBias,
                shapeBias: p.hasBias ? p.shapeBias.map(big) : [],
              }),
            ),
            scale: w.scale,
            ...field("bias", w.bias),
          },
        }),
      ),
  );

const bias: Builder = (ctx) =>
  channelShape(ctx.channels).chain((shape) =>
    ctx
      .weights(shape.reduce((a, b) => a * b, 1))
      .map((weights): LayerOneof => ({ case: "bias", value: { ...typed(create(BiasLayerParamsSchema, { shape: shape.map(big) })), bias: weights } })),
  );

const loadConstant: Builder = (ctx) =>
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).chain(([h, w]) =>
    ctx.weights(ctx.channels * h * w).map(
      (data): LayerOneof => ({
        case: "loadConstant",
        value: { ...typed(create(LoadConstantLayerParamsSchema, { shape: [big(ctx.channels), big(h), big(w)] })), data },
      }),
    ),
  );

const loadConstantND: Builder = (ctx) =>
  fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).chain((rest) => {
    const shape = [ctx.channels, ...rest];
    return ctx.weights(shape.reduce((a, b) => a * b, 1)).map(
      (data): LayerOneof => ({
        case: "loadConstantND",
        value: { ...typed(create(LoadConstantNDLayerParamsSchema, { shape: shape.map(big) })), data },
      }),
    );
  });

const simpleRecurrent: Builder = (ctx) =>
  fc.record({ i: dim(ctx), hasBias: fc.boolean() }).chain(({ i, hasBias }) => {
    const o = ctx.channels;
    return fc
      .record({
        weightMatrix: ctx.weights(o * i),
        recursionMatrix: ctx.weights(o * o),
        biasVector: maybe(hasBias, ctx.weights(o)),
      })
      .map(
        (w): LayerOneof => ({
          case: "simpleRecurrent",
          value: {
            ...typed(create(SimpleRecurrentLayerParamsSchema, { inputVectorSize: big(i), outputVectorSize: big(o), hasBiasVector: hasBias })),
            weightMatrix: w.weightMatrix,
            recursionMatrix: w.recursionMatrix,
            ...field("biasVector", w.biasVector),
          },
        }),
      );
  });

const gru: Builder = (ctx) =>
  fc.record({ i: dim(ctx), hasBias: fc.boolean() }).chain(({ i, hasBias }) => {
    const o = ctx.channels;
    const fields: Record<string, fc.Arbitrary<WeightParams>> = {};
    for (const g of ["update", "reset", "output"]) {
      fields[`${g}GateWeightMatrix`] = ctx.weights(o * i);
      fields[`${g}GateRecursionMatrix`] = ctx.weights(o * o);
      if (hasBias) fields[`${g}GateBiasVector`] = ctx.weights(o);
    }
    return fc.record(fields).map(
      (w): LayerOneof => ({
        case: "gru",
        value: {
          ...typed(create(GRULayerParamsSchema, { inputVectorSize: big(i), outputVectorSize: big(o), hasBiasVectors: hasBias })),
          ...w,
        },
      }),
    );
  });

/** One LSTM weight set: four gates' input and recursion matrices and bias vectors, and three peepholes when asked for. */
function lstmWeights(ctx: KindContext, i: number, peepholes: boolean): fc.Arbitrary<WithTypedWeights<LSTMWeightParams>> {
  const o = ctx.channels;
  const fields: Record<string, fc.Arbitrary<WeightParams>> = {};
  for (const g of ["inputGate", "forgetGate", "blockInput", "outputGate"]) {
    fields[`${g}WeightMatrix`] = ctx.weights(o * i);
    fields[`${g}RecursionMatrix`] = ctx.weights(o * o);
    fields[`${g}BiasVector`] = ctx.weights(o);
  }
  if (peepholes) for (const g of ["inputGate", "forgetGate", "outputGate"]) fields[`${g}PeepholeVector`] = ctx.weights(o);
  return fc.record(fields).map((w) => ({ ...typed(create(LSTMWeightParamsSchema)), ...w }));
}

const lstmParams = (peepholes: boolean): WithTypedWeights<LSTMParams> =>
  typed(create(LSTMParamsSchema, { hasBiasVectors: true, hasPeepholeVectors: peepholes }));

const uniDirectionalLSTM: Builder = (ctx) =>
  fc.record({ i: dim(ctx), peepholes: fc.boolean() }).chain(({ i, peepholes }) =>
    lstmWeights(ctx, i, peepholes).map(
      (weightParams): LayerOneof => ({
        case: "uniDirectionalLSTM",
        value: {
          ...typed(create(UniDirectionalLSTMLayerParamsSchema, { inputVectorSize: big(i), outputVectorSize: big(ctx.channels) })),
          params: lstmParams(peepholes),
          weightParams,
        },
      }),
    ),
  );

const biDirectionalLSTM: Builder = (ctx) =>
  fc.record({ i: dim(ctx), peepholes: fc.boolean() }).chain(({ i, peepholes }) =>
    fc.tuple(lstmWeights(ctx, i, peepholes), lstmWeights(ctx, i, peepholes)).map(
      (sets): LayerOneof => ({
        case: "biDirectionalLSTM",
        value: {
          ...typed(create(BiDirectionalLSTMLayerParamsSchema, { inputVectorSize: big(i), outputVectorSize: big(ctx.channels) })),
          params: lstmParams(peepholes),
          weightParams: sets,
        },
      }),
    ),
  );

const branch: Builder = (ctx) =>
  fc.record({ ifBranch: ctx.nested("ifBranch"), elseBranch: fc.option(ctx.nested("elseBranch"), { nil: undefined }) }).map(
    (n): LayerOneof => ({
      case: "branch",
      value: { ...typed(create(BranchLayerParamsSchema)), ifBranch: n.ifBranch, ...field("elseBranch", n.elseBranch) },
    }),
  );

const loop: Builder = (ctx) =>
  fc
    .record({
      iterations: fc.integer({ min: 1, max: 4 }),
      bodyNetwork: ctx.nested("bodyNetwork"),
      conditionNetwork: fc.option(ctx.nested("conditionNetwork"), { nil: undefined }),
    })
    .map(
      (n): LayerOneof => ({
        case: "loop",
        value: {
          ...typed(create(LoopLayerParamsSchema, { maxLoopIterations: big(n.iterations) })),
          bodyNetwork: n.bodyNetwork,
          ...field("conditionNetwork", n.conditionNetwork),
        },
      }),
    );

/** The builder of each generated kind. */
export const KIND_BUILDERS: { readonly [K in GeneratedLayerKind]: Builder } = {
  convolution,
  innerProduct,
  batchedMatmul,
  embedding,
  embeddingND,
  batchnorm,
  scale,
  bias,
  loadConstant,
  loadConstantND,
  simpleRecurrent,
  gru,
  uniDirectionalLSTM,
  biDirectionalLSTM,
  branch,
  loop,
};

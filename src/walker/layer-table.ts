/**
 * Where the weights of every layer kind live: one row per layer kind, listing its
 * WeightParams fields with their tensor shape, channel axis and the condition for
 * their presence. Adding a layer kind is adding a row.
 *
 * @packageDocumentation
 */
import type { LayerKind, NeuralNetworkLayer } from "../codec/model-types.js";

/** The parameters message of one layer kind. */
export type LayerParams<K extends LayerKind> = Extract<NeuralNetworkLayer["layer"], { case: K }>["value"];

/**
 * One step from a layer's parameters towards a WeightParams: a field name, `"*"`
 * for every element of a repeated field, or a oneof case.
 */
export type PathStep =
  | string
  | {
      /** The oneof's name, e.g. `NonlinearityType`. */
      readonly oneof: string;
      /** The case the step goes through, e.g. `PReLU`. */
      readonly case: string;
    };

/** A WeightParams field of a layer kind. */
export interface WeightField<P> {
  /** Steps from the layer's parameters to the WeightParams. */
  readonly path: readonly PathStep[];
  /** The tensor shape, in the reference's terms (channels along `axis`: see docs/modes/linear.md). */
  readonly shape: (params: P) => number[];
  /** Axis of the output channels in `shape`: 1 for deconvolution weights. @defaultValue 0 */
  readonly axis?: (params: P) => 0 | 1;
  /** Present only when this holds (a `hasBias` flag); always present when absent. */
  readonly when?: (params: P) => boolean;
  /**
   * Asked of the selector separately, as `doQuantize(layer, "bias")`, after the
   * layer itself was selected.
   */
  readonly selectorParam?: "bias";
}

/** The weight fields of a layer kind, and whether the reference quantizes them. */
export interface LayerWeights<P> {
  /**
   * true: quantizeWeights changes these weights (the reference does). false: the
   * reference leaves them alone; they are listed for reports and opt-in features.
   */
  readonly quantized: boolean;
  /** The layer kind's WeightParams fields. */
  readonly fields: readonly WeightField<P>[];
}

/** Layer kinds that carry weights. */
export type WeightedLayerKind =
  | "convolution"
  | "innerProduct"
  | "batchedMatmul"
  | "embedding"
  | "embeddingND"
  | "batchnorm"
  | "scale"
  | "bias"
  | "loadConstant"
  | "loadConstantND"
  | "simpleRecurrent"
  | "gru"
  | "uniDirectionalLSTM"
  | "biDirectionalLSTM"
  | "activation"
  | "convolution3d"
  | "layerNormalization"
  | "custom";

const n = Number;
const product = (dims: readonly bigint[]): number => dims.reduce((acc, d) => acc * n(d), 1);
const always = <P>(path: PathStep[], shape: (p: P) => number[]): WeightField<P> => ({ path, shape });

type RecurrentSizes = { inputVectorSize: bigint; outputVectorSize: bigint };
const io = (p: RecurrentSizes): number[] => [n(p.outputVectorSize), n(p.inputVectorSize)];
const oo = (p: RecurrentSizes): number[] => [n(p.outputVectorSize), n(p.outputVectorSize)];
const o = (p: RecurrentSizes): number[] => [n(p.outputVectorSize)];

/** The LSTM weight set (one per direction): gates input, forget, blockInput, output. */
function lstmFields<P extends RecurrentSizes & { params?: { hasPeepholeVectors: boolean } | undefined }>(prefix: PathStep[]): WeightField<P>[] {
  const gates = ["inputGate", "forgetGate", "blockInput", "outputGate"];
  const peepholes = ["inputGate", "forgetGate", "outputGate"];
  const hasPeepholes = (p: P): boolean => p.params?.hasPeepholeVectors === true;
  return [
    ...gates.map((g) => always<P>([...prefix, `${g}WeightMatrix`], io)),
    ...gates.map((g) => always<P>([...prefix, `${g}RecursionMatrix`], oo)),
    ...gates.map((g) => always<P>([...prefix, `${g}BiasVector`], o)),
    ...peepholes.map((g): WeightField<P> => ({ path: [...prefix, `${g}PeepholeVector`], shape: o, when: hasPeepholes })),
  ];
}

/**
 * Every layer kind with weights, and where they are: the one list of layer kinds
 * (a row's `quantized` literal decides whether quantizeWeights changes the kind:
 * {@link QuantizedLayerKind} and the selectors' list are derived from it).
 */
export const LAYER_WEIGHTS = {
  convolution: {
    quantized: true,
    fields: [
      {
        path: ["weights"],
        shape: (p) => {
          // The format's default kernel is 3x3.
          const [kh = 3, kw = 3] = p.kernelSize.map(n);
          return p.isDeconvolution
            ? [n(p.kernelChannels), n(p.outputChannels) / Math.max(1, n(p.nGroups)), kh, kw]
            : [n(p.outputChannels), n(p.kernelChannels), kh, kw];
        },
        axis: (p) => (p.isDeconvolution ? 1 : 0),
      },
      { path: ["bias"], shape: (p) => [n(p.outputChannels)], when: (p) => p.hasBias, selectorParam: "bias" },
    ],
  },
  innerProduct: {
    quantized: true,
    fields: [
      always(["weights"], (p) => [n(p.outputChannels), n(p.inputChannels)]),
      { path: ["bias"], shape: (p) => [n(p.outputChannels)], when: (p) => p.hasBias, selectorParam: "bias" },
    ],
  },
  batchedMatmul: {
    quantized: true,
    fields: [
      always(["weights"], (p) => [n(p.weightMatrixSecondDimension), n(p.weightMatrixFirstDimension)]),
      { path: ["bias"], shape: (p) => [n(p.weightMatrixSecondDimension)], when: (p) => p.hasBias, selectorParam: "bias" },
    ],
  },
  embedding: {
    quantized: true,
    fields: [
      always(["weights"], (p) => [n(p.outputChannels), n(p.inputDim)]),
      // The reference quantizes this bias without asking the selector.
      { path: ["bias"], shape: (p) => [n(p.outputChannels)], when: (p) => p.hasBias },
    ],
  },
  embeddingND: {
    quantized: true,
    fields: [always(["weights"], (p) => [n(p.embeddingSize), n(p.vocabSize)]), { path: ["bias"], shape: (p) => [n(p.embeddingSize)], when: (p) => p.hasBias }],
  },
  batchnorm: {
    quantized: true,
    fields: ["gamma", "beta", "mean", "variance"].map((f) => always([f], (p) => [n(p.channels)])),
  },
  scale: {
    quantized: true,
    fields: [always(["scale"], (p) => [product(p.shapeScale)]), { path: ["bias"], shape: (p) => [product(p.shapeBias)], when: (p) => p.hasBias }],
  },
  bias: { quantized: true, fields: [always(["bias"], (p) => [product(p.shape)])] },
  loadConstant: { quantized: true, fields: [always(["data"], (p) => [product(p.shape)])] },
  loadConstantND: { quantized: true, fields: [always(["data"], (p) => [product(p.shape)])] },
  simpleRecurrent: {
    quantized: true,
    fields: [always(["weightMatrix"], io), always(["recursionMatrix"], oo), { path: ["biasVector"], shape: o, when: (p) => p.hasBiasVector }],
  },
  gru: {
    quantized: true,
    fields: [
      ...["update", "reset", "output"].map((g) => always<LayerParams<"gru">>([`${g}GateWeightMatrix`], io)),
      ...["update", "reset", "output"].map((g) => always<LayerParams<"gru">>([`${g}GateRecursionMatrix`], oo)),
      ...["update", "reset", "output"].map((g): WeightField<LayerParams<"gru">> => ({ path: [`${g}GateBiasVector`], shape: o, when: (p) => p.hasBiasVectors })),
    ],
  },
  uniDirectionalLSTM: { quantized: true, fields: lstmFields(["weightParams"]) },
  biDirectionalLSTM: { quantized: true, fields: lstmFields(["weightParams", "*"]) },
  // Weights the reference leaves alone.
  activation: {
    quantized: false,
    fields: [
      { path: [{ oneof: "NonlinearityType", case: "PReLU" }, "alpha"], shape: () => [] },
      { path: [{ oneof: "NonlinearityType", case: "parametricSoftplus" }, "alpha"], shape: () => [] },
      { path: [{ oneof: "NonlinearityType", case: "parametricSoftplus" }, "beta"], shape: () => [] },
    ],
  },
  convolution3d: {
    quantized: false,
    fields: [
      always(["weights"], (p) => [p.outputChannels, p.inputChannels / Math.max(1, p.nGroups), p.kernelDepth, p.kernelHeight, p.kernelWidth]),
      { path: ["bias"], shape: (p) => [p.outputChannels], when: (p) => p.hasBias },
    ],
  },
  layerNormalization: {
    quantized: false,
    fields: [always(["gamma"], (p) => [product(p.normalizedShape)]), always(["beta"], (p) => [product(p.normalizedShape)])],
  },
  custom: { quantized: false, fields: [always(["weights", "*"], () => [])] },
} as const satisfies { readonly [K in WeightedLayerKind]: LayerWeights<LayerParams<K>> };

/**
 * The layer kinds whose weights quantizeWeights changes: the rows of the layer
 * table marked `quantized: true`.
 *
 * @useDeclaredType
 */
export type QuantizedLayerKind = keyof { [K in WeightedLayerKind as (typeof LAYER_WEIGHTS)[K]["quantized"] extends true ? K : never]: K };

/** Every {@link QuantizedLayerKind}, in the table's order. */
export const QUANTIZED_LAYER_KINDS: readonly QuantizedLayerKind[] = (Object.keys(LAYER_WEIGHTS) as WeightedLayerKind[]).filter(
  (kind): kind is QuantizedLayerKind => LAYER_WEIGHTS[kind].quantized,
);

/**
 * Layer kinds holding networks of their own.
 */
export type NestingLayerKind = "branch" | "loop";

/** Layer kinds holding networks of their own, and the fields that hold them. */
export const NESTED_NETWORKS: { readonly [K in NestingLayerKind]: readonly (keyof LayerParams<K> & string)[] } = {
  branch: ["ifBranch", "elseBranch"],
  loop: ["conditionNetwork", "bodyNetwork"],
};

/** Every {@link NestingLayerKind}. */
export const NESTING_LAYER_KINDS = Object.keys(NESTED_NETWORKS) as readonly NestingLayerKind[];

/**
 * The table row of a layer kind, or undefined for kinds without weights.
 *
 * @param kind - a layer kind
 * @returns its weight fields, typed loosely for generic walks
 */
export function layerWeightsOf(kind: LayerKind | undefined): LayerWeights<unknown> | undefined {
  return kind !== undefined && Object.hasOwn(LAYER_WEIGHTS, kind) ? (LAYER_WEIGHTS[kind as WeightedLayerKind] as LayerWeights<unknown>) : undefined;
}

/**
 * randomInputs: seeded random samples for any model, each input by its declared
 * type, so {@link compareModels} can run without data.
 *
 * @packageDocumentation
 */
import { readOptions, type OptionRules } from "../check-options.js";
import type { Model, NeuralNetwork, NeuralNetworkLayer } from "../codec/model-types.js";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import { ArrayFeatureType_ArrayDataType, ImageFeatureType_ColorSpace, type ImageFeatureType } from "../gen/FeatureTypes_pb.js";
import { NeuralNetworkImageShapeMapping, NeuralNetworkMultiArrayShapeMapping } from "../gen/NeuralNetwork_pb.js";
import { nestedNetworks } from "../walker/networks.js";
import { arrayInputSpec, type ArrayValue, type ImageValue, type InputValue, type PredictInputs } from "./feature-io.js";
import type { BlobLayout } from "./layer-runner.js";
import { MAX_NETWORK_NESTING } from "./prepare-network.js";

/**
 * The most random samples one comparison draws (the CLI's `--random`, the page's
 * random inputs): they are all drawn before the first runs and held in memory (a
 * 224x224 RGB image is 150 KB); characterising a model takes tens or hundreds, so
 * more is most likely a typo.
 */
export const MAX_RANDOM_SAMPLES = 1000;
import { sizeOf } from "./tensor.js";

/** Options of {@link randomInputs}. */
export interface RandomInputsOptions {
  /**
   * Steps on the sequence axis: multiArray inputs read directly as the sequence
   * of an embedding or recurrent layer (simpleRecurrent, gru,
   * uniDirectionalLSTM, biDirectionalLSTM; not their states) of a `rank5`
   * network get the shape
   * `[sequenceLength, 1, C, H, W]` when above 1. Other inputs, and inputs of
   * `exact` networks, keep their declared shape.
   * @defaultValue 1
   */
  readonly sequenceLength?: number;
}

/**
 * Sequences longer than this are refused: a typo (an extra zero or three) would
 * otherwise allocate gigabytes.
 */
export const MAX_SEQUENCE_LENGTH = 100_000;

const RULES: OptionRules<RandomInputsOptions> = {
  sequenceLength: {
    expected: `an integer from 1 to ${MAX_SEQUENCE_LENGTH}`,
    accepts: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SEQUENCE_LENGTH,
  },
};

/** How one input is drawn. */
type Draw =
  | { readonly kind: "image"; readonly name: string; readonly width: number; readonly height: number; readonly channels: 1 | 3 }
  | { readonly kind: "normal"; readonly name: string; readonly shape: readonly number[]; readonly dataType: ArrayFeatureType_ArrayDataType }
  | {
      readonly kind: "indices";
      readonly name: string;
      readonly shape: readonly number[];
      readonly dataType: ArrayFeatureType_ArrayDataType;
      readonly limit: number;
    };

/** What the first network reading an input tells about it. */
interface Consumer {
  readonly layout: BlobLayout;
  /** The smallest vocabulary of the embedding / embeddingND layers reading it; undefined when none does. */
  readonly indexLimit: number | undefined;
  /** Whether an embedding or recurrent layer reads it: it may carry a sequence. */
  readonly sequence: boolean;
}

/** Layer kinds that step along the sequence axis of a rank-5 blob. */
const SEQUENCE_LAYERS: ReadonlySet<string> = new Set(["embedding", "simpleRecurrent", "gru", "uniDirectionalLSTM", "biDirectionalLSTM"]);

/**
 * `count` seeded random samples for `model`, each input by its declared type:
 * - image: uniform random 8-bit pixels of the declared size (the first
 *   enumerated size or the smallest of a range when flexible), R, G, B
 *   interleaved (one byte a pixel for grayscale);
 * - multiArray: standard normal values (Box–Muller) in the declared (default)
 *   shape, as int32 / double / float32 data following the declared data type;
 * - a multiArray read directly by an embedding or embeddingND layer: uniform
 *   integer indices in `[0, inputDim)` / `[0, vocabSize)`;
 * - optional inputs (RNN states): left out, so the model uses its default (zeros).
 * In a pipeline, the first stage that takes an input decides.
 *
 * The same model, seed and options give the same values, on any platform (a
 * 32-bit generator of our own, not `Math.random`); samples are drawn one after
 * the other, so a larger `count` extends a smaller one's list.
 *
 * @param model - the model
 * @param count - how many samples
 * @param seed - any integer (taken modulo 2^32)
 * @param options - see {@link RandomInputsOptions}
 * @returns one inputs object per sample
 * @throws {@link QuantizeError} `invalid-option` for a count, seed or option
 *   that is not an integer in range; `unsupported-model` for an input type the
 *   executor does not take (string, int64, double, dictionary, sequence)
 * @example
 * ```ts
 * const samples = randomInputs(model, 16, 42);
 * const result = compareModels(model, quantizeWeights(model, { nbits: 4 }), samples);
 * ```
 */
export function randomInputs(model: Model, count: number, seed: number, options?: RandomInputsOptions): PredictInputs[] {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new QuantizeError("invalid-option", `randomInputs count must be an integer >= 0, got ${describeValue(count)}`);
  if (!Number.isSafeInteger(seed)) throw new QuantizeError("invalid-option", `randomInputs seed must be an integer, got ${describeValue(seed)}`);
  const sequenceLength = readOptions(options, RULES, "randomInputs").sequenceLength ?? 1;
  const draws = (model.description?.input ?? []).flatMap((f) => drawOf(model, f, sequenceLength));
  const random = new Random(seed);
  const samples: PredictInputs[] = [];
  for (let s = 0; s < count; s++) {
    const sample: Record<string, InputValue> = {};
    for (const d of draws) sample[d.name] = drawValue(d, random);
    samples.push(sample);
  }
  return samples;
}

function drawOf(model: Model, f: NonNullable<Model["description"]>["input"][number], sequenceLength: number): Draw[] {
  const t = f.type?.Type;
  if (t?.case === "imageType") return [{ kind: "image", name: f.name, ...imageSize(t.value), channels: channelsOf(t.value.colorSpace) }];
  if (f.type === undefined || t?.case !== "multiArrayType") {
    throw new QuantizeError("unsupported-model", `input '${f.name}' is of type ${t?.case ?? "none"}: random values are drawn for multiArray and image inputs`, {
      path: "model",
    });
  }
  if (f.type.isOptional) return [];
  const consumer = consumerOf(model, f.name, 0) ?? { layout: "exact", indexLimit: undefined, sequence: false };
  let shape = arrayInputSpec(f.name, f.type, t.value).defaultShape;
  if (sequenceLength > 1 && consumer.layout === "rank5" && consumer.sequence) shape = withSequence(shape, sequenceLength);
  const dataType = t.value.dataType;
  return consumer.indexLimit === undefined
    ? [{ kind: "normal", name: f.name, shape, dataType }]
    : [{ kind: "indices", name: f.name, shape, dataType, limit: consumer.indexLimit }];
}

/** A declared shape on the sequence axis of a rank-5 blob: `[C]` -> `[S, 1, C, 1, 1]`, `[C, H, W]` -> `[S, 1, C, H, W]`. */
function withSequence(shape: readonly number[], steps: number): readonly number[] {
  if (shape.length >= 5) return shape;
  if (shape.length === 1) return [steps, 1, shape[0] as number, 1, 1];
  return [steps, ...new Array<number>(4 - shape.length).fill(1), ...shape];
}

function imageSize(image: ImageFeatureType): { width: number; height: number } {
  let width = Number(image.width);
  let height = Number(image.height);
  const flex = image.SizeFlexibility;
  if (width === 0 || height === 0) {
    if (flex.case === "enumeratedSizes" && flex.value.sizes[0] !== undefined) {
      width = Number(flex.value.sizes[0].width);
      height = Number(flex.value.sizes[0].height);
    } else if (flex.case === "imageSizeRange") {
      width = Number(flex.value.widthRange?.lowerBound ?? 0n);
      height = Number(flex.value.heightRange?.lowerBound ?? 0n);
    }
  }
  return { width, height };
}

function channelsOf(space: ImageFeatureType_ColorSpace): 1 | 3 {
  return space === ImageFeatureType_ColorSpace.GRAYSCALE || space === ImageFeatureType_ColorSpace.GRAYSCALE_FLOAT16 ? 1 : 3;
}

/** The first network (in pipeline order) whose model takes the input, and what its layers make of it. */
function consumerOf(model: Model, name: string, depth: number): Consumer | undefined {
  if (depth > MAX_NETWORK_NESTING) return undefined;
  const type = model.Type;
  switch (type.case) {
    case "neuralNetwork":
    case "neuralNetworkClassifier":
    case "neuralNetworkRegressor": {
      const network = type.value;
      const layout: BlobLayout =
        network.arrayInputShapeMapping === NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING ||
        network.imageInputShapeMapping === NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING
          ? "exact"
          : "rank5";
      const readers = readersOf(network, name, 0);
      let indexLimit: number | undefined;
      for (const layer of readers) {
        const n = layer.layer.case === "embedding" ? layer.layer.value.inputDim : layer.layer.case === "embeddingND" ? layer.layer.value.vocabSize : undefined;
        if (n !== undefined) indexLimit = Math.min(indexLimit ?? Infinity, Math.max(1, Number(n)));
      }
      // A recurrent layer's first input is the sequence; the others are states.
      const sequence = readers.some((layer) => SEQUENCE_LAYERS.has(layer.layer.case ?? "") && layer.input[0] === name);
      return { layout, indexLimit, sequence };
    }
    case "pipeline":
    case "pipelineClassifier":
    case "pipelineRegressor": {
      const models = type.case === "pipeline" ? type.value.models : (type.value.pipeline?.models ?? []);
      const stage = models.find((m) => m.description?.input.some((f) => f.name === name) === true);
      return stage === undefined ? undefined : consumerOf(stage, name, depth + 1);
    }
    default:
      return undefined;
  }
}

/** The layers reading blob `name` directly, nested bodies included. */
function readersOf(network: Pick<NeuralNetwork, "layers">, name: string, depth: number): NeuralNetworkLayer[] {
  if (depth > MAX_NETWORK_NESTING) return [];
  return network.layers.flatMap((layer) => [
    ...(layer.input.includes(name) ? [layer] : []),
    ...nestedNetworks(layer).flatMap((nested) => readersOf(nested.network, name, depth + 1)),
  ]);
}

function drawValue(d: Draw, random: Random): InputValue {
  switch (d.kind) {
    case "image": {
      const data = new Uint8Array(d.width * d.height * d.channels);
      for (let i = 0; i < data.length; i++) data[i] = random.uint32() >>> 24;
      return { width: d.width, height: d.height, data } satisfies ImageValue;
    }
    case "normal": {
      const data = arrayOf(d.dataType, sizeOf(d.shape));
      const integer = data instanceof Int32Array;
      for (let i = 0; i < data.length; i++) data[i] = integer ? Math.round(random.normal()) : random.normal();
      return { shape: [...d.shape], data } satisfies ArrayValue;
    }
    case "indices": {
      const data = arrayOf(d.dataType, sizeOf(d.shape));
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(random.unit() * d.limit);
      return { shape: [...d.shape], data } satisfies ArrayValue;
    }
    default: {
      const never: never = d;
      throw new Error(`unreachable: ${String(never)}`);
    }
  }
}

/** Data of the declared type: int32 and double as such, everything else float32. */
function arrayOf(dataType: ArrayFeatureType_ArrayDataType, length: number): Float32Array | Float64Array | Int32Array {
  switch (dataType) {
    case ArrayFeatureType_ArrayDataType.INT32:
      return new Int32Array(length);
    case ArrayFeatureType_ArrayDataType.DOUBLE:
      return new Float64Array(length);
    default:
      return new Float32Array(length);
  }
}

const TWO_POW_32 = 4294967296;

/**
 * mulberry32: a small 32-bit generator, good enough for test data and the same
 * on every platform; standard normals by Box–Muller, both values of each pair used.
 */
class Random {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    // Modulo 2^32 for any safe integer, negative ones included.
    this.state = Number(BigInt.asUintN(32, BigInt(seed)));
  }

  /** The next 32 random bits, as an unsigned integer. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  unit(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** A standard normal value. */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    // u1 in (0, 1): the logarithm stays finite.
    const u1 = (this.uint32() + 0.5) / TWO_POW_32;
    const u2 = this.uint32() / TWO_POW_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

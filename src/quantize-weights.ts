/**
 * quantizeWeights and dequantizeWeights: walk the networks, ask the selector,
 * quantize each selected tensor, rebuild the model. The input is never changed.
 *
 * @packageDocumentation
 */
import type { Model, NeuralNetworkLayer, WeightParams } from "./codec/model-types.js";
import { FLOAT16_MAX } from "./codec/float16.js";
import { readWeights, weightStorage, withFloat16, withFloat32, withInt8, withLinear, withLut } from "./codec/weight-storage.js";
import { quantizeInt8 } from "./quantizer/int8.js";
import { QuantizeError } from "./errors.js";
import { assertDeclaredCount, assertHasNetwork, validateWeights } from "./validate-model.js";
import { chooseTensorStorage, type AutoMode } from "./auto-bits.js";
import type { LutFunction } from "./quantizer/custom-lut.js";
import { TENSOR_QUANTIZERS, type TensorContext, type TensorMode, type TensorResult } from "./quantize-tensor.js";
import { MatrixMultiplyLayerSelector, QuantizedLayerSelector, QUANTIZABLE_LAYER_TYPES, type LayerSelector } from "./selectors.js";
import { fuseLayers } from "./walker/fuse.js";
import { layerWeightsOf } from "./walker/layer-table.js";
import { isNetworkModel, layerPath, pipelineModels, mapNetworkModels, nestedNetworks, withNestedNetwork } from "./walker/networks.js";
import { layerWeights, withLayerWeight, type WeightRef } from "./walker/weights.js";

/** How weights are quantized. `kmeans` is accepted as an alias of `kmeans_lut`. */
export type QuantizationMode = TensorMode | "dequantization";

/** Progress of a long operation, reported after each tensor. */
export interface Progress {
  /** The tensor just done. */
  readonly path: string;
  /** Tensors done so far. */
  readonly done: number;
  /** Tensors to do in all (counted after fusion of the networks seen so far: may grow). */
  readonly total: number;
}

/** What happened to one tensor, reported through {@link QuantizeOptions.onTensor}. */
export interface TensorDecision {
  /** The tensor, e.g. `model/neuralNetwork/layers[0] "fc"/weights`. */
  readonly path: string;
  /** How it is stored now. */
  readonly storage: "linear" | "lut" | "float16" | "float32";
  /** Bits per weight for `linear` and `lut` storage. */
  readonly nbits?: number;
  /** The mode that produced it, for n-bit storage. */
  readonly mode?: TensorMode;
  /** With `nbits: "auto"`: the SNR the choice reaches, in dB (Infinity when exact). */
  readonly snrDb?: number;
  /** At 16 bits, for a tensor with values beyond ±65504: what `float16Overflow` did. */
  readonly overflow?: "kept-float32" | "clamped";
}

/** What to do with values beyond the half-precision range at `nbits: 16`. */
export type Float16Overflow = "error" | "keep-float32" | "clamp";

/** Options of {@link quantizeWeights}. */
export interface QuantizeOptions {
  /**
   * Bits per weight: 16 for half precision, 1..8, or `"auto"`: per tensor, the
   * fewest bits (trying each of `modes`) whose SNR reaches `targetSnrDb`, else half
   * precision if that reaches it, else float32.
   */
  readonly nbits: number | "auto";
  /** With `nbits: "auto"`: the quality each tensor must keep, in dB. @defaultValue 40 */
  readonly targetSnrDb?: number;
  /** With `nbits: "auto"`: the modes to try, in order of preference. @defaultValue ["linear", "kmeans_lut"] */
  readonly modes?: readonly AutoMode[];
  /**
   * At 16 bits, values beyond ±65504: `"error"` refuses the model (as the
   * reference does), `"keep-float32"` leaves just those tensors in float32,
   * `"clamp"` saturates them to ±65504. Affected tensors are reported through
   * `onTensor`.
   * @defaultValue "error"
   */
  readonly float16Overflow?: Float16Overflow;
  /** Called once per tensor changed, with how it is stored now. @defaultValue none */
  readonly onTensor?: (decision: TensorDecision) => void;
  /** @defaultValue "linear" (ignored when nbits is 16) */
  readonly mode?: QuantizationMode | "kmeans";
  /** Which layers to change. @defaultValue a {@link QuantizedLayerSelector} */
  readonly selector?: LayerSelector;
  /** For `custom_lut`: returns a lookup table of 2^nbits values and one index per weight. */
  readonly lutFunction?: LutFunction;
  /** Fuse batchnorm, scale and bias layers into the layer before them (below 16 bits). @defaultValue true */
  readonly fuse?: boolean;
  /** Called after each tensor. @defaultValue none */
  readonly onProgress?: (progress: Progress) => void;
}

/** Options of {@link dequantizeWeights}. */
export interface DequantizeOptions {
  /** Which layers to change. @defaultValue a {@link QuantizedLayerSelector} */
  readonly selector?: LayerSelector;
  /** Called after each tensor. @defaultValue none */
  readonly onProgress?: (progress: Progress) => void;
}

const MODES: readonly string[] = ["linear", "linear_symmetric", "linear_lut", "kmeans_lut", "custom_lut", "dequantization"];

/** What one WeightParams becomes: resolved once from the options. */
type TensorPlan = (weightParams: WeightParams, ref: WeightRef, path: string) => WeightParams;

/**
 * Quantizes the weights of every neural network in `model`: half precision
 * (`nbits: 16`) or n-bit (1..8) with a linear or lookup-table mode. Matches
 * coremltools' `quantize_weights` bit for bit (k-means: never a larger error).
 *
 * @param model - the model; not modified
 * @param options - bits, mode, selector, …
 * @returns a new model
 * @throws {@link QuantizeError} for refused options (`invalid-option`), weights
 *   that cannot be quantized (`float16-overflow`, `non-finite-weight`,
 *   `invalid-weights`), updatable models at 16 bits, selected layer kinds without
 *   quantizable weights (`unsupported-layer`), models without a neural network
 *   (`unsupported-model`)
 * @example
 * ```ts
 * const small = quantizeWeights(model, { nbits: 8 });
 * const lut = quantizeWeights(model, { nbits: 4, mode: "kmeans_lut" });
 * ```
 */
export function quantizeWeights(model: Model, options: QuantizeOptions): Model {
  return quantizeWeightsWith(model, options, runTensorInline);
}

/**
 * {@link quantizeWeights} with the n-bit tensor work handed to `run` (the Node
 * worker-thread variant collects it to run in parallel).
 *
 * @internal
 */
export function quantizeWeightsWith(model: Model, options: QuantizeOptions, run: TensorRunner): Model {
  const mode = options.mode === "kmeans" ? "kmeans_lut" : (options.mode ?? "linear");
  if (!MODES.includes(mode)) {
    throw new QuantizeError("invalid-option", `unknown quantization mode ${JSON.stringify(mode)}; valid: ${MODES.join(", ")}`);
  }
  if (mode === "dequantization") return dequantizeWeights(model, options);
  const { nbits } = options;
  if (!(nbits === 16 || nbits === "auto" || (Number.isInteger(nbits) && nbits >= 1 && nbits <= 8))) {
    throw new QuantizeError("invalid-option", `nbits must be 16 (half precision), 1..8 or "auto", got ${String(nbits)}`);
  }
  const overflow = options.float16Overflow ?? "error";
  if (!FLOAT16_OVERFLOWS.includes(overflow)) {
    throw new QuantizeError("invalid-option", `float16Overflow must be one of ${FLOAT16_OVERFLOWS.join(", ")}, got ${JSON.stringify(overflow)}`);
  }
  const onTensor = options.onTensor;
  if (nbits === "auto") {
    assertHasNetwork(model);
    return transformModel(model, {
      selector: options.selector ?? new QuantizedLayerSelector(),
      plan: toAutoStorage(autoOptions(options), onTensor),
      fuse: options.fuse !== false,
      specificationVersion: 3,
      onProgress: options.onProgress,
    });
  }
  if (mode === "linear_symmetric" && nbits !== 8) {
    throw new QuantizeError("invalid-option", `linear_symmetric quantization needs nbits 8, got ${nbits}`);
  }
  if (mode === "custom_lut" && nbits !== 16 && options.lutFunction === undefined) {
    throw new QuantizeError("invalid-option", "custom_lut mode needs a lutFunction");
  }
  if (nbits === 16 && model.isUpdatable) {
    throw new QuantizeError("invalid-option", "an updatable model cannot be converted to half precision (its weights must stay float32 to be trained)");
  }
  assertHasNetwork(model);
  const plan: TensorPlan = nbits === 16 ? toHalfPrecision(overflow, onTensor) : toNbits(mode as TensorMode, nbits, options.lutFunction, run, onTensor);
  return transformModel(model, {
    selector: options.selector ?? new QuantizedLayerSelector(),
    plan,
    fuse: nbits !== 16 && options.fuse !== false,
    specificationVersion: nbits === 16 ? 2 : 3,
    onProgress: options.onProgress,
  });
}

/**
 * Turns quantized weights of every selected layer back into float32 (and float16
 * weights into float32). The inverse of {@link quantizeWeights} up to the
 * quantization error.
 *
 * @param model - the model; not modified
 * @param options - the selector
 * @returns a new model
 * @throws {@link QuantizeError} `invalid-weights` when quantized bytes do not fit
 *   the layer's shape
 */
export function dequantizeWeights(model: Model, options: DequantizeOptions = {}): Model {
  assertHasNetwork(model);
  return transformModel(model, {
    selector: options.selector ?? new QuantizedLayerSelector(),
    plan: toFloat32,
    fuse: false,
    specificationVersion: 3,
    onProgress: options.onProgress,
  });
}

interface Transform {
  readonly selector: LayerSelector;
  /** Runs on each layer whose weights were visited, after them. */
  readonly finishLayer?: (layer: NeuralNetworkLayer) => NeuralNetworkLayer;
  readonly plan: TensorPlan;
  readonly fuse: boolean;
  readonly specificationVersion: number;
  readonly onProgress: ((progress: Progress) => void) | undefined;
}

function transformModel(model: Model, transform: Transform): Model {
  // Validate before working: a tensor inconsistent with its layer is refused, never passed on.
  validateWeights(model);
  const counter = { done: 0, total: 0 };
  return mapNetworkModels(model, (sub, path) => {
    if (!isNetworkModel(sub)) return sub;
    const network = sub.Type.value;
    const layers = transformLayers(network.layers, `${path}/${sub.Type.case}`, transform, counter);
    return {
      ...sub,
      specificationVersion: Math.max(sub.specificationVersion, transform.specificationVersion),
      Type: { case: sub.Type.case, value: { ...network, layers } } as Model["Type"],
    };
  });
}

function transformLayers(
  layers: readonly NeuralNetworkLayer[],
  networkPath: string,
  transform: Transform,
  counter: { done: number; total: number },
): NeuralNetworkLayer[] {
  const fused = transform.fuse ? fuseLayers(layers) : layers.slice();
  // The selector is asked once per layer, then once per optional field, before any work.
  const work = fused.map((layer) => (transform.selector.doQuantize(layer)
    ? layerWeights(layer).filter((r) => r.quantized && (r.selectorParam === undefined || transform.selector.doQuantize(layer, r.selectorParam)))
    : []));
  counter.total += work.reduce((a, refs) => a + refs.length, 0);
  return fused.map((layer, i) => {
    const path = layerPath(networkPath, i, layer);
    if (!transform.selector.doQuantize(layer)) return layer;
    const nested = nestedNetworks(layer);
    if (nested.length > 0 || layer.layer.case === "branch" || layer.layer.case === "loop") {
      return nested.reduce(
        (out, { field, network }) => withNestedNetwork(out, field, {
          ...network, layers: transformLayers(network.layers, `${path}/${field}`, transform, counter),
        }),
        layer,
      );
    }
    const table = layerWeightsOf(layer.layer.case);
    if (layer.layer.case === "custom") return layer; // custom layers' weights are the user's to convert
    if (table === undefined || !table.quantized) {
      throw new QuantizeError("unsupported-layer",
        `the selector chose a ${layer.layer.case ?? "empty"} layer, which has no weights this tool quantizes (quantizable kinds: ${QUANTIZABLE_LAYER_TYPES.join(", ")})`,
        { path });
    }
    let out = layer;
    for (const ref of work[i] ?? []) {
      const fieldPath = `${path}/${ref.field}`;
      const next = transform.plan(ref.weightParams, ref, fieldPath);
      if (next !== ref.weightParams) out = withLayerWeight(out, ref.steps, next);
      counter.done++;
      transform.onProgress?.({ path: fieldPath, done: counter.done, total: counter.total });
    }
    return transform.finishLayer === undefined ? out : transform.finishLayer(out);
  });
}

const FLOAT16_OVERFLOWS: readonly string[] = ["error", "keep-float32", "clamp"];

/** float32 -> half precision; other storages are left alone. */
function toHalfPrecision(overflow: Float16Overflow, onTensor: QuantizeOptions["onTensor"]): TensorPlan {
  return (weightParams, ref, path) => {
    if (weightStorage(weightParams, path).kind !== "float32") return weightParams;
    let values = weightParams.floatValue;
    assertDeclaredCount(values.length, ref.shape, path);
    let first = -1;
    for (let i = 0; i < values.length && first < 0; i++) {
      // NaN has a half-precision form; only magnitudes overflow.
      if (Math.abs(values[i] as number) > FLOAT16_MAX) first = i;
    }
    if (first >= 0) {
      switch (overflow) {
        case "error":
          throw new QuantizeError("float16-overflow",
            `value ${values[first]} at index ${first} is beyond the half-precision range (±${FLOAT16_MAX}); the model cannot be converted to half precision (float16Overflow "keep-float32" or "clamp" would)`, { path });
        case "keep-float32":
          onTensor?.({ path, storage: "float32", overflow: "kept-float32" });
          return weightParams;
        case "clamp":
          values = values.map((v) => (v > FLOAT16_MAX ? FLOAT16_MAX : v < -FLOAT16_MAX ? -FLOAT16_MAX : v));
          onTensor?.({ path, storage: "float16", overflow: "clamped" });
          return withFloat16(weightParams, values);
      }
    }
    onTensor?.({ path, storage: "float16" });
    return withFloat16(weightParams, values);
  };
}

function autoOptions(options: QuantizeOptions): { targetSnrDb: number; modes: readonly AutoMode[] } {
  const targetSnrDb = options.targetSnrDb ?? 40;
  if (!Number.isFinite(targetSnrDb)) throw new QuantizeError("invalid-option", `targetSnrDb must be a finite number of dB, got ${String(targetSnrDb)}`);
  const modes = options.modes ?? ["linear", "kmeans_lut"];
  const valid: readonly string[] = ["linear", "linear_symmetric", "linear_lut", "kmeans_lut"];
  const unknown = modes.filter((m) => !valid.includes(m));
  if (modes.length === 0 || unknown.length > 0) {
    throw new QuantizeError("invalid-option", `modes must name some of ${valid.join(", ")}, got [${modes.join(", ")}]`);
  }
  return { targetSnrDb, modes };
}

/** nbits "auto": each tensor gets the storage {@link chooseTensorStorage} picks. */
function toAutoStorage(auto: { targetSnrDb: number; modes: readonly AutoMode[] }, onTensor: QuantizeOptions["onTensor"]): TensorPlan {
  return (weightParams, ref, path) => {
    const kind = weightStorage(weightParams, path).kind;
    if (kind !== "float32" && kind !== "float16") return weightParams;
    const values = readWeights(weightParams, ref.shape, ref.axis, path);
    assertDeclaredCount(values.length, ref.shape, path);
    assertFiniteValues(values, path);
    const choice = chooseTensorStorage(values, { shape: ref.shape, axis: ref.axis, path }, auto.targetSnrDb, auto.modes);
    switch (choice.storage) {
      case "n-bit":
        onTensor?.({ path, storage: choice.result.kind, nbits: choice.nbits, mode: choice.mode, snrDb: choice.snrDb });
        return storeTensorResult(weightParams, choice.nbits, choice.result);
      case "float16":
        onTensor?.({ path, storage: "float16", snrDb: choice.snrDb });
        return withFloat16(weightParams, values);
      case "float32":
        onTensor?.({ path, storage: "float32", snrDb: choice.snrDb });
        return kind === "float32" ? weightParams : withFloat32(weightParams, values);
    }
  };
}

function assertFiniteValues(values: Float32Array, path: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new QuantizeError("non-finite-weight", `value ${v} at index ${i} is not finite; it cannot be quantized`, { path });
  }
}

function toNbits(mode: TensorMode, nbits: number, lutFunction: LutFunction | undefined, run: TensorRunner, onTensor: QuantizeOptions["onTensor"]): TensorPlan {
  return (weightParams, ref, path) => {
    const kind = weightStorage(weightParams, path).kind;
    // float16 weights are widened and quantized like float32 ones; quantized or empty ones stay.
    if (kind !== "float32" && kind !== "float16") return weightParams;
    const values = readWeights(weightParams, ref.shape, ref.axis, path);
    assertDeclaredCount(values.length, ref.shape, path);
    onTensor?.({ path, storage: mode === "linear" || mode === "linear_symmetric" ? "linear" : "lut", nbits, mode });
    return run(mode, weightParams, values, { nbits, shape: ref.shape, axis: ref.axis, path, lutFunction });
  };
}

/**
 * Quantizes one tensor and stores the result in (a copy of) its WeightParams. The
 * default runs the quantizer in place; the worker-thread variant defers it.
 */
export type TensorRunner = (mode: TensorMode, weightParams: WeightParams, values: Float32Array, context: TensorContext) => WeightParams;

/** Runs the quantizer here and now. */
export const runTensorInline: TensorRunner = (mode, weightParams, values, context) =>
  storeTensorResult(weightParams, context.nbits, TENSOR_QUANTIZERS[mode](values, context));

/** `weightParams` holding a quantized tensor. */
export function storeTensorResult(weightParams: WeightParams, nbits: number, result: TensorResult): WeightParams {
  return result.kind === "linear"
    ? withLinear(weightParams, nbits, result.packed, result.scale, result.bias)
    : withLut(weightParams, nbits, result.packed, result.lut);
}

/**
 * n-bit quantized or half-precision weights -> float32. float32, empty and int8
 * ones stay: the reference dequantizes rawValue only, and int8 weights belong to
 * layers set to run int8 products.
 */
const toFloat32: TensorPlan = (weightParams, ref, path) => {
  const kind = weightStorage(weightParams, path).kind;
  if (kind !== "float16" && kind !== "linear" && kind !== "lut") return weightParams;
  return withFloat32(weightParams, readWeights(weightParams, ref.shape, ref.axis, path));
};

/** Options of {@link activateInt8Int8MatrixMultiplications}. */
export interface Int8MatmulOptions {
  /** Which layers to change. @defaultValue a {@link MatrixMultiplyLayerSelector} with its defaults */
  readonly selector?: LayerSelector;
  /** Called after each tensor. @defaultValue none */
  readonly onProgress?: (progress: Progress) => void;
}

/**
 * Stores the weights of selected innerProduct and batchedMatmul layers as int8
 * with one scale and sets `int8DynamicQuantize`, so Core ML runs them as int8 x
 * int8 products (specification version 5 and later). Quantized weights are
 * dequantized first.
 *
 * @param model - a neural network or a pipeline; not modified
 * @param options - the selector
 * @returns a new model
 * @throws {@link QuantizeError} `unsupported-model` when `model` is neither a
 *   neural network nor a pipeline
 */
export function activateInt8Int8MatrixMultiplications(model: Model, options: Int8MatmulOptions = {}): Model {
  if (!isNetworkModel(model) && pipelineModels(model) === undefined) {
    throw new QuantizeError("unsupported-model",
      `a ${model.Type.case ?? "model without a type"} has no neural network to change; int8 matrix multiplication needs a neuralNetwork or a pipeline`);
  }
  assertHasNetwork(model);
  const selector = options.selector ?? new MatrixMultiplyLayerSelector();
  const dequantized = dequantizeWeights(model, { selector });
  return transformModel(dequantized, {
    selector,
    plan: toInt8,
    fuse: false,
    specificationVersion: 5,
    onProgress: options.onProgress,
    finishLayer: (layer) => {
      const kind = layer.layer.case;
      if (kind !== "innerProduct" && kind !== "batchedMatmul") return layer;
      const params = layer.layer.value;
      if (params.weights === undefined || weightStorage(params.weights).kind !== "int8") return layer;
      return { ...layer, layer: { case: kind, value: { ...params, int8DynamicQuantize: true } } as NeuralNetworkLayer["layer"] };
    },
  });
}

/** float32 matrix weights -> int8 with one scale; biases and other storages stay. */
const toInt8: TensorPlan = (weightParams, ref, path) => {
  if (ref.field !== "weights" || weightStorage(weightParams, path).kind !== "float32") return weightParams;
  const q = quantizeInt8(weightParams.floatValue, { path });
  return withInt8(weightParams, q.values, q.scale);
};

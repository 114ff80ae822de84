/**
 * quantizeWeights and dequantizeWeights: walk the networks, ask the selector,
 * quantize each selected tensor, rebuild the model. The input is never changed.
 *
 * @packageDocumentation
 */
import { assertModelShape } from "../assert-model-shape.js";
import { markShapeChecked } from "../codec/shape-checked.js";
import { AUTO_MODES, type AutoMode } from "./auto-bits.js";
import { arrayHint, guardCallback, isBoolean, isFunction, readOptions, runCallerCode, type OptionRule, type OptionRules } from "../check-options.js";
import type { Model, NeuralNetworkLayer } from "../codec/model-types.js";
import { weightStorage } from "../codec/weight-storage.js";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import type { LutFunction } from "../quantizer/custom-lut.js";
import { acceptsNbits, TENSOR_MODES, tensorQuantizerOf, type TensorMode } from "./quantize-tensor.js";
import { HALF_PRECISION_WEIGHTS_VERSION, INT8_PRODUCTS_VERSION, QUANTIZED_WEIGHTS_VERSION } from "./specification-versions.js";
import {
  FLOAT16_OVERFLOWS,
  runTensorInline,
  toAutoStorage,
  toFloat32,
  toHalfPrecision,
  toInt8,
  toNbits,
  type Float16Overflow,
  type TensorDecision,
  type TensorLeft,
  type TensorPlan,
  type TensorRunner,
} from "./tensor-plans.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";
import { MatrixMultiplyLayerSelector, QuantizedLayerSelector, QUANTIZABLE_LAYER_TYPES, SELECTOR_RULE, type LayerSelector } from "../selectors.js";
import { fuseLayers, modelBlobsKept, nestedBlobsKept } from "../walker/fuse.js";
import { layerWeightsOf } from "../walker/layer-table.js";
import { isNetworkModel, layerPath, pipelineModels, mapNetworkModels, nestedNetworks, withNestedNetwork } from "../walker/networks.js";
import { layerWeights, withLayerWeight, type WeightRef } from "../walker/weights.js";

export type {
  Float16Decision,
  Float16Overflow,
  Float32Decision,
  NbitDecision,
  TensorDecision,
  TensorLeft,
  TensorRunner,
} from "./tensor-plans.js";

/** How weights are quantized. `kmeans` is accepted as an alias of `kmeans_lut`. */
export type QuantizationMode = TensorMode | "dequantization";

/**
 * Progress of a long operation, reported after each tensor, and within a tensor
 * that takes long (k-means, `nbits: "auto"`) with `fraction` set.
 */
export interface Progress {
  /** The tensor just done, or (with `fraction`) the one under way. */
  readonly path: string;
  /** Tensors done so far (with `fraction`: before the one under way). */
  readonly done: number;
  /** Tensors to do in all (counted after fusion of the networks seen so far: may grow). */
  readonly total: number;
  /**
   * Set only on reports within a tensor: the part of tensor `path` done, in
   * (0, 1). Such reports come between the per-tensor ones, a few dozen per
   * tensor at most; a caller counting tensors skips them.
   */
  readonly fraction?: number;
}

/** The options of {@link quantizeWeights} that every kind of quantization takes. */
export interface QuantizeCommonOptions {
  /** Which layers to change. @defaultValue a {@link QuantizedLayerSelector} */
  readonly selector?: LayerSelector;
  /** Called once per tensor changed, with how it is stored now. @defaultValue none */
  readonly onTensor?: (decision: TensorDecision) => void;
  /**
   * Called once per selected tensor left as it is because it is stored already in
   * a form this pass does not start from (n-bit, int8, or half precision at 16
   * bits), with why. @defaultValue none
   */
  readonly onTensorLeft?: (left: TensorLeft) => void;
  /** Called after each tensor, and within long ones (see {@link Progress.fraction}). @defaultValue none */
  readonly onProgress?: (progress: Progress) => void;
  /**
   * Cancels the operation: checked between tensors and within long ones; when
   * aborted, the call throws the signal's reason (an `AbortError` unless given).
   * @defaultValue none
   */
  readonly signal?: AbortSignal;
}

/** Half precision: every float32 weight becomes float16. Never for an updatable model (its weights must stay float32 to be trained). */
export interface HalfPrecisionOptions extends QuantizeCommonOptions {
  /** 16: half precision. */
  readonly nbits: 16;
  /**
   * Values beyond ±65504: `"error"` refuses the model (as the reference does),
   * `"keep-float32"` leaves just those tensors in float32, `"clamp"` saturates them
   * to ±65504. Affected tensors are reported through `onTensor`.
   * @defaultValue "error"
   */
  readonly float16Overflow?: Float16Overflow;
  /** Ignored at 16 bits (accepted, so that one options object can serve every width). @defaultValue "linear" */
  readonly mode?: QuantizationMode | "kmeans";
  /** Ignored at 16 bits: nothing is fused. @defaultValue true */
  readonly fuse?: boolean;
}

/** n-bit quantization (1..8 bits) in a mode that needs nothing from the caller. */
export interface NbitOptions extends QuantizeCommonOptions {
  /** Bits per weight, 1..8 (linear_symmetric: 8). */
  readonly nbits: number;
  /** How weights are quantized; `kmeans` is an alias of `kmeans_lut`. @defaultValue "linear" */
  readonly mode?: Exclude<QuantizationMode, "custom_lut"> | "kmeans";
  /** Fuse batchnorm, scale and bias layers into the layer before them. @defaultValue true */
  readonly fuse?: boolean;
}

/** n-bit lookup tables built by the caller's function. */
export interface CustomLutOptions extends QuantizeCommonOptions {
  /** Bits per weight, 1..8 (at 16, half precision: the function is not called). */
  readonly nbits: number;
  /** `custom_lut`. */
  readonly mode: "custom_lut";
  /** Returns a lookup table of 2^nbits values and one index per weight. */
  readonly lutFunction: LutFunction;
  /** Fuse batchnorm, scale and bias layers into the layer before them. @defaultValue true */
  readonly fuse?: boolean;
}

/**
 * `nbits: "auto"`: per tensor, the fewest bits (trying each of `modes`) whose SNR
 * reaches `targetSnrDb`, else half precision if that reaches it, else float32.
 * Never half precision for an updatable model's weights (they stay float32 to be trained).
 */
export interface AutoOptions extends QuantizeCommonOptions {
  /** `"auto"`. */
  readonly nbits: "auto";
  /** The quality each tensor must keep, in dB. @defaultValue 40 */
  readonly targetSnrDb?: number;
  /** The modes to try, in order of preference. @defaultValue ["linear", "kmeans_lut"] */
  readonly modes?: readonly AutoMode[];
  /** Fuse batchnorm, scale and bias layers into the layer before them. @defaultValue true */
  readonly fuse?: boolean;
  /** Ignored (the modes tried are `modes`), except `"dequantization"`. @defaultValue "linear" */
  readonly mode?: QuantizationMode | "kmeans";
}

/**
 * Options of {@link quantizeWeights}, one variant per kind of work: half
 * precision (`nbits: 16`), n-bit in a mode of the library (`nbits` 1..8), n-bit
 * with the caller's lookup tables (`mode: "custom_lut"`), or `nbits: "auto"`.
 */
export type QuantizeOptions = HalfPrecisionOptions | NbitOptions | CustomLutOptions | AutoOptions;

/**
 * Every field of any {@link QuantizeOptions} variant, as read before the variant is
 * known (every variant is one of these).
 *
 * @internal
 */
export type QuantizeOptionFields = QuantizeCommonOptions & {
  readonly nbits: number | "auto";
  readonly mode?: QuantizationMode | "kmeans";
  readonly float16Overflow?: Float16Overflow;
  readonly targetSnrDb?: number;
  readonly modes?: readonly AutoMode[];
  readonly lutFunction?: LutFunction;
  readonly fuse?: boolean;
};

/** Options of {@link dequantizeWeights}. */
export interface DequantizeOptions {
  /** Which layers to change. @defaultValue a {@link QuantizedLayerSelector} */
  readonly selector?: LayerSelector;
  /** Called after each tensor. @defaultValue none */
  readonly onProgress?: (progress: Progress) => void;
  /** Cancels the operation, as {@link QuantizeOptions.signal}. @defaultValue none */
  readonly signal?: AbortSignal;
}

/** Every mode `mode` names: the mode table's rows, and dequantization. */
const MODES: readonly QuantizationMode[] = [...TENSOR_MODES, "dequantization"];

/** The defaults of {@link QuantizeOptions}, in one place. */
const DEFAULTS = {
  mode: "linear",
  targetSnrDb: 40,
  modes: ["linear", "kmeans_lut"],
  float16Overflow: "error",
  fuse: true,
} as const satisfies Partial<Record<keyof QuantizeOptionFields, unknown>>;

/** Callbacks and cancellation, common to every kind of quantization. */
interface Reporting {
  readonly selector: LayerSelector;
  readonly onTensor: ((decision: TensorDecision) => void) | undefined;
  readonly onTensorLeft: ((left: TensorLeft) => void) | undefined;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * {@link QuantizeOptions} resolved once: one variant per kind of work, holding the
 * options that kind reads, defaults applied.
 */
type ResolvedQuantize = Reporting &
  (
    | { readonly kind: "half-precision"; readonly float16Overflow: Float16Overflow }
    | { readonly kind: "n-bit"; readonly nbits: number; readonly mode: Exclude<TensorMode, "custom_lut">; readonly fuse: boolean }
    | { readonly kind: "custom-lut"; readonly nbits: number; readonly lutFunction: LutFunction; readonly fuse: boolean }
    | { readonly kind: "auto"; readonly targetSnrDb: number; readonly modes: readonly AutoMode[]; readonly fuse: boolean }
    | { readonly kind: "dequantization" }
  );

const CALLBACK: OptionRule = { expected: "a function", accepts: isFunction };
/** An AbortSignal, from this realm or another (a worker's, a test environment's). */
const isAbortSignal = (v: unknown): boolean =>
  typeof v === "object" && v !== null && typeof (v as AbortSignal).aborted === "boolean" && typeof (v as AbortSignal).throwIfAborted === "function";
const PROGRESS_RULES: OptionRules<DequantizeOptions & Int8MatmulOptions> = {
  selector: SELECTOR_RULE,
  onProgress: CALLBACK,
  signal: { expected: "an AbortSignal", accepts: isAbortSignal },
};

/**
 * What each option of {@link quantizeWeights} accepts: checked once, at the entry,
 * whatever the caller passed (a string where a number belongs, a BigInt, a Set).
 *
 * @internal
 */
export const QUANTIZE_OPTION_RULES: OptionRules<QuantizeOptionFields> = {
  nbits: {
    required: true,
    expected: '16 (half precision), 1..8 or "auto"',
    accepts: (v) => v === 16 || v === "auto" || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 8),
  },
  // Which string is checked below, with the list of modes.
  mode: { expected: "a string naming a quantization mode", accepts: (v) => typeof v === "string" },
  targetSnrDb: { expected: "a finite number of dB", accepts: Number.isFinite },
  modes: {
    expected: `a non-empty array of modes among ${AUTO_MODES.join(", ")}`,
    accepts: (v) => Array.isArray(v) && v.length > 0 && v.every((m) => (AUTO_MODES as readonly unknown[]).includes(m)),
    hint: arrayHint,
  },
  float16Overflow: {
    expected: `one of ${FLOAT16_OVERFLOWS.join(", ")}`,
    accepts: (v) => (FLOAT16_OVERFLOWS as readonly unknown[]).includes(v),
  },
  onTensor: CALLBACK,
  onTensorLeft: CALLBACK,
  lutFunction: CALLBACK,
  fuse: { expected: "true or false", accepts: isBoolean },
  ...PROGRESS_RULES,
};

/**
 * Quantizes the weights of every neural network in `model`: half precision
 * (`nbits: 16`) or n-bit (1..8) with a linear or lookup-table mode. Matches
 * coremltools' `quantize_weights` bit for bit (k-means: never a larger error).
 *
 * @param model - the model; not modified
 * @param options - bits, mode, selector, …
 * @returns a new model
 * @throws {@link QuantizeError} for refused options (`invalid-option`: the message
 *   names the option, the value given and its type), weights that cannot be
 *   quantized (`float16-overflow`, `non-finite-weight`, `invalid-weights`),
 *   updatable models at 16 bits, selected layer kinds without quantizable weights
 *   (`unsupported-layer`), models without a neural network or objects that are not
 *   a model (`unsupported-model`), and the caller's selector, `onTensor`,
 *   `onProgress` or an options getter throwing (`callback`, with their error as
 *   `cause`); the reason of `signal` (an `AbortError` unless given) once it is aborted
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
export function quantizeWeightsWith(model: Model, given: QuantizeOptionFields, run: TensorRunner): Model {
  // Options first (read once: getters run once), then the model's shape, before any work.
  const options = resolveQuantizeOptions(given);
  if (options.kind === "dequantization") {
    const { selector, onProgress, signal } = options;
    return dequantizeWeights(model, { selector, ...(onProgress === undefined ? {} : { onProgress }), ...(signal === undefined ? {} : { signal }) });
  }
  assertHasNetwork(model);
  const { selector, onProgress, signal } = options;
  const onTensor = guardCallback(options.onTensor, "onTensor", (decision) => decision.path);
  const onLeft = guardCallback(options.onTensorLeft, "onTensorLeft", (left) => left.path);
  switch (options.kind) {
    case "half-precision":
      if (model.isUpdatable) {
        throw new QuantizeError("invalid-option", "an updatable model cannot be converted to half precision (its weights must stay float32 to be trained)");
      }
      return transformModel(model, {
        selector,
        plan: toHalfPrecision(options.float16Overflow, onTensor, onLeft),
        fuse: false,
        specificationVersion: HALF_PRECISION_WEIGHTS_VERSION,
        onProgress,
        signal,
      });
    case "auto":
      return transformModel(model, {
        selector,
        plan: toAutoStorage({ targetSnrDb: options.targetSnrDb, modes: options.modes, updatable: model.isUpdatable === true }, onTensor, onLeft),
        fuse: options.fuse,
        specificationVersion: QUANTIZED_WEIGHTS_VERSION,
        onProgress,
        signal,
      });
    case "n-bit":
    case "custom-lut": {
      const [mode, lutFunction] = options.kind === "n-bit" ? [options.mode, undefined] : ["custom_lut" as const, options.lutFunction];
      return transformModel(model, {
        selector,
        plan: toNbits(mode, options.nbits, lutFunction, run, onTensor, onLeft),
        fuse: options.fuse,
        specificationVersion: QUANTIZED_WEIGHTS_VERSION,
        onProgress,
        signal,
      });
    }
  }
}

/**
 * Checks the options of {@link quantizeWeights} and resolves them once into the
 * kind of work they ask for, defaults applied.
 *
 * @throws {@link QuantizeError} `invalid-option` for refused options (see {@link QUANTIZE_OPTION_RULES}),
 *   an unknown mode, a width the mode does not take, custom_lut without a function
 */
function resolveQuantizeOptions(given: QuantizeOptionFields): ResolvedQuantize {
  const options = readOptions<QuantizeOptionFields>(given, QUANTIZE_OPTION_RULES, "quantizeWeights");
  const mode = options.mode === "kmeans" ? "kmeans_lut" : (options.mode ?? DEFAULTS.mode);
  if (!MODES.includes(mode)) {
    throw new QuantizeError("invalid-option", `unknown quantization mode ${describeValue(mode)}; valid: ${MODES.join(", ")} (and kmeans, for kmeans_lut)`);
  }
  const reporting: Reporting = {
    selector: options.selector ?? new QuantizedLayerSelector(),
    onTensor: options.onTensor,
    onTensorLeft: options.onTensorLeft,
    onProgress: options.onProgress,
    signal: options.signal,
  };
  if (mode === "dequantization") return { ...reporting, kind: "dequantization" };
  const { nbits } = options;
  const fuse = options.fuse ?? DEFAULTS.fuse;
  if (nbits === "auto") {
    return { ...reporting, kind: "auto", targetSnrDb: options.targetSnrDb ?? DEFAULTS.targetSnrDb, modes: options.modes ?? DEFAULTS.modes, fuse };
  }
  // A mode of one width refuses every other, 16 included (linear_symmetric: 8 only).
  if (!acceptsNbits(mode, nbits)) {
    throw new QuantizeError("invalid-option", `${mode} quantization needs nbits ${tensorQuantizerOf(mode).onlyNbits}, got ${nbits}`);
  }
  if (mode === "custom_lut" && nbits !== 16) {
    if (options.lutFunction === undefined) throw new QuantizeError("invalid-option", "custom_lut mode needs a lutFunction");
    return { ...reporting, kind: "custom-lut", nbits, lutFunction: options.lutFunction, fuse };
  }
  if (nbits === 16) return { ...reporting, kind: "half-precision", float16Overflow: options.float16Overflow ?? DEFAULTS.float16Overflow };
  return { ...reporting, kind: "n-bit", nbits, mode: mode as Exclude<TensorMode, "custom_lut">, fuse };
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
 *   the layer's shape; `invalid-option`, `unsupported-model` and `callback` as
 *   {@link quantizeWeights} does
 */
export function dequantizeWeights(model: Model, options: DequantizeOptions = {}): Model {
  const { selector, onProgress, signal } = readOptions(options, PROGRESS_RULES, "dequantizeWeights");
  assertHasNetwork(model);
  return transformModel(model, {
    selector: selector ?? new QuantizedLayerSelector(),
    plan: toFloat32,
    fuse: false,
    specificationVersion: QUANTIZED_WEIGHTS_VERSION,
    onProgress,
    signal,
  });
}

interface Transform {
  readonly selector: LayerSelector;
  /** Runs on each layer whose weights were visited, after them. */
  readonly finishLayer?: (layer: NeuralNetworkLayer) => NeuralNetworkLayer;
  readonly plan: TensorPlan;
  readonly fuse: boolean;
  /** The least specification version of each network model changed; a function: asked after its layers are done. */
  readonly specificationVersion: number | (() => number);
  readonly onProgress: ((progress: Progress) => void) | undefined;
  /** Checked between tensors and within long ones. */
  readonly signal?: AbortSignal | undefined;
  /** The model comes from a step that validated it already. */
  readonly validated?: boolean;
}

/** The blobs kept when nothing fuses. */
const NOTHING_KEPT: ReadonlySet<string> = new Set();

function transformModel(model: Model, given: Transform): Model {
  // Built from a checked model by this library: its shape need not be checked again.
  return markShapeChecked(transformModelOnce(model, given));
}

function transformModelOnce(model: Model, given: Transform): Model {
  given.signal?.throwIfAborted();
  // Validate before working: a tensor inconsistent with its layer is refused, never passed on.
  if (given.validated !== true) validateWeights(model);
  // The caller's code runs wrapped: what it throws is reported as theirs, with where.
  const transform: Transform = { ...given, onProgress: guardCallback(given.onProgress, "onProgress", (progress) => progress.path) };
  const counter = { done: 0, total: 0 };
  return mapNetworkModels(model, (sub, path) => {
    if (!isNetworkModel(sub)) return sub;
    const network = sub.Type.value;
    const keep = transform.fuse ? modelBlobsKept(sub) : NOTHING_KEPT;
    const layers = transformLayers(network.layers, `${path}/${sub.Type.case}`, transform, counter, keep);
    return {
      ...sub,
      specificationVersion: Math.max(
        sub.specificationVersion,
        typeof transform.specificationVersion === "number" ? transform.specificationVersion : transform.specificationVersion(),
      ),
      Type: { case: sub.Type.case, value: { ...network, layers } } as Model["Type"],
    };
  });
}

/**
 * The work of a layer not selected: one shared empty list (a fresh one per layer made
 * a million young objects reachable from one old array, which every collection of
 * the young generation then scanned).
 */
const NO_WORK: readonly WeightRef[] = Object.freeze([]);

function transformLayers(
  layers: readonly NeuralNetworkLayer[],
  networkPath: string,
  transform: Transform,
  counter: { done: number; total: number },
  keep: ReadonlySet<string>,
): NeuralNetworkLayer[] {
  const fused = transform.fuse ? fuseLayers(layers, { keep }) : layers.slice();
  // A body's blobs read outside it must survive its own fusion.
  const keptIn = transform.fuse ? nestedBlobsKept(fused, keep) : (): ReadonlySet<string> => NOTHING_KEPT;
  // A layer's path is built only when it is needed (a selected layer's tensors, a
  // selector that throws): on a deep network, most layers are never named.
  const pathOf = (layer: NeuralNetworkLayer, i: number) => (): string => layerPath(networkPath, i, layer);
  const selects = (layer: NeuralNetworkLayer, path: () => string, weightParam?: string): boolean =>
    runCallerCode(() => Boolean(transform.selector.doQuantize(layer, ...(weightParam === undefined ? [] : [weightParam]))), "the selector's doQuantize", path);
  // The selector is asked once per layer, then once per optional field, before any work.
  const work = fused.map((layer, i): readonly WeightRef[] => {
    const path = pathOf(layer, i);
    return selects(layer, path)
      ? layerWeights(layer).filter((r) => r.quantized && (r.selectorParam === undefined || selects(layer, path, r.selectorParam)))
      : NO_WORK;
  });
  counter.total += work.reduce((a, refs) => a + refs.length, 0);
  return fused.map((layer, i) => {
    if (!selects(layer, pathOf(layer, i))) return layer;
    const path = layerPath(networkPath, i, layer);
    const nested = nestedNetworks(layer);
    if (nested.length > 0 || layer.layer.case === "branch" || layer.layer.case === "loop") {
      return nested.reduce(
        (out, { field, network }) =>
          withNestedNetwork(out, field, {
            ...network,
            layers: transformLayers(network.layers, `${path}/${field}`, transform, counter, keptIn(network)),
          }),
        layer,
      );
    }
    const table = layerWeightsOf(layer.layer.case);
    if (layer.layer.case === "custom") return layer; // custom layers' weights are the user's to convert
    if (table === undefined || !table.quantized) {
      throw new QuantizeError(
        "unsupported-layer",
        `the selector chose a ${layer.layer.case ?? "empty"} layer, which has no weights this tool quantizes (quantizable kinds: ${QUANTIZABLE_LAYER_TYPES.join(", ")})`,
        { path },
      );
    }
    let out = layer;
    for (const ref of work[i] ?? []) {
      const fieldPath = `${path}/${ref.field}`;
      const { signal, onProgress } = transform;
      signal?.throwIfAborted();
      // Within a tensor: the cancellation check, then the caller's callback (guarded).
      const within =
        signal === undefined && onProgress === undefined
          ? undefined
          : (fraction: number): void => {
              signal?.throwIfAborted();
              onProgress?.({ path: fieldPath, done: counter.done, total: counter.total, fraction });
            };
      const next = transform.plan(ref.weightParams, ref, fieldPath, within);
      if (next !== ref.weightParams) out = withLayerWeight(out, ref.steps, next);
      counter.done++;
      transform.onProgress?.({ path: fieldPath, done: counter.done, total: counter.total });
    }
    return transform.finishLayer === undefined ? out : transform.finishLayer(out);
  });
}

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
 *   neural network nor a pipeline; `invalid-option`, `invalid-weights` and
 *   `callback` as {@link quantizeWeights} does
 */
export function activateInt8Int8MatrixMultiplications(model: Model, options: Int8MatmulOptions = {}): Model {
  const { selector: given, onProgress } = readOptions(options, PROGRESS_RULES, "activateInt8Int8MatrixMultiplications");
  assertModelShape(model);
  if (!isNetworkModel(model) && pipelineModels(model) === undefined) {
    throw new QuantizeError(
      "unsupported-model",
      `a ${model.Type.case ?? "model without a type"} has no neural network to change; int8 matrix multiplication needs a neuralNetwork or a pipeline`,
    );
  }
  assertHasNetwork(model);
  const selector = given ?? new MatrixMultiplyLayerSelector();
  const dequantized = dequantizeWeights(model, { selector });
  // INT8_PRODUCTS_VERSION for a network model where a matrix product layer was selected,
  // as the reference; the dequantization step raised every network to QUANTIZED_WEIGHTS_VERSION already.
  let selectedProduct = false;
  return transformModel(dequantized, {
    selector,
    plan: toInt8,
    fuse: false,
    specificationVersion: () => {
      const version = selectedProduct ? INT8_PRODUCTS_VERSION : QUANTIZED_WEIGHTS_VERSION;
      selectedProduct = false;
      return version;
    },
    validated: true,
    onProgress,
    finishLayer: (layer) => {
      const kind = layer.layer.case;
      if (kind !== "innerProduct" && kind !== "batchedMatmul") return layer;
      selectedProduct = true;
      const params = layer.layer.value;
      if (params.weights === undefined || weightStorage(params.weights).kind !== "int8") return layer;
      return { ...layer, layer: { case: kind, value: { ...params, int8DynamicQuantize: true } } as NeuralNetworkLayer["layer"] };
    },
  });
}

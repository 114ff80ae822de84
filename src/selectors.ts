/**
 * Layer selectors: which layers (and which of their weights) an operation changes.
 * Subclass one and override {@link QuantizedLayerSelector.doQuantize}, calling the
 * parent first, to choose layers yourself.
 *
 * @packageDocumentation
 */
import { arrayHint, isNonNegativeNumber, isStringArray, readOptions, type OptionRule, type OptionRules } from "./check-options.js";
import type { NeuralNetworkLayer } from "./codec/model-types.js";
import { QuantizeError } from "./errors.js";
import { NESTING_LAYER_KINDS, QUANTIZED_LAYER_KINDS, type NestingLayerKind, type QuantizedLayerKind } from "./walker/layer-table.js";

/**
 * A name a skip list may hold: a layer kind whose weights the reference quantizes
 * (a row of the layer table marked `quantized`), a kind holding networks (its
 * bodies are visited), or the pseudo-kind `depthwiseConv`.
 */
export type QuantizableLayerType = QuantizedLayerKind | NestingLayerKind | "depthwiseConv";

/**
 * The layer kinds {@link QuantizedLayerSelector} selects, plus the pseudo-kind
 * `depthwiseConv`: derived from the layer table (`LAYER_WEIGHTS`), never listed by hand.
 */
export const QUANTIZABLE_LAYER_TYPES: readonly QuantizableLayerType[] = Object.freeze([...QUANTIZED_LAYER_KINDS, "depthwiseConv", ...NESTING_LAYER_KINDS]);

/** Anything that answers which layers to change; the selector classes implement it. */
export interface LayerSelector {
  /**
   * Whether to change `layer` (asked once per layer, without `weightParam`), and
   * then whether to change its optional weight `weightParam` (`"bias"`).
   */
  doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean;
}

/**
 * Selects every layer kind whose weights the reference quantizes (and branch and
 * loop layers, so their bodies are visited).
 *
 * @example
 * ```ts
 * class SkipFirstLayer extends QuantizedLayerSelector {
 *   override doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean {
 *     return super.doQuantize(layer, weightParam) && layer.name !== "conv1";
 *   }
 * }
 * ```
 */
export class QuantizedLayerSelector implements LayerSelector {
  /**
   * @param layer - the layer
   * @param _weightParam - the optional weight asked about (`"bias"`), if any
   * @returns true when the layer kind is one of {@link QUANTIZABLE_LAYER_TYPES}
   */
  doQuantize(layer: NeuralNetworkLayer, _weightParam?: string): boolean {
    return (QUANTIZABLE_LAYER_TYPES as readonly (string | undefined)[]).includes(layer.layer.case);
  }
}

/** Options of {@link AdvancedQuantizedLayerSelector}. */
export interface AdvancedSelectorOptions {
  /**
   * Layer kinds to leave alone. `"bias"` also leaves the bias of every other layer
   * alone; `"depthwiseConv"` leaves depthwise convolutions (kernelChannels 1,
   * nGroups > 1) alone.
   * @defaultValue []
   */
  readonly skipLayerTypes?: readonly string[];
  /** Convolutions with fewer kernel channels are left alone. @defaultValue 4 */
  readonly minimumConvKernelChannels?: number;
  /** Convolutions with fewer weights are left alone. @defaultValue 4096 */
  readonly minimumConvWeightCount?: number;
}

/**
 * Selects like {@link QuantizedLayerSelector}, minus skipped layer kinds and
 * convolutions too small to be worth quantizing.
 */
export class AdvancedQuantizedLayerSelector extends QuantizedLayerSelector {
  /** Layer kinds left alone. */
  readonly skipLayerTypes: readonly QuantizableLayerType[];
  /** See {@link AdvancedSelectorOptions.minimumConvKernelChannels}. */
  readonly minimumConvKernelChannels: number;
  /** See {@link AdvancedSelectorOptions.minimumConvWeightCount}. */
  readonly minimumConvWeightCount: number;

  /**
   * @param options - what to skip
   * @throws {@link QuantizeError} `invalid-option` for an unknown skip type (the
   *   message lists the valid ones), skip types that are not an array of strings,
   *   or a minimum that is not a non-negative number; `callback` when a getter on
   *   `options` throws
   */
  constructor(options: AdvancedSelectorOptions = {}) {
    super();
    const given = readOptions(options, ADVANCED_SELECTOR_RULES, "AdvancedQuantizedLayerSelector");
    const skip = [...(given.skipLayerTypes ?? [])];
    const unknown = skip.filter((t) => !(QUANTIZABLE_LAYER_TYPES as readonly string[]).includes(t));
    if (unknown.length > 0) {
      throw new QuantizeError(
        "invalid-option",
        `unknown layer type${unknown.length > 1 ? "s" : ""} to skip: ${unknown.map((t) => JSON.stringify(t)).join(", ")}; valid: ${QUANTIZABLE_LAYER_TYPES.join(", ")}`,
      );
    }
    this.skipLayerTypes = skip as QuantizableLayerType[];
    this.minimumConvKernelChannels = given.minimumConvKernelChannels ?? 4;
    this.minimumConvWeightCount = given.minimumConvWeightCount ?? 4096;
  }

  override doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean {
    if (!super.doQuantize(layer, weightParam)) return false;
    const skipped = (type: string): boolean => (this.skipLayerTypes as readonly string[]).includes(type);
    if (layer.layer.case !== undefined && skipped(layer.layer.case)) return false;
    if (weightParam === "bias") return !skipped("bias");
    if (layer.layer.case !== "convolution") return true;
    const conv = layer.layer.value;
    const kc = Number(conv.kernelChannels);
    if (skipped("depthwiseConv") && kc === 1 && Number(conv.nGroups) > 1) return false;
    const [kh = 3, kw = 3] = conv.kernelSize.map(Number); // the format's default kernel is 3x3
    return kc >= this.minimumConvKernelChannels && Number(conv.outputChannels) * kc * kh * kw >= this.minimumConvWeightCount;
  }
}

/** Options of {@link MatrixMultiplyLayerSelector}. */
export interface MatrixMultiplySelectorOptions {
  /** Layers with fewer weights (input × output channels) are left alone. @defaultValue 1 */
  readonly minimumWeightCount?: number;
  /** Layers with fewer input channels (batchedMatmul: weight matrix rows) are left alone. @defaultValue 1 */
  readonly minimumInputChannels?: number;
  /** Layers with fewer output channels (batchedMatmul: weight matrix columns) are left alone. @defaultValue 1 */
  readonly minimumOutputChannels?: number;
  /** Layers with more input channels are left alone. @defaultValue no limit */
  readonly maximumInputChannels?: number;
  /** Layers with more output channels are left alone. @defaultValue no limit */
  readonly maximumOutputChannels?: number;
  /** Only layers with these names (exact matches). @defaultValue every name */
  readonly includeLayersWithNames?: readonly string[];
}

/**
 * Selects innerProduct and batchedMatmul layers within bounds (and branch and loop
 * layers, so their bodies are visited), for
 * {@link activateInt8Int8MatrixMultiplications}.
 */
export class MatrixMultiplyLayerSelector implements LayerSelector {
  /** See {@link MatrixMultiplySelectorOptions.minimumWeightCount}. */
  readonly minimumWeightCount: number;
  /** See {@link MatrixMultiplySelectorOptions.minimumInputChannels}. */
  readonly minimumInputChannels: number;
  /** See {@link MatrixMultiplySelectorOptions.minimumOutputChannels}. */
  readonly minimumOutputChannels: number;
  /** See {@link MatrixMultiplySelectorOptions.maximumInputChannels}; undefined for no limit. */
  readonly maximumInputChannels: number | undefined;
  /** See {@link MatrixMultiplySelectorOptions.maximumOutputChannels}; undefined for no limit. */
  readonly maximumOutputChannels: number | undefined;
  /** See {@link MatrixMultiplySelectorOptions.includeLayersWithNames}; undefined for every name. */
  readonly includeLayersWithNames: readonly string[] | undefined;

  /**
   * @param options - the bounds
   * @throws {@link QuantizeError} `invalid-option` for a bound that is not a
   *   non-negative number, or names that are not an array of strings (a single
   *   string is refused: names match exactly, never by substring); `callback`
   *   when a getter on `options` throws
   */
  constructor(options: MatrixMultiplySelectorOptions = {}) {
    const given = readOptions(options, MATRIX_MULTIPLY_SELECTOR_RULES, "MatrixMultiplyLayerSelector");
    this.minimumWeightCount = given.minimumWeightCount ?? 1;
    this.minimumInputChannels = given.minimumInputChannels ?? 1;
    this.minimumOutputChannels = given.minimumOutputChannels ?? 1;
    this.maximumInputChannels = given.maximumInputChannels;
    this.maximumOutputChannels = given.maximumOutputChannels;
    // A copy: the caller's array may change later; names match exactly.
    this.includeLayersWithNames = given.includeLayersWithNames === undefined ? undefined : Object.freeze([...given.includeLayersWithNames]);
  }

  /**
   * @param layer - the layer
   * @returns true for branch and loop layers, and for innerProduct and
   *   batchedMatmul layers meeting every bound
   */
  doQuantize(layer: NeuralNetworkLayer): boolean {
    let input: number;
    let output: number;
    switch (layer.layer.case) {
      case "branch":
      case "loop":
        return true;
      case "innerProduct":
        input = Number(layer.layer.value.inputChannels);
        output = Number(layer.layer.value.outputChannels);
        break;
      case "batchedMatmul":
        input = Number(layer.layer.value.weightMatrixFirstDimension);
        output = Number(layer.layer.value.weightMatrixSecondDimension);
        break;
      default:
        return false;
    }
    if (this.includeLayersWithNames !== undefined && !this.includeLayersWithNames.includes(layer.name)) return false;
    return (
      input * output >= this.minimumWeightCount &&
      input >= this.minimumInputChannels &&
      output >= this.minimumOutputChannels &&
      (this.maximumInputChannels === undefined || input <= this.maximumInputChannels) &&
      (this.maximumOutputChannels === undefined || output <= this.maximumOutputChannels)
    );
  }
}

const NON_NEGATIVE: OptionRule = { expected: "a non-negative number", accepts: isNonNegativeNumber };
const NAMES: OptionRule = { expected: "an array of strings", accepts: isStringArray, hint: arrayHint };

const ADVANCED_SELECTOR_RULES: OptionRules<AdvancedSelectorOptions> = {
  skipLayerTypes: NAMES,
  minimumConvKernelChannels: NON_NEGATIVE,
  minimumConvWeightCount: NON_NEGATIVE,
};

const MATRIX_MULTIPLY_SELECTOR_RULES: OptionRules<MatrixMultiplySelectorOptions> = {
  minimumWeightCount: NON_NEGATIVE,
  minimumInputChannels: NON_NEGATIVE,
  minimumOutputChannels: NON_NEGATIVE,
  maximumInputChannels: NON_NEGATIVE,
  maximumOutputChannels: NON_NEGATIVE,
  includeLayersWithNames: NAMES,
};

/** Which selector class takes each selector option: to say what to wrap options in. */
const SELECTOR_CLASS_OF_OPTION: ReadonlyMap<string, string> = new Map([
  ...Object.keys(ADVANCED_SELECTOR_RULES).map((key) => [key, "AdvancedQuantizedLayerSelector"] as const),
  ...Object.keys(MATRIX_MULTIPLY_SELECTOR_RULES).map((key) => [key, "MatrixMultiplyLayerSelector"] as const),
]);

/**
 * The `selector` option of the operations: a {@link LayerSelector}. Selector
 * options given in its place are refused with the class to wrap them in.
 *
 * @internal
 */
export const SELECTOR_RULE: OptionRule = {
  expected: "a layer selector (an object with a doQuantize(layer, weightParam?) method, such as new QuantizedLayerSelector())",
  accepts: (value) =>
    ((typeof value === "object" && value !== null) || typeof value === "function") && typeof (value as { doQuantize?: unknown }).doQuantize === "function",
  hint: (value) => {
    if (typeof value !== "object" || value === null) return undefined;
    const classes = [...new Set(Object.keys(value).flatMap((key) => SELECTOR_CLASS_OF_OPTION.get(key) ?? []))];
    if (classes.length === 0) return undefined;
    return `these are selector options: wrap them in ${classes.map((c) => `new ${c}({ … })`).join(" or ")}`;
  },
};

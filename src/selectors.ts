/**
 * Layer selectors: which layers (and which of their weights) an operation changes.
 * Subclass one and override {@link QuantizedLayerSelector.doQuantize}, calling the
 * parent first, to choose layers yourself.
 *
 * @packageDocumentation
 */
import type { NeuralNetworkLayer } from "./codec/model-types.js";
import { QuantizeError } from "./errors.js";

/** The layer kinds {@link QuantizedLayerSelector} selects, plus the pseudo-kind `depthwiseConv`. */
export const QUANTIZABLE_LAYER_TYPES = [
  "convolution", "innerProduct", "embedding", "embeddingND", "batchnorm", "scale", "bias", "loadConstant",
  "loadConstantND", "simpleRecurrent", "gru", "uniDirectionalLSTM", "biDirectionalLSTM", "batchedMatmul",
  "depthwiseConv", "loop", "branch",
] as const;

/** A name a skip list may hold: a layer kind of {@link QUANTIZABLE_LAYER_TYPES}. */
export type QuantizableLayerType = (typeof QUANTIZABLE_LAYER_TYPES)[number];

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
   *   message lists the valid ones) or a negative minimum
   */
  constructor(options: AdvancedSelectorOptions = {}) {
    super();
    const skip = options.skipLayerTypes ?? [];
    const unknown = skip.filter((t) => !(QUANTIZABLE_LAYER_TYPES as readonly string[]).includes(t));
    if (unknown.length > 0) {
      throw new QuantizeError("invalid-option",
        `unknown layer type${unknown.length > 1 ? "s" : ""} to skip: ${unknown.join(", ")}; valid: ${QUANTIZABLE_LAYER_TYPES.join(", ")}`);
    }
    this.skipLayerTypes = skip as QuantizableLayerType[];
    this.minimumConvKernelChannels = nonNegative("minimumConvKernelChannels", options.minimumConvKernelChannels ?? 4);
    this.minimumConvWeightCount = nonNegative("minimumConvWeightCount", options.minimumConvWeightCount ?? 4096);
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
  /** Layers with fewer weights are left alone. @defaultValue 1 */
  readonly minimumWeightCount?: number;
  /** @defaultValue 1 */
  readonly minimumInputChannels?: number;
  /** @defaultValue 1 */
  readonly minimumOutputChannels?: number;
  /** @defaultValue no limit */
  readonly maximumInputChannels?: number;
  /** @defaultValue no limit */
  readonly maximumOutputChannels?: number;
  /** Only layers with these names. @defaultValue every name */
  readonly includeLayersWithNames?: readonly string[];
}

/**
 * Selects innerProduct and batchedMatmul layers within bounds (and branch and loop
 * layers, so their bodies are visited), for
 * {@link activateInt8Int8MatrixMultiplications}.
 */
export class MatrixMultiplyLayerSelector implements LayerSelector {
  readonly minimumWeightCount: number;
  readonly minimumInputChannels: number;
  readonly minimumOutputChannels: number;
  readonly maximumInputChannels: number | undefined;
  readonly maximumOutputChannels: number | undefined;
  readonly includeLayersWithNames: readonly string[] | undefined;

  /**
   * @param options - the bounds
   * @throws {@link QuantizeError} `invalid-option` for a negative bound
   */
  constructor(options: MatrixMultiplySelectorOptions = {}) {
    this.minimumWeightCount = nonNegative("minimumWeightCount", options.minimumWeightCount ?? 1);
    this.minimumInputChannels = nonNegative("minimumInputChannels", options.minimumInputChannels ?? 1);
    this.minimumOutputChannels = nonNegative("minimumOutputChannels", options.minimumOutputChannels ?? 1);
    this.maximumInputChannels = options.maximumInputChannels === undefined ? undefined : nonNegative("maximumInputChannels", options.maximumInputChannels);
    this.maximumOutputChannels = options.maximumOutputChannels === undefined ? undefined : nonNegative("maximumOutputChannels", options.maximumOutputChannels);
    this.includeLayersWithNames = options.includeLayersWithNames;
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
    return input * output >= this.minimumWeightCount
      && input >= this.minimumInputChannels && output >= this.minimumOutputChannels
      && (this.maximumInputChannels === undefined || input <= this.maximumInputChannels)
      && (this.maximumOutputChannels === undefined || output <= this.maximumOutputChannels);
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new QuantizeError("invalid-option", `${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

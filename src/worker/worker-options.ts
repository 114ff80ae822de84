/**
 * The options of a quantization run in a Web Worker: plain data that survives
 * `postMessage` (structured clone), mapped on the worker's side to the
 * {@link QuantizeOptions} of quantizeWeights, selector object included.
 *
 * @packageDocumentation
 */
import type { AutoMode } from "../quantize/auto-bits.js";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import type { QuantizationMode, QuantizeOptions, Float16Overflow } from "../quantize/quantize-weights.js";
import type { NeuralNetworkLayer } from "../codec/model-types.js";
import { AdvancedQuantizedLayerSelector, QuantizedLayerSelector, type AdvancedSelectorOptions, type LayerSelector } from "../selectors.js";
import type { SizeSnrChartOptions } from "./size-snr-chart.js";

/**
 * Which layers to change, as data (a selector class instance does not cross to a
 * worker): `default` is a {@link index!QuantizedLayerSelector}, `advanced` an
 * {@link index!AdvancedQuantizedLayerSelector} built from the other fields;
 * either one minus the layers named in `skipLayerNames`.
 */
export type WorkerSelector = (
  | {
      /** The default selector, as quantizeWeights uses without one. */
      readonly kind: "default";
    }
  | ({
      /** An advanced selector with the options beside `kind`. */
      readonly kind: "advanced";
    } & AdvancedSelectorOptions)
) & {
  /**
   * Layers left as they are, by name (what compareModels' per-layer rows call
   * `layer.name`): the page's "skip" boxes of the per-layer comparison.
   * @defaultValue none
   */
  readonly skipLayerNames?: readonly string[];
};

/**
 * {@link QuantizeOptions} that can be posted to a worker: no callbacks (progress
 * comes back as messages), and the selector as {@link WorkerSelector} data.
 */
export interface WorkerQuantizeOptions {
  /** Bits per weight: 16, 1..8 or `"auto"` (see {@link QuantizeOptions}). */
  readonly nbits: number | "auto";
  /** @defaultValue "linear" (ignored at 16 bits and with `"auto"`, as the CLI does) */
  readonly mode?: Exclude<QuantizationMode, "custom_lut" | "dequantization"> | "kmeans";
  /** With `nbits: "auto"`. @defaultValue 40 */
  readonly targetSnrDb?: number;
  /** With `nbits: "auto"`. @defaultValue ["linear", "kmeans_lut"] */
  readonly modes?: readonly AutoMode[];
  /** At 16 bits, values beyond ±65504. @defaultValue "error" */
  readonly float16Overflow?: Float16Overflow;
  /** Fuse batchnorm, scale and bias layers into the layer before (below 16 bits). @defaultValue true */
  readonly fuse?: boolean;
  /** Which layers to change. @defaultValue `{ kind: "default" }` */
  readonly selector?: WorkerSelector;
}

/**
 * The quantizeWeights options for posted {@link WorkerQuantizeOptions}, built as the
 * CLI builds them from its flags: the mode is `linear` at 16 bits and with
 * `"auto"`, and an advanced selector only when one is asked for. Option values are
 * checked by quantizeWeights itself (and the selector's constructor).
 *
 * @param options - the posted options
 * @returns options for quantizeWeights, without callbacks
 * @throws {@link index!QuantizeError} `invalid-option` for an unknown selector kind or a
 *   refused selector option
 */
export function toQuantizeOptions(options: WorkerQuantizeOptions): QuantizeOptions {
  const { nbits, mode, targetSnrDb, modes, float16Overflow, fuse, selector } = options;
  return {
    nbits,
    mode: nbits === 16 || nbits === "auto" ? "linear" : (mode ?? "linear"),
    fuse: fuse ?? true,
    ...(targetSnrDb === undefined ? {} : { targetSnrDb }),
    ...(modes === undefined ? {} : { modes }),
    ...(float16Overflow === undefined ? {} : { float16Overflow }),
    ...(selector === undefined ? {} : selectorOption(selector)),
  };
}

/**
 * The options a size-against-SNR chart shares across its points (see
 * {@link sizeSnrChart}): those of {@link WorkerQuantizeOptions} that do not pick
 * the bits or mode.
 */
export type WorkerChartOptions = Pick<WorkerQuantizeOptions, "float16Overflow" | "fuse" | "selector">;

/**
 * The sizeSnrChart options for posted {@link WorkerChartOptions}, built as
 * {@link toQuantizeOptions} builds them.
 *
 * @param options - the posted options
 * @returns options for sizeSnrChart, without callbacks
 * @throws {@link index!QuantizeError} `invalid-option` as {@link toQuantizeOptions}
 */
export function toChartOptions(options: WorkerChartOptions): SizeSnrChartOptions {
  const { float16Overflow, fuse, selector } = options;
  return {
    fuse: fuse ?? true,
    ...(float16Overflow === undefined ? {} : { float16Overflow }),
    ...(selector === undefined ? {} : selectorOption(selector)),
  };
}

function selectorOption(selector: WorkerSelector): Pick<QuantizeOptions, "selector"> {
  const { skipLayerNames, ...chosen } = selector;
  const base = baseSelector(chosen);
  if (skipLayerNames === undefined) return base === undefined ? {} : { selector: base };
  if (!Array.isArray(skipLayerNames) || !skipLayerNames.every((n) => typeof n === "string")) {
    throw new QuantizeError("invalid-option", `skipLayerNames must be an array of layer names (strings), got ${describeValue(skipLayerNames)}`);
  }
  return { selector: new LayerNameSkippingSelector(base ?? new QuantizedLayerSelector(), skipLayerNames) };
}

/** The selector of `kind`, or undefined for quantizeWeights' default. */
function baseSelector(selector: WorkerSelector): LayerSelector | undefined {
  switch (selector.kind) {
    case "default":
      return undefined;
    case "advanced": {
      const { kind: _kind, ...rest } = selector;
      return new AdvancedQuantizedLayerSelector(rest);
    }
    default:
      throw new QuantizeError("invalid-option", `unknown selector kind ${describeValue((selector as { kind: unknown }).kind)}; valid: default, advanced`);
  }
}

/** Selects as another selector does, minus the layers of some names. */
class LayerNameSkippingSelector implements LayerSelector {
  private readonly skipped: ReadonlySet<string>;

  constructor(
    private readonly inner: LayerSelector,
    names: readonly string[],
  ) {
    this.skipped = new Set(names);
  }

  doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean {
    return !this.skipped.has(layer.name) && this.inner.doQuantize(layer, weightParam);
  }
}

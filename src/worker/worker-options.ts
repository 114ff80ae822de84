/**
 * The options of a quantization run in a Web Worker: plain data that survives
 * `postMessage` (structured clone), mapped on the worker's side to the
 * {@link QuantizeOptions} of quantizeWeights, selector object included.
 *
 * @packageDocumentation
 */
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import type { AutoOptions, HalfPrecisionOptions, NbitOptions, QuantizeCommonOptions, QuantizeOptions } from "../quantize/quantize-weights.js";
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
 * The selector as posted, in place of the selector object of
 * {@link QuantizeOptions}. The other fields of QuantizeCommonOptions stay on the
 * page: callbacks and the signal (progress and cancelling are messages).
 */
export interface WorkerSelection {
  /** Which layers to change. @defaultValue `{ kind: "default" }` */
  readonly selector?: WorkerSelector;
}

/** {@link index!HalfPrecisionOptions} that can be posted to a worker (`nbits: 16`). */
export type WorkerHalfPrecisionOptions = Omit<HalfPrecisionOptions, keyof QuantizeCommonOptions | "mode"> &
  WorkerSelection & {
    /** No mode at 16 bits (quantizeWeights ignores one there); declared so that `mode` reads as undefined on this variant. */
    readonly mode?: undefined;
  };

/**
 * {@link index!NbitOptions} that can be posted to a worker (`nbits` 1..8): every
 * mode but `dequantization` (a worker quantizes).
 */
export type WorkerNbitOptions = Omit<NbitOptions, keyof QuantizeCommonOptions | "mode"> &
  WorkerSelection & {
    /** How weights are quantized; `kmeans` is an alias of `kmeans_lut`. @defaultValue "linear" */
    readonly mode?: Exclude<NonNullable<NbitOptions["mode"]>, "dequantization">;
  };

/** {@link index!AutoOptions} that can be posted to a worker (`nbits: "auto"`). */
export type WorkerAutoOptions = Omit<AutoOptions, keyof QuantizeCommonOptions | "mode"> & WorkerSelection;

/**
 * {@link QuantizeOptions} that can be posted to a worker, one variant per kind of
 * work as there: half precision, n-bit in a mode of the library, or `"auto"`.
 * (`custom_lut` has no worker variant: its lookup-table function cannot be posted.)
 */
export type WorkerQuantizeOptions = WorkerHalfPrecisionOptions | WorkerNbitOptions | WorkerAutoOptions;

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
  const shared = { fuse: options.fuse ?? true, ...(options.selector === undefined ? {} : selectorOption(options.selector)) };
  if (options.nbits === "auto") {
    const { targetSnrDb, modes } = options;
    return {
      ...shared,
      nbits: "auto",
      ...(targetSnrDb === undefined ? {} : { targetSnrDb }),
      ...(modes === undefined ? {} : { modes }),
    };
  }
  if (options.nbits === 16) {
    // An n-bit variant's `mode` is ignored at 16 bits, as the CLI ignores --mode there.
    const float16Overflow = "float16Overflow" in options ? options.float16Overflow : undefined;
    return { ...shared, nbits: 16, ...(float16Overflow === undefined ? {} : { float16Overflow }) };
  }
  return { ...shared, nbits: options.nbits, mode: options.mode ?? "linear" };
}

/**
 * The options a size-against-SNR chart shares across its points (see
 * {@link sizeSnrChart}): those of {@link WorkerQuantizeOptions} that do not pick
 * the bits or mode.
 */
export type WorkerChartOptions = Pick<WorkerHalfPrecisionOptions, "float16Overflow" | "selector"> & Pick<WorkerNbitOptions, "fuse">;

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

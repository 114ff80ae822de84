/**
 * The options of `quantizeWeightsParallel`, read and resolved once: those of
 * quantizeWeights plus `threads`, capped at the cores there are. Kept apart from
 * the worker code so it can be checked without starting threads.
 *
 * @packageDocumentation
 */
import { guardCallback, readOptions, type OptionRules } from "../check-options.js";
import { QUANTIZE_OPTION_RULES, type Progress, type QuantizeOptionFields } from "../quantize/quantize-weights.js";

/** Every field of `quantizeWeightsParallel`'s options, as read before the variant is known. */
type ParallelOptionFields = QuantizeOptionFields & { readonly threads?: number; readonly workerUrl?: URL | string };

/** Worker threads when `threads` is not given: more rarely pays for their start-up on the models measured. */
const DEFAULT_MAX_THREADS = 4;

const PARALLEL_OPTION_RULES: OptionRules<ParallelOptionFields> = {
  ...QUANTIZE_OPTION_RULES,
  threads: {
    expected: "a positive integer (or Infinity: one per core)",
    accepts: (v) => v === Infinity || (Number.isInteger(v) && (v as number) >= 1),
  },
  workerUrl: {
    expected: "a URL or a path of the worker script",
    accepts: (v) => v instanceof URL || (typeof v === "string" && v.length > 0),
  },
};

/** {@link ParallelQuantizeOptions}, checked and resolved. */
export interface ResolvedParallelOptions {
  /** Worker threads to use at most: between 1 and the cores. */
  readonly threads: number;
  /** The caller's progress callback, its throws reported as `callback` errors. */
  readonly onProgress: ((progress: Progress) => void) | undefined;
  /** The caller's progress callback as given, for quantizeWeights to guard itself. */
  readonly givenOnProgress: ((progress: Progress) => void) | undefined;
  /** Where the worker script is, when the caller says (a bundled app). */
  readonly workerUrl: URL | string | undefined;
  /** The rest, for quantizeWeights (`signal` included, `onProgress` not). */
  readonly options: QuantizeOptionFields;
}

/**
 * Reads the options of `quantizeWeightsParallel` once, checks them, and
 * resolves the thread count.
 *
 * @param options - what the caller passed
 * @param cores - the cores available (`availableParallelism()`)
 * @returns the thread count, the progress callback (guarded and as given), the
 *   worker script's URL if given, and the other options
 * @throws {@link QuantizeError} `invalid-option` for a refused option (as
 *   quantizeWeights does; `threads` NaN, below 1 or not an integer); `callback`
 *   when a getter on `options` throws
 *
 * @internal
 */
export function readParallelOptions(options: unknown, cores: number): ResolvedParallelOptions {
  const { threads, onProgress, workerUrl, ...rest } = readOptions<ParallelOptionFields>(options, PARALLEL_OPTION_RULES, "quantizeWeightsParallel");
  return {
    threads: resolveThreadCount(threads, cores),
    onProgress: guardCallback(onProgress, "onProgress", (progress) => progress.path),
    givenOnProgress: onProgress,
    workerUrl,
    options: rest,
  };
}

/**
 * Worker threads to start: as requested, but never more than the cores (a thread
 * per tensor would only compete for them), and by default at most 4.
 *
 * @param requested - the `threads` option, already checked (a positive integer or
 *   Infinity), or undefined
 * @param cores - the cores available, at least 1
 * @returns a whole number from 1 to `cores`
 *
 * @internal
 */
export function resolveThreadCount(requested: number | undefined, cores: number): number {
  const available = Math.max(1, Math.floor(cores));
  return Math.min(requested ?? DEFAULT_MAX_THREADS, available);
}

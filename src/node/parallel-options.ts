/**
 * The options of `quantizeWeightsParallel`, read and resolved once: those of
 * quantizeWeights plus `threads`, capped at the cores there are. Kept apart from
 * the worker code so it can be checked without starting threads.
 *
 * @packageDocumentation
 */
import { guardCallback, readOptions, type OptionRules } from "../check-options.js";
import { QUANTIZE_OPTION_RULES, type Progress, type QuantizeOptions } from "../quantize-weights.js";
import type { ParallelQuantizeOptions } from "./quantize-weights-parallel.js";

/** Worker threads when `threads` is not given: more rarely pays for their start-up on the models measured. */
const DEFAULT_MAX_THREADS = 4;

const PARALLEL_OPTION_RULES: OptionRules<ParallelQuantizeOptions> = {
  ...QUANTIZE_OPTION_RULES,
  threads: {
    expected: "a positive integer (or Infinity: one per core)",
    accepts: (v) => v === Infinity || (Number.isInteger(v) && (v as number) >= 1),
  },
};

/** {@link ParallelQuantizeOptions}, checked and resolved. */
export interface ResolvedParallelOptions {
  /** Worker threads to use at most: between 1 and the cores. */
  readonly threads: number;
  /** The caller's progress callback, its throws reported as `callback` errors. */
  readonly onProgress: ((progress: Progress) => void) | undefined;
  /** The rest, for quantizeWeights. */
  readonly options: QuantizeOptions;
}

/**
 * Reads the options of `quantizeWeightsParallel` once, checks them, and
 * resolves the thread count.
 *
 * @param options - what the caller passed
 * @param cores - the cores available (`availableParallelism()`)
 * @returns the thread count, the guarded progress callback, and the other options
 * @throws {@link QuantizeError} `invalid-option` for a refused option (as
 *   quantizeWeights does; `threads` NaN, below 1 or not an integer); `callback`
 *   when a getter on `options` throws
 *
 * @internal
 */
export function readParallelOptions(options: unknown, cores: number): ResolvedParallelOptions {
  const { threads, onProgress, ...rest } = readOptions(options, PARALLEL_OPTION_RULES, "quantizeWeightsParallel");
  return {
    threads: resolveThreadCount(threads, cores),
    onProgress: guardCallback(onProgress, "onProgress", (progress) => progress.path),
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

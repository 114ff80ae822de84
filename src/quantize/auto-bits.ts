/**
 * Choosing a storage per tensor from a quality target: the fewest bits whose
 * signal-to-noise ratio meets it, trying each allowed mode, else half precision,
 * else float32.
 *
 * @packageDocumentation
 */
import { packIndices, unpackIndices } from "../codec/bit-pack.js";
import { dequantizeLinear, dequantizeLut } from "../quantizer/dequantize.js";
import { decodeFloat16, encodeFloat16, FLOAT16_MAX } from "../codec/float16.js";
import { describeValue } from "../describe-value.js";
import { isQuantizeError, QuantizeError } from "../errors.js";
import { acceptsNbits, perChannel, TENSOR_MODES, TENSOR_QUANTIZERS, type TensorContext, type TensorMode, type TensorResult } from "./quantize-tensor.js";
import { kmeansBoundPays, kmeansErrorLowerBound, MAX_GROUPS_PER_CLUSTER } from "../quantizer/kmeans-bound.js";
import { kmeansLutOf, prepareKmeans, type KmeansInput } from "../quantizer/kmeans-lut.js";
import { MAX_NBITS } from "../quantizer/quantizer-options.js";
import { tensorError } from "../measure/tensor-error.js";

/**
 * Modes `nbits: "auto"` may pick from: the rows of the mode table marked
 * `standalone` (custom_lut is not: it needs a function per bit width).
 *
 * @useDeclaredType
 */
export type AutoMode = keyof { [M in TensorMode as (typeof TENSOR_QUANTIZERS)[M]["standalone"] extends true ? M : never]: M };

/** Every {@link AutoMode}, in the mode table's order. */
export const AUTO_MODES: readonly AutoMode[] = TENSOR_MODES.filter((mode): mode is AutoMode => TENSOR_QUANTIZERS[mode].standalone);

/** Whether a mode stores per-channel parameters (whose count depends on the tensor's channels). */
const perChannelMode = (mode: TensorMode): boolean => TENSOR_QUANTIZERS[mode].storage === "linear";

/** What the search decided for one tensor. */
export type TensorChoice =
  | {
      /** n-bit indices with a linear or lookup-table mode. */
      readonly storage: "n-bit";
      /** Bits per index, 1..8. */
      readonly nbits: number;
      /** The mode chosen. */
      readonly mode: AutoMode;
      /** The quantized tensor, ready to store. */
      readonly result: TensorResult;
      /** The SNR of the stored values against the original, in dB. */
      readonly snrDb: number;
    }
  | {
      /** Half precision. */
      readonly storage: "float16";
      /** The SNR of the stored values against the original, in dB. */
      readonly snrDb: number;
    }
  | {
      /** Left as float32: nothing smaller met the target. */
      readonly storage: "float32";
      /** +Infinity: the values are unchanged. */
      readonly snrDb: number;
    };

/** Which storages {@link chooseTensorStorage} may pick besides n-bit and float32. */
export interface TensorChoices {
  /**
   * Half precision may compete. False for an updatable model's weights: they must
   * stay float32 to be trained (as `nbits: 16` refuses such a model).
   * @defaultValue true
   */
  readonly allowHalfPrecision?: boolean;
  /**
   * Called as the search advances with the part done, in (0, 1): twice, then at
   * most 32 times per k-means run (it runs one or two, rarely more). What it throws propagates (a way to
   * cancel). @defaultValue none
   */
  readonly onProgress?: (fraction: number) => void;
}

/**
 * The smallest storage that keeps `targetSnrDb`: every bit width 1..8 with each
 * allowed mode, half precision (if every value fits), and float32 (exact) compete,
 * and the one taking the fewest bytes wins; ties go to fewer bits, then to the
 * higher SNR (the earlier mode on a full tie). On tensors of any size the indices
 * dominate, and this is the smallest bit width whose best mode meets the target;
 * on small tensors a lookup table or per-channel parameters can outweigh a bit
 * saved, and a wider or half-precision storage is smaller. So the result is never
 * larger than any uniform bit width (or half precision) that meets the target on
 * this tensor. SNR is `+Infinity` for an exact reconstruction. Deterministic. A
 * candidate whose parameters float32 cannot hold (a 1-bit step over ±3.4e38) is
 * not a choice; the others still compete. Weights that must stay trainable
 * (`allowHalfPrecision: false`) never get half precision: n-bit or float32.
 *
 * The search does not try everything. Every candidate's size is known before it
 * is tried, so they are taken in order of size and the first that meets the
 * target ends the search (with the tie rules above among equal sizes). The cheap
 * candidates (linear modes, half precision) go first and bound the size; k-means
 * is then run only at widths below that size which a lower bound on the error of
 * any lookup table (see `kmeansErrorLowerBound`) does not rule out, on values
 * sorted once for all widths. The choice is the same as trying every candidate:
 * the bound is proven never above the least error of a table at that width (nor,
 * since that error only grows as the table shrinks, at any narrower one), less a
 * margin that covers float64 rounding; the tests compare both searches.
 *
 * @param values - the tensor (after fusion), finite
 * @param context - shape, axis and path of the tensor
 * @param targetSnrDb - the quality to reach, in dB
 * @param modes - the modes to try at each width, in order of preference
 * @param choices - which storages may compete besides n-bit and float32, and progress
 * @returns the choice, with the quantized tensor for n-bit choices
 * @throws {@link QuantizeError} `invalid-option` for a target that is not a number
 *   (or NaN) or modes that are not a non-empty array of `AUTO_MODES`;
 *   `invalid-weights` when the values do not fit the shape; `non-finite-weight`
 */
export function chooseTensorStorage(
  values: Float32Array,
  context: Omit<TensorContext, "nbits" | "lutFunction">,
  targetSnrDb: number,
  modes: readonly AutoMode[],
  choices: TensorChoices = {},
): TensorChoice {
  const channels = checkAutoArguments(values, context, targetSnrDb, modes);
  const n = values.length;
  if (n === 0) return { storage: "float32", snrDb: Number.POSITIVE_INFINITY };
  const allowHalf = choices.allowHalfPrecision !== false;
  const groups = candidateGroups(n, channels, modes, allowHalf);
  const progress = searchProgress(choices.onProgress);
  const tried = new Map<Candidate, Tried | undefined>();
  const tryCandidate = (c: Candidate, quantize: () => TensorResult | undefined): Tried | undefined => {
    if (tried.has(c)) return tried.get(c);
    let outcome: Tried | undefined;
    if (c.storage === "float16") {
      outcome = halfPrecision(values, targetSnrDb);
    } else if (c.storage === "n-bit") {
      const result = quantize();
      outcome = result === undefined ? undefined : { result, snrDb: candidateSnr(values, result, c.nbits, context) };
    }
    tried.set(c, outcome);
    return outcome;
  };
  const nbitContext = (nbits: number): TensorContext => ({ ...context, nbits, lutFunction: undefined });
  const cheap = (c: Candidate): Tried | undefined => tryCandidate(c, () => quantizeOrSkip(c.mode, values, nbitContext(c.nbits)));

  // 1. The cheap candidates alone, by size: the first group one of them settles bounds the search.
  let bound = groups.length - 1;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g] as Candidate[];
    for (const c of group) if (c.mode !== "kmeans_lut") cheap(c);
    if (settle(group, tried, targetSnrDb, (c) => c.mode !== "kmeans_lut") !== undefined) {
      bound = g;
      break;
    }
  }
  progress.step(0.1);

  // 2. k-means widths within that size which no lookup table can make meet the target.
  const kmeansWidths = groups
    .slice(0, bound + 1)
    .flat()
    .filter((c) => c.mode === "kmeans_lut")
    .map((c) => c.nbits);
  let input: KmeansInput | undefined;
  const prepared = (): KmeansInput => (input ??= prepareKmeans(values, { path: context.path }));
  let signalPower: number | undefined; // Σx², once
  const ruledOut =
    kmeansWidths.length === 0
      ? 0
      : widestRuledOut(Math.max(...kmeansWidths), targetSnrDb, (nbits) => {
          // The coarse bound first, finer ones (twice the groups each) only where it does not
          // rule the width out and they still cost well under k-means.
          let upperSnrDb = Number.POSITIVE_INFINITY;
          signalPower ??= sumOfSquares(values);
          for (let groupsPerCluster = 2; groupsPerCluster <= MAX_GROUPS_PER_CLUSTER; groupsPerCluster *= 2) {
            if (!kmeansBoundPays(prepared(), 2 ** nbits, groupsPerCluster)) break;
            const lowerBound = kmeansErrorLowerBound(prepared(), 2 ** nbits, groupsPerCluster);
            if (lowerBound > 0) upperSnrDb = Math.min(upperSnrDb, 10 * Math.log10(signalPower / lowerBound));
            if (upperSnrDb < targetSnrDb - SNR_MARGIN_DB) break;
          }
          return upperSnrDb;
        });
  progress.step(0.2);

  // 3. By size again, with k-means where it may meet: the first group settled wins.
  for (let g = 0; g <= bound; g++) {
    const group = groups[g] as Candidate[];
    for (const c of group) {
      if (c.mode !== "kmeans_lut" || c.nbits <= ruledOut) continue;
      tryCandidate(c, () => {
        const onProgress = progress.run();
        const q = kmeansLutOf(prepared(), c.nbits, onProgress === undefined ? { path: context.path } : { path: context.path, onProgress });
        return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
      });
    }
    const choice = settle(group, tried, targetSnrDb, (c) => c.mode !== "kmeans_lut" || c.nbits > ruledOut);
    if (choice !== undefined) return choice;
  }
  // Not reached: the bounding group is settled by its cheap candidates (float32 at worst).
  return { storage: "float32", snrDb: Number.POSITIVE_INFINITY };
}

/**
 * A storage that competes: its size is known before it is tried (indices plus
 * float32 parameters, or 2 or 4 bytes a value).
 */
interface Candidate {
  readonly storage: "n-bit" | "float16" | "float32";
  readonly nbits: number;
  /** The mode, for n-bit ones (ignored otherwise). */
  readonly mode: AutoMode;
  readonly bytes: number;
}

/** A candidate tried: its result and SNR (undefined when it cannot store the tensor). */
interface Tried {
  readonly result?: TensorResult;
  readonly snrDb: number;
}

/** dB below the target under which a bound rules k-means out: far above float64 rounding of the SNR. */
const SNR_MARGIN_DB = 1e-6;

/**
 * Every candidate, grouped by size, smallest first; within a group n-bit ones by
 * width then mode rank, then half precision, then float32.
 */
function candidateGroups(n: number, channels: number, modes: readonly AutoMode[], allowHalf: boolean): Candidate[][] {
  const all: Candidate[] = [];
  for (let nbits = 1; nbits <= MAX_NBITS; nbits++) {
    for (const mode of modes) {
      if (!acceptsNbits(mode, nbits)) continue;
      // Per-channel scale and bias, or a table of 2^nbits entries, all float32.
      const parameters = perChannelMode(mode) ? 2 * channels : 2 ** nbits;
      all.push({ storage: "n-bit", nbits, mode, bytes: Math.ceil((n * nbits) / 8) + 4 * parameters });
    }
  }
  if (allowHalf) all.push({ storage: "float16", nbits: 16, mode: "linear", bytes: 2 * n });
  all.push({ storage: "float32", nbits: 32, mode: "linear", bytes: 4 * n });
  // Stable: n-bit ones stay in width then mode order, then half precision, then float32.
  all.sort((a, b) => a.bytes - b.bytes);
  const groups: Candidate[][] = [];
  for (const c of all) {
    const last = groups[groups.length - 1];
    if (last !== undefined && (last[0] as Candidate).bytes === c.bytes) last.push(c);
    else groups.push([c]);
  }
  return groups;
}

/**
 * The winner among candidates of one size, as trying every candidate in width then
 * mode order would pick it: float32 if it is among them (a quantized storage must
 * be smaller to replace it), else the narrowest n-bit one that meets the target
 * (the higher SNR at that width, the earlier mode on a tie), else half precision if
 * it meets it; undefined when none does. Only candidates `counted` are considered.
 */
function settle(
  group: readonly Candidate[],
  tried: ReadonlyMap<Candidate, Tried | undefined>,
  targetSnrDb: number,
  counted: (c: Candidate) => boolean,
): TensorChoice | undefined {
  if (group.some((c) => c.storage === "float32")) return { storage: "float32", snrDb: Number.POSITIVE_INFINITY };
  let best: { c: Candidate; t: Tried & { result: TensorResult } } | undefined;
  for (const c of group) {
    const t = tried.get(c);
    if (c.storage !== "n-bit" || !counted(c) || t === undefined || t.result === undefined || !(t.snrDb >= targetSnrDb)) continue;
    if (best === undefined || (c.nbits === best.c.nbits && t.snrDb > best.t.snrDb)) best = { c, t: { result: t.result, snrDb: t.snrDb } };
  }
  if (best !== undefined) return { storage: "n-bit", nbits: best.c.nbits, mode: best.c.mode, result: best.t.result, snrDb: best.t.snrDb };
  const half = group.find((c) => c.storage === "float16");
  const halfTried = half === undefined ? undefined : tried.get(half);
  return halfTried === undefined ? undefined : { storage: "float16", snrDb: halfTried.snrDb };
}

/** Where the search for ruled-out widths starts: its bound costs little (16 clusters). */
const PROBE_WIDTH = 4;
/**
 * How much the bound's SNR is expected to grow per bit above the probe: the 6 dB
 * per bit of high-rate quantization. Only an estimate, used to pick which width to
 * test first; each test is a proof.
 */
const DB_PER_BIT = 6;
/** How far below the coarsest bound the finest may land (about 5 dB on the bench's weights): widths within it are worth a test. */
const FINER_BOUND_GAIN_DB = 5;

/**
 * The widest width in 1..`widest` where no lookup table reaches the target, 0 for
 * none: a width whose bound (`upperSnrDb`, an SNR no table can beat) is below the
 * target rules out every narrower one too (the least error of a table only grows
 * as it shrinks). Bounds cost about 4^width, so the probe width is tried first and
 * wider widths only where its bound, extrapolated, says they may be ruled out.
 */
function widestRuledOut(widest: number, targetSnrDb: number, upperSnrDb: (nbits: number) => number): number {
  const below = (snrDb: number): boolean => snrDb < targetSnrDb - SNR_MARGIN_DB;
  const probe = Math.min(widest, PROBE_WIDTH);
  const probeSnrDb = upperSnrDb(probe);
  if (!below(probeSnrDb)) {
    for (let nbits = probe - 1; nbits >= 1; nbits--) if (below(upperSnrDb(nbits))) return nbits;
    return 0;
  }
  for (let nbits = widest; nbits > probe; nbits--) {
    if (probeSnrDb + DB_PER_BIT * (nbits - probe) < targetSnrDb + FINER_BOUND_GAIN_DB && below(upperSnrDb(nbits))) return nbits;
  }
  return probe;
}

/** Σx² in float64, the SNR's signal. */
function sumOfSquares(values: Float32Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += (values[i] as number) ** 2;
  return total;
}

/**
 * The search's progress: fixed steps for the cheap parts, then each k-means run
 * spans half of what is left (how many runs there will be is not known ahead).
 */
function searchProgress(onProgress: ((fraction: number) => void) | undefined): {
  step: (fraction: number) => void;
  run: () => ((fraction: number) => void) | undefined;
} {
  let reached = 0;
  return {
    step: (fraction) => {
      if (onProgress === undefined || fraction <= reached) return;
      reached = fraction;
      onProgress(fraction);
    },
    run: () => {
      if (onProgress === undefined) return undefined;
      const start = reached;
      const span = (1 - start) / 2;
      reached = start + span;
      return (fraction) => onProgress(start + span * fraction);
    },
  };
}

/**
 * Checks the arguments of the storage search and the tensor's per-channel layout
 * (once: a tensor that does not fit its shape is refused, not mistaken for a
 * candidate that does not work).
 *
 * @returns the number of per-channel parameters' channels (1 when no linear mode competes)
 * @internal
 */
export function checkAutoArguments(
  values: Float32Array,
  context: Omit<TensorContext, "nbits" | "lutFunction">,
  targetSnrDb: number,
  modes: readonly AutoMode[],
): number {
  if (typeof targetSnrDb !== "number" || Number.isNaN(targetSnrDb)) {
    throw new QuantizeError("invalid-option", `targetSnrDb must be a number of dB, got ${describeValue(targetSnrDb)}`, { path: context.path });
  }
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => AUTO_MODES.includes(m))) {
    throw new QuantizeError("invalid-option", `modes must be a non-empty array of modes among ${AUTO_MODES.join(", ")}, got ${describeValue(modes)}`, {
      path: context.path,
    });
  }
  if (modes.some(perChannelMode) && values.length > 0) return perChannel(values, context).channels;
  return 1;
}

/**
 * The quantized tensor, or undefined when this mode and width cannot store it: its
 * range needs a step or offset beyond float32 (the quantizers refuse those with
 * `invalid-weights`; layout mismatches were refused before the search).
 *
 * @internal
 */
export function quantizeOrSkip(mode: AutoMode, values: Float32Array, context: TensorContext): TensorResult | undefined {
  try {
    return TENSOR_QUANTIZERS[mode].quantize(values, context);
  } catch (error) {
    if (isQuantizeError(error, "invalid-weights")) return undefined;
    throw error;
  }
}

/** Half precision if every value fits and the SNR reaches the target. @internal */
export function halfPrecision(values: Float32Array, targetSnrDb: number): TensorChoice | undefined {
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i] as number) > FLOAT16_MAX) return undefined;
  const snrDb = snr(values, decodeFloat16(encodeFloat16(values)));
  return snrDb >= targetSnrDb ? { storage: "float16", snrDb } : undefined;
}

/** Bytes an n-bit result takes in the file: the indices and the float32 parameters. @internal */
export function storedBytes(result: TensorResult): number {
  return result.packed.length + 4 * (result.kind === "lut" ? result.lut.length : result.scale.length + result.bias.length);
}

/** The SNR of an n-bit result against the values it stores. @internal */
export function candidateSnr(values: Float32Array, result: TensorResult, nbits: number, context: Pick<TensorContext, "shape" | "axis" | "path">): number {
  return snr(values, reconstruct(values, result, nbits, context));
}

function reconstruct(values: Float32Array, result: TensorResult, nbits: number, context: Pick<TensorContext, "shape" | "axis" | "path">): Float32Array {
  const indices = unpackIndices(result.packed, nbits, values.length);
  if (result.kind === "lut") return dequantizeLut(indices, result.lut);
  const layout = result.scale.length === 1 ? { outer: 1, channels: 1, inner: values.length } : perChannel(values, context);
  return dequantizeLinear(indices, result.scale, result.bias, layout);
}

function snr(original: Float32Array, reconstructed: Float32Array): number {
  const e = tensorError(original, reconstructed);
  if (e.snrDb !== null) return e.snrDb;
  return e.exact || e.maxAbsError === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

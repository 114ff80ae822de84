/**
 * Choosing a storage per tensor from a quality target: the fewest bits whose
 * signal-to-noise ratio meets it, trying each allowed mode, else half precision,
 * else float32.
 *
 * @packageDocumentation
 */
import { unpackIndices } from "./codec/bit-pack.js";
import { dequantizeLinear, dequantizeLut } from "./codec/dequantize.js";
import { decodeFloat16, encodeFloat16, FLOAT16_MAX } from "./codec/float16.js";
import { describeValue } from "./describe-value.js";
import { isQuantizeError, QuantizeError } from "./errors.js";
import { perChannel, TENSOR_QUANTIZERS, type TensorContext, type TensorMode, type TensorResult } from "./quantize-tensor.js";
import { tensorError } from "./report/tensor-error.js";

/** Modes `nbits: "auto"` may pick from (custom_lut needs a function per bit width). */
export type AutoMode = Exclude<TensorMode, "custom_lut">;

/** Every {@link AutoMode}. */
export const AUTO_MODES: readonly AutoMode[] = ["linear", "linear_symmetric", "linear_lut", "kmeans_lut"];

/** What the search decided for one tensor. */
export type TensorChoice =
  | { readonly storage: "n-bit"; readonly nbits: number; readonly mode: AutoMode; readonly result: TensorResult; readonly snrDb: number }
  | { readonly storage: "float16"; readonly snrDb: number }
  | { readonly storage: "float32"; readonly snrDb: number };

/** Which storages {@link chooseTensorStorage} may pick besides n-bit and float32. */
export interface TensorChoices {
  /**
   * Half precision may compete. False for an updatable model's weights: they must
   * stay float32 to be trained (as `nbits: 16` refuses such a model).
   * @defaultValue true
   */
  readonly allowHalfPrecision?: boolean;
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
 * @param values - the tensor (after fusion), finite
 * @param context - shape, axis and path of the tensor
 * @param targetSnrDb - the quality to reach, in dB
 * @param modes - the modes to try at each width, in order of preference
 * @param choices - which storages may compete besides n-bit and float32
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
  if (typeof targetSnrDb !== "number" || Number.isNaN(targetSnrDb)) {
    throw new QuantizeError("invalid-option", `targetSnrDb must be a number of dB, got ${describeValue(targetSnrDb)}`, { path: context.path });
  }
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => AUTO_MODES.includes(m))) {
    throw new QuantizeError("invalid-option", `modes must be a non-empty array of modes among ${AUTO_MODES.join(", ")}, got ${describeValue(modes)}`, { path: context.path });
  }
  // The per-channel layout is checked once here: a tensor that does not fit its shape
  // is refused, not mistaken below for a candidate that does not work.
  if (modes.some((m) => m === "linear" || m === "linear_symmetric") && values.length > 0) perChannel(values, context);
  let best: { choice: TensorChoice; bytes: number } = { choice: { storage: "float32", snrDb: Number.POSITIVE_INFINITY }, bytes: 4 * values.length };
  const consider = (choice: TensorChoice, bytes: number): void => {
    if (!(choice.snrDb >= targetSnrDb)) return; // a NaN SNR meets no target
    const current = best.choice;
    const sameWidthBetter = bytes === best.bytes && choice.storage === "n-bit" && current.storage === "n-bit"
      && choice.nbits === current.nbits && choice.snrDb > current.snrDb;
    if (bytes < best.bytes || sameWidthBetter) best = { choice, bytes };
  };
  const half = choices.allowHalfPrecision === false ? undefined : halfPrecision(values, targetSnrDb);
  for (let nbits = 1; nbits <= 8; nbits++) {
    // The indices alone take this much: once that is no smaller than the best, wider cannot win.
    if (Math.ceil((values.length * nbits) / 8) >= Math.min(best.bytes, half === undefined ? Infinity : 2 * values.length)) break;
    for (const mode of modes) {
      if (mode === "linear_symmetric" && nbits !== 8) continue;
      const result = quantizeOrSkip(mode, values, { ...context, nbits, lutFunction: undefined });
      if (result === undefined) continue;
      const snrDb = snr(values, reconstruct(values, result, nbits, context));
      consider({ storage: "n-bit", nbits, mode, result, snrDb }, storedBytes(result));
    }
  }
  if (half !== undefined) consider(half, 2 * values.length);
  return best.choice;
}

/**
 * The quantized tensor, or undefined when this mode and width cannot store it: its
 * range needs a step or offset beyond float32 (the quantizers refuse those with
 * `invalid-weights`; layout mismatches were refused before the search).
 */
function quantizeOrSkip(mode: AutoMode, values: Float32Array, context: TensorContext): TensorResult | undefined {
  try {
    return TENSOR_QUANTIZERS[mode](values, context);
  } catch (error) {
    if (isQuantizeError(error, "invalid-weights")) return undefined;
    throw error;
  }
}

/** Half precision if every value fits and the SNR reaches the target. */
function halfPrecision(values: Float32Array, targetSnrDb: number): TensorChoice | undefined {
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i] as number) > FLOAT16_MAX) return undefined;
  const snrDb = snr(values, decodeFloat16(encodeFloat16(values)));
  return snrDb >= targetSnrDb ? { storage: "float16", snrDb } : undefined;
}

/** Bytes an n-bit result takes in the file: the indices and the float32 parameters. */
function storedBytes(result: TensorResult): number {
  return result.packed.length + 4 * (result.kind === "lut" ? result.lut.length : result.scale.length + result.bias.length);
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

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
import { perChannel, TENSOR_QUANTIZERS, type TensorContext, type TensorMode, type TensorResult } from "./quantize-tensor.js";
import { tensorError } from "./report/tensor-error.js";

/** Modes `nbits: "auto"` may pick from (custom_lut needs a function per bit width). */
export type AutoMode = Exclude<TensorMode, "custom_lut">;

/** What the search decided for one tensor. */
export type TensorChoice =
  | { readonly storage: "n-bit"; readonly nbits: number; readonly mode: AutoMode; readonly result: TensorResult; readonly snrDb: number }
  | { readonly storage: "float16"; readonly snrDb: number }
  | { readonly storage: "float32"; readonly snrDb: number };

/**
 * The smallest bit width in 1..8 whose best mode (highest SNR; earlier mode on a
 * tie) reaches `targetSnrDb`; failing that, half precision if it reaches it (and
 * every value fits), else float32. An n-bit choice that would take more bytes than
 * half precision (small tensors, where the table or per-channel parameters weigh
 * most) gives way to half precision when that meets the target, and one larger
 * than float32 to float32. SNR is `+Infinity` for an exact reconstruction.
 * Deterministic: the quantizers are.
 *
 * @param values - the tensor (after fusion), finite
 * @param context - shape, axis and path of the tensor
 * @param targetSnrDb - the quality to reach, in dB
 * @param modes - the modes to try at each width, in order of preference
 * @returns the choice, with the quantized tensor for n-bit choices
 */
export function chooseTensorStorage(
  values: Float32Array,
  context: Omit<TensorContext, "nbits" | "lutFunction">,
  targetSnrDb: number,
  modes: readonly AutoMode[],
): TensorChoice {
  for (let nbits = 1; nbits <= 8; nbits++) {
    let best: Extract<TensorChoice, { storage: "n-bit" }> | undefined;
    for (const mode of modes) {
      if (mode === "linear_symmetric" && nbits !== 8) continue;
      const result = TENSOR_QUANTIZERS[mode](values, { ...context, nbits, lutFunction: undefined });
      const snrDb = snr(values, reconstruct(values, result, nbits, context));
      if (best === undefined || snrDb > best.snrDb) best = { storage: "n-bit", nbits, mode, result, snrDb };
    }
    if (best !== undefined && best.snrDb >= targetSnrDb) {
      // A table or per-channel parameters can outweigh the savings on small tensors:
      // never pick a storage larger than half precision (when that meets the target)
      // or float32.
      if (storedBytes(best.result) < 2 * values.length) return best;
      const half = halfPrecision(values, targetSnrDb);
      if (half !== undefined) return half;
      return storedBytes(best.result) < 4 * values.length ? best : { storage: "float32", snrDb: Number.POSITIVE_INFINITY };
    }
  }
  return halfPrecision(values, targetSnrDb) ?? { storage: "float32", snrDb: Number.POSITIVE_INFINITY };
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

/**
 * The storage search of `nbits: "auto"` done the slow, obvious way: every
 * candidate tried. Kept as the oracle that {@link chooseTensorStorage} is tested
 * and benchmarked against; not part of the public API.
 *
 * @packageDocumentation
 * @internal
 */
import {
  candidateSnr,
  checkAutoArguments,
  halfPrecision,
  quantizeOrSkip,
  storedBytes,
  type AutoMode,
  type TensorChoice,
  type TensorChoices,
} from "./auto-bits.js";
import { acceptsNbits, type TensorContext } from "./quantize-tensor.js";

/**
 * {@link chooseTensorStorage} by trying every bit width 1..8 with every mode (up to
 * the width whose indices alone are no smaller than the best so far), then half
 * precision: the definition the fast search must match, choice for choice.
 *
 * @param values - the tensor (after fusion), finite
 * @param context - shape, axis and path of the tensor
 * @param targetSnrDb - the quality to reach, in dB
 * @param modes - the modes to try at each width, in order of preference
 * @param choices - which storages may compete besides n-bit and float32 (progress is not reported)
 * @returns the choice
 * @throws as {@link chooseTensorStorage}
 * @internal
 */
export function chooseTensorStorageExhaustive(
  values: Float32Array,
  context: Omit<TensorContext, "nbits" | "lutFunction">,
  targetSnrDb: number,
  modes: readonly AutoMode[],
  choices: TensorChoices = {},
): TensorChoice {
  checkAutoArguments(values, context, targetSnrDb, modes);
  let best: { choice: TensorChoice; bytes: number } = { choice: { storage: "float32", snrDb: Number.POSITIVE_INFINITY }, bytes: 4 * values.length };
  const consider = (choice: TensorChoice, bytes: number): void => {
    if (!(choice.snrDb >= targetSnrDb)) return; // a NaN SNR meets no target
    const current = best.choice;
    const sameWidthBetter =
      bytes === best.bytes && choice.storage === "n-bit" && current.storage === "n-bit" && choice.nbits === current.nbits && choice.snrDb > current.snrDb;
    if (bytes < best.bytes || sameWidthBetter) best = { choice, bytes };
  };
  const half = choices.allowHalfPrecision === false ? undefined : halfPrecision(values, targetSnrDb);
  for (let nbits = 1; nbits <= 8; nbits++) {
    // The indices alone take this much: once that is no smaller than the best, wider cannot win.
    if (Math.ceil((values.length * nbits) / 8) >= Math.min(best.bytes, half === undefined ? Infinity : 2 * values.length)) break;
    for (const mode of modes) {
      if (!acceptsNbits(mode, nbits)) continue;
      const result = quantizeOrSkip(mode, values, { ...context, nbits, lutFunction: undefined });
      if (result === undefined) continue;
      consider({ storage: "n-bit", nbits, mode, result, snrDb: candidateSnr(values, result, nbits, context) }, storedBytes(result));
    }
  }
  if (half !== undefined) consider({ storage: "float16", snrDb: half.snrDb }, 2 * values.length);
  return best.choice;
}

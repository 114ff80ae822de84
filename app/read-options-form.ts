/**
 * The options form, read into the worker's options as the CLI reads its flags
 * (the same checks, the same defaults).
 */
import type { AutoMode } from "../src/quantize/auto-bits.js";
import type { Float16Overflow } from "../src/quantize/quantize-weights.js";
import type { WorkerNbitOptions, WorkerQuantizeOptions, WorkerSelector } from "../src/worker/worker-options.js";

/** A value in the form the options refuse; its message says which and why. */
export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

type Mode = NonNullable<WorkerNbitOptions["mode"]>;

function field(form: HTMLFormElement, name: string): string {
  const control = form.elements.namedItem(name);
  if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement) return control.value.trim();
  throw new Error(`the form lacks ${name}`);
}

function checked(form: HTMLFormElement, name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((box) => box.value);
}

/** A whole number field, or undefined when empty. */
function wholeNumber(form: HTMLFormElement, name: string, label: string): number | undefined {
  const text = field(form, name);
  if (text === "") return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new OptionsError(`${label} needs a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Reads the form.
 *
 * @param form - the options form of index.html
 * @returns the options to post
 * @throws {@link OptionsError} for a value the CLI would refuse too
 */
export function readOptionsForm(form: HTMLFormElement): WorkerQuantizeOptions {
  const nbitsText = field(form, "nbits");
  const nbits: number | "auto" = nbitsText === "auto" ? "auto" : Number(nbitsText);
  const fuse = (form.elements.namedItem("fuse") as HTMLInputElement).checked;
  const skipLayerTypes = checked(form, "skip-type");
  const minimumConvKernelChannels = wholeNumber(form, "min-kernel-channels", "Minimum convolution kernel channels");
  const minimumConvWeightCount = wholeNumber(form, "min-weight-count", "Minimum convolution weight count");
  // As the CLI: any selector option given switches to the advanced selector (whose defaults differ).
  const advanced = skipLayerTypes.length > 0 || minimumConvKernelChannels !== undefined || minimumConvWeightCount !== undefined;
  const selector: WorkerSelector = advanced
    ? {
        kind: "advanced",
        ...(skipLayerTypes.length === 0 ? {} : { skipLayerTypes }),
        ...(minimumConvKernelChannels === undefined ? {} : { minimumConvKernelChannels }),
        ...(minimumConvWeightCount === undefined ? {} : { minimumConvWeightCount }),
      }
    : { kind: "default" };
  if (nbits === 16) return { nbits, fuse, selector, float16Overflow: field(form, "fp16-overflow") as Float16Overflow };
  if (nbits === "auto") {
    const target = field(form, "target-snr");
    if (!/^-?\d+(\.\d+)?$/.test(target) || !Number.isFinite(Number(target))) {
      throw new OptionsError(`Target SNR needs a finite number of dB, got ${JSON.stringify(target)}`);
    }
    const modes = checked(form, "auto-mode") as AutoMode[];
    if (modes.length === 0) throw new OptionsError("auto needs at least one mode to try");
    return { nbits, fuse, selector, targetSnrDb: Number(target), modes };
  }
  return { nbits, fuse, selector, mode: field(form, "mode") as Mode };
}

/**
 * The name the page gives a quantized model.
 *
 * @packageDocumentation
 */
import type { WorkerQuantizeOptions } from "./worker-options.js";

/**
 * The file name for the output of quantizing `inputName` with `options`:
 * `<name>.<mode><bits>.mlmodel` (`cnn.linear8.mlmodel`, `cnn.kmeans_lut4.mlmodel`),
 * `<name>.float16.mlmodel` at 16 bits and `<name>.auto<dB>db.mlmodel` with
 * `nbits: "auto"`. `<name>` is the input's name without its `.mlmodel` ending.
 *
 * @param inputName - the input file's name, e.g. `cnn.mlmodel`
 * @param options - the options it is quantized with
 * @returns the output's file name
 * @example
 * ```ts
 * quantizedFileName("cnn.mlmodel", { nbits: 4, mode: "kmeans" }); // "cnn.kmeans_lut4.mlmodel"
 * ```
 */
export function quantizedFileName(inputName: string, options: WorkerQuantizeOptions): string {
  const stem = inputName.replace(/\.mlmodel$/i, "") || "model";
  const { nbits } = options;
  if (nbits === 16) return `${stem}.float16.mlmodel`;
  if (nbits === "auto") return `${stem}.auto${options.targetSnrDb ?? 40}db.mlmodel`;
  const mode = options.mode === undefined ? "linear" : options.mode === "kmeans" ? "kmeans_lut" : options.mode;
  return `${stem}.${mode}${nbits}.mlmodel`;
}

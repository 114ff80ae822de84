/**
 * The names the page gives a quantized model and a compressed package.
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
  if (options.nbits === 16) return `${stem}.float16.mlmodel`;
  if (options.nbits === "auto") return `${stem}.auto${options.targetSnrDb ?? 40}db.mlmodel`;
  const mode = options.mode === undefined ? "linear" : options.mode === "kmeans" ? "kmeans_lut" : options.mode;
  return `${stem}.${mode}${options.nbits}.mlmodel`;
}

/**
 * The file name for the output of compressing the zipped package `inputName`:
 * `<name>.<mode><bits>.mlpackage.zip` (`mlp.linear8.mlpackage.zip`) for a mode
 * and bit width, `<name>.<function>.mlpackage.zip` for a config
 * (`mlp.palettize_weights.mlpackage.zip`; passes in a list joined by `+`).
 * `<name>` is the input's name without its `.zip` and `.mlpackage` endings.
 *
 * @param inputName - the input zip's name, e.g. `mlp.mlpackage.zip`
 * @param compression - what it is compressed with
 * @returns the output's file name
 * @example
 * ```ts
 * compressedPackageFileName("mlp.mlpackage.zip", { kind: "flags", mode: "kmeans_lut", nbits: 4 }); // "mlp.kmeans_lut4.mlpackage.zip"
 * ```
 */
export function compressedPackageFileName(inputName: string, compression: CompressedPackageNaming): string {
  const stem = inputName.replace(/\.zip$/i, "").replace(/\.mlpackage$/i, "") || "model";
  const what = compression.kind === "flags" ? `${compression.mode}${compression.nbits}` : compression.functions.join("+");
  return `${stem}.${what}.mlpackage.zip`;
}

/** What names a compressed package: a mode and bit width, or the config's functions. */
export type CompressedPackageNaming =
  | {
      /** A mode and a bit width. */
      readonly kind: "flags";
      /** As `--mode` names it. */
      readonly mode: string;
      /** The bit width. */
      readonly nbits: number;
    }
  | {
      /** A config. */
      readonly kind: "config";
      /** The coremltools functions it runs, in order. */
      readonly functions: readonly string[];
    };

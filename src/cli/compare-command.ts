/**
 * `compare ORIGINAL QUANTIZED (--samples PATH | --random N) [--layers] [--json]`,
 * and the comparison `quantize --sample-data PATH` runs once its output is
 * written: both models on the same samples, their predictions compared.
 *
 * @packageDocumentation
 */
import type { Model } from "../codec/model-types.js";
import { isQuantizeError, QuantizeError } from "../errors.js";
import { compareModels, type ModelComparison } from "../predict/compare-models.js";
import type { PredictInputs } from "../predict/feature-io.js";
import { comparisonJson, formatComparison } from "../report/format-comparison.js";
import { prepareModel } from "../predict/predict.js";
import { randomInputs } from "../predict/random-inputs.js";
import { loadSamples } from "../node/sample-data.js";
import type { Command, SampleSource } from "./args.js";
import { progressBar, type ProgressOutput } from "./progress-bar.js";

type CompareCommand = Extract<Command, { command: "compare" }>;

/** Where the command prints; the progress bar goes to stderr when it is a terminal. */
export interface CompareIo extends ProgressOutput {
  readonly stdout: (text: string) => void;
}

/**
 * Runs `compare`.
 *
 * @param command - the parsed command line
 * @param original - the ORIGINAL model, read
 * @param quantized - the QUANTIZED model, read
 * @param io - where to print
 * @returns the exit code (0; failures are thrown)
 * @throws {@link index!QuantizeError} as {@link loadSamples}, {@link randomInputs}
 *   and {@link compareModels} do: one line naming the file (or sample) and the input
 */
export async function runCompare(command: CompareCommand, original: Model, quantized: Model, io: CompareIo): Promise<number> {
  const samples = await samplesOf(command.samples, original);
  const comparison = compareWithProgress(original, quantized, samples, command.layers, io);
  io.stdout(command.json ? comparisonJson(comparison) : formatComparison(comparison));
  return 0;
}

/**
 * The samples of `--samples PATH` or `--random N`, for `model`'s inputs.
 *
 * @param source - files or random draws
 * @param model - the model whose inputs they are for (the original)
 * @returns one inputs object a sample
 */
export async function samplesOf(source: SampleSource, model: Model): Promise<PredictInputs[]> {
  switch (source.kind) {
    case "files":
      return loadSamples(source.path, model);
    case "random":
      return randomInputs(model, source.count, source.seed);
    default: {
      const never: never = source;
      return never;
    }
  }
}

/**
 * The samples of `quantize --sample-data PATH`, read before quantizing, and the
 * model run once on the first: bad samples, or a model the executor cannot run,
 * are refused before anything is written.
 *
 * @param path - a directory or `.json` file, as `--samples`
 * @param model - the model to be quantized
 * @returns the samples
 * @throws {@link index!QuantizeError} as {@link loadSamples}; the executor's
 *   errors naming `--sample-data PATH` and sample 0
 */
export async function loadSampleData(path: string, model: Model): Promise<PredictInputs[]> {
  const samples = await loadSamples(path, model);
  const first = samples[0];
  try {
    const prepared = prepareModel(model);
    if (first !== undefined) prepared.predict(first);
  } catch (error) {
    if (!isQuantizeError(error)) throw error;
    throw new QuantizeError(error.code, `--sample-data ${path}: sample 0, the input model: ${error.message}`, { cause: error });
  }
  return samples;
}

/**
 * {@link compareModels} with a progress bar counting samples on a terminal.
 *
 * @param original - the original model
 * @param quantized - its quantized version
 * @param samples - the inputs, one object a sample
 * @param perLayer - also compare every layer's output
 * @param io - stderr for the bar
 * @returns the comparison
 */
export function compareWithProgress(
  original: Model,
  quantized: Model,
  samples: readonly PredictInputs[],
  perLayer: boolean,
  io: ProgressOutput,
): ModelComparison {
  const bar = progressBar(io, "samples");
  const onProgress = bar.onProgress;
  try {
    return compareModels(original, quantized, samples, { perLayer, ...(onProgress === undefined ? {} : { onProgress }) });
  } finally {
    bar.finish();
  }
}

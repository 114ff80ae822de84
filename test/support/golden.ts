/**
 * The golden fixtures (test/fixtures/golden, see test/fixtures/README.md): the
 * inputs, the reference's outputs and cases.json, read in one place. Paths are
 * relative to the repository (jest's working directory), as the CLI tests print them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../../src/codec/decode-model.js";
import type { Model } from "../../src/codec/model-types.js";

/** The golden fixtures' folder. */
export const GOLDEN_ROOT = join("test", "fixtures", "golden");
/** The golden inputs. */
export const GOLDEN_MODELS_DIR = join(GOLDEN_ROOT, "models");
/** The reference's outputs for the golden inputs. */
export const GOLDEN_EXPECTED_DIR = join(GOLDEN_ROOT, "expected");

/** One case of cases.json: what the reference did with one input. */
export interface GoldenCase {
  readonly id: string;
  /** Path of the input, relative to {@link GOLDEN_ROOT}. */
  readonly input: string;
  readonly nbits: number | null;
  /** A quantization mode, "dequantization" or "int8_matmul". */
  readonly mode: string;
  readonly selector: {
    readonly skip_layer_types?: string[];
    readonly minimum_conv_kernel_channels?: number;
    readonly minimum_conv_weight_count?: number;
  } | null;
  /** The input with the reference's layer fusion applied (k-means cases). */
  readonly fused?: string;
  /** The reference's output, relative to {@link GOLDEN_ROOT}. */
  readonly expected?: string;
  /** The reference's exception message when it refused the case. */
  readonly error?: string;
}

let cases: readonly GoldenCase[] | undefined;
/** Every golden case, in the file's order (parsed once per test file). */
export function goldenCases(): readonly GoldenCase[] {
  cases ??= JSON.parse(readFileSync(join(GOLDEN_ROOT, "cases.json"), "utf8")) as GoldenCase[];
  return cases;
}

const mlmodels = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".mlmodel"))
    .sort();
/** File names of the golden inputs, sorted. */
export const goldenInputs = (): string[] => mlmodels(GOLDEN_MODELS_DIR);
/** File names of the reference's outputs, sorted. */
export const goldenExpected = (): string[] => mlmodels(GOLDEN_EXPECTED_DIR);

/** The bytes of a golden file, by its path relative to {@link GOLDEN_ROOT} (`models/cnn.mlmodel`). */
export const goldenFileBytes = (file: string): Buffer => readFileSync(join(GOLDEN_ROOT, file));

/** Decodes a golden file by its path relative to {@link GOLDEN_ROOT} (`expected/cnn.linear.8.mlmodel`). */
export const loadGoldenFile = (file: string): Model => decodeModel(goldenFileBytes(file));

/** Decodes a golden input by file name (`cnn.mlmodel`) or stem (`cnn`). */
export function loadGolden(name: string): Model {
  return loadGoldenFile(join("models", name.endsWith(".mlmodel") ? name : `${name}.mlmodel`));
}

/**
 * The messages between a page and the quantizing Web Worker: plain data, model
 * bytes transferred (moved, not copied) in both directions.
 *
 * @packageDocumentation
 */
import type { ErrorCode } from "../errors.js";
import type { ModelSummary } from "../inspect-model.js";
import type { SkippedWeight } from "../mlprogram/compression-pass.js";
import type { PackageFlagsRequest } from "../mlprogram/compress-package.js";
import type { ProgramSummary } from "../mlprogram/inspect-program.js";
import type { ProgramReport } from "../mlprogram/report-program.js";
import type { ModelComparison } from "../predict/compare-models.js";
import type { Progress, TensorLeft } from "../quantize/quantize-weights.js";
import type { WeightReport } from "../report/weight-report.js";
import type { SizeSnrChart, SizeSnrProgress } from "./size-snr-chart.js";
import type { WorkerChartOptions, WorkerQuantizeOptions } from "./worker-options.js";
import type { WorkerSamples } from "./worker-samples.js";

/** What the page asks of the worker; `id` pairs each request with its replies. */
export type WorkerRequest =
  | {
      /** Summarise the model (what `inspect` prints). */
      readonly type: "inspect";
      /** Pairs the request with its replies. */
      readonly id: number;
      /** The file's name, for messages (`model.mlmodel is empty …`). */
      readonly name: string;
      /** The `.mlmodel` file's bytes; their buffer is the worker's once posted. */
      readonly bytes: Uint8Array;
    }
  | {
      /** Quantize the model. */
      readonly type: "quantize";
      /** Pairs the request with its replies. */
      readonly id: number;
      /** The file's name, for messages and the output's name. */
      readonly name: string;
      /** The `.mlmodel` file's bytes; their buffer is the worker's once posted. */
      readonly bytes: Uint8Array;
      /** How to quantize it. */
      readonly options: WorkerQuantizeOptions;
    }
  | {
      /** Measure the model's size and SNR at every mode and bit width (see {@link sizeSnrChart}). */
      readonly type: "chart";
      /** Pairs the request with its replies. */
      readonly id: number;
      /** The file's name, for messages. */
      readonly name: string;
      /** The `.mlmodel` file's bytes; their buffer is the worker's once posted. */
      readonly bytes: Uint8Array;
      /** The options every point shares (layer selection, fusion, float16 overflow). */
      readonly options: WorkerChartOptions;
    }
  | {
      /** Run both models on the samples and compare their predictions, output by output and layer by layer. */
      readonly type: "compare";
      /** Pairs the request with its replies. */
      readonly id: number;
      /** The original file's name, for messages. */
      readonly name: string;
      /** The original `.mlmodel` file's bytes; their buffer is the worker's once posted. */
      readonly original: Uint8Array;
      /** The quantized model's bytes; their buffer is the worker's once posted. */
      readonly quantized: Uint8Array;
      /** What to run them on. */
      readonly samples: WorkerSamples;
    }
  | {
      /** Summarise a zipped ML Program package (what `inspect` prints for one). */
      readonly type: "inspect-package";
      /** Pairs the request with its replies. */
      readonly id: number;
      /** The zip's name, for messages. */
      readonly name: string;
      /** The zip's bytes (a zipped `.mlpackage` folder); their buffer is the worker's once posted. */
      readonly bytes: Uint8Array;
    }
  | {
      /** Compress a zipped ML Program package as `quantize` does with `--nbits`/`--mode` or `--config`. */
      readonly type: "compress-package";
      /** Pairs the request with its replies. */
      readonly id: number;
      /** The zip's name, for messages and the output's name. */
      readonly name: string;
      /** The zip's bytes (a zipped `.mlpackage` folder); their buffer is the worker's once posted. */
      readonly bytes: Uint8Array;
      /** What to run. */
      readonly compression: WorkerPackageCompression;
    };

/** What to run on a package: the CLI's `--mode` and `--nbits`, or the text of a `--config` file. */
export type WorkerPackageCompression =
  | PackageFlagsRequest
  | {
      /** A coremltools config, as `--config` reads it. */
      readonly kind: "config";
      /** The JSON text: one `{function, joint_compression, config}` object, or a list of them run in order. */
      readonly text: string;
      /**
       * Names the config in messages (a file name).
       * @defaultValue `"config"`
       */
      readonly source?: string;
    };

/** What compressing a package in the worker produced. */
export interface WorkerPackageResult {
  /** The compressed package as a zip holding its folder; its weight.bin and model.mlmodel are byte for byte the CLI's. */
  readonly bytes: Uint8Array;
  /** A name for it: `<name>.<mode><bits>.mlpackage.zip` (see {@link compressedPackageFileName}). */
  readonly fileName: string;
  /** The coremltools functions run, comma-separated. */
  readonly function: string;
  /** Per-weight storage, bytes and errors (SNR, sse), as `quantize` prints them for a package. */
  readonly report: ProgramReport;
  /** The input package's summary. */
  readonly before: ProgramSummary;
  /** The output package's summary. */
  readonly after: ProgramSummary;
  /** Weights the config selected but the pass left as they were, each with why. */
  readonly skipped: readonly SkippedWeight[];
}

/** Why a request failed: a QuantizeError's code and one-line message, or `internal` for a bug. */
export interface WorkerFailure {
  /** The QuantizeError's code; `internal` for anything else thrown (a bug). */
  readonly code: ErrorCode | "internal";
  /** The message the CLI prints for the same failure (without its `coreml-quantize: ` prefix). */
  readonly message: string;
}

/** What a quantization in the worker produced. */
export interface WorkerQuantizeResult {
  /** The quantized model's file, byte for byte what the CLI writes for the same options. */
  readonly bytes: Uint8Array;
  /** A name for it: `<name>.<mode><bits>.mlmodel` (see {@link quantizedFileName}). */
  readonly fileName: string;
  /** Per-tensor storage, bytes and errors, each tensor with its decision (as `--report` writes it). */
  readonly report: WeightReport;
  /** {@link report} as the CLI's `--report` file holds it. */
  readonly reportJson: string;
  /** The input model's summary. */
  readonly before: ModelSummary;
  /** The output model's summary. */
  readonly after: ModelSummary;
  /** Selected tensors left as they were (already quantized, …), each with why. */
  readonly left: readonly TensorLeft[];
  /**
   * The kernels the worker ran: `wasm-simd`, or `js` where WebAssembly (or its
   * SIMD) is missing or forbidden by a Content-Security-Policy without
   * `'wasm-unsafe-eval'`. Both give the same bytes; JavaScript is slower.
   */
  readonly kernels: KernelsName;
}

/** Which implementation of the kernels runs. */
export type KernelsName = "wasm-simd" | "js";

/**
 * What the worker answers; every request ends with exactly one reply that is
 * not a progress reply (`progress`, `chart-progress`, `compare-progress`).
 */
export type WorkerReply =
  | {
      /** A quantization moved on. */
      readonly type: "progress";
      /** The request's id. */
      readonly id: number;
      /** Tensors done, and the part done of the one under way. */
      readonly progress: Progress;
    }
  | {
      /** The answer to `inspect`. */
      readonly type: "inspected";
      /** The request's id. */
      readonly id: number;
      /** The model's summary. */
      readonly summary: ModelSummary;
    }
  | {
      /** The answer to `quantize`. */
      readonly type: "quantized";
      /** The request's id. */
      readonly id: number;
      /** The quantized file and what it cost. */
      readonly result: WorkerQuantizeResult;
    }
  | {
      /** A chart moved on. */
      readonly type: "chart-progress";
      /** The request's id. */
      readonly id: number;
      /** Points done, and the part done of the one under way. */
      readonly progress: SizeSnrProgress;
    }
  | {
      /** The answer to `chart`. */
      readonly type: "charted";
      /** The request's id. */
      readonly id: number;
      /** Every point measured. */
      readonly chart: SizeSnrChart;
    }
  | {
      /** A comparison moved on. */
      readonly type: "compare-progress";
      /** The request's id. */
      readonly id: number;
      /** Samples run through both models, of the total. */
      readonly progress: {
        /** Samples done. */
        readonly done: number;
        /** Samples in all. */
        readonly total: number;
      };
    }
  | {
      /** The answer to `compare`. */
      readonly type: "compared";
      /** The request's id. */
      readonly id: number;
      /** What compareModels found, with the per-layer rows. */
      readonly comparison: ModelComparison;
    }
  | {
      /** The answer to `inspect-package`. */
      readonly type: "package-inspected";
      /** The request's id. */
      readonly id: number;
      /** The program's summary. */
      readonly summary: ProgramSummary;
    }
  | {
      /** The answer to `compress-package` (the passes report no progress on the way). */
      readonly type: "package-compressed";
      /** The request's id. */
      readonly id: number;
      /** The compressed package and what it cost. */
      readonly result: WorkerPackageResult;
    }
  | {
      /** The request failed. */
      readonly type: "failed";
      /** The request's id. */
      readonly id: number;
      /** Why. */
      readonly error: WorkerFailure;
    };

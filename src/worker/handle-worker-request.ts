/**
 * The work a quantizing Web Worker does for each request, as a plain function of
 * the request and a way to reply: the worker script only binds it to its
 * `message` event, and tests call it directly.
 *
 * @packageDocumentation
 */
import { decodeModel } from "../codec/decode-model.js";
import { encodeModel } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { isQuantizeError, QuantizeError } from "../errors.js";
import { inspectModel } from "../inspect-model.js";
import { packageCompression, type PackageCompression } from "../mlprogram/compress-package.js";
import { parseConfigJson } from "../mlprogram/config-json.js";
import { inspectProgram } from "../mlprogram/inspect-program.js";
import type { MlPackage } from "../mlprogram/ml-package.js";
import { programReport } from "../mlprogram/report-program.js";
import { decodeMlPackageZip, encodeMlPackageZip } from "../mlprogram/zip-archive.js";
import { compareModels } from "../predict/compare-models.js";
import { runKernels } from "../kernels/index.js";
import { quantizeWeights, type TensorDecision, type TensorLeft } from "../quantize/quantize-weights.js";
import { reportJson } from "../report/format-report.js";
import { weightReport } from "../report/weight-report.js";
import { withDecisions } from "../report/with-decisions.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";
import type { WorkerFailure, WorkerPackageCompression, WorkerReply, WorkerRequest } from "./worker-messages.js";
import { compressedPackageFileName, quantizedFileName } from "./quantized-file-name.js";
import { sizeSnrChart } from "./size-snr-chart.js";
import { toChartOptions, toQuantizeOptions } from "./worker-options.js";
import { type DecodeImage, decodeImageInBrowser, readWorkerSamples } from "./worker-samples.js";

/** Sends a reply to the page, moving the buffers in `transfer` rather than copying them. */
export type PostReply = (reply: WorkerReply, transfer: Transferable[]) => void;

/**
 * Answers one request: `inspect` replies `inspected` with the model's summary;
 * `quantize` replies `progress` after each tensor (and within long ones), then
 * `quantized` with the output file's bytes (transferred) and the report; `chart`
 * replies `chart-progress` as it goes, then `charted` with every point of
 * {@link sizeSnrChart}; `compare` reads the samples (images decoded with
 * `decodeImage`), replies `compare-progress` after each sample, then `compared`
 * with what {@link index!compareModels} found, layer by layer; `inspect-package`
 * replies `package-inspected` with the zipped program's summary;
 * `compress-package` replies `package-compressed` with the compressed package
 * zipped (transferred) and its per-weight report (the passes report no progress
 * on the way). A failure replies
 * `failed` with the CLI's one-line message. Never throws, never rejects.
 *
 * The request's bytes are decoded in place (their buffer is the worker's once
 * posted), as the CLI decodes the file it read.
 *
 * @param request - what the page asked
 * @param post - sends a reply
 * @param decodeImage - how `compare` turns image files into pixels; by default
 *   the browser's decoders (createImageBitmap and OffscreenCanvas)
 * @returns a promise settled once the last reply is posted: at once but for
 *   `compare`, which reads images asynchronously, and the package requests,
 *   which unzip asynchronously
 */
export function handleWorkerRequest(request: WorkerRequest, post: PostReply, decodeImage: DecodeImage = decodeImageInBrowser): Promise<void> {
  const { id } = request;
  try {
    switch (request.type) {
      case "inspect": {
        const model = readModel(request.name, request.bytes);
        validateWeights(model);
        post({ type: "inspected", id, summary: inspectModel(model) }, []);
        return DONE;
      }
      case "quantize": {
        const input = readModel(request.name, request.bytes);
        assertHasNetwork(input);
        const decisions = new Map<string, TensorDecision>();
        const left: TensorLeft[] = [];
        const output = quantizeWeights(input, {
          ...toQuantizeOptions(request.options),
          onTensor: (decision) => decisions.set(decision.path, decision),
          onTensorLeft: (l) => left.push(l),
          onProgress: (progress) => post({ type: "progress", id, progress }, []),
        });
        // As the CLI: never hand out a model that is not self-consistent.
        validateWeights(output);
        const bytes = ownBuffer(encodeModel(output));
        const report = withDecisions(weightReport(input, output), decisions);
        const result = {
          bytes,
          fileName: quantizedFileName(request.name, request.options),
          report,
          reportJson: reportJson(report),
          before: inspectModel(input),
          after: inspectModel(output),
          left,
          kernels: runKernels().name,
        };
        post({ type: "quantized", id, result }, [bytes.buffer as ArrayBuffer]);
        return DONE;
      }
      case "chart": {
        const model = readModel(request.name, request.bytes);
        const chart = sizeSnrChart(model, {
          ...toChartOptions(request.options),
          onProgress: (progress) => post({ type: "chart-progress", id, progress }, []),
        });
        post({ type: "charted", id, chart }, []);
        return DONE;
      }
      case "compare": {
        const original = readModel(request.name, request.original);
        const quantized = readModel(`the quantized ${request.name}`, request.quantized);
        return readWorkerSamples(original, request.samples, decodeImage)
          .then((samples) => {
            const comparison = compareModels(original, quantized, samples, {
              perLayer: true,
              onProgress: (progress) => post({ type: "compare-progress", id, progress }, []),
            });
            post({ type: "compared", id, comparison }, []);
          })
          .catch((error: unknown) => post({ type: "failed", id, error: failureOf(error) }, []));
      }
      case "inspect-package":
        return readPackage(request.name, request.bytes)
          .then((pkg) => post({ type: "package-inspected", id, summary: inspectProgram(pkg) }, []))
          .catch((error: unknown) => post({ type: "failed", id, error: failureOf(error) }, []));
      case "compress-package": {
        const { name } = request;
        // Checked before the zip is read, as the CLI checks its flags before reading the input.
        const compression = compressionOf(request.compression);
        const fileName = compressedPackageFileName(
          name,
          request.compression.kind === "flags" ? request.compression : { kind: "config", functions: compression.function.split(", ") },
        );
        return readPackage(name, request.bytes)
          .then((input) => {
            const output = compression.compress(input);
            const report = programReport(input, output.package);
            // Unzipping mlp.linear8.mlpackage.zip gives mlp.linear8.mlpackage, as the CLI's zip output does.
            const bytes = ownBuffer(encodeMlPackageZip(output.package, { folder: fileName.replace(/\.zip$/i, "") }));
            const result = {
              bytes,
              fileName,
              function: compression.function,
              report,
              before: inspectProgram(input),
              after: inspectProgram(output.package),
              skipped: output.skipped,
            };
            post({ type: "package-compressed", id, result }, [bytes.buffer as ArrayBuffer]);
          })
          .catch((error: unknown) => post({ type: "failed", id, error: failureOf(error) }, []));
      }
      default:
        throw new QuantizeError(
          "invalid-option",
          `unknown request type ${JSON.stringify((request as { type: unknown }).type)}; valid: inspect, quantize, chart, compare, inspect-package, compress-package`,
        );
    }
  } catch (error) {
    post({ type: "failed", id, error: failureOf(error) }, []);
  }
  return DONE;
}

/** What a request answered at once returns. */
const DONE: Promise<void> = Promise.resolve();

/**
 * What the page is told of an error: a QuantizeError's code and message as the CLI
 * prints them; anything else is a bug, said as the CLI says it.
 *
 * @param error - anything thrown
 * @returns the code and one-line message
 */
export function failureOf(error: unknown): WorkerFailure {
  if (isQuantizeError(error)) return { code: error.code, message: error.message };
  return { code: "internal", message: `internal error: ${error instanceof Error ? error.message : String(error)}` };
}

/** Decodes a model file's bytes as the CLI's readModelFile does (same messages). */
function readModel(name: string, bytes: Uint8Array): Model {
  if (!(bytes instanceof Uint8Array)) throw new QuantizeError("invalid-protobuf", `${name}: the bytes posted are not a Uint8Array`);
  if (bytes.length === 0) throw new QuantizeError("invalid-protobuf", `${name} is empty (0 bytes), not a Core ML model`);
  return decodeModel(bytes, { reuseInput: true });
}

/** Decodes a zipped package as the CLI reads a zip operand (same messages, prefixed with the name). */
async function readPackage(name: string, bytes: Uint8Array): Promise<MlPackage> {
  if (!(bytes instanceof Uint8Array)) throw new QuantizeError("invalid-option", `${name}: the bytes posted are not a Uint8Array`);
  if (bytes.length === 0) throw new QuantizeError("unsupported-model", `${name} is empty (0 bytes), not a zipped .mlpackage`);
  try {
    return await decodeMlPackageZip(bytes);
  } catch (error) {
    if (isQuantizeError(error)) throw new QuantizeError(error.code, error.message, { path: name, cause: error });
    throw error;
  }
}

/** The pass a package request names: the flags, or the config text read as `--config` reads a file. */
function compressionOf(request: WorkerPackageCompression): PackageCompression {
  if (request.kind === "flags") return packageCompression({ kind: "flags", mode: request.mode, nbits: request.nbits });
  const source = request.source ?? "config";
  if (typeof request.text !== "string") throw new QuantizeError("invalid-option", `${source}: the config posted is not a string`);
  let config: unknown;
  try {
    // Integer literals kept apart from floats: coremltools refuses an int where it takes a float.
    config = parseConfigJson(request.text);
  } catch (cause) {
    if (isQuantizeError(cause)) throw new QuantizeError(cause.code, `${source} is not JSON: ${cause.message}`, { cause });
    throw cause;
  }
  return packageCompression({ kind: "config", config, source });
}

/** `bytes` alone in a buffer of exactly its length, so transferring the buffer moves nothing else. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

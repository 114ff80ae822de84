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
import { compareModels } from "../predict/compare-models.js";
import { runKernels } from "../kernels/index.js";
import { quantizeWeights, type TensorDecision, type TensorLeft } from "../quantize/quantize-weights.js";
import { reportJson } from "../report/format-report.js";
import { weightReport } from "../report/weight-report.js";
import { withDecisions } from "../report/with-decisions.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";
import type { WorkerFailure, WorkerReply, WorkerRequest } from "./worker-messages.js";
import { quantizedFileName } from "./quantized-file-name.js";
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
 * with what {@link index!compareModels} found, layer by layer. A failure replies
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
 *   `compare`, which reads images asynchronously
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
      default:
        throw new QuantizeError(
          "invalid-option",
          `unknown request type ${JSON.stringify((request as { type: unknown }).type)}; valid: inspect, quantize, chart, compare`,
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

/** `bytes` alone in a buffer of exactly its length, so transferring the buffer moves nothing else. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

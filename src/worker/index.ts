/**
 * Quantizing in a Web Worker: the page's side ({@link quantizeInWorker},
 * {@link inspectInWorker}, {@link sizeSnrChartInWorker}, {@link compareInWorker},
 * {@link inspectPackageInWorker}, {@link compressPackageInWorker}) and the worker's ({@link handleWorkerRequest}; the
 * worker script itself is `worker-script.js`, which binds it).
 *
 * @packageDocumentation
 */
export {
  quantizeInWorker,
  inspectInWorker,
  sizeSnrChartInWorker,
  compareInWorker,
  inspectPackageInWorker,
  compressPackageInWorker,
  type CompareInWorkerOptions,
  type QuantizeWorker,
  type QuantizeInWorkerOptions,
  type InspectInWorkerOptions,
  type SizeSnrChartInWorkerOptions,
} from "./quantize-in-worker.js";
export { handleWorkerRequest, type PostReply } from "./handle-worker-request.js";
export type {
  WorkerQuantizeOptions,
  WorkerHalfPrecisionOptions,
  WorkerNbitOptions,
  WorkerAutoOptions,
  WorkerSelection,
  WorkerChartOptions,
  WorkerSelector,
} from "./worker-options.js";
export {
  sizeSnrChart,
  SIZE_SNR_MODES,
  SIZE_SNR_BITS,
  SIZE_SNR_SETTINGS,
  type SizeSnrChart,
  type SizeSnrChartOptions,
  type SizeSnrPoint,
  type SizeSnrProgress,
  type SizeSnrRefusal,
  type SizeSnrSeries,
  type SizeSnrSetting,
} from "./size-snr-chart.js";
export { quantizedFileName, compressedPackageFileName, type CompressedPackageNaming } from "./quantized-file-name.js";
export type { WorkerSamples, WorkerSampleFile, DecodeImage } from "./worker-samples.js";
export type {
  WorkerRequest,
  WorkerReply,
  WorkerFailure,
  WorkerQuantizeResult,
  WorkerPackageCompression,
  WorkerPackageResult,
  KernelsName,
} from "./worker-messages.js";

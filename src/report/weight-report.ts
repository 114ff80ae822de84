/**
 * weightReport: what quantizing cost, tensor by tensor, from the weights alone —
 * signal-to-noise ratios, largest error and cosine similarity of every weight
 * tensor of a quantized model against its original, with the bytes saved.
 *
 * @packageDocumentation
 */
import { dequantizeLut } from "../quantizer/dequantize.js";
import type { Model } from "../codec/model-types.js";
import { storedByteLength, weightStorage, type StorageKind } from "../codec/weight-storage.js";
import { readQuantized, readWeights } from "../walker/read-weights.js";
import { QuantizeError } from "../errors.js";
import { assertHasNetwork, validateWeights } from "../validate-model.js";
import { forEachLayer, layerPath } from "../walker/networks.js";
import { layerWeights, type WeightRef } from "../walker/weights.js";
import { pairLayers, type FuseMatching } from "./pair-layers.js";
import { decodedTensorError, float16TensorError, linearTensorError, tensorError, type TensorError } from "../measure/tensor-error.js";

/** Options of {@link weightReport}. */
export interface WeightReportOptions {
  /**
   * `auto`: when a network of the quantized model has fewer layers than the
   * original's, compare against the original fused as quantizeWeights fuses it
   * (batchnorm, scale and bias folded into the layer before); `never`: compare
   * the layers as they are, so a fused model is refused.
   * @defaultValue "auto"
   */
  readonly fuse?: FuseMatching;
}

const DEFAULTS: Required<WeightReportOptions> = Object.freeze({ fuse: "auto" });
const FUSE_VALUES: readonly FuseMatching[] = ["auto", "never"];

/** How one side of a comparison stores a tensor. */
export interface StoredTensor {
  /** Storage kind. */
  readonly storage: StorageKind;
  /** Bits per value for `linear` and `lut` storage. */
  readonly nbits?: number;
  /** Bytes in the file: payload plus quantization parameters. */
  readonly bytes: number;
}

/**
 * One WeightParams present in both models: where it is, how each model stores it,
 * and the error of the quantized values against the original ones (see
 * {@link TensorError}; `null` stands for an infinite ratio).
 */
export interface TensorReport extends TensorError {
  /** The network holding the layer, e.g. `model/neuralNetwork`. */
  readonly networkPath: string;
  /** The layer's path in the quantized model, e.g. `model/neuralNetwork/layers[2] "conv2"`. */
  readonly layerPath: string;
  /** The layer's name. */
  readonly layer: string;
  /** The layer kind (the case of its `layer` oneof). */
  readonly kind: string;
  /** The field inside the layer, e.g. `weights`. */
  readonly field: string;
  /** The shape the layer declares. */
  readonly shape: readonly number[];
  /**
   * Whether the original side is the fusion of several layers of the original
   * model (quantizeWeights folded a batchnorm, scale or bias layer into this one),
   * so the signal is the fused float weights.
   */
  readonly fused: boolean;
  /** The original's storage (when `fused`, of the tensor fused: as the original model stores it). */
  readonly before: StoredTensor;
  /** The quantized model's storage. */
  readonly after: StoredTensor;
}

/** Sums over a {@link WeightReport}. */
export interface ReportTotals {
  /** Tensors compared. */
  readonly tensors: number;
  /** Values compared. */
  readonly values: number;
  /**
   * Bytes of every WeightParams of the original model as stored (as `inspect`
   * counts them; layers fused away included).
   */
  readonly bytesBefore: number;
  /** Bytes of every WeightParams of the quantized model. */
  readonly bytesAfter: number;
  /** `bytesBefore / bytesAfter` (4: a quarter of the bytes); `null` when `bytesAfter` is 0. */
  readonly ratio: number | null;
  /**
   * Mean of the tensors' SNR in dB weighted by their value counts, over the
   * tensors with a finite SNR: exact tensors (infinite SNR, typically those left
   * unquantized) are left out, and counted in `exactTensors`. `null` when no
   * tensor has a finite SNR.
   */
  readonly meanSnrDb: number | null;
  /** The lowest finite SNR of any tensor, in dB; `null` when none is finite. */
  readonly minSnrDb: number | null;
  /** Tensors whose values all came back unchanged. */
  readonly exactTensors: number;
  /** Values in those tensors. */
  readonly exactValues: number;
}

/** What {@link weightReport} returns: plain data, faithful through `JSON.stringify`. */
export interface WeightReport {
  /** Every WeightParams present in both models, in file order. */
  readonly tensors: readonly TensorReport[];
  /** Sums and means. */
  readonly totals: ReportTotals;
}

/**
 * Measures what quantizing cost: compares every weight tensor of `quantized`
 * with the same tensor of `original`, decoding any storage (float32, float16,
 * n-bit linear or LUT, int8) to float32 and computing the error in float64.
 * Networks that quantizeWeights fused are compared against the original fused
 * the same way, so fused layers are measured against the fused float weights.
 * WeightParams present in one model only, or empty in both, are left out.
 *
 * @param original - the model before quantization; not modified
 * @param quantized - the model after; not modified
 * @param options - how to match layers
 * @returns per-tensor errors and sizes, and totals
 * @throws {@link QuantizeError} `models-differ` when the models do not
 *   correspond (different model kinds, pipeline lengths, layer names or kinds
 *   after fusion, shapes, or value counts), naming the first difference;
 *   `invalid-option` for an unknown `fuse`; `invalid-weights` when either model's weights do not fit
 *   their layers; `unsupported-model` when `original` holds no neural network
 * @example
 * ```ts
 * const small = quantizeWeights(model, { nbits: 4 });
 * const { tensors, totals } = weightReport(model, small);
 * console.log(`${totals.ratio}x smaller, mean SNR ${totals.meanSnrDb} dB`);
 * ```
 */
export function weightReport(original: Model, quantized: Model, options: WeightReportOptions = {}): WeightReport {
  const { fuse } = { ...DEFAULTS, ...options };
  if (!FUSE_VALUES.includes(fuse)) {
    throw new QuantizeError("invalid-option", `fuse must be one of ${FUSE_VALUES.join(", ")}, got ${JSON.stringify(fuse)}`);
  }
  assertHasNetwork(original);
  validateWeights(original);
  validateWeights(quantized);
  const tensors: TensorReport[] = [];
  // Decoded tensors are only needed one pair at a time: two buffers serve them all.
  const scratch: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  pairLayers(original, quantized, fuse, (pair) => {
    const after = layerWeights(pair.quantized);
    if (after.length === 0) return;
    const layerAt = layerPath(pair.networkPath, pair.index, pair.quantized);
    const before = new Map(layerWeights(pair.original).map((ref) => [ref.field, ref]));
    const unfused = pair.fused ? new Map(layerWeights(pair.unfused).map((ref) => [ref.field, ref])) : before;
    for (const ref of after) {
      const originalRef = before.get(ref.field);
      if (originalRef === undefined) continue;
      const path = `${layerAt}/${ref.field}`;
      if (!sameShape(originalRef.shape, ref.shape)) {
        throw new QuantizeError(
          "models-differ",
          `the models do not correspond: the original declares shape [${originalRef.shape.join(", ")}], the quantized model [${ref.shape.join(", ")}]`,
          { path },
        );
      }
      const x = readInto(scratch, 0, originalRef, path);
      const error = errorAgainst(x, ref, scratch, path);
      if (error === undefined) continue;
      tensors.push({
        networkPath: pair.networkPath,
        layerPath: layerAt,
        layer: pair.quantized.name,
        kind: pair.quantized.layer.case ?? "none",
        field: ref.field,
        shape: ref.shape,
        fused: pair.fused,
        before: storedBefore(originalRef, unfused.get(ref.field), path),
        after: stored(ref, path),
        ...error,
      });
    }
  });
  return { tensors, totals: totalsOf(tensors, storedBytes(original), storedBytes(quantized)) };
}

/** Bytes of every WeightParams of `model` as stored (what `inspectModel` totals, without listing them). */
function storedBytes(model: Model): number {
  let bytes = 0;
  forEachLayer(model, (layer) => {
    for (const ref of layerWeights(layer)) bytes += storedByteLength(ref.weightParams);
  });
  return bytes;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The original's storage of a tensor: for a fused one, the storage of the tensor it
 * was fused from (a float16 model's fused weights take 2 bytes a value before, not
 * the 4 of the fused float32 values); a tensor fusion made (a bias the layer did
 * not have) counts as the fused values.
 */
function storedBefore(ref: WeightRef, source: WeightRef | undefined, path: string): StoredTensor {
  if (source === undefined || source === ref || !sameShape(source.shape, ref.shape)) return stored(ref, path);
  return stored(source, path);
}

function stored(ref: WeightRef, path: string): StoredTensor {
  const storage = weightStorage(ref.weightParams, path);
  return {
    storage: storage.kind,
    ...(storage.kind === "linear" || storage.kind === "lut" ? { nbits: storage.nbits } : {}),
    bytes: storedByteLength(ref.weightParams),
  };
}

function totalsOf(tensors: readonly TensorReport[], bytesBefore: number, bytesAfter: number): ReportTotals {
  let values = 0;
  let weighted = 0;
  let weight = 0;
  let minSnrDb: number | null = null;
  let exactTensors = 0;
  let exactValues = 0;
  for (const t of tensors) {
    values += t.count;
    if (t.exact) {
      exactTensors++;
      exactValues += t.count;
    }
    if (t.snrDb !== null) {
      weighted += t.snrDb * t.count;
      weight += t.count;
      if (minSnrDb === null || t.snrDb < minSnrDb) minSnrDb = t.snrDb;
    }
  }
  return {
    tensors: tensors.length,
    values,
    bytesBefore,
    bytesAfter,
    ratio: bytesAfter === 0 ? null : bytesBefore / bytesAfter,
    meanSnrDb: weight === 0 ? null : weighted / weight,
    minSnrDb,
    exactTensors,
    exactValues,
  };
}

/**
 * The error of the quantized side against the original values `x`; undefined when
 * both are empty. Linear n-bit storage is compared without decoding it, half
 * precision and lookup tables a few thousand values at a time; only int8 and
 * mismatched counts (refused below) take a whole-tensor buffer.
 */
function errorAgainst(x: Float32Array, ref: WeightRef, scratch: [Float32Array, Float32Array], path: string): TensorError | undefined {
  const storage = weightStorage(ref.weightParams, path);
  const count = storage.kind === "linear" || storage.kind === "lut" ? ref.shape.reduce((a, b) => a * b, 1) : storage.kind === "float16" ? storage.count : -1;
  if (count === x.length && count > 0) {
    if (storage.kind === "float16") return float16TensorError(x, ref.weightParams.float16Value);
    const parts = readQuantized(ref.weightParams, ref.shape, ref.axis, path);
    if (parts.kind === "linear") return linearTensorError(x, parts.indices, parts.scale, parts.bias, parts.layout);
    const lut = Float32Array.from(parts.lut);
    return decodedTensorError(x, (start, end, into) => dequantizeLut(parts.indices.subarray(start, end), lut, { path, into }));
  }
  const y = readInto(scratch, 1, ref, path);
  if (x.length === 0 && y.length === 0) return undefined;
  if (x.length !== y.length) {
    throw new QuantizeError("models-differ", `the models do not correspond: the original holds ${x.length} values, the quantized model ${y.length}`, { path });
  }
  return tensorError(x, y);
}

/** The values of a tensor; decoded ones are written into a reused buffer. */
function readInto(scratch: [Float32Array, Float32Array], slot: 0 | 1, ref: WeightRef, path: string): Float32Array {
  const kind = weightStorage(ref.weightParams, path).kind;
  if (kind === "float32" || kind === "empty") return readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis, path });
  const count = ref.shape.reduce((a, b) => a * b, 1);
  if (scratch[slot].length < count) scratch[slot] = new Float32Array(count);
  return readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis, path, into: scratch[slot].subarray(0, count) });
}

/**
 * What one operation does to one tensor: the per-WeightParams steps that
 * quantize-weights.ts composes (half precision, n-bit, auto, dequantize, int8),
 * and the decisions they report.
 *
 * @packageDocumentation
 */
import { chooseTensorStorage, type AutoMode } from "./auto-bits.js";
import { encodeFloat16WithPeak, FLOAT16_MAX } from "../codec/float16.js";
import type { WeightParams } from "../codec/model-types.js";
import { weightStorage, type WeightStorage, withFloat16, withFloat16Bytes, withFloat32, withInt8, withLinear, withLut } from "../codec/weight-storage.js";
import { readWeights } from "../walker/read-weights.js";
import { QuantizeError } from "../errors.js";
import { TENSOR_QUANTIZERS, type TensorContext, type TensorMode, type TensorResult } from "./quantize-tensor.js";
import type { LutFunction } from "../quantizer/custom-lut.js";
import { quantizeInt8 } from "../quantizer/int8.js";
import { assertFinite } from "../quantizer/quantizer-options.js";
import { assertDeclaredCount } from "../validate-model.js";
import type { WeightRef } from "../walker/weights.js";

/**
 * What happened to one tensor, reported through {@link QuantizeCommonOptions.onTensor}:
 * one variant per storage (`nbits` and `mode` only for n-bit storage, `overflow`
 * only at 16 bits; fields a variant lacks are declared absent, so that they read as
 * `undefined` on the union).
 */
export type TensorDecision = NbitDecision | Float16Decision | Float32Decision;

/** Fields every {@link TensorDecision} has. */
interface DecisionBase {
  /** The tensor, e.g. `model/neuralNetwork/layers[0] "fc"/weights`. */
  readonly path: string;
  /** With `nbits: "auto"`: the SNR the choice reaches, in dB (Infinity when exact). */
  readonly snrDb?: number;
}

/** A tensor now stored as n-bit indices. */
export interface NbitDecision extends DecisionBase {
  /** Per-channel scale and bias (`linear`) or a lookup table (`lut`), as the mode stores. */
  readonly storage: "linear" | "lut";
  /** Bits per weight. */
  readonly nbits: number;
  /** The mode that produced it. */
  readonly mode: TensorMode;
  /** Only at 16 bits. */
  readonly overflow?: never;
}

/** A tensor now stored in half precision. */
export interface Float16Decision extends DecisionBase {
  /** Half precision. */
  readonly storage: "float16";
  /** Only for n-bit storage. */
  readonly nbits?: never;
  /** Only for n-bit storage. */
  readonly mode?: never;
  /** At 16 bits, for a tensor with values beyond ±65504 that `float16Overflow: "clamp"` saturated. */
  readonly overflow?: "clamped";
}

/** A tensor stored (or left) in float32. */
export interface Float32Decision extends DecisionBase {
  /** float32: left as it was, or widened back. */
  readonly storage: "float32";
  /** Only for n-bit storage. */
  readonly nbits?: never;
  /** Only for n-bit storage. */
  readonly mode?: never;
  /** At 16 bits, for a tensor with values beyond ±65504 that `float16Overflow: "keep-float32"` left. */
  readonly overflow?: "kept-float32";
}

/**
 * A selected tensor that a quantizing pass leaves as it is because it is stored in
 * a form the pass does not start from, reported through
 * {@link QuantizeCommonOptions.onTensorLeft}.
 */
export interface TensorLeft {
  /** The tensor, e.g. `model/neuralNetwork/layers[0] "fc"/weights`. */
  readonly path: string;
  /** How it is stored, unchanged. */
  readonly storage: "linear" | "lut" | "int8" | "float16";
  /** Bits per weight for `linear` and `lut` storage. */
  readonly nbits?: number;
  /** Why, in words, e.g. `already 8-bit linear; dequantize first to requantize`. */
  readonly reason: string;
}

/** Receives each {@link TensorLeft}. */
export type OnTensorLeft = ((left: TensorLeft) => void) | undefined;

/** Reports a selected tensor left in `storage` (empty ones have nothing to leave). */
function reportLeft(storage: WeightStorage, path: string, onLeft: OnTensorLeft): void {
  if (onLeft === undefined) return;
  switch (storage.kind) {
    case "linear":
    case "lut":
      onLeft({
        path,
        storage: storage.kind,
        nbits: storage.nbits,
        reason: `already ${storage.nbits}-bit ${storage.kind === "lut" ? "lookup table" : "linear"}; dequantize first to requantize`,
      });
      return;
    case "int8":
      onLeft({ path, storage: "int8", reason: "already int8, for int8 matrix multiplication" });
      return;
    case "float16":
      onLeft({ path, storage: "float16", reason: "already half precision" });
      return;
    case "float32":
    case "empty":
      return;
  }
}

/** The values of {@link HalfPrecisionOptions.float16Overflow}: the one list of them. */
export const FLOAT16_OVERFLOWS = ["error", "keep-float32", "clamp"] as const;

/**
 * What to do with values beyond the half-precision range at `nbits: 16` (the list
 * of them is `FLOAT16_OVERFLOWS`).
 *
 * @useDeclaredType
 */
export type Float16Overflow = (typeof FLOAT16_OVERFLOWS)[number];

/** Receives each tensor's {@link TensorDecision}. */
export type OnTensor = ((decision: TensorDecision) => void) | undefined;

/**
 * What one WeightParams becomes: resolved once from the options. `onFraction`, when
 * given, hears how far a long tensor is, in (0, 1); what it throws propagates.
 */
export type TensorPlan = (weightParams: WeightParams, ref: WeightRef, path: string, onFraction?: (fraction: number) => void) => WeightParams;

/** float32 -> half precision; other storages are left alone. */
export function toHalfPrecision(overflow: Float16Overflow, onTensor: OnTensor, onLeft?: OnTensorLeft): TensorPlan {
  return (weightParams, ref, path) => {
    const storage = weightStorage(weightParams, path);
    if (storage.kind !== "float32") {
      reportLeft(storage, path, onLeft);
      return weightParams;
    }
    let values = weightParams.floatValue;
    assertDeclaredCount(values.length, ref.shape, path);
    // Encode first: the same pass finds the largest magnitude. NaN makes it NaN, and
    // then, as when it is too large, the exact scan finds the first value beyond the
    // range (NaN itself has a half-precision form: only magnitudes overflow).
    const { bytes, peak } = encodeFloat16WithPeak(values);
    let first = -1;
    if (!(peak <= FLOAT16_MAX)) {
      for (let i = 0; i < values.length && first < 0; i++) if (Math.abs(values[i] as number) > FLOAT16_MAX) first = i;
    }
    if (first >= 0) {
      switch (overflow) {
        case "error":
          throw new QuantizeError(
            "float16-overflow",
            `value ${values[first]} at index ${first} is beyond the half-precision range (±${FLOAT16_MAX}); the model cannot be converted to half precision (float16Overflow "keep-float32" or "clamp" would)`,
            { path },
          );
        case "keep-float32":
          onTensor?.({ path, storage: "float32", overflow: "kept-float32" });
          return weightParams;
        case "clamp":
          values = values.map((v) => (v > FLOAT16_MAX ? FLOAT16_MAX : v < -FLOAT16_MAX ? -FLOAT16_MAX : v));
          onTensor?.({ path, storage: "float16", overflow: "clamped" });
          return withFloat16(weightParams, values);
      }
    }
    onTensor?.({ path, storage: "float16" });
    return withFloat16Bytes(weightParams, bytes);
  };
}

/**
 * A float32 or float16 tensor's values as float32, checked against its shape; for
 * any other storage (already quantized, or empty) undefined, after telling
 * `onLeft` why the tensor stays as it is. float16 weights are widened and
 * quantized like float32 ones.
 */
function floatValuesOrLeft(
  weightParams: WeightParams,
  ref: WeightRef,
  path: string,
  onLeft: OnTensorLeft | undefined,
): { values: Float32Array; kind: "float32" | "float16" } | undefined {
  const storage = weightStorage(weightParams, path);
  const kind = storage.kind;
  if (kind !== "float32" && kind !== "float16") {
    reportLeft(storage, path, onLeft);
    return undefined;
  }
  const values = readWeights(weightParams, { shape: ref.shape, axis: ref.axis, path });
  assertDeclaredCount(values.length, ref.shape, path);
  return { values, kind };
}

/**
 * nbits "auto": each tensor gets the storage {@link chooseTensorStorage} picks.
 * Never half precision for an updatable model (`auto.updatable`) or weights
 * marked updatable: they stay trainable, n-bit or float32, as at `nbits` 1..8.
 */
export function toAutoStorage(
  auto: { targetSnrDb: number; modes: readonly AutoMode[]; updatable: boolean },
  onTensor: OnTensor,
  onLeft?: OnTensorLeft,
): TensorPlan {
  return (weightParams, ref, path, onFraction) => {
    const floats = floatValuesOrLeft(weightParams, ref, path, onLeft);
    if (floats === undefined) return weightParams;
    const { values, kind } = floats;
    assertFinite(values, { path });
    const allowHalfPrecision = !auto.updatable && !weightParams.isUpdatable;
    const choice = chooseTensorStorage(
      values,
      { shape: ref.shape, axis: ref.axis, path },
      auto.targetSnrDb,
      auto.modes,
      onFraction === undefined ? { allowHalfPrecision } : { allowHalfPrecision, onProgress: onFraction },
    );
    switch (choice.storage) {
      case "n-bit":
        onTensor?.({ path, storage: choice.result.kind, nbits: choice.nbits, mode: choice.mode, snrDb: choice.snrDb });
        return storeTensorResult(weightParams, choice.nbits, choice.result);
      case "float16":
        onTensor?.({ path, storage: "float16", snrDb: choice.snrDb });
        return withFloat16(weightParams, values);
      case "float32":
        onTensor?.({ path, storage: "float32", snrDb: choice.snrDb });
        return kind === "float32" ? weightParams : withFloat32(weightParams, values);
    }
  };
}

/** float32 or float16 -> n-bit storage in `mode`, the quantizing handed to `run`; other storages stay. */
export function toNbits(
  mode: TensorMode,
  nbits: number,
  lutFunction: LutFunction | undefined,
  run: TensorRunner,
  onTensor: OnTensor,
  onLeft?: OnTensorLeft,
): TensorPlan {
  return (weightParams, ref, path, onFraction) => {
    const values = floatValuesOrLeft(weightParams, ref, path, onLeft)?.values;
    if (values === undefined) return weightParams;
    onTensor?.({ path, storage: TENSOR_QUANTIZERS[mode].storage, nbits, mode });
    return run(mode, weightParams, values, { nbits, shape: ref.shape, axis: ref.axis, path, lutFunction, onProgress: onFraction });
  };
}

/**
 * Quantizes one tensor and stores the result in (a copy of) its WeightParams. The
 * default runs the quantizer in place; the worker-thread variant defers it.
 */
export type TensorRunner = (mode: TensorMode, weightParams: WeightParams, values: Float32Array, context: TensorContext) => WeightParams;

/** Runs the quantizer here and now. */
export const runTensorInline: TensorRunner = (mode, weightParams, values, context) =>
  storeTensorResult(weightParams, context.nbits, TENSOR_QUANTIZERS[mode].quantize(values, context));

/** `weightParams` holding a quantized tensor. */
export function storeTensorResult(weightParams: WeightParams, nbits: number, result: TensorResult): WeightParams {
  return result.kind === "linear"
    ? withLinear(weightParams, nbits, result.packed, result.scale, result.bias)
    : withLut(weightParams, nbits, result.packed, result.lut);
}

/**
 * n-bit quantized or half-precision weights -> float32. float32, empty and int8
 * ones stay: the reference dequantizes rawValue only, and int8 weights belong to
 * layers set to run int8 products.
 */
export const toFloat32: TensorPlan = (weightParams, ref, path) => {
  const kind = weightStorage(weightParams, path).kind;
  if (kind !== "float16" && kind !== "linear" && kind !== "lut") return weightParams;
  return withFloat32(weightParams, readWeights(weightParams, { shape: ref.shape, axis: ref.axis, path }));
};

/** float32 matrix weights -> int8 with one scale; biases and other storages stay. */
export const toInt8: TensorPlan = (weightParams, ref, path) => {
  if (ref.field !== "weights" || weightStorage(weightParams, path).kind !== "float32") return weightParams;
  const q = quantizeInt8(weightParams.floatValue, { path });
  return withInt8(weightParams, q.values, q.scale);
};

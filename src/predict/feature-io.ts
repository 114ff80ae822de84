/**
 * The values a prediction takes and gives, and how multiArray features become
 * network blobs and blobs become output values, following the network's
 * array shape mapping.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import type { ArrayFeatureType, FeatureType } from "../gen/FeatureTypes_pb.js";
import type { BlobLayout, Tensor } from "./layer-runner.js";
import { sizeOf } from "./tensor.js";

/** A multiArray value: its shape and its values in row-major order. */
export interface ArrayValue {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** The values; any of these types is converted to float32. */
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array;
}

/**
 * An image: 8-bit pixels row by row, channels interleaved, in R, G, B order (3
 * bytes a pixel), R, G, B, A (4 bytes, alpha ignored) or one gray byte a pixel.
 * What an image decoder gives, whatever the model's colour space.
 */
export interface ImageValue {
  /** Pixels a row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** `width * height` pixels of 1, 3 or 4 bytes (a browser's `ImageData.data` is RGBA). */
  readonly data: Uint8Array | Uint8ClampedArray;
}

/**
 * One input feature's value: a multiArray as {@link ArrayValue}, or a bare
 * Float32Array holding the feature's declared (default) shape; an image as
 * {@link ImageValue}.
 */
export type InputValue = ArrayValue | Float32Array | ImageValue;

/** The inputs of a prediction, by feature name. */
export type PredictInputs = Readonly<Record<string, InputValue>>;

/** A multiArray (or raw image blob) output. */
export interface ArrayOutput {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** The values, row-major. */
  readonly data: Float32Array;
}

/**
 * One output feature's value: an {@link ArrayOutput} for multiArrays (and for
 * images: the raw float blob `[C, H, W]` before any conversion to pixels), a
 * string or bigint class label, a probability dictionary label -> probability.
 */
export type OutputValue = ArrayOutput | string | bigint | ReadonlyMap<string, number> | ReadonlyMap<bigint, number>;

/** The outputs of a prediction, by feature name. */
export type PredictOutputs = Readonly<Record<string, OutputValue>>;

/** A multiArray input, resolved once from its feature description. */
export interface ArrayInputSpec {
  readonly kind: "array";
  readonly name: string;
  readonly optional: boolean;
  /** The declared shape, or the default one a flexible feature implies. */
  readonly defaultShape: readonly number[];
  /** Value of an absent optional input. */
  readonly defaultValue: number;
  /** Why `shape` (in the declared rank) is not accepted, or undefined when it is. */
  readonly reject: (shape: readonly number[]) => string | undefined;
}

const n = Number;

/**
 * Whether an input value is an {@link ImageValue} (it has a width and a height).
 *
 * @param value - an input value
 * @returns true for images
 */
export function isImageValue(value: InputValue): value is ImageValue {
  return !(value instanceof Float32Array) && "width" in value && "height" in value;
}

/**
 * Resolves a multiArray feature description: its default shape and which shapes
 * it accepts (the declared one, or any within its enumerated shapes / ranges).
 *
 * @param name - the feature name
 * @param type - its feature type (for `isOptional`)
 * @param array - its multiArray type
 * @returns the resolved input
 */
export function arrayInputSpec(name: string, type: FeatureType, array: ArrayFeatureType): ArrayInputSpec {
  const declared = array.shape.map(n);
  const flex = array.ShapeFlexibility;
  let defaultShape = declared;
  let reject: (shape: readonly number[]) => string | undefined;
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  const fmt = (s: readonly number[]): string => `[${s.join(", ")}]`;
  if (flex.case === "enumeratedShapes") {
    const shapes = flex.value.shapes.map((s) => s.shape.map(n));
    if (declared.length === 0 && shapes[0] !== undefined) defaultShape = shapes[0];
    reject = (s) => (shapes.some((e) => same(e, s)) ? undefined : `shape ${fmt(s)} is not one of the enumerated shapes ${shapes.map(fmt).join(", ")}`);
  } else if (flex.case === "shapeRange") {
    const ranges = flex.value.sizeRanges.map((r) => [n(r.lowerBound), r.upperBound < 0n ? Infinity : n(r.upperBound)] as const);
    if (declared.length === 0) defaultShape = ranges.map(([lo]) => lo);
    reject = (s) => {
      if (s.length !== ranges.length) return `shape ${fmt(s)} has rank ${s.length}, the feature's shape range has rank ${ranges.length}`;
      const bad = s.findIndex((d, i) => d < (ranges[i] as readonly [number, number])[0] || d > (ranges[i] as readonly [number, number])[1]);
      if (bad < 0) return undefined;
      const [lo, hi] = ranges[bad] as readonly [number, number];
      return `dimension ${bad} of shape ${fmt(s)} is outside the range [${lo}, ${hi === Infinity ? "unbounded" : hi}]`;
    };
  } else {
    reject = (s) => (same(s, declared) ? undefined : `shape ${fmt(s)} is not the declared shape ${fmt(declared)}`);
  }
  const d = array.defaultOptionalValue;
  return { kind: "array", name, optional: type.isOptional, defaultShape, defaultValue: d.case === undefined ? 0 : d.value, reject };
}

function invalid(message: string): never {
  throw new QuantizeError("invalid-input", message);
}

/** A copy of any accepted array data as float32. */
function toFloat32(data: ArrayValue["data"]): Float32Array {
  if (data instanceof BigInt64Array) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i] as bigint);
    return out;
  }
  return Float32Array.from(data);
}

/**
 * The network blob for a multiArray input.
 *
 * - `rank5` layout: a `[C]` value is the blob `[1, 1, C, 1, 1]`, a `[C, H, W]`
 *   value `[1, 1, C, H, W]`; a rank-5 value `[Seq, Batch, C, H, W]` (a sequence)
 *   is taken as is when its trailing axes fit the declaration. Other declared
 *   ranks are padded with leading ones to rank 5.
 * - `exact` layout: the value keeps its shape, which must have the declared rank.
 *
 * @param spec - the input's resolved description
 * @param value - the caller's value, or undefined when absent
 * @param layout - the network's blob layout
 * @returns a new tensor (the caller's data is copied)
 * @throws {@link QuantizeError} `invalid-input` when the value is missing, of the
 *   wrong kind, or of a shape the feature does not accept
 */
export function arrayInputBlob(spec: ArrayInputSpec, value: InputValue | undefined, layout: BlobLayout): Tensor {
  let shape: readonly number[];
  let data: Float32Array;
  if (value === undefined) {
    if (!spec.optional) invalid(`input '${spec.name}' is missing (a multiArray of shape [${spec.defaultShape.join(", ")}])`);
    shape = spec.defaultShape;
    data = new Float32Array(sizeOf(shape)).fill(spec.defaultValue);
  } else if (value instanceof Float32Array) {
    shape = spec.defaultShape;
    if (value.length !== sizeOf(shape)) {
      invalid(`input '${spec.name}': ${value.length} values given for the declared shape [${shape.join(", ")}] (${sizeOf(shape)} values)`);
    }
    data = Float32Array.from(value);
  } else if (isImageValue(value) || !("shape" in value) || !ArrayBuffer.isView(value.data)) {
    return invalid(`input '${spec.name}' is a multiArray: give { shape, data } or a Float32Array`);
  } else {
    shape = [...value.shape];
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) invalid(`input '${spec.name}': bad shape [${shape.join(", ")}]`);
    if (value.data.length !== sizeOf(shape)) {
      invalid(`input '${spec.name}': ${value.data.length} values for shape [${shape.join(", ")}] (${sizeOf(shape)} values)`);
    }
    data = toFloat32(value.data);
  }
  const rank = spec.defaultShape.length;
  if (layout === "exact") {
    const why = spec.reject(shape);
    if (why !== undefined && value !== undefined) invalid(`input '${spec.name}': ${why}`);
    return { shape: [...shape], data };
  }
  // rank5: a full [Seq, Batch, ...] value whose trailing axes are the feature's.
  if (shape.length === 5 && rank !== 5) {
    const chw = shape.slice(2);
    const trailing = rank === 1 ? (chw[1] === 1 && chw[2] === 1 ? [chw[0] as number] : chw) : shape.slice(5 - rank);
    const why = spec.reject(trailing);
    if (why !== undefined) invalid(`input '${spec.name}': the trailing axes of the rank-5 value: ${why}`);
    return { shape: [...shape], data };
  }
  const why = spec.reject(shape);
  if (why !== undefined && value !== undefined) invalid(`input '${spec.name}': ${why}`);
  const blobShape = shape.length === 1 ? [1, 1, shape[0] as number, 1, 1] : [...new Array<number>(Math.max(0, 5 - shape.length)).fill(1), ...shape];
  return { shape: blobShape, data };
}

/**
 * The output value of a multiArray feature from its blob.
 *
 * - `exact` layout: the blob's shape.
 * - `rank5` layout: a blob `[1, 1, C, 1, 1]` declared rank 1 is `[C]`, otherwise
 *   `[C, H, W]`; when Seq or Batch is above 1 (a sequence output), the whole
 *   rank-5 blob.
 *
 * @param blob - the network's blob
 * @param declaredRank - the rank of the feature's declared shape
 * @param layout - the network's blob layout
 * @returns the value; its data is the blob's (blobs are not reused)
 */
export function arrayOutput(blob: Tensor, declaredRank: number, layout: BlobLayout): ArrayOutput {
  if (layout === "exact" || blob.shape.length !== 5) return { shape: [...blob.shape], data: blob.data };
  const [seq, batch, c, h, w] = blob.shape as [number, number, number, number, number];
  if (seq * batch !== 1) return { shape: [...blob.shape], data: blob.data };
  if (declaredRank <= 1 && h === 1 && w === 1) return { shape: [c], data: blob.data };
  return { shape: [c, h, w], data: blob.data };
}

/**
 * The output value of an image feature: the raw float blob as `[C, H, W]` (its
 * leading axes of size 1 dropped; kept when larger).
 *
 * @param blob - the network's blob
 * @returns the value; its data is the blob's
 */
export function imageOutput(blob: Tensor): ArrayOutput {
  const shape = [...blob.shape];
  while (shape.length > 3 && shape[0] === 1) shape.shift();
  return { shape, data: blob.data };
}

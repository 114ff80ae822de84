/**
 * One sample value (a `.npy` array, an image file, a JSON array) checked against
 * the model input it is for, and turned into the executor's input value.
 *
 * @packageDocumentation
 */
import type { Model, NeuralNetwork } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import { NeuralNetworkImageShapeMapping, NeuralNetworkMultiArrayShapeMapping } from "../gen/NeuralNetwork_pb.js";
import { arrayInputBlob, arrayInputSpec, type ArrayInputSpec, type ImageValue, type InputValue } from "./feature-io.js";
import { imageInputSpec, type ImageInputSpec } from "./image-input.js";
import type { BlobLayout } from "./layer-runner.js";
import type { NpyArray } from "./npy.js";
import { MAX_NETWORK_NESTING } from "./prepare-network.js";

/** A model input, resolved once: what values it takes. */
export type SampleInput =
  | { readonly kind: "array"; readonly name: string; readonly optional: boolean; readonly spec: ArrayInputSpec; readonly layout: BlobLayout }
  | { readonly kind: "image"; readonly name: string; readonly optional: boolean; readonly spec: ImageInputSpec };

/**
 * The model's inputs, in its order.
 *
 * @param model - the model
 * @returns each input's resolved description
 * @throws {@link index!QuantizeError} `unsupported-model` when the model has no
 *   description or an input that is neither a multiArray nor an image
 */
export function sampleInputs(model: Model): SampleInput[] {
  const description = model.description;
  if (description === undefined) throw new QuantizeError("unsupported-model", "the model has no description (no input features)", { path: "model" });
  return description.input.map((f): SampleInput => {
    const t = f.type?.Type;
    if (f.type !== undefined && t?.case === "multiArrayType") {
      return { kind: "array", name: f.name, optional: f.type.isOptional, spec: arrayInputSpec(f.name, f.type, t.value), layout: arrayLayout(model, f.name, 0) };
    }
    if (f.type !== undefined && t?.case === "imageType") {
      // Only the size is used here: no preprocessing, one image input.
      const spec = imageInputSpec(
        f.name,
        f.type,
        t.value,
        { preprocessing: [], imageInputShapeMapping: NeuralNetworkImageShapeMapping.RANK5_IMAGE_MAPPING },
        1,
        "model",
      );
      return { kind: "image", name: f.name, optional: f.type.isOptional, spec };
    }
    throw new QuantizeError("unsupported-model", `input '${f.name}' is of type ${t?.case ?? "none"}; samples give multiArrays and images`, { path: "model" });
  });
}

/**
 * The blob layout of the first network that reads input `name` (as the executor
 * decides it), so a rank-5 sequence value is accepted where a rank-5 network
 * takes it; `exact` (the declared shape only) when no network reads it.
 */
function arrayLayout(model: Model, name: string, depth: number): BlobLayout {
  const t = model.Type;
  switch (t.case) {
    case "neuralNetwork":
    case "neuralNetworkClassifier":
    case "neuralNetworkRegressor":
      return networkLayout(t.value);
    case "pipeline":
    case "pipelineClassifier":
    case "pipelineRegressor": {
      const stages = (t.case === "pipeline" ? t.value : t.value.pipeline)?.models ?? [];
      const reader = stages.find((m) => m.description?.input.some((f) => f.name === name));
      return reader === undefined || depth >= MAX_NETWORK_NESTING ? "exact" : arrayLayout(reader, name, depth + 1);
    }
    default:
      return "exact";
  }
}

function networkLayout(network: Pick<NeuralNetwork, "arrayInputShapeMapping" | "imageInputShapeMapping">): BlobLayout {
  return network.arrayInputShapeMapping === NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING ||
    network.imageInputShapeMapping === NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING
    ? "exact"
    : "rank5";
}

function invalid(message: string, cause?: unknown): never {
  throw new QuantizeError("invalid-input", message, cause === undefined ? {} : { cause });
}

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** Whether a shape reads as 8-bit pixels `[H, W]` or `[H, W, 1|3|4]`. */
function pixelShape(shape: readonly number[]): boolean {
  return shape.length === 2 || (shape.length === 3 && [1, 3, 4].includes(shape[2] as number));
}

/**
 * A value for `input` from numbers in row-major order (a `.npy` array or a JSON
 * array), checked against the input.
 *
 * - multiArray inputs take any numeric type, converted to float32; the shape
 *   must be one the input accepts (the declared one or within its flexible
 *   shapes; rank 5 `[Seq, Batch, ...]` for sequences in rank-5 networks).
 *   8-bit pixels `[H, W, 3]` the input does not accept are refused as an image.
 * - image inputs take 8-bit pixels `[H, W, 3]` (RGB), `[H, W, 4]` (alpha
 *   ignored), `[H, W, 1]` or `[H, W]` (gray) of a size the input accepts; they
 *   are not resized.
 *
 * @param input - the model input
 * @param array - element type, shape, values
 * @param where - the file (or JSON sample) the value comes from, for messages
 * @returns the executor's input value
 * @throws {@link index!QuantizeError} `invalid-input` naming `where` and the input
 */
export function arrayValue(input: SampleInput, array: NpyArray, where: string): InputValue {
  const { shape } = array;
  if (input.kind === "image") {
    if (array.dtype !== "uint8" || !pixelShape(shape)) {
      invalid(
        `${where}: input '${input.name}' is an image: an array of ${array.dtype} ${fmt(shape)} is not 8-bit pixels ` +
          "(uint8 [H, W, 3] RGB); give the pixels or an image file",
      );
    }
    const [height, width] = shape as [number, number];
    const why = input.spec.reject(width, height);
    if (why !== undefined) invalid(`${where}: input '${input.name}': ${why} (pixels given as an array are not resized; give an image file to resize)`);
    const image: ImageValue = { width, height, data: array.data as Uint8Array };
    return image;
  }
  if (array.dtype === "uint8" && pixelShape(shape) && input.spec.reject(shape) !== undefined) {
    invalid(
      `${where}: input '${input.name}' is a multiArray of shape ${fmt(input.spec.defaultShape)}: ` + `an image for an array input (uint8 ${fmt(shape)} pixels)`,
    );
  }
  const value = { shape: [...shape], data: toFloat32(array) };
  try {
    // The executor's own check, so that what loads here also runs there.
    arrayInputBlob(input.spec, value, input.layout);
  } catch (cause) {
    invalid(`${where}: ${(cause as Error).message}`, cause);
  }
  return value;
}

function toFloat32(array: NpyArray): Float32Array {
  if (array.dtype === "float32") return array.data;
  if (array.dtype === "int64") {
    const out = new Float32Array(array.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Number(array.data[i] as bigint);
    return out;
  }
  return Float32Array.from(array.data);
}

/** Network blobs have rank 5 at most; past 8 levels a JSON value is refused rather than walked further. */
export const MAX_JSON_RANK = 8;

/**
 * A JSON value as numbers in row-major order: a nested array of numbers (its
 * nesting gives the shape; it must be rectangular), `{ "shape": [...], "data":
 * [...] }` with flat data, or a bare number (shape `[1]`). For an image input
 * the numbers must be integers 0-255, read as uint8 pixels.
 *
 * @param input - the model input
 * @param json - the parsed JSON value
 * @param where - the sample, for messages
 * @returns element type (float64, or uint8 for images), shape and values
 * @throws {@link index!QuantizeError} `invalid-input` naming `where` and the input
 */
export function jsonArray(input: SampleInput, json: unknown, where: string): NpyArray {
  const name = `${where}: input '${input.name}'`;
  let shape: number[];
  let flat: unknown[];
  if (typeof json === "number") {
    shape = [1];
    flat = [json];
  } else if (Array.isArray(json)) {
    shape = [];
    let probe: unknown = json;
    while (Array.isArray(probe)) {
      if (shape.length === MAX_JSON_RANK) invalid(`${name}: arrays nested more than ${MAX_JSON_RANK} deep`);
      shape.push(probe.length);
      probe = probe[0];
    }
    flat = [];
    flatten(json, shape, 0, flat, name, "");
  } else if (typeof json === "object" && json !== null && "shape" in json && "data" in json) {
    const s: unknown = json.shape;
    const d: unknown = json.data;
    if (!Array.isArray(s) || s.length > MAX_JSON_RANK || !s.every((v): v is number => Number.isSafeInteger(v) && (v as number) >= 0)) {
      invalid(`${name}: "shape" must be an array of at most ${MAX_JSON_RANK} non-negative integers`);
    }
    if (!Array.isArray(d)) invalid(`${name}: "data" must be a flat array of numbers`);
    const count = s.reduce((a, b) => a * b, 1);
    if (d.length !== count) invalid(`${name}: ${d.length} values in "data" for the shape ${fmt(s)} (${count} values)`);
    shape = s;
    flat = d;
  } else {
    return invalid(`${name}: expected a nested array of numbers, { "shape", "data" }, or a path to a .npy or image file`);
  }
  if (input.kind === "image") {
    const data = new Uint8Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255)
        invalid(`${name}: value ${JSON.stringify(v)} at flat index ${i} is not an 8-bit pixel value (an integer 0-255)`);
      data[i] = v;
    }
    return { dtype: "uint8", shape, data };
  }
  const data = new Float64Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== "number") invalid(`${name}: value ${JSON.stringify(v)} at flat index ${i} is not a number`);
    data[i] = v;
  }
  return { dtype: "float64", shape, data };
}

/** Appends the leaves of a nested array, checking it is rectangular with the probed shape. */
function flatten(value: unknown, shape: readonly number[], axis: number, out: unknown[], name: string, at: string): void {
  if (axis === shape.length) {
    if (Array.isArray(value)) invalid(`${name}: ${at} is an array where a number was expected (ragged nesting)`);
    out.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[axis]) {
    invalid(`${name}: ${at === "" ? "the value" : at} is not an array of ${shape[axis] as number} (the arrays must be rectangular, shape ${fmt(shape)})`);
  }
  for (let i = 0; i < value.length; i++) flatten(value[i], shape, axis + 1, out, name, `${at}[${i}]`);
}

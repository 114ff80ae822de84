/**
 * The samples a comparison in the worker runs on, as data a page can post: seeded
 * random inputs, or the files a user dropped (`.npy` arrays and images), read
 * here into the executor's inputs.
 *
 * @packageDocumentation
 */
import type { Model } from "../codec/model-types.js";
import { describeValue } from "../describe-value.js";
import { QuantizeError } from "../errors.js";
import { arrayValue, type SampleInput, sampleInputs } from "../predict/sample-values.js";
import type { ImageValue, InputValue, PredictInputs } from "../predict/feature-io.js";
import { type NpyArray, parseNpy } from "../predict/npy.js";
import { MAX_RANDOM_SAMPLES, randomInputs } from "../predict/random-inputs.js";
import { resizeLanczosAlpha } from "../predict/resize-lanczos.js";

/** One dropped file: its name (which input it is for) and its bytes. */
export interface WorkerSampleFile {
  /** The file's name, e.g. `image.npy` or `cat.jpg`. */
  readonly name: string;
  /** Its bytes; their buffer is the worker's once posted. */
  readonly bytes: Uint8Array;
}

/**
 * Where the samples come from:
 * - `random`: `count` seeded draws of {@link index!randomInputs};
 * - `files`: for a model with one input (or one required input and no file named
 *   after another), every file is one sample of it; otherwise the files make one
 *   sample, each named `<input>.npy` (or `<input>.png`, … for an image input).
 *   `.npy` files hold arrays (or uint8 pixels `[H, W, 3]`, not resized); any
 *   other file is an image, decoded by the browser and resized to the input's
 *   size as the CLI does (Pillow's Lanczos, as coremltools).
 */
export type WorkerSamples =
  | {
      /** Seeded random inputs. */
      readonly kind: "random";
      /** How many samples. */
      readonly count: number;
      /** The seed: the same seed draws the same samples. */
      readonly seed: number;
    }
  | {
      /** Files the user gave. */
      readonly kind: "files";
      /** The files, in the order their samples run. */
      readonly files: readonly WorkerSampleFile[];
    };

/**
 * Turns encoded image bytes into pixels of the given size (an image input's size).
 * In a browser, `decodeImageInBrowser` (createImageBitmap and OffscreenCanvas).
 */
export type DecodeImage = (bytes: Uint8Array, width: number, height: number, where: string) => Promise<ImageValue>;

/**
 * The samples most compared at once: each is held in memory with both models'
 * blobs; characterising a model takes tens or hundreds, and a typo in a count
 * (an extra zero or three) would otherwise run for hours.
 */
export const MAX_WORKER_SAMPLES = 10_000;

/**
 * Reads posted samples into the executor's inputs for `model`.
 *
 * @param model - the model the samples are for (the original)
 * @param samples - random draws or files
 * @param decodeImage - how image files become pixels
 * @returns one inputs object a sample
 * @throws {@link index!QuantizeError} `invalid-input` naming the file and the
 *   input: an unknown input, a missing one, a broken `.npy` or image, a value the
 *   input does not take; `invalid-option` for a bad count or seed
 */
export async function readWorkerSamples(model: Model, samples: WorkerSamples, decodeImage: DecodeImage = decodeImageInBrowser): Promise<PredictInputs[]> {
  switch (samples.kind) {
    case "random": {
      const { count, seed } = samples;
      if (!Number.isSafeInteger(count) || count < 1 || count > MAX_RANDOM_SAMPLES) {
        throw new QuantizeError(
          "invalid-option",
          `the number of random samples must be a whole number from 1 to ${MAX_RANDOM_SAMPLES} (MAX_RANDOM_SAMPLES), got ${describeValue(count)}`,
        );
      }
      return randomInputs(model, count, seed);
    }
    case "files":
      return fileSamples(model, samples.files, decodeImage);
    default:
      throw new QuantizeError("invalid-option", `unknown samples kind ${describeValue((samples as { kind: unknown }).kind)}; valid: random, files`);
  }
}

async function fileSamples(model: Model, files: readonly WorkerSampleFile[], decodeImage: DecodeImage): Promise<PredictInputs[]> {
  if (!Array.isArray(files) || files.length === 0) invalid("no sample files given: drop .npy files or images, or use random inputs");
  if (files.length > MAX_WORKER_SAMPLES) invalid(`${files.length} sample files, more than the ${MAX_WORKER_SAMPLES} compared at once (MAX_WORKER_SAMPLES)`);
  const inputs = sampleInputs(model);
  const names = inputs.map((i) => i.name);
  const required = inputs.filter((i) => !i.optional);
  const single = inputs.length === 1 ? inputs[0] : required.length === 1 && files.every((f) => !names.includes(stem(f.name))) ? required[0] : undefined;
  if (single !== undefined) {
    const samples: PredictInputs[] = [];
    for (const f of files) samples.push({ [single.name]: await fileValue(single, f, decodeImage) });
    return samples;
  }
  const sample: Record<string, InputValue> = {};
  for (const f of files) {
    const input = inputs.find((i) => i.name === stem(f.name));
    if (input === undefined) {
      invalid(`${f.name}: no input '${stem(f.name)}'; this model's inputs are ${formatNames(names)}: name each file <input>.npy (one sample)`);
    }
    if (sample[input.name] !== undefined) invalid(`${f.name}: input '${input.name}' is given by two files`);
    sample[input.name] = await fileValue(input, f, decodeImage);
  }
  const missing = required.filter((i) => sample[i.name] === undefined);
  if (missing.length > 0)
    invalid(`input${missing.length > 1 ? "s" : ""} ${formatNames(missing.map((i) => i.name))} missing: drop ${missing.map((i) => `${i.name}.npy`).join(", ")}`);
  return [sample];
}

/** A value from one file: `.npy` by its extension, an image otherwise. */
async function fileValue(input: SampleInput, file: WorkerSampleFile, decodeImage: DecodeImage): Promise<InputValue> {
  const where = file.name;
  if (!(file.bytes instanceof Uint8Array)) invalid(`${where}: the bytes posted are not a Uint8Array`);
  if (file.name.toLowerCase().endsWith(".npy")) {
    let array: NpyArray;
    try {
      array = parseNpy(file.bytes);
    } catch (cause) {
      throw new QuantizeError("invalid-input", `${where}: input '${input.name}': ${(cause as Error).message}`, { cause });
    }
    return arrayValue(input, array, where);
  }
  if (input.kind === "array") {
    invalid(`${where}: input '${input.name}' is a multiArray of shape [${input.spec.defaultShape.join(", ")}]: give a .npy file, not an image`);
  }
  return decodeImage(file.bytes, input.spec.defaultWidth, input.spec.defaultHeight, `${where}: input '${input.name}'`);
}

/**
 * Decodes an image with the browser's decoders (`createImageBitmap`, PNG, JPEG,
 * BMP, WebP, …) at its own size, reads its RGBA pixels from an `OffscreenCanvas`,
 * and resizes them to `width` x `height` without keeping the aspect ratio with
 * Pillow's Lanczos, colours weighed by alpha (`resizeLanczosAlpha`): the resize
 * the CLI runs after sharp decodes, so an image gives the pixels of `compare
 * --samples` (and of coremltools). Colour profiles are ignored, as the CLI and
 * PIL do. Works in a page and in a worker.
 *
 * Where the CLI's pixels can still differ: semi-transparent pixels (a canvas
 * keeps colours premultiplied by alpha, losing low bits), JPEGs whose EXIF
 * orientation the browser applies (the CLI ignores it), and JPEGs if the
 * browser's decoder rounds differently from sharp's.
 *
 * @param bytes - the encoded image
 * @param width - pixels a row wanted
 * @param height - rows wanted
 * @param where - the file and input, for messages
 * @returns the pixels, 4 bytes each (alpha ignored by the executor)
 * @throws {@link index!QuantizeError} `invalid-input` when there is no decoder here
 *   (Node) or the browser cannot decode the bytes
 */
export async function decodeImageInBrowser(bytes: Uint8Array, width: number, height: number, where: string): Promise<ImageValue> {
  if (typeof createImageBitmap !== "function" || typeof OffscreenCanvas !== "function") {
    invalid(`${where}: images cannot be decoded here (no createImageBitmap and OffscreenCanvas); give the pixels as a uint8 .npy [H, W, 3]`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (cause) {
    throw new QuantizeError("invalid-input", `${where}: not an image this browser can decode (give .npy, .png, .jpg or .bmp files)`, { cause });
  }
  const from = { width: bitmap.width, height: bitmap.height };
  let rgba: Uint8Array;
  try {
    const context = new OffscreenCanvas(from.width, from.height).getContext("2d");
    if (context === null) invalid(`${where}: no 2D canvas here to read the image's pixels`);
    context.drawImage(bitmap, 0, 0);
    const data = context.getImageData(0, 0, from.width, from.height).data;
    rgba = new Uint8Array(data.buffer, data.byteOffset, data.length);
  } finally {
    bitmap.close();
  }
  return { width, height, data: resizeLanczosAlpha(rgba, 4, from, { width, height }) };
}

function stem(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function invalid(message: string): never {
  throw new QuantizeError("invalid-input", message);
}

function formatNames(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

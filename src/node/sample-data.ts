/**
 * Sample data for predictions, read from files the way coremltools takes it: a
 * directory of samples holding one `.npy` file an input, a JSON file, or a
 * directory of images for a model with one image input.
 *
 * @packageDocumentation
 */
import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, isAbsolute, join } from "node:path";
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import type { InputValue, PredictInputs } from "../predict/feature-io.js";
import { type NpyArray, parseNpy } from "../predict/npy.js";
import { decodeImage, IMAGE_EXTENSIONS } from "./decode-image.js";
import { ioFailure } from "./io-failure.js";
import { arrayValue, jsonArray, sampleInputs, type SampleInput } from "../predict/sample-values.js";

/**
 * The most samples read: every sample is held in memory until the predictions
 * run, and characterising a model needs tens or hundreds; more is likely a wrong
 * directory.
 */
export const MAX_SAMPLES = 10_000;

/**
 * The most bytes of files read for one set of samples (1 GiB): they are all held
 * in memory at once (as float32 arrays and pixels), next to two models.
 */
export const MAX_SAMPLE_BYTES = 2 ** 30;

/**
 * The largest JSON file read (256 MiB): it is parsed whole into JS values of
 * several times its size, and V8 cannot hold a string much over 512 MiB anyway.
 */
export const MAX_JSON_BYTES = 2 ** 28;

function invalid(message: string): never {
  throw new QuantizeError("invalid-input", message);
}

/** Names sorted by code points, numbers inside compared as numbers (`2` before `10`). */
const collator = new Intl.Collator("en", { numeric: true });
function byName(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

const isHidden = (name: string): boolean => name.startsWith(".");
const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
const formatNames = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(", ");

/** Reads files within {@link MAX_SAMPLE_BYTES}, all files of one load together. */
class FileReader {
  private used = 0;

  async read(path: string, limit = MAX_SAMPLE_BYTES): Promise<Uint8Array> {
    const info = await statOf(path);
    if (!info.isFile()) invalid(`${path} is not a regular file`);
    if (info.size > limit) invalid(`${path} is ${info.size} bytes, over the ${limit} bytes read for sample data`);
    if (this.used + info.size > MAX_SAMPLE_BYTES) {
      invalid(`${path}: the sample files add up to more than ${MAX_SAMPLE_BYTES} bytes (MAX_SAMPLE_BYTES, all held in memory); give fewer or smaller samples`);
    }
    this.used += info.size;
    try {
      return await readFile(path);
    } catch (cause) {
      throw ioFailure("read", path, cause);
    }
  }
}

async function statOf(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (cause) {
    throw ioFailure("read", path, cause);
  }
}

/** The non-hidden entries of a directory, sorted, each with whether it is a directory (links followed). */
async function listDirectory(path: string): Promise<{ readonly name: string; readonly isDirectory: boolean }[]> {
  let names: string[];
  try {
    names = (await readdir(path)).filter((n) => !isHidden(n)).sort(byName);
  } catch (cause) {
    throw ioFailure("read", path, cause);
  }
  if (names.length > MAX_SAMPLES) invalid(`${path} holds ${names.length} entries, more than the ${MAX_SAMPLES} samples read (MAX_SAMPLES)`);
  return Promise.all(names.map(async (name) => ({ name, isDirectory: (await statOf(join(path, name))).isDirectory() })));
}

/**
 * Reads sample data for predictions with `model`: a list of input dictionaries,
 * as coremltools' `sample_data` takes them, from one of three layouts.
 *
 * 1. **A directory of samples**: one sub-directory a sample (read in name order,
 *    numbers compared as numbers), each holding one file an input named after it:
 *    `<input>.npy` (a multiArray in the input's shape, any numeric type; for an
 *    image input, uint8 pixels `[H, W, 3]` RGB) or, for an image input,
 *    `<input>.png|.jpg|.jpeg|.bmp`. Optional inputs may be left out.
 * 2. **A JSON file** (`.json`): an array of samples, each an object from input
 *    name to value, where a value is
 *    - a nested array of numbers (rectangular; its nesting gives the shape),
 *    - `{ "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6] }` (flat data, row-major),
 *    - a bare number (shape `[1]`),
 *    - a string: the path of a `.npy` or image file, relative to the JSON file,
 *    - `null`: absent (optional inputs only).
 *
 *    For image inputs, arrays hold 8-bit pixels `[H, W, 3]`.
 *    ```json
 *    [{ "features": [0.5, 1, -2], "image": "cats/1.jpg" },
 *     { "features": { "shape": [3], "data": [1, 2, 3] }, "image": "cats/2.npy" }]
 *    ```
 * 3. **A directory of images** (`.png .jpg .jpeg .bmp`, any case), for a model
 *    whose only required input is one image: a sample an image, in name order.
 *    Any other file there is refused.
 *
 * Hidden files and directories (`.DS_Store`) are skipped everywhere. Image
 * files are resized to the input's size (its declared width and height; for a
 * flexible input without them, the executor's default size) with a Lanczos-3
 * filter, stretched without keeping the aspect ratio, as coremltools does with PIL; see
 * {@link decodeImage}. Pixels given as arrays are not resized. Decoding PNG and
 * JPEG needs the optional dependency `sharp`; BMP and `.npy` files do not.
 *
 * @param path - a directory or a `.json` file
 * @param model - the model the samples are for: its input descriptions
 * @returns one input dictionary a sample, each checked as the executor checks it
 * @throws {@link index!QuantizeError} `invalid-input` with one line naming the
 *   file (or JSON sample) and the input: an unknown input, a missing required
 *   one, a shape or element type the input does not take, an image for an array
 *   input or an array for an image input, a file that is neither `.npy` nor an
 *   image, a broken `.npy` or image, more than {@link MAX_SAMPLES} samples or
 *   {@link MAX_SAMPLE_BYTES} bytes; `io` when a file cannot be read or sharp
 *   is needed and missing; `unsupported-model` when an input is neither a
 *   multiArray nor an image
 * @example
 * ```ts
 * const model = readModelFile("classifier.mlmodel");
 * const prepared = prepareModel(model);
 * for (const inputs of await loadSamples("samples/", model)) console.log(prepared.predict(inputs));
 * ```
 */
export async function loadSamples(path: string, model: Model): Promise<PredictInputs[]> {
  const inputs = sampleInputs(model);
  const reader = new FileReader();
  const info = await statOf(path);
  if (info.isDirectory()) {
    const entries = await listDirectory(path);
    if (entries.length === 0) invalid(`${path} holds no samples: give one sub-directory a sample, or image files`);
    if (entries.some((e) => e.isDirectory)) {
      const file = entries.find((e) => !e.isDirectory);
      if (file !== undefined) invalid(`${join(path, file.name)} is a file among sample directories: each sample is a sub-directory holding its inputs' files`);
      const samples: PredictInputs[] = [];
      for (const e of entries) samples.push(await loadSampleDirectory(join(path, e.name), inputs, reader));
      return samples;
    }
    return loadImageDirectory(
      path,
      entries.map((e) => e.name),
      inputs,
      reader,
    );
  }
  if (extname(path).toLowerCase() !== ".json") invalid(`${path} is not a directory or a .json file of samples`);
  return loadJsonFile(path, inputs, reader);
}

function findInput(inputs: readonly SampleInput[], name: string, where: string): SampleInput {
  const input = inputs.find((i) => i.name === name);
  if (input === undefined) invalid(`${where}: unknown input '${name}'; the model's inputs are ${formatNames(inputs.map((i) => i.name))}`);
  return input;
}

function checkRequired(inputs: readonly SampleInput[], given: Readonly<Record<string, InputValue>>, where: string, hint: (name: string) => string): void {
  for (const input of inputs) {
    if (!input.optional && given[input.name] === undefined) invalid(`${where}: input '${input.name}' is missing${hint(input.name)}`);
  }
}

/** A value from a file: `.npy` or an image, told by the extension. */
async function fileValue(input: SampleInput, file: string, reader: FileReader): Promise<InputValue> {
  const ext = extname(file).toLowerCase();
  if (ext === ".npy") {
    const bytes = await reader.read(file);
    let array: NpyArray;
    try {
      array = parseNpy(bytes);
    } catch (cause) {
      throw new QuantizeError("invalid-input", `${file}: input '${input.name}': ${(cause as Error).message}`, { cause });
    }
    return arrayValue(input, array, file);
  }
  if (!IMAGE_EXTENSIONS.includes(ext)) invalid(`${file}: input '${input.name}': not a .npy or image file (${IMAGE_EXTENSIONS.join(" ")})`);
  if (input.kind === "array") {
    invalid(`${file}: input '${input.name}' is a multiArray of shape [${input.spec.defaultShape.join(", ")}]: an image for an array input`);
  }
  const bytes = await reader.read(file);
  return decodeImage(bytes, { width: input.spec.defaultWidth, height: input.spec.defaultHeight }, `${file}: input '${input.name}'`);
}

/** Layout 1: one sample directory. */
async function loadSampleDirectory(dir: string, inputs: readonly SampleInput[], reader: FileReader): Promise<PredictInputs> {
  const sample: Record<string, InputValue> = {};
  const seen = new Map<string, string>();
  for (const entry of await listDirectory(dir)) {
    const file = join(dir, entry.name);
    if (entry.isDirectory) invalid(`${file} is a directory inside a sample: a sample holds one file an input (<input>.npy or an image)`);
    const ext = extname(entry.name);
    if (ext.toLowerCase() !== ".npy" && !isImageName(entry.name)) {
      invalid(`${file}: not a .npy or image file (${IMAGE_EXTENSIONS.join(" ")}); a sample holds one file an input`);
    }
    const name = entry.name.slice(0, entry.name.length - ext.length);
    const input = findInput(inputs, name, file);
    const other = seen.get(name);
    if (other !== undefined) invalid(`${file}: input '${name}' is also given by ${other}`);
    seen.set(name, file);
    sample[name] = await fileValue(input, file, reader);
  }
  checkRequired(inputs, sample, dir, (name) => ` (no ${name}.npy or image file)`);
  return sample;
}

/** Layout 3: a directory of images, one sample each. */
async function loadImageDirectory(dir: string, names: readonly string[], inputs: readonly SampleInput[], reader: FileReader): Promise<PredictInputs[]> {
  const images = inputs.filter((i) => i.kind === "image");
  const others = inputs.filter((i) => i.kind !== "image" && !i.optional);
  const image = images[0];
  if (images.length !== 1 || image === undefined || others.length > 0) {
    invalid(
      `${dir}: a directory of images is for a model with one image input and no other required input; this model's inputs are ` +
        `${formatNames(inputs.map((i) => i.name))}: give one sub-directory a sample holding <input>.npy files, or a JSON file`,
    );
  }
  for (const name of names) {
    if (!isImageName(name)) invalid(`${join(dir, name)}: input '${image.name}': not an image file (${IMAGE_EXTENSIONS.join(" ")})`);
  }
  const samples: PredictInputs[] = [];
  for (const name of names) samples.push({ [image.name]: await fileValue(image, join(dir, name), reader) });
  return samples;
}

/** Layout 2: a JSON file. */
async function loadJsonFile(path: string, inputs: readonly SampleInput[], reader: FileReader): Promise<PredictInputs[]> {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(await reader.read(path, MAX_JSON_BYTES));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new QuantizeError("invalid-input", `${path}: not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(json)) invalid(`${path}: expected an array of samples (objects from input name to value)`);
  if (json.length === 0) invalid(`${path} holds no samples`);
  if (json.length > MAX_SAMPLES) invalid(`${path} holds ${json.length} samples, more than the ${MAX_SAMPLES} read (MAX_SAMPLES)`);
  const base = dirname(path);
  const samples: PredictInputs[] = [];
  for (let i = 0; i < json.length; i++) {
    const where = `${path} sample ${i}`;
    const entry: unknown = json[i];
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) invalid(`${where}: expected an object from input name to value`);
    const sample: Record<string, InputValue> = {};
    for (const [name, value] of Object.entries(entry)) {
      const input = findInput(inputs, name, where);
      if (value === null) continue;
      sample[name] =
        typeof value === "string"
          ? await fileValue(input, isAbsolute(value) ? value : join(base, value), reader)
          : arrayValue(input, jsonArray(input, value, where), where);
    }
    checkRequired(inputs, sample, where, () => "");
    samples.push(sample);
  }
  return samples;
}

/**
 * `predict MODEL --input NAME=FILE ... [--json] [-o DIR]`: runs a model on one
 * sample read from files, and prints its outputs or writes one file each.
 *
 * @packageDocumentation
 */
import { mkdirSync, readFileSync, type Stats, statSync } from "node:fs";
import { extname, join } from "node:path";
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import type { ArrayOutput, InputValue, OutputValue, PredictOutputs } from "../predict/feature-io.js";
import { encodeNpy, type NpyArray, parseNpy } from "../predict/npy.js";
import { prepareModel } from "../predict/predict.js";
import { decodeImage, IMAGE_EXTENSIONS } from "../node/decode-image.js";
import { ioFailure } from "../node/io-failure.js";
import { MAX_SAMPLE_BYTES } from "../node/sample-data.js";
import { arrayValue, sampleInputs, type SampleInput } from "../predict/sample-values.js";
import { commitFiles, stageFile, type StagedFile } from "../node/staged-file.js";
import { dictionaryJson, fmtShape, formatOutputs, labelJson, type OutputKind, outputKinds, outputsJson } from "../report/format-outputs.js";
import { escapeForTerminal } from "../report/terminal-text.js";
import type { Command, InputFile } from "./args.js";

type PredictCommand = Extract<Command, { command: "predict" }>;

/** Where the command prints. */
export interface PredictIo {
  readonly stdout: (text: string) => void;
}

/**
 * Runs `predict`.
 *
 * @param command - the parsed command line
 * @param model - the model named by it, read
 * @param io - where to print
 * @returns the exit code (0; failures are thrown)
 * @throws {@link index!QuantizeError} `invalid-input` naming the input and the file
 *   for an unknown or missing input, a file of the wrong kind, shape or element
 *   type, a broken `.npy` or image; `io` when a file cannot be read or written
 *   or `-o` names something other than a directory; the executor's errors
 */
export async function runPredict(command: PredictCommand, model: Model, io: PredictIo): Promise<number> {
  // Refused before any work; created only once there is something to write in it.
  if (command.outputDir !== undefined) checkOutputDirectory(command.outputDir);
  const values = await readInputFiles(model, command.inputs);
  const prepared = prepareModel(model);
  const outputs = prepared.predict(values);
  const kinds = outputKinds(model, prepared.outputNames, outputs);
  if (command.outputDir !== undefined) {
    const written = await writeOutputs(command.outputDir, kinds, outputs);
    if (!command.json && !command.quiet) io.stdout(written.map((w) => `wrote ${escapeForTerminal(w.path)}: ${w.what}\n`).join(""));
  }
  if (command.json) io.stdout(outputsJson(kinds, outputs));
  else if (command.outputDir === undefined) io.stdout(formatOutputs(kinds, outputs));
  return 0;
}

function invalid(message: string): never {
  throw new QuantizeError("invalid-input", message);
}

const formatNames = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(", ");

/**
 * The model's input values from `--input NAME=FILE`: every name must be an input,
 * every required input must be given. Files are read within
 * {@link MAX_SAMPLE_BYTES} (all of them together), as sample files are.
 */
async function readInputFiles(model: Model, files: readonly InputFile[]): Promise<Record<string, InputValue>> {
  const inputs = sampleInputs(model);
  const given = new Map<string, { input: SampleInput; file: string }>();
  for (const { name, file } of files) {
    const input = inputs.find((i) => i.name === name);
    if (input === undefined) invalid(`--input ${name}=${file}: unknown input '${name}'; the model's inputs are ${formatNames(inputs.map((i) => i.name))}`);
    given.set(name, { input, file });
  }
  for (const input of inputs) {
    if (!input.optional && !given.has(input.name)) invalid(`input '${input.name}' is missing: give --input ${input.name}=FILE`);
  }
  const values: Record<string, InputValue> = {};
  let used = 0;
  for (const { input, file } of given.values()) {
    const bytes = readLimited(file, MAX_SAMPLE_BYTES - used);
    used += bytes.length;
    values[input.name] = await fileValue(input, file, bytes);
  }
  return values;
}

/** A regular file's bytes, refused beyond `room` bytes (what is left of MAX_SAMPLE_BYTES). */
function readLimited(file: string, room: number): Uint8Array {
  let size: number;
  try {
    const info = statSync(file);
    // A FIFO or device could block or never end.
    if (!info.isFile()) invalid(`${file} is not a regular file`);
    size = info.size;
  } catch (cause) {
    if (cause instanceof QuantizeError) throw cause;
    throw ioFailure("read", file, cause);
  }
  if (size > room) {
    invalid(`${file}: the input files add up to more than ${MAX_SAMPLE_BYTES} bytes (MAX_SAMPLE_BYTES, all held in memory)`);
  }
  try {
    return readFileSync(file);
  } catch (cause) {
    throw ioFailure("read", file, cause);
  }
}

/** A file's value for `input`: a `.npy` array (or pixels), or an image file for an image input; told by the extension. */
async function fileValue(input: SampleInput, file: string, bytes: Uint8Array): Promise<InputValue> {
  const where = `${file}: input '${input.name}'`;
  const ext = extname(file).toLowerCase();
  if (ext === ".npy") {
    let array: NpyArray;
    try {
      array = parseNpy(bytes);
    } catch (cause) {
      throw new QuantizeError("invalid-input", `${where}: ${(cause as Error).message}`, { cause });
    }
    return arrayValue(input, array, file);
  }
  if (!IMAGE_EXTENSIONS.includes(ext)) invalid(`${where}: not a .npy or image file (${IMAGE_EXTENSIONS.join(" ")})`);
  if (input.kind === "array") {
    invalid(`${file}: input '${input.name}' is a multiArray of shape [${input.spec.defaultShape.join(", ")}]: an image for an array input; give a .npy file`);
  }
  return decodeImage(bytes, { width: input.spec.defaultWidth, height: input.spec.defaultHeight }, where);
}

/** Refuses a `-o DIR` that exists and is not a directory. */
function checkOutputDirectory(dir: string): void {
  let info: Stats;
  try {
    info = statSync(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return;
    throw ioFailure("write", dir, cause);
  }
  if (!info.isDirectory()) throw new QuantizeError("io", `cannot write to -o ${dir}: it is not a directory; name a directory (created if missing)`);
}

/**
 * An output name as a file name: `%`, path separators, characters Windows
 * refuses, control characters and a leading dot are percent-encoded (`a/b` ->
 * `a%2Fb`), so that no name reaches outside DIR or hides, and two names never
 * share a file.
 */
export function outputFileName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this encodes.
  const encoded = name.replace(/[%/\\<>:"|?*\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  // "%" alone is no encoded name: it stands for the empty one.
  if (encoded === "") return "%";
  return encoded.startsWith(".") ? `%2E${encoded.slice(1)}` : encoded;
}

/** Writes one file an output into `dir` (created if missing), all together; returns what was written. */
async function writeOutputs(dir: string, kinds: readonly [string, OutputKind][], outputs: PredictOutputs): Promise<{ path: string; what: string }[]> {
  const files = kinds.map(([name, kind]) => {
    const value = outputs[name] as OutputValue;
    if (kind === "label" || kind === "dictionary") {
      const json = kind === "label" ? `{"value": ${labelJson(value as string | bigint)}}` : dictionaryJson(value as ReadonlyMap<string | bigint, number>);
      return { path: join(dir, `${outputFileName(name)}.json`), bytes: new TextEncoder().encode(`${json}\n`), what: kind };
    }
    const { shape, data } = value as ArrayOutput;
    return { path: join(dir, `${outputFileName(name)}.npy`), bytes: encodeNpy({ dtype: "float32", shape, data }), what: `${kind} ${fmtShape(shape)} float32` };
  });
  // On a case-insensitive file system (macOS, Windows) these would overwrite each other.
  const seen = new Map<string, string>();
  for (const f of files) {
    const key = f.path.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined)
      throw new QuantizeError("io", `cannot write ${f.path}: it differs from ${other} only in case; the outputs cannot share a directory`);
    seen.set(key, f.path);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw ioFailure("write", dir, cause);
  }
  const staged: StagedFile[] = [];
  try {
    for (const f of files) staged.push(stageFile(f.path, f.bytes));
    await commitFiles(staged);
  } catch (error) {
    staged.forEach((file) => file.discard());
    throw error;
  }
  return files.map(({ path, what }) => ({ path, what }));
}

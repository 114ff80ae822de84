/**
 * An `.mlpackage` as data: its manifest, the Model (an ML Program), the decoded
 * `weight.bin`, and any other file, from and to a map of the package's files by
 * relative path. The file system (Node) and zip archives (browser) are the
 * callers' business: see src/node/mlpackage-files.ts and zip-archive.ts.
 *
 * @packageDocumentation
 */
import { decodeModel } from "../codec/decode-model.js";
import { encodeModel } from "../codec/encode-model.js";
import type { Model } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import type { Program } from "../gen/MIL_pb.js";
import { blobOffsets, decodeWeightBin, encodeWeightBin, type WeightBin } from "./weight-bin.js";

/** One item of a package manifest. */
export interface ManifestItem {
  /** `com.apple.CoreML` for the model and its weights. */
  readonly author: string;
  /** e.g. `CoreML Model Specification`. */
  readonly description: string;
  /** e.g. `model.mlmodel`, `weights`. */
  readonly name: string;
  /** Relative to the package's `Data/` folder, e.g. `com.apple.CoreML/model.mlmodel`. */
  readonly path: string;
}

/** `Manifest.json`, as parsed; keys this tool does not know are kept as they are. */
export interface PackageManifest {
  /** `"1.0.0"`. */
  readonly fileFormatVersion: string;
  /** The items by identifier (random UUIDs). */
  readonly itemInfoEntries: Readonly<Record<string, ManifestItem>>;
  /** The identifier of the model item. */
  readonly rootModelIdentifier: string;
  /** Anything else the file holds. */
  readonly [key: string]: unknown;
}

/** The files of a package by path relative to its root (`/`-separated), e.g. `Manifest.json`. */
export type PackageFiles = ReadonlyMap<string, Uint8Array>;

/** A decoded `.mlpackage`. */
export interface MlPackage {
  /** `Manifest.json`. */
  readonly manifest: PackageManifest;
  /** The root model; its `Type` is an `mlProgram`. */
  readonly model: Model;
  /** The decoded `weight.bin`; undefined when the package has none. */
  readonly weights: WeightBin | undefined;
  /** Every other file of the package, kept as it is, by path. */
  readonly otherFiles: PackageFiles;
}

/** The manifest's file name at the package root. */
export const MANIFEST_PATH = "Manifest.json";
/** The folder holding the manifest items' paths. */
const DATA_FOLDER = "Data/";
/** How the reference finds the weights folder among the items (name and author). */
const WEIGHTS_ITEM = { name: "weights", author: "com.apple.CoreML" } as const;
/** The blob file inside the weights folder. */
const WEIGHT_BIN_FILE = "weight.bin";
/** The reference indents its manifest by 4 spaces and ends it with a newline. */
const MANIFEST_INDENT = 4;

/**
 * Decodes a package from its files. The model's weight arrays and the blob data
 * are views of the given bytes: do not change them while the package is in use.
 * The inverse of {@link encodeMlPackage}.
 *
 * @param files - the package's files by relative path
 * @returns the package
 * @throws {@link QuantizeError} `unsupported-model` when the manifest is missing or
 *   malformed, names a file that is missing or a path outside the package, or the
 *   model is not an ML Program; `invalid-protobuf` when model.mlmodel is not a
 *   model; `invalid-weights` when weight.bin is malformed
 * @example
 * ```ts
 * const pkg = decodeMlPackage(await readZipArchive(bytes));
 * ```
 */
export function decodeMlPackage(files: PackageFiles): MlPackage {
  const manifest = parseManifest(files.get(MANIFEST_PATH));
  const modelPath = modelFilePath(manifest);
  const modelBytes = files.get(modelPath);
  if (modelBytes === undefined) throw new QuantizeError("unsupported-model", `${MANIFEST_PATH} names the model ${modelPath}, which the package lacks`);
  let model: Model;
  try {
    model = decodeModel(modelBytes);
  } catch (error) {
    if (error instanceof QuantizeError) throw new QuantizeError(error.code, `${modelPath}: ${error.message}`, { cause: error });
    throw error;
  }
  if (model.Type.case !== "mlProgram") {
    throw new QuantizeError("unsupported-model", `${modelPath} holds a ${model.Type.case ?? "empty"} model, not an ML Program: open it as an .mlmodel file`);
  }
  const weightsPath = weightBinPath(manifest);
  const weightBytes = weightsPath === undefined ? undefined : files.get(weightsPath);
  const weights = weightBytes === undefined ? undefined : decodeWeightBin(weightBytes, weightsPath);
  const otherFiles = new Map([...files].filter(([path]) => path !== MANIFEST_PATH && path !== modelPath && path !== weightsPath));
  return { manifest, model, weights, otherFiles };
}

/**
 * Encodes a package as its files. The inverse of {@link decodeMlPackage}: a
 * package as the reference writes it gives back a byte-identical model, weight.bin
 * and manifest.
 *
 * @param pkg - the package; not modified
 * @returns its files by relative path
 * @throws {@link QuantizeError} `unsupported-model` when the manifest does not name
 *   the model (or names a weights folder when there are weights and none is named),
 *   `invalid-weights` when a blob's offset is not where the file puts it (build
 *   blobs with `blobOffsets`, and make the program refer to those offsets)
 */
export function encodeMlPackage(pkg: MlPackage): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>(pkg.otherFiles);
  files.set(MANIFEST_PATH, new TextEncoder().encode(`${JSON.stringify(pkg.manifest, null, MANIFEST_INDENT)}\n`));
  files.set(modelFilePath(pkg.manifest), encodeModel(pkg.model));
  if (pkg.weights !== undefined) {
    const path = weightBinPath(pkg.manifest);
    if (path === undefined)
      throw new QuantizeError("unsupported-model", `${MANIFEST_PATH} has no weights item (name "weights", author "com.apple.CoreML") for weight.bin`);
    const { blobs } = pkg.weights;
    blobOffsets(blobs).forEach((offset, i) => {
      const given = (blobs[i] as { offset?: number }).offset;
      if (given !== undefined && given !== offset) {
        throw new QuantizeError("invalid-weights", `${path}: blob ${i} says offset ${given} but is written at ${offset}; lay blobs out with blobOffsets`);
      }
    });
    files.set(path, encodeWeightBin(blobs));
  }
  return files;
}

/**
 * The program of a package's model.
 *
 * @param pkg - a decoded package
 * @returns its `mlProgram`
 */
export function packageProgram(pkg: MlPackage): Program {
  const type = pkg.model.Type;
  if (type.case !== "mlProgram") throw new QuantizeError("unsupported-model", `the package's model is a ${type.case ?? "empty"} model, not an ML Program`);
  return type.value;
}

/** The package path of the root model's file. */
function modelFilePath(manifest: PackageManifest): string {
  const entries = manifest.itemInfoEntries;
  const item = Object.hasOwn(entries, manifest.rootModelIdentifier) ? entries[manifest.rootModelIdentifier] : undefined;
  if (item === undefined) {
    throw new QuantizeError(
      "unsupported-model",
      `${MANIFEST_PATH}: rootModelIdentifier ${JSON.stringify(manifest.rootModelIdentifier)} is not among itemInfoEntries`,
    );
  }
  return dataPath(item.path, "rootModelIdentifier's item");
}

/** The package path of weight.bin, or undefined when the manifest names no weights folder. */
function weightBinPath(manifest: PackageManifest): string | undefined {
  const item = Object.values(manifest.itemInfoEntries).find((entry) => entry.name === WEIGHTS_ITEM.name && entry.author === WEIGHTS_ITEM.author);
  return item === undefined ? undefined : `${dataPath(item.path, "the weights item")}/${WEIGHT_BIN_FILE}`;
}

/** `Data/` + an item path, refused when it could leave the package (absolute, `..`, backslashes, empty parts). */
function dataPath(path: string, what: string): string {
  const parts = path.replace(/\/+$/, "").split("/");
  if (path.includes("\\") || parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new QuantizeError(
      "unsupported-model",
      `${MANIFEST_PATH}: ${what} has path ${JSON.stringify(path)}, which does not name a file inside the package's Data folder`,
    );
  }
  return DATA_FOLDER + parts.join("/");
}

function parseManifest(bytes: Uint8Array | undefined): PackageManifest {
  if (bytes === undefined) throw new QuantizeError("unsupported-model", `not an .mlpackage: no ${MANIFEST_PATH} at its root`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new QuantizeError("unsupported-model", `${MANIFEST_PATH} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const fail = (what: string): QuantizeError => new QuantizeError("unsupported-model", `${MANIFEST_PATH}: ${what}`);
  if (!isRecord(parsed)) throw fail("not a JSON object");
  if (typeof parsed.rootModelIdentifier !== "string") throw fail("rootModelIdentifier is missing or not a string");
  const entries = parsed.itemInfoEntries;
  if (!isRecord(entries)) throw fail("itemInfoEntries is missing or not an object");
  for (const [id, item] of Object.entries(entries)) {
    if (!isRecord(item) || !(["author", "description", "name", "path"] as const).every((key) => typeof item[key] === "string")) {
      throw fail(`item ${JSON.stringify(id)} lacks one of author, description, name, path (strings)`);
    }
  }
  return parsed as PackageManifest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

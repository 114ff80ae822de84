/**
 * The ML Program fixtures (a copy of ../shared/mlprogram, see test/fixtures/README.md),
 * read with plain fs so the tests do not depend on the code they test.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseConfigJson } from "../../src/mlprogram/config-json.js";

export const FIXTURES = join(__dirname, "..", "fixtures", "mlprogram");

/** Every package of the set: `models/NAME.mlpackage` and `expected/NAME.mlpackage`. */
export function fixturePackages(): string[] {
  return ["models", "expected"].flatMap((folder) =>
    readdirSync(join(FIXTURES, folder))
      .filter((name) => name.endsWith(".mlpackage"))
      .sort()
      .map((name) => `${folder}/${name}`),
  );
}

/** A package folder's files by relative path. */
export function packageFiles(relative: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const visit = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) visit(full, `${prefix}${name}/`);
      else files.set(prefix + name, new Uint8Array(readFileSync(full)));
    }
  };
  visit(join(FIXTURES, relative), "");
  return files;
}

export const MODEL_PATH = "Data/com.apple.CoreML/model.mlmodel";
export const WEIGHT_BIN_PATH = "Data/com.apple.CoreML/weights/weight.bin";

/** What cases.json says (the fields the tests use). */
export interface CasesFile {
  readonly models: readonly { id: string; path: string; consts: Record<string, { shape: number[]; dtype: string; consumers: string[] }> }[];
  readonly cases: readonly {
    id: string;
    expected?: string;
    weights?: readonly { input: string; shape: number[]; producer: string; ops: string[] }[];
  }[];
}

export function casesFile(): CasesFile {
  return JSON.parse(readFileSync(join(FIXTURES, "cases.json"), "utf8")) as CasesFile;
}

/**
 * cases.json with each case's `config` and `config_given` read by
 * {@link parseConfigJson}, as the CLI reads a config file: an integer literal
 * (Python's int, `1`) comes as a bigint, told apart from a float (`1.0`), which
 * coremltools' config checks depend on. The rest as {@link casesFile} reads it.
 */
export function casesFileWithConfigText(): CasesFile {
  const text = readFileSync(join(FIXTURES, "cases.json"), "utf8");
  const file = JSON.parse(text) as CasesFile;
  const typed = parseConfigJson(text) as { cases: { config?: unknown; config_given?: unknown }[] };
  return {
    ...file,
    cases: file.cases.map((c, i) => ({ ...c, config: typed.cases[i]?.config, config_given: typed.cases[i]?.config_given })),
  };
}

/**
 * weight.bin read independently of the codec, straight from the format's
 * description: the header's count, then each 64-byte record where the last data
 * ended (rounded up to 64): dtype code at +4, size at +8.
 */
export function independentBlobs(bytes: Uint8Array): { offset: number; code: number; size: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const blobs: { offset: number; code: number; size: number }[] = [];
  let end = 64;
  for (let i = 0; i < count; i++) {
    const offset = Math.ceil(end / 64) * 64;
    expect(view.getUint32(offset, true)).toBe(0xdeadbeef);
    const size = Number(view.getBigUint64(offset + 8, true));
    blobs.push({ offset, code: view.getUint32(offset + 4, true), size });
    end = offset + 64 + size;
  }
  expect(end).toBe(bytes.length);
  return blobs;
}

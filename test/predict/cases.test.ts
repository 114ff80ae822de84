/**
 * The prediction cases of test/fixtures/predict (see its README): every model,
 * every sample, every output compared with the expected values by the README's
 * rules. One test per model, named after it: `npx jest test/predict/cases.test.ts -t conv_groups2`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../../src/codec/decode-model.js";
import { parseNpy } from "../../src/predict/npy.js";
import { prepareModel } from "../../src/predict/predict.js";
import type { InputValue, OutputValue } from "../../src/predict/feature-io.js";
import { FIXTURES, snrDb } from "./support.js";

interface Feature {
  readonly name: string;
  readonly kind?: "array" | "image_pixels" | "string_label" | "int64_label" | "probability_dictionary";
  readonly file_ext?: string;
  readonly stored_shape?: number[];
  readonly optional?: boolean;
  readonly tolerance?: { readonly snr_db_min?: number };
}

interface Case {
  readonly name: string;
  readonly file: string;
  readonly samples: readonly string[];
  readonly inputs: readonly Feature[];
  readonly outputs: readonly Feature[];
}

const cases = (JSON.parse(readFileSync(join(FIXTURES, "cases.json"), "utf8")) as { models: Case[] }).models;
const SNR_MIN_DB = 80;

function loadInput(c: Case, sample: string, f: Feature): InputValue | undefined {
  const file = join(FIXTURES, "inputs", c.name, sample, `${f.name}.npy`);
  if (!existsSync(file)) {
    if (f.optional === true) return undefined;
    throw new Error(`${c.name}/${sample}: missing input file ${file}`);
  }
  const a = parseNpy(readFileSync(file));
  if (f.kind === "image_pixels") {
    if (a.dtype !== "uint8" || a.shape.length !== 3) throw new Error(`${file}: expected uint8 [H, W, 3]`);
    const [height, width] = a.shape as [number, number, number];
    return { width, height, data: a.data };
  }
  if (a.dtype !== "float32") throw new Error(`${file}: expected float32, found ${a.dtype}`);
  return { shape: a.shape, data: a.data };
}

/** Problems found comparing one output (empty when it passes). */
function compare(where: string, f: Feature, actual: OutputValue | undefined, expectedFile: string): string[] {
  if (actual === undefined) return [`${where}: output missing`];
  switch (f.kind) {
    case "array": {
      const e = parseNpy(readFileSync(expectedFile));
      if (typeof actual !== "object" || actual instanceof Map || !("shape" in actual)) return [`${where}: not an array output`];
      const problems: string[] = [];
      if (JSON.stringify([...actual.shape]) !== JSON.stringify(e.shape)) {
        problems.push(`${where}: shape [${actual.shape.join(", ")}], expected [${e.shape.join(", ")}]`);
      }
      if (actual.data.length !== e.data.length) return [...problems, `${where}: ${actual.data.length} values, expected ${e.data.length}`];
      const snr = snrDb(actual.data, e.data as Float32Array);
      const min = f.tolerance?.snr_db_min ?? SNR_MIN_DB;
      if (!(snr >= min)) problems.push(`${where}: SNR ${snr.toFixed(1)} dB < ${min} dB`);
      return problems;
    }
    case "string_label": {
      const e = (JSON.parse(readFileSync(expectedFile, "utf8")) as { value: string }).value;
      return actual === e ? [] : [`${where}: label ${String(actual)}, expected ${e}`];
    }
    case "int64_label": {
      const e = parseNpy(readFileSync(expectedFile));
      const value = (e.data as BigInt64Array)[0];
      return actual === value ? [] : [`${where}: label ${String(actual)}, expected ${String(value)}n`];
    }
    case "probability_dictionary": {
      const e = JSON.parse(readFileSync(expectedFile, "utf8")) as Record<string, number>;
      if (!(actual instanceof Map)) return [`${where}: not a dictionary`];
      const got = new Map<string, number>([...(actual as Map<string | bigint, number>)].map(([k, v]) => [String(k), v]));
      const keys = Object.keys(e);
      const same = keys.length === got.size && keys.every((k) => got.has(k));
      if (!same) return [`${where}: keys ${[...got.keys()].join(",")}, expected ${keys.join(",")}`];
      const snr = snrDb(
        keys.map((k) => got.get(k) as number),
        keys.map((k) => e[k] as number),
      );
      return snr >= SNR_MIN_DB ? [] : [`${where}: probabilities SNR ${snr.toFixed(1)} dB < ${SNR_MIN_DB} dB`];
    }
    default:
      return [`${where}: unknown output kind ${String(f.kind)}`];
  }
}

test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
  const model = decodeModel(readFileSync(join(FIXTURES, c.file)));
  const prepared = prepareModel(model);
  const problems: string[] = [];
  for (const sample of c.samples) {
    const inputs: Record<string, InputValue> = {};
    for (const f of c.inputs) {
      const value = loadInput(c, sample, f);
      if (value !== undefined) inputs[f.name] = value;
    }
    const outputs = prepared.predict(inputs);
    for (const f of c.outputs) {
      problems.push(
        ...compare(`sample ${sample} '${f.name}'`, f, outputs[f.name], join(FIXTURES, "expected", c.name, sample, `${f.name}${f.file_ext ?? ".npy"}`)),
      );
    }
  }
  expect(problems).toEqual([]);
});

/**
 * Dependencies point one way: cli/app -> api -> walker/quantizer/executor -> codec
 * -> gen. Every file under src/ belongs to a module (its folder, or itself for a
 * file at the top of src/), the page's files to `app`, and each module may import
 * only the modules its row below names. The table is the picture of the layers; a new arrow is a change
 * to it, made on purpose.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import * as ts from "typescript";

const SRC = resolve(__dirname, "..", "..", "src");
/** The browser page: on top, beside the CLI. */
const APP = resolve(__dirname, "..", "..", "app");

/** Helpers every layer may use: the error type and the value describer its messages use. */
const BASE = ["errors", "describe-value"] as const;

/** Module -> the other modules it may import (itself always). */
const ALLOWED_MODULES: Record<string, readonly string[]> = {
  gen: [],
  errors: [],
  "describe-value": [],
  "check-options": [...BASE],
  // The float16 codec runs on the shared kernels; kernels_wasm.ts is generated.
  kernels: ["gen"],
  codec: ["gen", "kernels", ...BASE],
  // Pure math on typed arrays: no model types.
  quantizer: ["kernels", ...BASE],
  measure: ["codec", "quantizer", "kernels", ...BASE],
  walker: ["codec", "gen", "quantizer", ...BASE],
  mlprogram: ["codec", "gen", "kernels", "quantizer", "measure", "check-options", ...BASE],
  "assert-model-shape": ["codec", "gen", ...BASE],
  "validate-model": ["assert-model-shape", "codec", "walker", ...BASE],
  "inspect-model": ["codec", "walker", ...BASE],
  selectors: ["codec", "walker", "check-options", ...BASE],
  // The executor.
  predict: ["codec", "gen", "kernels", "walker", "check-options", ...BASE],
  // The composition (the api).
  quantize: ["codec", "walker", "quantizer", "measure", "assert-model-shape", "validate-model", "selectors", "check-options", ...BASE],
  report: ["codec", "walker", "quantizer", "measure", "mlprogram", "quantize", "predict", "inspect-model", "validate-model", ...BASE],
  testing: ["codec", "gen", "walker", "selectors", ...BASE],
  schema: ["gen"],
  index: [
    "codec",
    "kernels",
    "quantizer",
    "measure",
    "walker",
    "mlprogram",
    "predict",
    "quantize",
    "report",
    "assert-model-shape",
    "validate-model",
    "inspect-model",
    "selectors",
    "check-options",
    ...BASE,
  ],
  worker: ["codec", "kernels", "mlprogram", "predict", "quantize", "report", "inspect-model", "validate-model", "selectors", "check-options", ...BASE],
  node: ["codec", "gen", "mlprogram", "predict", "quantize", "check-options", ...BASE],
  cli: ["codec", "gen", "mlprogram", "predict", "quantize", "report", "node", "inspect-model", "validate-model", "selectors", "check-options", ...BASE],
  // The page runs in a browser: neither the Node helpers nor the CLI.
  app: ["codec", "mlprogram", "predict", "quantize", "report", "worker", "inspect-model", "selectors", "check-options", ...BASE],
};

/**
 * Imports that break the table today, each with why it stays for now. Listed so
 * that the table says what the layers should be; each entry must still occur, so
 * fixing one makes this test ask for its removal.
 */
const KNOWN_EXCEPTIONS: readonly { readonly file: string; readonly module: string; readonly why: string }[] = [];

/** Packages only some modules may import; any other package is allowed everywhere. */
const RESTRICTED_PACKAGES: readonly { readonly matches: (specifier: string) => boolean; readonly modules: readonly string[] }[] = [
  // No Node APIs outside src/node and src/cli.
  { matches: (s) => s.startsWith("node:"), modules: ["node", "cli"] },
  { matches: (s) => s === "sharp", modules: ["node"] },
  { matches: (s) => s === "fast-check" || s.startsWith("fast-check/"), modules: ["testing"] },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The module a file belongs to: `app` for the page, else its top folder under src/, or its own name at the top. */
function moduleOf(path: string): string {
  if (!relative(APP, path).startsWith("..")) return "app";
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? (parts[0] as string) : (parts[0] as string).replace(/\.(ts|js)$/, "");
}

/** Import and export specifiers of a source, static and dynamic, type-only included; comments are not read. */
function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

interface SourceFile {
  readonly path: string;
  readonly source: string;
}

interface Violation {
  readonly file: string;
  readonly module: string;
  readonly specifier: string;
}

/** Every import in `files` that its module's row does not allow. */
function violations(files: readonly SourceFile[]): Violation[] {
  const found: Violation[] = [];
  for (const { path, source } of files) {
    const from = moduleOf(path);
    const file = relative(SRC, path).split(sep).join("/");
    for (const specifier of specifiersOf(source)) {
      if (specifier.startsWith(".")) {
        const to = moduleOf(resolve(dirname(path), specifier));
        if (to !== from && !(ALLOWED_MODULES[from] ?? []).includes(to)) found.push({ file, module: to, specifier });
      } else {
        const rule = RESTRICTED_PACKAGES.find((r) => r.matches(specifier));
        if (rule !== undefined && !rule.modules.includes(from)) found.push({ file, module: specifier, specifier });
      }
    }
  }
  return found;
}

const FILES: readonly SourceFile[] = [...sourceFiles(SRC), ...sourceFiles(APP)].map((path) => ({ path, source: readFileSync(path, "utf8") }));

test("every module under src/ and the page has a row in the table", () => {
  const modules = [...new Set(FILES.map((f) => moduleOf(f.path)))].sort();
  expect(modules.filter((m) => ALLOWED_MODULES[m] === undefined)).toEqual([]);
  // The table names only modules that exist, so a renamed folder cannot leave a stale row.
  const named = new Set([...Object.keys(ALLOWED_MODULES), ...Object.values(ALLOWED_MODULES).flat()]);
  expect([...named].filter((m) => !modules.includes(m))).toEqual([]);
});

test("no module imports a module its row does not allow", () => {
  const unexpected = violations(FILES).filter((v) => !KNOWN_EXCEPTIONS.some((e) => e.file === v.file && e.module === v.module));
  expect(unexpected.map((v) => `${v.file} imports ${v.specifier}`)).toEqual([]);
});

test("each known exception still occurs", () => {
  const found = violations(FILES);
  const stale = KNOWN_EXCEPTIONS.filter((e) => !found.some((v) => v.file === e.file && v.module === e.module));
  expect(stale.map((e) => `${e.file} no longer imports ${e.module}: remove it from KNOWN_EXCEPTIONS`)).toEqual([]);
});

test("the codec imports only itself, gen, the kernels, the base helpers and packages", () => {
  const codec = FILES.filter((f) => moduleOf(f.path) === "codec");
  expect(codec.length).toBeGreaterThan(5);
  expect(violations(codec)).toEqual([]);
});

test("the check can fail: a codec file importing the quantizer or Node is reported, a comment is not", () => {
  const probe = {
    path: join(SRC, "codec", "probe.ts"),
    source: [
      '/** import { x } from "../cli/run.js"; */',
      'import { dequantizeLut } from "../quantizer/dequantize.js";',
      'import type { Model } from "./model-types.js";',
      'export { readFileSync } from "node:fs";',
      'type R = import("../walker/read-weights.js").ReadWeightsOptions;',
    ].join("\n"),
  };
  expect(violations([probe]).map((v) => v.module)).toEqual(["quantizer", "node:fs", "walker"]);
});

/**
 * The core runs in browsers: everything under src/ but the Node helpers (src/node)
 * and the CLI (src/cli) is type-checked by `npm run typecheck` against
 * tsconfig.browser.json, without @types/node, so a Node built-in, `Buffer` or
 * `process` there does not compile. (This replaces a walk of the entry points'
 * imports: the compiler sees every file of the core, and every use, not only
 * import lines.) These tests check that the configuration covers the core, is run,
 * and refuses Node APIs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import * as ts from "typescript";

const ROOT = resolve(__dirname, "..");
const SRC = join(ROOT, "src");
const CONFIG = join(ROOT, "tsconfig.browser.json");

/** The folders of src/ that may use Node: they are not browser code. */
const NODE_ONLY = ["node", "cli"];

/** The entry points that run in browsers: the library, ML Programs, and the Web Worker's API and script. */
const BROWSER_ENTRIES = ["index.ts", "mlprogram/index.ts", "worker/index.ts", "worker/worker-script.ts"];

function parsedConfig(): ts.ParsedCommandLine {
  const read = ts.readConfigFile(CONFIG, (path) => ts.sys.readFile(path));
  expect(read.error).toBeUndefined();
  return ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, CONFIG);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

test("the browser configuration has no ambient types and no Node library", () => {
  const { options } = parsedConfig();
  expect(options.types).toEqual([]);
  expect(options.lib?.some((lib) => /node/i.test(lib))).toBe(false);
});

test("the browser configuration covers every file of the core and the browser entry points", () => {
  const files = new Set(parsedConfig().fileNames.map((f) => resolve(f)));
  const core = sourceFiles(SRC).filter((f) => !NODE_ONLY.includes(relative(SRC, f).split(sep)[0] as string));
  expect(core.length).toBeGreaterThan(100);
  expect(core.filter((f) => !files.has(f)).map((f) => relative(ROOT, f))).toEqual([]);
  for (const entry of BROWSER_ENTRIES) expect(files.has(join(SRC, entry))).toBe(true);
});

test("npm run typecheck checks the browser configuration", () => {
  const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
  expect(scripts.typecheck).toMatch(/tsc -p tsconfig\.browser\.json\b/);
});

test("the check can fail: under the browser configuration Node APIs do not compile", () => {
  const probe = join(SRC, "browser-probe.ts");
  const source = ['import { readFileSync } from "node:fs";', "export const bytes: Uint8Array = Buffer.from(readFileSync(process.argv[1] ?? ''));"].join("\n");
  const { options } = parsedConfig();
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (path) => (resolve(path) === probe ? source : readFile(path));
  host.fileExists = (
    (exists) => (path: string) =>
      resolve(path) === probe || exists(path)
  )(host.fileExists.bind(host));
  const program = ts.createProgram({ rootNames: [probe], options, host });
  const messages = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && resolve(d.file.fileName) === probe)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  expect(messages.some((m) => m.includes("'node:fs'"))).toBe(true);
  expect(messages.some((m) => m.includes("'Buffer'"))).toBe(true);
  expect(messages.some((m) => m.includes("'process'"))).toBe(true);
});

/**
 * The public surface, checked: every entry point of package.json's `exports`, its
 * runtime exports (what `import *` yields) and its type-only exports (read with the
 * TypeScript compiler from the entry's source), compared with test/public-api.json.
 * A name added or removed by accident fails here; a deliberate change updates the
 * list with `UPDATE_PUBLIC_API=1 npx jest test/public-api.test.ts` and shows up in
 * review as a diff of that file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ts from "typescript";

const ROOT = resolve(__dirname, "..");
const SNAPSHOT = join(ROOT, "test", "public-api.json");

/** One entry point's exports, each list sorted. */
interface EntrySurface {
  /** Names present at runtime: functions, classes, constants. */
  readonly values: string[];
  /** Names that exist only for the compiler: interfaces and type aliases. */
  readonly types: string[];
}

type Surface = Record<string, EntrySurface>;

interface ExportConditions {
  readonly import?: { readonly types?: string };
}

/** `coreml-quantize/node` -> `src/node/index.ts`, from the ES module build's declaration file in package.json. */
function entrySources(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; exports: Record<string, ExportConditions | string> };
  const entries = new Map<string, string>();
  for (const [subpath, conditions] of Object.entries(pkg.exports)) {
    if (typeof conditions === "string") continue; // ./package.json
    const declaration = conditions.import?.types;
    if (declaration === undefined) throw new Error(`package.json exports["${subpath}"] has no import.types`);
    const source = declaration.replace(/^\.\/dist\//, "src/").replace(/\.d\.ts$/, ".ts");
    entries.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source);
  }
  return entries;
}

/** Whether an export exists at runtime: not `export type`, and naming a value (function, class, constant). */
function isRuntimeExport(checker: ts.TypeChecker, symbol: ts.Symbol): boolean {
  if ((symbol.flags & ts.SymbolFlags.Alias) === 0) return (symbol.flags & ts.SymbolFlags.Value) !== 0;
  if ((symbol.declarations ?? []).some((declaration) => ts.isTypeOnlyImportOrExportDeclaration(declaration))) return false;
  return (checker.getAliasedSymbol(symbol).flags & ts.SymbolFlags.Value) !== 0;
}

/**
 * Each entry's exports as the compiler sees them (read from source, not imported:
 * loading an entry runs its modules, and Jest cannot load all of them).
 */
function currentSurface(): Surface {
  const entries = entrySources();
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  if (config === undefined) throw new Error("cannot read tsconfig.json");
  const program = ts.createProgram(
    [...entries.values()].map((source) => join(ROOT, source)),
    { ...config.options, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const surface: Surface = {};
  for (const [name, source] of entries) {
    const sourceFile = program.getSourceFile(join(ROOT, source));
    const module = sourceFile === undefined ? undefined : checker.getSymbolAtLocation(sourceFile);
    const exports = module === undefined ? [] : checker.getExportsOfModule(module);
    surface[name] = {
      values: exports
        .filter((symbol) => isRuntimeExport(checker, symbol))
        .map((symbol) => symbol.getName())
        .sort(),
      types: exports
        .filter((symbol) => !isRuntimeExport(checker, symbol))
        .map((symbol) => symbol.getName())
        .sort(),
    };
  }
  return surface;
}

const recordedSurface = (): Surface => JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Surface;

test("the exports of every entry point are the ones recorded in test/public-api.json", () => {
  const surface = currentSurface();
  if (process.env.UPDATE_PUBLIC_API === "1") writeFileSync(SNAPSHOT, `${JSON.stringify(surface, null, 2)}\n`);
  const recorded = recordedSurface();
  const changes: string[] = [];
  for (const entry of new Set([...Object.keys(recorded), ...Object.keys(surface)])) {
    for (const kind of ["values", "types"] as const) {
      const before = new Set(recorded[entry]?.[kind] ?? []);
      const after = new Set(surface[entry]?.[kind] ?? []);
      for (const name of after) if (!before.has(name)) changes.push(`+ ${entry} ${kind}: ${name}`);
      for (const name of before) if (!after.has(name)) changes.push(`- ${entry} ${kind}: ${name}`);
    }
  }
  if (changes.length > 0) {
    throw new Error(
      `The public API changed:\n${changes.join("\n")}\n\n` +
        "If the change is deliberate, record it: UPDATE_PUBLIC_API=1 npx jest test/public-api.test.ts, " +
        "then commit test/public-api.json (and note it in CHANGELOG.md). Otherwise export the name again, " +
        "or stop exporting it, in the entry point (src/index.ts, src/node/index.ts, …).",
    );
  }
});

test("the values recorded for the main entry are what importing it yields", async () => {
  const runtime = Object.keys(await import("../src/index.js")).filter((key) => key !== "__esModule");
  expect(runtime.sort()).toEqual(recordedSurface()["coreml-quantize"]?.values);
});

test("the check can fail: an internal helper is not among the recorded exports", () => {
  const recorded = recordedSurface();
  const main = recorded["coreml-quantize"];
  expect(main?.values).toContain("quantizeWeights");
  expect(main?.types).toContain("QuantizeOptions");
  expect(main?.values).not.toContain("encodeFloat16WithPeak");
  expect(recorded["coreml-quantize/node"]?.values).not.toContain("writeFileAtomic");
});

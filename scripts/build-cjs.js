// The CommonJS build (dist/cjs/), for `require("coreml-quantize")` and for Jest,
// whose module loader cannot load ES modules from node_modules without extra
// configuration. Each ES module of the library becomes one CommonJS file at the same
// relative path, so the entry points share their code as in the ES build, and its
// declarations are copied beside it: under dist/cjs/package.json's
// `"type": "commonjs"` they describe CommonJS modules, as TypeScript's node16
// resolution expects of a `require` condition.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url);
const dist = new URL("dist/", root);
const out = new URL("dist/cjs/", root);
// The command-line tool is bundled on its own (dist/bin) and is not a library entry.
const NOT_LIBRARY = new Set(["bin", "cli", "cjs"]);

/** Library files under dist/ whose names end with `suffix`, relative to dist/. */
function libraryFiles(suffix) {
  return readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(suffix) && !NOT_LIBRARY.has(file.split("/")[0]));
}

rmSync(out, { recursive: true, force: true });
const modules = libraryFiles(".js");
// `import.meta.url` (the worker's location) has no CommonJS form; these files get
// one made from __filename, at their end so that "use strict" stays first. It is
// read only inside functions, which run after the module has loaded.
const usesImportMeta = modules.filter((file) => readFileSync(new URL(file, dist), "utf8").includes("import.meta.url"));
const common = {
  absWorkingDir: dist.pathname,
  outdir: out.pathname,
  outbase: dist.pathname,
  bundle: false,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
};
await build({ ...common, entryPoints: modules.filter((file) => !usesImportMeta.includes(file)) });
if (usesImportMeta.length > 0) {
  await build({
    ...common,
    entryPoints: usesImportMeta,
    define: { "import.meta.url": "__moduleUrl" },
    footer: { js: 'const __moduleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
}
for (const file of libraryFiles(".d.ts")) {
  cpSync(new URL(file, dist), new URL(file, out));
}
writeFileSync(new URL("package.json", out), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

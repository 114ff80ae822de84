// Builds the page of app/ into dist-app/: index.html, style.css, main.js (the
// page), quantize-worker.js (the library in a Web Worker) and offline-worker.js
// (the service worker that keeps them for use offline), static files any host
// can serve. `--serve` then serves them on 127.0.0.1 (scripts/serve-app.js);
// `--port N` picks the port (default 8080; 0: any free one), `--out DIR` the folder.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { serveApp } from "./serve-app.js";

const root = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: { serve: { type: "boolean" }, port: { type: "string" }, out: { type: "string" } },
});
const out = resolve(values.out ?? resolve(root, "dist-app"));
const { version } = JSON.parse(readFileSync(resolve(root, "node_modules/@bufbuild/protobuf/package.json"), "utf8"));

/** The bundles, by the name each is written to. */
const ENTRIES = { main: "app/main.ts", "quantize-worker": "src/worker/worker-script.ts", "offline-worker": "app/offline-worker.ts" };
/** Files of app/ copied as they are. */
const COPIED = ["index.html", "style.css"];
/** What the service worker keeps for offline use: the page (by its folder's URL too) and what it loads. */
const APP_FILES = ["./", ...COPIED, "main.js", "quantize-worker.js"];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir: out,
  bundle: true,
  platform: "browser",
  // Classic scripts (not modules): a worker started as `new Worker(url)` loads in every browser.
  format: "iife",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  banner: { js: `// coreml-quantize page, bundled. Includes @bufbuild/protobuf ${version} (Apache-2.0, Copyright Buf Technologies, Inc.).` },
  define: { APP_FILES: JSON.stringify(APP_FILES) },
  logLevel: "warning",
});
for (const file of COPIED) copyFileSync(resolve(root, "app", file), resolve(out, file));
console.log(`built ${out}`);

if (values.serve === true) {
  const port = values.port === undefined ? 8080 : Number(values.port);
  const { url } = await serveApp(out, port);
  console.log(`serving ${out} at ${url} (Ctrl-C stops)`);
}

// Bundles the command-line tool into one file per entry point (dist/bin/): the
// executable and the worker it starts. Loading ~110 separate ES modules cost about
// 80 ms per run, a fifth of quantizing a 60 MB model; one file loads in a fraction
// of that. The library itself stays unbundled under dist/ for tree-shaking.
import { chmodSync, readFileSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("node_modules/@bufbuild/protobuf/package.json", root), "utf8"));

await build({
  absWorkingDir: root.pathname,
  entryPoints: {
    "coreml-quantize": "dist/cli/main.js",
    // quantize-weights-parallel.js starts it as "./quantize-worker.js" beside itself.
    "quantize-worker": "dist/node/quantize-worker.js",
  },
  outdir: "dist/bin",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Less source for V8 to hold (about 1 MB of peak memory less); names stay, so
  // --debug stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // Exactly one shebang: esbuild keeps main.js's own.
  banner: {
    js: `// coreml-quantize command-line tool, bundled. Includes @bufbuild/protobuf ${version}\n// (Apache-2.0, Copyright Buf Technologies, Inc.; see node_modules/@bufbuild/protobuf/LICENSE).`,
  },
  // sharp loads a native addon and is optional: it is imported at run time, only
  // when image samples are given, from the user's node_modules.
  external: ["sharp"],
  logLevel: "warning",
});
// npm marks the bin executable on install, but a plain `npm run build` in a clone does not.
chmodSync(new URL("dist/bin/coreml-quantize.js", root), 0o755);

/**
 * Global setup of the "esm" Jest project: checks that Node runs with the native
 * ES modules Jest needs, and, as its tests import dist/ as shipped, rebuilds dist/
 * (`npm run build`) when any source under src/ is newer than its output. The build lock is the one ensureBuiltCli (test/robustness/helpers.ts)
 * takes, so the two never build at once.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const LOCK = join(tmpdir(), "coreml-quantize-robustness-build.lock");

function* listSources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* listSources(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) yield path;
  }
}

/** Every source under src/ whose `.js` in dist/ is missing or older. */
function staleOutputs() {
  const stale = [];
  for (const path of listSources(join(REPO, "src"))) {
    const out = join(REPO, "dist", relative(join(REPO, "src"), path)).replace(/\.ts$/, ".js");
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) stale.push(relative(REPO, path));
  }
  return stale;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Takes the build lock (a directory; one older than two minutes was left by a dead run). */
function lock() {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000) rmdirSync(LOCK);
      } catch {
        // gone already
      }
      if (Date.now() > deadline) throw new Error(`esm tests: could not take the build lock ${LOCK}`);
      sleep(200);
    }
  }
}

export default function ensureBuiltDist() {
  // Without the flag Jest reads the .mjs files as CommonJS and fails on their first import.
  if (typeof vm.SyntheticModule !== "function") {
    throw new Error("esm tests: Node runs without --experimental-vm-modules; run them with `npm test -- test/esm` (not plain `npx jest`).");
  }
  if (staleOutputs().length === 0) return;
  lock();
  try {
    const stale = staleOutputs();
    if (stale.length === 0) return;
    const r = spawnSync("npm", ["run", "build"], { cwd: REPO, encoding: "utf8", timeout: 170_000 });
    const left = staleOutputs();
    // tsc emits despite type errors (someone's work in progress): what it emitted is tested.
    if (left.length > 0) {
      throw new Error(
        `esm tests: dist/ is older than src/ (${left.slice(0, 5).join(", ")}) and \`npm run build\` did not update it; ` +
          `run \`npm run build\` and fix what it reports.\n${r.stdout ?? ""}${r.stderr ?? ""}`,
      );
    }
    console.log(`esm tests: rebuilt dist/ (stale: ${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", …" : ""})`);
  } finally {
    rmdirSync(LOCK);
  }
}

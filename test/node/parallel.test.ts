/**
 * quantizeWeightsParallel as an app bundles it: by esbuild into one file, with and
 * without the worker script beside it, run in a child Node process: the fall-back
 * to one thread and `workerUrl`. Results, progress, `threads` and cancellation
 * of dist/ as shipped are tested in-process by test/esm/parallel.test.mjs.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";

const root = join(__dirname, "..", "..");
const golden = join(root, "test", "fixtures", "golden", "models");
let work: string;

/** Bundles the library's entry (and, if asked, the worker) into `dir`, as an app's bundler would. */
function bundle(dir: string, withWorker: boolean): void {
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  writeFileSync(
    join(dir, "entry.ts"),
    [
      `export { quantizeWeightsParallel } from ${JSON.stringify(join(root, "src/node/quantize-weights-parallel.ts"))};`,
      `export { quantizeWeights } from ${JSON.stringify(join(root, "src/quantize/quantize-weights.ts"))};`,
      `export { decodeModel } from ${JSON.stringify(join(root, "src/codec/decode-model.ts"))};`,
      `export { encodeModel } from ${JSON.stringify(join(root, "src/codec/encode-model.ts"))};`,
    ].join("\n"),
  );
  buildSync({ entryPoints: [join(dir, "entry.ts")], bundle: true, platform: "node", format: "esm", outfile: join(dir, "app.js"), logLevel: "silent" });
  if (withWorker) {
    buildSync({
      entryPoints: [join(root, "src/node/quantize-worker.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: join(dir, "quantize-worker.js"),
      logLevel: "silent",
    });
  }
}

/** Runs `body` (an async function body, `lib` in scope) in a child process; returns what it printed as JSON. */
function run(dir: string, body: string): unknown {
  const script = join(dir, `case-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `import * as lib from "./app.js";\nimport { readFileSync } from "node:fs";\n` +
      `const model = (name) => lib.decodeModel(readFileSync(${JSON.stringify(golden)} + "/" + name + ".mlmodel"));\n` +
      `const same = (a, b) => Buffer.compare(Buffer.from(lib.encodeModel(a)), Buffer.from(lib.encodeModel(b))) === 0;\n` +
      `const out = await (async () => {${body}})();\nprocess.stdout.write(JSON.stringify(out));\n`,
  );
  // The child must end by itself: a worker left running would keep it alive past the timeout.
  return JSON.parse(execFileSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000 }));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "coreml-quantize-parallel-"));
  for (const [name, withWorker] of [
    ["full", true],
    ["bare", false],
  ] as const) {
    const dir = join(work, name);
    execFileSync("mkdir", ["-p", dir]);
    bundle(dir, withWorker);
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("quantizeWeightsParallel", () => {
  test("bundled without its worker script, falls back to one thread with the same result (it rejected)", () => {
    expect(
      run(
        join(work, "bare"),
        `
      const expected = lib.quantizeWeights(model("cnn"), { nbits: 4, mode: "kmeans_lut" });
      let progress = 0;
      let within = 0;
      const got = await lib.quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", threads: 2,
        onProgress: (p) => (p.fraction === undefined ? progress++ : within++) });
      return { same: same(got, expected), progress, within: within > 0 };`,
      ),
    ).toEqual({ same: true, progress: 14, within: true });
  });

  test("workerUrl: a script that is not there falls back; the real one is used", () => {
    expect(
      run(
        join(work, "bare"),
        `
      const expected = lib.quantizeWeights(model("cnn"), { nbits: 3, mode: "kmeans_lut" });
      const missing = await lib.quantizeWeightsParallel(model("cnn"), { nbits: 3, mode: "kmeans_lut", threads: 2, workerUrl: new URL("./no-such-worker.js", import.meta.url) });
      const real = await lib.quantizeWeightsParallel(model("cnn"), { nbits: 3, mode: "kmeans_lut", threads: 2, workerUrl: ${JSON.stringify(join(work, "full", "quantize-worker.js"))} });
      return { missing: same(missing, expected), real: same(real, expected) };`,
      ),
    ).toEqual({ missing: true, real: true });
  });
});

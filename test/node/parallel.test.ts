/**
 * quantizeWeightsParallel as an app uses it: bundled by esbuild (with and without
 * the worker script beside it), run in a child Node process. Progress for every
 * kind of work, the fall-back to one thread, `workerUrl`, and cancellation.
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
  test("reports progress for half precision, auto and dequantization too (it reported none)", () => {
    const counts = run(
      join(work, "full"),
      `
      const counts = {};
      for (const [name, options] of [["half", { nbits: 16 }], ["auto", { nbits: "auto" }], ["dequantization", { nbits: 8, mode: "dequantization" }], ["kmeans", { nbits: 4, mode: "kmeans_lut" }]]) {
        let calls = 0;
        const input = name === "dequantization" ? lib.quantizeWeights(model("cnn"), { nbits: 8 }) : model("cnn");
        await lib.quantizeWeightsParallel(input, { ...options, threads: 2, onProgress: () => calls++ });
        counts[name] = calls;
      }
      return counts;`,
    ) as Record<string, number>;
    for (const name of ["half", "auto", "dequantization", "kmeans"]) expect({ name, some: (counts[name] ?? 0) > 0 }).toEqual({ name, some: true });
  });

  test("k-means in workers: progress within the tensor under way too, between the 14 per-tensor reports", () => {
    expect(
      run(
        join(work, "full"),
        `
      const reports = [];
      await lib.quantizeWeightsParallel(model("cnn"), { nbits: 5, mode: "kmeans_lut", threads: 2, onProgress: (p) => reports.push(p) });
      const within = reports.filter((p) => p.fraction !== undefined);
      return {
        after: reports.filter((p) => p.fraction === undefined).map((p) => p.done),
        within: within.length > 0 && within.every((p) => p.fraction > 0 && p.fraction < 1 && p.done < p.total),
      };`,
      ),
    ).toEqual({ after: Array.from({ length: 14 }, (_, i) => i + 1), within: true });
  });

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

  test("a signal already aborted rejects at once with its reason; aborted mid-run, the workers end and it rejects", () => {
    expect(
      run(
        join(work, "full"),
        `
      const reasons = [];
      const aborted = new AbortController();
      aborted.abort(new Error("stop now"));
      await lib.quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", threads: 2, signal: aborted.signal }).catch((e) => reasons.push(e.message));
      const controller = new AbortController();
      let after = 0;
      await lib.quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", threads: 2, signal: controller.signal,
        onProgress: () => { after++; controller.abort(); } }).catch((e) => reasons.push(e.name));
      const sync = new AbortController();
      sync.abort();
      try { lib.quantizeWeights(model("cnn"), { nbits: 8, signal: sync.signal }); } catch (e) { reasons.push("sync " + e.name); }
      const between = new AbortController();
      let seen = 0;
      try { lib.quantizeWeights(model("cnn"), { nbits: 8, signal: between.signal, onProgress: () => { seen++; between.abort(); } }); } catch (e) { reasons.push("between " + e.name + " " + seen); }
      return { reasons, after };`,
      ),
    ).toEqual({ reasons: ["stop now", "AbortError", "sync AbortError", "between AbortError 1"], after: 1 });
  });
});

// npm run bench [-- --large] [--runs N]
// Builds the benchmark models (bench/build-models.mjs), runs the CLI once per job as a
// whole process (file in, file out) under /usr/bin/time for wall time and peak RSS,
// takes the median of N runs, and times the quantizers alone through the API.
// Prints a table and writes bench/results.json. Figures are for comparing ratios
// within one run: the machines are shared and noisy.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, statSync, rmSync, mkdtempSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const large = process.argv.includes("--large");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

execFileSync(process.execPath, [join(root, "bench/build-models.mjs"), ...(large ? ["--large"] : [])], { stdio: "inherit" });

const model = (name) => join(root, "bench/models", `${name}.mlmodel`);
// The reference's figures (coremltools 9.x, same 2-core machine, one run) from issue 4.
const jobs = [
  { model: "dense-63mb", args: ["--nbits", "8"], reference: { s: 1.9, mb: 229 } },
  { model: "dense-63mb", args: ["--nbits", "16"], reference: { s: 4.5, mb: 242 } },
  { model: "dense-63mb", args: ["--nbits", "4"], reference: { s: 120, mb: 378 } },
  { model: "dense-13mb", args: ["--nbits", "4", "--mode", "kmeans_lut"], reference: { s: 25.7, mb: 354 } },
  { model: "dense-13mb", args: ["--nbits", "8", "--mode", "kmeans_lut"], reference: { s: 26.1, mb: 311 } },
  { model: "dense-13mb", args: ["--nbits", "2"], reference: { s: 12.2, mb: 181 } },
  { model: "deep-900", args: ["--nbits", "8"], reference: { s: 97, mb: 121 } },
];
if (large) {
  for (const name of ["dense-500mb", "dense-1900mb"]) {
    for (const args of [["--nbits", "8"], ["--nbits", "4"], ["--nbits", "16"], ["--nbits", "8", "--mode", "kmeans_lut"]]) {
      jobs.push({ model: name, args, reference: undefined });
    }
  }
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), "coreml-quantize-bench-"));
const results = [];
for (const job of jobs) {
  const input = model(job.model);
  const inputMb = statSync(input).size / 1e6;
  const times = [];
  const rss = [];
  for (let r = 0; r < runs; r++) {
    const out = join(work, "out.mlmodel");
    const run = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, join(root, "dist/bin/coreml-quantize.js"), "quantize", input, "-o", out, ...job.args], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`${job.model} ${job.args.join(" ")} failed: ${run.stderr}`);
    const [seconds, kb] = run.stderr.trim().split("\n").pop().split(" ").map(Number);
    times.push(seconds);
    rss.push((kb * 1024) / 1e6); // /usr/bin/time reports KiB; MB here are 10^6 bytes, as for the input
    rmSync(out, { force: true });
  }
  const s = median(times);
  const mb = median(rss);
  const row = {
    model: job.model, job: job.args.join(" "), inputMb: +inputMb.toFixed(1), seconds: s, mbPerSecond: +(inputMb / s).toFixed(1),
    peakRssMb: +mb.toFixed(0), rssOverInput: +(mb / inputMb).toFixed(2),
    reference: job.reference, speedup: job.reference ? +(job.reference.s / s).toFixed(1) : undefined,
  };
  results.push(row);
  console.log(`${row.model.padEnd(13)} ${row.job.padEnd(28)} ${String(s).padStart(6)} s ${String(row.mbPerSecond).padStart(7)} MB/s ${String(row.peakRssMb).padStart(6)} MB RSS${row.speedup ? `  ${row.speedup}x faster than the reference` : ""}`);
}

// The quantizers alone, through the API, on one 1024x1024 tensor (median of 5).
const api = await import(join(root, "dist/quantizer/index.js"));
const values = new Float32Array(1024 * 1024);
for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 12.9898) * 0.05;
const layout = { outer: 1, channels: 1024, inner: 1024 };
const kernels = {
  linear8: () => api.quantizeLinear(values, 8, layout),
  linear4: () => api.quantizeLinear(values, 4, layout),
  linearSymmetric8: () => api.quantizeLinearSymmetric(values, 8, layout),
  linearLut4: () => api.quantizeLinearLut(values, 4),
  kmeansLut4: () => api.kmeansLut(values, 4),
  kmeansLut8: () => api.kmeansLut(values, 8),
  int8: () => api.quantizeInt8(values),
};
const kernelResults = {};
for (const [name, fn] of Object.entries(kernels)) {
  const ms = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  kernelResults[name] = +median(ms).toFixed(1);
  console.log(`api ${name.padEnd(18)} ${String(kernelResults[name]).padStart(8)} ms per 1M weights`);
}

// The hot loops alone, SIMD against the JavaScript fallback, per million values
// (median of 5, after one warm-up call each).
const { createWasmKernels, jsKernels, ERROR_SUM_LANES } = await import(join(root, "dist/kernels/index.js"));
const simd = createWasmKernels();
const n = values.length;
const indices = new Uint8Array(n).map((_, i) => i & 255);
const bits = new Uint32Array(values.buffer);
const halves = new Uint16Array(n);
jsKernels.encodeHalves(bits, 0, n, halves);
const loops = {
  "range (per channel)": (k) => { const e = new Float64Array(2); for (let c = 0; c < n; c += 1024) k.range(values, c, c + 1024, e); },
  "linear indices": (k) => { const out = new Uint8Array(n); for (let c = 0; c < n; c += 1024) k.indices(values, c, c + 1024, -0.05, 2550, false, out); },
  "linear error sums": (k) => { const sums = new Float64Array(ERROR_SUM_LANES); for (let c = 0; c < n; c += 1024) k.linearErrorSums(values, indices, c, c + 1024, 0.0004, -0.05, sums); },
  "float16 encode": (k) => k.encodeHalves(bits, 0, n, new Uint16Array(n)),
  "float16 decode": (k) => k.decodeHalves(halves, 0, n, new Uint32Array(n)),
};
const loopResults = {};
for (const [name, fn] of Object.entries(loops)) {
  const timed = (k) => {
    fn(k);
    const ms = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      fn(k);
      ms.push(performance.now() - t);
    }
    return +median(ms).toFixed(2);
  };
  loopResults[name] = { simd: simd === undefined ? null : timed(simd), js: timed(jsKernels) };
  console.log(`loop ${name.padEnd(20)} ${String(loopResults[name].simd).padStart(6)} ms SIMD ${String(loopResults[name].js).padStart(6)} ms JavaScript per 1M values`);
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: +(totalmem() / 2 ** 30).toFixed(0), node: process.version };
writeFileSync(join(root, "bench/results.json"), `${JSON.stringify({ date: new Date().toISOString(), machine, runs, results, kernels: kernelResults, loops: loopResults }, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
console.log(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}; wrote bench/results.json`);

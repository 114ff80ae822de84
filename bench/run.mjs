// npm run bench [-- --large] [--many-layers] [--runs N]
// npm run bench -- --predict [--runs N] [--only NAME,...]: the executor instead (bench/predict.mjs).
// npm run bench -- --auto [--runs N] [--targets 30,40,50]: nbits "auto" instead (bench/auto.mjs).
// npm run bench -- --browser [--runs N] [--model NAME]: the page in Chromium against the CLI (bench/browser.mjs).
// npm run bench -- --mlprogram [--runs N]: ML Program passes against the network path on the same weights (bench/mlprogram.mjs).
// Builds the benchmark models (bench/build-models.mjs), runs the CLI once per job as a
// whole process (file in, file out) under /usr/bin/time for wall time and peak RSS,
// takes the median of N runs, and times the quantizers alone through the API.
// Prints a table and writes bench/results.json. Figures are for comparing ratios
// within one run: the machines are shared and noisy.
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync, statSync, rmSync, mkdtempSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// Each of these flags runs another benchmark script instead, with the other arguments.
const OTHER_BENCHES = { "--auto": "auto.mjs", "--browser": "browser.mjs", "--predict": "predict.mjs", "--mlprogram": "mlprogram.mjs" };
for (const [flag, script] of Object.entries(OTHER_BENCHES)) {
  if (!process.argv.includes(flag)) continue;
  const args = process.argv.slice(2).filter((a) => a !== flag);
  const run = spawnSync(process.execPath, [join(root, "bench", script), ...args], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}
const large = process.argv.includes("--large");
// Models of many small layers (issue 11): inspect, 8 and 16 bits through the executable.
const manyLayers = process.argv.includes("--many-layers");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

execFileSync(process.execPath, [join(root, "bench/build-models.mjs"), ...(large ? ["--large"] : []), ...(manyLayers ? ["--many-layers"] : [])], {
  stdio: "inherit",
});

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
    for (const args of [
      ["--nbits", "8"],
      ["--nbits", "4"],
      ["--nbits", "16"],
      ["--nbits", "8", "--mode", "kmeans_lut"],
    ]) {
      jobs.push({ model: name, args, reference: undefined });
    }
  }
}

if (manyLayers) {
  for (const name of ["relu-1m", "fc-100k"]) {
    jobs.push({ model: name, command: "inspect", args: [], reference: undefined });
    for (const args of [
      ["--nbits", "8"],
      ["--nbits", "16"],
    ])
      jobs.push({ model: name, args, reference: undefined });
  }
}

/** What the issue's speed-up target asks of the whole process for a job. */
const job10x = (referenceSeconds, jobArgs) => {
  const factor = jobArgs.includes("16") ? 20 : 10;
  return `${factor}x the reference needs <= ${(referenceSeconds / factor).toFixed(2)} s`;
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), "coreml-quantize-bench-"));
const results = [];
for (const job of jobs) {
  const input = model(job.model);
  const inputMb = statSync(input).size / 1e6;
  const times = [];
  const rss = [];
  let outputBytes = 0;
  for (let r = 0; r < runs; r++) {
    const out = join(work, "out.mlmodel");
    const argv = job.command === "inspect" ? ["inspect", input] : ["quantize", input, "-o", out, ...job.args];
    const run = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, join(root, "dist/bin/coreml-quantize.js"), ...argv], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    if (run.status !== 0) throw new Error(`${job.model} ${argv.join(" ")} failed: ${run.stderr}`);
    const [seconds, kb] = run.stderr.trim().split("\n").pop().split(" ").map(Number);
    times.push(seconds);
    outputBytes = job.command === "inspect" ? 0 : statSync(out).size;
    rss.push((kb * 1024) / 1e6); // /usr/bin/time reports KiB; MB here are 10^6 bytes, as for the input
    rmSync(out, { force: true });
  }
  const s = median(times);
  const mb = median(rss);
  const row = {
    model: job.model,
    job: job.command === "inspect" ? "inspect" : job.args.join(" "),
    inputMb: +inputMb.toFixed(1),
    outputMb: +(outputBytes / 1e6).toFixed(1),
    seconds: s,
    mbPerSecond: +(inputMb / s).toFixed(1),
    peakRssMb: +mb.toFixed(0),
    rssOverInput: +(mb / inputMb).toFixed(2),
    reference: job.reference,
    speedup: job.reference ? +(job.reference.s / s).toFixed(1) : undefined,
  };
  results.push(row);
  console.log(
    `${row.model.padEnd(13)} ${row.job.padEnd(28)} ${String(s).padStart(6)} s ${String(row.mbPerSecond).padStart(7)} MB/s ${String(row.peakRssMb).padStart(6)} MB RSS${row.speedup ? `  ${row.speedup}x faster than the reference` : ""}`,
  );
}

// The floor: Node starting, reading the input and writing an output of the same
// size as the job's (with fsync), nothing else (bench/floor.mjs). No tool in Node
// can beat it on this machine.
const floors = [];
for (const [name, jobArgs] of [
  ["dense-63mb", "--nbits 8"],
  ["dense-63mb", "--nbits 16"],
]) {
  const row = results.find((r) => r.model === name && r.job === jobArgs);
  if (row === undefined) continue;
  const out = join(work, "floor.out");
  const outBytes = Math.round(row.outputMb * 1e6);
  const times = [];
  for (let r = 0; r < runs; r++) {
    const run = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, join(root, "bench/floor.mjs"), model(name), out, String(outBytes)], {
      encoding: "utf8",
    });
    times.push(Number(run.stderr.trim().split("\n").pop().split(" ")[0]));
  }
  rmSync(out, { force: true });
  const floor = { model: name, job: jobArgs, outputMb: row.outputMb, seconds: median(times), cliSeconds: row.seconds, referenceSeconds: row.reference?.s };
  floors.push(floor);
  console.log(
    `floor ${name} read + write ${row.outputMb} MB: ${floor.seconds} s (the CLI: ${row.seconds} s${floor.referenceSeconds ? `; ${job10x(floor.referenceSeconds, jobArgs)}` : ""})`,
  );
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
const layout1024 = { outer: 1, channels: 1024, inner: 1024 };
const perChannel = (value) => new Float64Array(1024).fill(value);
const loops = {
  "channel ranges": (k) => k.channelRanges(values, layout1024, new Float64Array(1024), new Float64Array(1024)),
  "linear indices": (k) => k.linearIndices(values, layout1024, perChannel(-0.05), perChannel(2550), false, new Uint8Array(n)),
  "linear error sums": (k) => k.linearErrorSums(values, indices, layout1024, perChannel(0.0004), perChannel(-0.05), new Float64Array(ERROR_SUM_LANES)),
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
  console.log(
    `loop ${name.padEnd(20)} ${String(loopResults[name].simd).padStart(6)} ms SIMD ${String(loopResults[name].js).padStart(6)} ms JavaScript per 1M values`,
  );
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: +(totalmem() / 2 ** 30).toFixed(0), node: process.version };
writeFileSync(
  join(root, "bench/results.json"),
  `${JSON.stringify({ date: new Date().toISOString(), machine, runs, results, floors, kernels: kernelResults, loops: loopResults }, null, 2)}\n`,
);
rmSync(work, { recursive: true, force: true });
console.log(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}; wrote bench/results.json`);

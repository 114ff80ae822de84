// npm run bench -- --mlprogram [--runs N] [--dist DIR]
// The same weights compressed in both formats: each dense benchmark network
// (bench/models/*.mlmodel) and the ML Program holding its innerProduct weights
// (build-programs.mjs), timed in-process from the bytes read to the bytes to write,
// for the modes the two formats share, the two alternately. Prints medians of N
// runs, the time per MB of float weights, and the program's ratio to the network
// (the target is <= 1.5);
// writes bench/mlprogram-results.json. Compare ratios within one run: the machines
// are shared and noisy.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(option("--runs", "5"));
const dist = option("--dist", join(root, "dist"));

for (const script of ["build-models.mjs", "build-programs.mjs"]) execFileSync(process.execPath, [join(root, "bench", script)], { stdio: "inherit" });
const { decodeModel, encodeModel, quantizeWeights } = await import(join(dist, "index.js"));
const { encodeMlPackage, decodeMlPackage } = await import(join(dist, "mlprogram", "ml-package.js"));
const { linearQuantizeWeights } = await import(join(dist, "mlprogram", "linear-quantize.js"));
const { palettizeWeights } = await import(join(dist, "mlprogram", "palettize.js"));
const { readMlPackage } = await import(join(dist, "node", "mlpackage-files.js"));

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// The two paths run alternately, so a change in the machine's load between runs
// falls on both alike; each gets the median of its runs.
function timedPair(first, second) {
  const ms = [[], []];
  for (let r = 0; r < runs; r++) {
    [first, second].forEach((fn, k) => {
      const t = performance.now();
      fn();
      ms[k].push(performance.now() - t);
    });
  }
  return ms.map(median);
}

// Pairs of the same job: the network's options, and the program's pass and config.
const JOBS = [
  {
    model: "dense-63mb",
    what: "8-bit linear per channel",
    nn: { nbits: 8, mode: "linear" },
    program: [linearQuantizeWeights, { global: { mode: "linear", dtype: "uint8", granularity: "per_channel" } }],
  },
  {
    model: "dense-63mb",
    what: "8-bit symmetric per channel",
    nn: { nbits: 8, mode: "linear_symmetric" },
    program: [linearQuantizeWeights, { global: { mode: "linear_symmetric", dtype: "int8", granularity: "per_channel" } }],
  },
  {
    model: "dense-63mb",
    what: "4-bit uniform LUT",
    nn: { nbits: 4, mode: "linear_lut" },
    program: [palettizeWeights, { global: { mode: "uniform", nbits: 4 } }],
  },
  {
    model: "dense-13mb",
    what: "4-bit k-means LUT",
    nn: { nbits: 4, mode: "kmeans_lut" },
    program: [palettizeWeights, { global: { mode: "kmeans", nbits: 4 } }],
  },
];

const results = [];
for (const job of JOBS) {
  const modelFile = join(root, "bench/models", `${job.model}.mlmodel`);
  const packageDir = join(root, "bench/models", `${job.model}.mlpackage`);
  const nnBytes = readFileSync(modelFile);
  const pkg = readMlPackage(packageDir);
  const files = encodeMlPackage(pkg);
  const weightBytes = pkg.weights.blobs.reduce((sum, blob) => sum + blob.data.byteLength, 0);
  const [pass, config] = job.program;
  const [nnMs, programMs] = timedPair(
    () => encodeModel(quantizeWeights(decodeModel(nnBytes), job.nn)),
    () => encodeMlPackage(pass(decodeMlPackage(files), config).package),
  );
  const mb = weightBytes / 1e6;
  const row = {
    model: job.model,
    what: job.what,
    weightMB: +mb.toFixed(1),
    nnMs: Math.round(nnMs),
    programMs: Math.round(programMs),
    nnMsPerMB: +(nnMs / mb).toFixed(2),
    programMsPerMB: +(programMs / mb).toFixed(2),
    ratio: +(programMs / nnMs).toFixed(2),
  };
  results.push(row);
  console.log(`${job.model} ${job.what}: network ${row.nnMs} ms, program ${row.programMs} ms (${row.ratio}x; ${row.programMsPerMB} ms/MB)`);
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, runs };
writeFileSync(join(root, "bench/mlprogram-results.json"), `${JSON.stringify({ machine, results }, null, 2)}\n`);

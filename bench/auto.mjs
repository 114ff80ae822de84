// npm run bench -- --auto [--runs N] [--targets 30,40,50] [--models deep-900,...] [--dist DIR]
// nbits "auto" against one 4-bit k-means run, the storage search as shipped (new)
// against trying every candidate (old, dist/quantize/auto-bits-exhaustive.js), on the same
// tensors: each model's tensors as quantizeWeights hands them to a quantizer (after
// fusion). Prints medians of N runs and writes bench/auto-results.json. Compare
// ratios within one run: the machines are shared and noisy.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(option("--runs", "3"));
const targets = option("--targets", "30,40,50").split(",").map(Number);
const dist = option("--dist", join(root, "dist"));
const names = option("--models", "deep-900,predict-resnet18-stages-56").split(",");

execFileSync(process.execPath, [join(root, "bench/build-models.mjs")], { stdio: "inherit" });
const { decodeModel } = await import(join(dist, "index.js"));
const { quantizeWeights, quantizeWeightsWith } = await import(join(dist, "quantize", "quantize-weights.js"));
const { chooseTensorStorage } = await import(join(dist, "quantize", "auto-bits.js"));
const { chooseTensorStorageExhaustive } = await import(join(dist, "quantize", "auto-bits-exhaustive.js"));
const { TENSOR_QUANTIZERS } = await import(join(dist, "quantize", "quantize-tensor.js"));

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (fn) => {
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return Math.round(median(ms));
};
const modes = ["linear", "kmeans_lut"];
const results = [];
for (const name of names) {
  const file = join(root, "bench/models", `${name}.mlmodel`);
  if (!existsSync(file)) {
    console.log(`${name}: not built, skipped`);
    continue;
  }
  const model = decodeModel(readFileSync(file));
  const tensors = [];
  quantizeWeightsWith(model, { nbits: 8 }, (_mode, weightParams, values, { shape, axis, path }) => {
    tensors.push({ values, context: { shape, axis, path } });
    return weightParams;
  });
  const kmeans4 = timed(() => tensors.forEach(({ values, context }) => TENSOR_QUANTIZERS.kmeans_lut(values, { ...context, nbits: 4, lutFunction: undefined })));
  for (const target of targets) {
    let same = true;
    const choose = (search) => tensors.map(({ values, context }) => search(values, context, target, modes));
    const key = (c) => `${c.storage} ${c.nbits} ${c.mode} ${c.snrDb}`;
    const newMs = timed(() => choose(chooseTensorStorage));
    const oldMs = timed(() => choose(chooseTensorStorageExhaustive));
    const fresh = choose(chooseTensorStorage).map(key);
    choose(chooseTensorStorageExhaustive).forEach((c, i) => {
      if (key(c) !== fresh[i]) same = false;
    });
    const apiMs = timed(() => quantizeWeights(model, { nbits: "auto", targetSnrDb: target }));
    const row = {
      model: name,
      tensors: tensors.length,
      targetSnrDb: target,
      kmeans4Ms: kmeans4,
      newMs,
      oldMs,
      apiMs,
      newOverKmeans4: +(newMs / kmeans4).toFixed(2),
      oldOverKmeans4: +(oldMs / kmeans4).toFixed(2),
      sameChoices: same,
    };
    results.push(row);
    console.log(
      `${name.padEnd(28)} ${String(target).padStart(3)} dB: new ${String(newMs).padStart(6)} ms (${row.newOverKmeans4}x k-means 4-bit), old ${String(oldMs).padStart(6)} ms (${row.oldOverKmeans4}x), k-means 4-bit ${kmeans4} ms, quantizeWeights auto ${apiMs} ms, same choices: ${same}`,
    );
  }
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: +(totalmem() / 2 ** 30).toFixed(0), node: process.version };
writeFileSync(join(root, "bench/auto-results.json"), `${JSON.stringify({ date: new Date().toISOString(), machine, runs, results }, null, 2)}\n`);
console.log(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}; wrote bench/auto-results.json`);

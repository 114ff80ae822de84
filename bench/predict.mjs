// npm run bench -- --predict [--runs N] [--only NAME[,NAME]] [--no-ort]
// The executor's speed: for every model of ../shared/predict/models that has an ONNX
// translation in ../shared/predict/onnx, and for larger synthetic networks built here
// with the project's own codec (bench/models/predict-*.mlmodel), the median time per
// prediction (prepared once), the GFLOP/s of the largest convolutions (each timed
// alone on its real input) and the peak RSS, each model in a child process of its
// own. ONNX Runtime (onnxruntime-node, one thread, sequential) runs the .onnx files
// the same way, beside it. Prints a table and writes bench/predict-results.json.
// Figures are for ratios within one run: the machines are shared and noisy.
import { create } from "@bufbuild/protobuf";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "../shared/predict");
const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fixedRuns = option("--runs") === undefined ? undefined : Number(option("--runs"));

/**
 * Runs `once` (sync or async) until enough time has passed: warm-up for 0.3 s (at least
 * 3 runs), then timed runs for `seconds` (5 to 500 runs; exactly N with --runs N).
 * Returns the median in ms.
 */
async function timeRuns(once, seconds = 1) {
  for (let t0 = performance.now(), r = 0; r < 3 || performance.now() - t0 < 300; r++) {
    await once();
    if (r >= 50) break;
  }
  const times = [];
  const t0 = performance.now();
  while (fixedRuns === undefined ? (times.length < 5 || performance.now() - t0 < seconds * 1000) && times.length < 500 : times.length < fixedRuns) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return { ms: median(times), runs: times.length };
}

const maxRssMb = () => (process.resourceUsage().maxRSS * 1024) / 1e6;

// ---------------------------------------------------------------------------------
// Child: our executor on one model.
async function childOurs(modelFile, inputsDir) {
  const api = await import(join(root, "dist/index.js"));
  const { decodedWeights } = await import(join(root, "dist/predict/tensor.js"));
  const { runKernels } = await import(join(root, "dist/kernels/index.js"));
  const { allLayers } = await import(join(root, "dist/walker/networks.js"));
  const t0 = performance.now();
  const model = api.decodeModel(readFileSync(modelFile));
  const prepared = api.prepareModel(model);
  const prepareMs = performance.now() - t0;
  const inputs = inputsDir === "random" ? api.randomInputs(model, 1, 7)[0] : readFixtureInputs(api, inputsDir);
  const { ms, runs } = await timeRuns(() => prepared.predict(inputs));
  // Peak RSS of preparing and predicting, before the measurements below allocate more.
  const peakRssMb = maxRssMb();

  // Sizes for the memory budget: every weight as float32, every blob of one prediction.
  const layers = allLayers(model);
  let weightValues = 0;
  for (const { layer, path } of layers) for (const w of decodedWeights(layer, path).values()) weightValues += w.length;
  const { blobs } = prepared.predictWithBlobs(inputs);
  let blobValues = 0;
  for (const network of blobs.values()) for (const t of network.values()) blobValues += t.data.length;

  // The largest convolutions, each prepared and timed alone on the input it met.
  const convs = [];
  for (const { layer, path, networkPath } of layers) {
    if (layer.layer.case !== "convolution") continue;
    const p = layer.layer.value;
    const network = blobs.get(networkPath);
    const x = network?.get(layer.input[0]);
    const y = network?.get(layer.output[0]);
    if (x === undefined || y === undefined) continue;
    const [cout, hout, wout] = y.shape.slice(-3);
    const [cin, hin, win] = x.shape.slice(-3);
    const outer = y.data.length / (cout * hout * wout);
    const kh = Number(p.kernelSize[0] ?? 3n),
      kw = Number(p.kernelSize[1] ?? 3n);
    const groups = Math.max(1, Number(p.nGroups));
    const flops = p.isDeconvolution ? 2 * outer * cin * (cout / groups) * kh * kw * hin * win : 2 * outer * cout * (cin / groups) * kh * kw * hout * wout;
    convs.push({
      path,
      layer,
      x,
      flops,
      shape: `${p.isDeconvolution ? "deconv " : ""}${cin}->${cout}${groups > 1 ? `/g${groups}` : ""} ${kh}x${kw}/${Number(p.stride[0] ?? 1n)} out ${hout}x${wout}`,
    });
  }
  convs.sort((a, b) => b.flops - a.flops);
  const context = (path) => ({
    layout: "rank5",
    path,
    prepareNetwork: () => {
      throw new Error("no nested networks here");
    },
  });
  const largest = [];
  for (const c of convs.slice(0, 3)) {
    const run = api.LAYER_IMPLS.convolution.prepare(c.layer.layer.value, c.layer, context(c.path));
    const timed = await timeRuns(() => run([c.x], new Map()), 0.5);
    largest.push({
      layer: c.layer.name,
      shape: c.shape,
      mflop: +(c.flops / 1e6).toFixed(2),
      ms: +timed.ms.toFixed(3),
      gflops: +(c.flops / timed.ms / 1e6).toFixed(2),
    });
  }
  const convFlops = convs.reduce((s, c) => s + c.flops, 0);
  return {
    prepareMs: +prepareMs.toFixed(1),
    ms: +ms.toFixed(4),
    runs,
    kernels: runKernels().name,
    weightsMb: +((weightValues * 4) / 1e6).toFixed(2),
    blobsMb: +((blobValues * 4) / 1e6).toFixed(2),
    convGflop: +(convFlops / 1e9).toFixed(3),
    largest,
    peakRssMb: +peakRssMb.toFixed(0),
  };
}

/** Sample 0 of a fixture model's inputs, as the cases test reads them. */
function readFixtureInputs(api, dir) {
  const inputs = {};
  if (!existsSync(dir)) return inputs;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".npy")) continue;
    const a = api.parseNpy(readFileSync(join(dir, file)));
    const name = file.slice(0, -4);
    inputs[name] = a.dtype === "uint8" && a.shape.length === 3 ? { width: a.shape[1], height: a.shape[0], data: a.data } : { shape: a.shape, data: a.data };
  }
  return inputs;
}

// ---------------------------------------------------------------------------------
// Child: ONNX Runtime on one .onnx file, fed from the same .npy files (reshaped to the
// ONNX input's shape; images as float32 [1, 3, H, W]).
async function childOrt(onnxFile, inputsDir) {
  const { createRequire } = await import("node:module");
  const ort = createRequire(import.meta.url)("onnxruntime-node");
  const api = await import(join(root, "dist/index.js"));
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(onnxFile, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const prepareMs = performance.now() - t0;
  const feeds = {};
  for (const meta of session.inputMetadata) {
    const file = join(inputsDir, `${meta.name}.npy`);
    const known = meta.shape.filter((d) => typeof d === "number").reduce((a, b) => a * b, 1);
    let values;
    if (existsSync(file)) {
      const a = api.parseNpy(readFileSync(file));
      if (a.dtype === "uint8" && a.shape.length === 3) {
        const [h, w, c] = a.shape;
        values = new Float32Array(a.data.length);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) values[(k * h + y) * w + x] = a.data[(y * w + x) * c + k];
      } else {
        values = Float32Array.from(a.data, Number);
      }
    } else {
      values = new Float32Array(known);
    }
    let free = values.length / known;
    const dims = meta.shape.map((d) => {
      if (typeof d === "number") return d;
      const v = free;
      free = 1;
      return v;
    });
    feeds[meta.name] =
      meta.type === "int64"
        ? new ort.Tensor(
            "int64",
            BigInt64Array.from(values, (v) => BigInt(Math.round(v))),
            dims,
          )
        : new ort.Tensor("float32", values, dims);
  }
  const { ms, runs } = await timeRuns(() => session.run(feeds));
  return { prepareMs: +prepareMs.toFixed(1), ms: +ms.toFixed(4), runs, peakRssMb: +maxRssMb().toFixed(0) };
}

// ---------------------------------------------------------------------------------
// Synthetic networks, built with the codec (cached in bench/models).
async function buildSynthetic() {
  const { ModelSchema } = await import(join(root, "dist/gen/Model_pb.js"));
  const nn = await import(join(root, "dist/gen/NeuralNetwork_pb.js"));
  const { ArrayFeatureType_ArrayDataType } = await import(join(root, "dist/gen/FeatureTypes_pb.js"));
  const { encodeModel } = await import(join(root, "dist/index.js"));
  let seed = 1;
  /** Deterministic values, uniform in [-scale, scale) (xorshift32). */
  const random = (count, scale) => {
    const out = new Float32Array(count);
    let s = (seed++ * 2654435761) >>> 0 || 1;
    for (let i = 0; i < count; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = ((s / 4294967296) * 2 - 1) * scale;
    }
    return out;
  };
  const wp = (values) => ({ ...create(nn.WeightParamsSchema), floatValue: values });
  const layer = (name, input, output, kind, value) => ({
    ...create(nn.NeuralNetworkLayerSchema, { name, input: Array.isArray(input) ? input : [input], output: [output] }),
    layer: { case: kind, value },
  });
  const conv = (name, input, output, cin, cout, k, stride, groups = 1) =>
    layer(name, input, output, "convolution", {
      ...create(nn.ConvolutionLayerParamsSchema, {
        outputChannels: BigInt(cout),
        kernelChannels: BigInt(cin / groups),
        nGroups: BigInt(groups),
        kernelSize: [BigInt(k), BigInt(k)],
        stride: [BigInt(stride), BigInt(stride)],
        dilationFactor: [1n, 1n],
        hasBias: false,
        ConvolutionPaddingType: k === 1 ? { case: "valid", value: create(nn.ValidPaddingSchema) } : { case: "same", value: create(nn.SamePaddingSchema) },
      }),
      // He-style scale keeps activations of order 1 through the stack (no denormals, no overflow).
      weights: wp(random(cout * (cin / groups) * k * k, Math.sqrt(6 / ((cin / groups) * k * k)))),
    });
  const batchnorm = (name, input, output, c) =>
    layer(name, input, output, "batchnorm", {
      ...create(nn.BatchnormLayerParamsSchema, { channels: BigInt(c), epsilon: 1e-5 }),
      gamma: wp(random(c, 0.2).map((x) => 1 + x)),
      beta: wp(random(c, 0.1)),
      mean: wp(random(c, 0.1)),
      variance: wp(random(c, 0.2).map((x) => 1 + x)),
    });
  const relu = (name, input, output) =>
    layer(name, input, output, "activation", create(nn.ActivationParamsSchema, { NonlinearityType: { case: "ReLU", value: create(nn.ActivationReLUSchema) } }));
  const feature = (name, shape) => ({
    name,
    type: { Type: { case: "multiArrayType", value: { shape: shape.map(BigInt), dataType: ArrayFeatureType_ArrayDataType.FLOAT32 } } },
  });
  const model = (input, output, layers) => ({
    ...create(ModelSchema, { specificationVersion: 1, description: { input: [feature(input[0], input[1])], output: [feature(output[0], output[1])] } }),
    Type: { case: "neuralNetwork", value: { ...create(nn.NeuralNetworkSchema), layers } },
  });

  /** MobileNet v1 (width 1.0) at 224 x 224: 569M multiply-adds, 4.2M weights. */
  const mobilenet = () => {
    const layers = [conv("conv0", "data", "c0", 3, 32, 3, 2), batchnorm("bn0", "c0", "b0", 32), relu("relu0", "b0", "r0")];
    let blob = "r0";
    const blocks = [
      [32, 64, 1],
      [64, 128, 2],
      [128, 128, 1],
      [128, 256, 2],
      [256, 256, 1],
      [256, 512, 2],
      [512, 512, 1],
      [512, 512, 1],
      [512, 512, 1],
      [512, 512, 1],
      [512, 512, 1],
      [512, 1024, 2],
      [1024, 1024, 1],
    ];
    blocks.forEach(([cin, cout, stride], i) => {
      const n = i + 1;
      layers.push(
        conv(`dw${n}`, blob, `dwc${n}`, cin, cin, 3, stride, cin),
        batchnorm(`dwbn${n}`, `dwc${n}`, `dwb${n}`, cin),
        relu(`dwrelu${n}`, `dwb${n}`, `dwr${n}`),
        conv(`pw${n}`, `dwr${n}`, `pwc${n}`, cin, cout, 1, 1),
        batchnorm(`pwbn${n}`, `pwc${n}`, `pwb${n}`, cout),
        relu(`pwrelu${n}`, `pwb${n}`, `pwr${n}`),
      );
      blob = `pwr${n}`;
    });
    layers.push(
      layer(
        "pool",
        blob,
        "pooled",
        "pooling",
        create(nn.PoolingLayerParamsSchema, {
          type: nn.PoolingLayerParams_PoolingType.AVERAGE,
          globalPooling: true,
          kernelSize: [1n, 1n],
          stride: [1n, 1n],
          PoolingPaddingType: { case: "valid", value: create(nn.ValidPaddingSchema) },
        }),
      ),
    );
    layers.push(
      layer("fc", "pooled", "logits", "innerProduct", {
        ...create(nn.InnerProductLayerParamsSchema, { inputChannels: 1024n, outputChannels: 1000n, hasBias: true }),
        weights: wp(random(1000 * 1024, Math.sqrt(3 / 1024))),
        bias: wp(random(1000, 0.01)),
      }),
    );
    layers.push(layer("softmax", "logits", "prob", "softmax", create(nn.SoftmaxLayerParamsSchema)));
    return model(["data", [3, 224, 224]], ["prob", [1000]], layers);
  };

  /** ResNet-18's first two stages on a 64 x 56 x 56 input: eight 3x3 convolutions and a 1x1 projection, 1.75 GFLOP. */
  const resnet = () => {
    const layers = [];
    let blob = "data";
    let channels = 64;
    let n = 0;
    for (const [cout, stride] of [
      [64, 1],
      [64, 1],
      [128, 2],
      [128, 1],
    ]) {
      n++;
      const input = blob;
      layers.push(
        conv(`conv${n}a`, input, `c${n}a`, channels, cout, 3, stride),
        batchnorm(`bn${n}a`, `c${n}a`, `b${n}a`, cout),
        relu(`relu${n}a`, `b${n}a`, `r${n}a`),
        conv(`conv${n}b`, `r${n}a`, `c${n}b`, cout, cout, 3, 1),
        batchnorm(`bn${n}b`, `c${n}b`, `b${n}b`, cout),
      );
      let shortcut = input;
      if (stride !== 1 || cout !== channels) {
        layers.push(conv(`proj${n}`, input, `p${n}`, channels, cout, 1, stride), batchnorm(`projbn${n}`, `p${n}`, `pb${n}`, cout));
        shortcut = `pb${n}`;
      }
      layers.push(layer(`add${n}`, [`b${n}b`, shortcut], `s${n}`, "add", create(nn.AddLayerParamsSchema)), relu(`relu${n}`, `s${n}`, `out${n}`));
      blob = `out${n}`;
      channels = cout;
    }
    return model(["data", [64, 56, 56]], [blob, [128, 28, 28]], layers);
  };

  const dir = join(root, "bench/models");
  mkdirSync(dir, { recursive: true });
  const built = [];
  for (const [name, build] of [
    ["predict-mobilenet-v1-224", mobilenet],
    ["predict-resnet18-stages-56", resnet],
  ]) {
    const file = join(dir, `${name}.mlmodel`);
    if (!existsSync(file)) {
      seed = 1;
      writeFileSync(file, encodeModel(build()));
    }
    built.push({ name, file });
  }
  return built;
}

// ---------------------------------------------------------------------------------
function child(kind, ...args) {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), "--child", kind, ...args, ...(fixedRuns === undefined ? [] : ["--runs", String(fixedRuns)])],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  const line = run.stdout.trim().split("\n").pop();
  if (run.status !== 0 || line === undefined || !line.startsWith("{"))
    return {
      error: (
        run.stderr
          .trim()
          .split("\n")
          .find((l) => /Error/.test(l)) ?? run.stderr.trim()
      ).slice(0, 200),
    };
  return JSON.parse(line);
}

async function main() {
  const only = option("--only")?.split(",");
  const models = [];
  if (existsSync(join(shared, "models")) && existsSync(join(shared, "onnx"))) {
    for (const file of readdirSync(join(shared, "onnx")).sort()) {
      const name = file.replace(/\.onnx$/, "");
      if (existsSync(join(shared, "models", `${name}.mlmodel`))) {
        models.push({ name, file: join(shared, "models", `${name}.mlmodel`), onnx: join(shared, "onnx", file), inputs: join(shared, "inputs", name, "0") });
      }
    }
  } else {
    console.log(`note: ${shared} is absent: no fixture models, no ONNX Runtime comparison`);
  }
  for (const s of await buildSynthetic()) models.push({ ...s, onnx: undefined, inputs: "random" });

  const rows = [];
  for (const m of models) {
    if (only !== undefined && !only.includes(m.name)) continue;
    const ours = child("ours", m.file, m.inputs);
    const ort = m.onnx === undefined || argv.includes("--no-ort") ? undefined : child("ort", m.onnx, m.inputs);
    const row = { model: m.name, ours, ort, ratio: ours.ms !== undefined && ort?.ms !== undefined ? +(ours.ms / ort.ms).toFixed(2) : undefined };
    rows.push(row);
    const budget = ours.weightsMb === undefined ? undefined : ours.weightsMb + ours.blobsMb + 100;
    const fmt = (ms) => (ms === undefined ? "-" : ms < 1 ? `${(ms * 1000).toFixed(1)} us` : `${ms.toFixed(2)} ms`);
    console.log(
      [
        m.name.padEnd(32),
        `ours ${fmt(ours.ms).padStart(10)}`,
        `ORT ${fmt(ort?.ms).padStart(10)}`,
        `ratio ${row.ratio === undefined ? "-" : `${row.ratio}x`}`.padEnd(12),
        ours.error ?? `RSS ${ours.peakRssMb} MB (budget ${budget?.toFixed(0)})${ort?.peakRssMb === undefined ? "" : ` ORT ${ort.peakRssMb} MB`}`,
        ort?.error === undefined ? "" : `ORT: ${ort.error}`,
        ...(ours.largest ?? []).map((c) => `\n    ${c.layer} ${c.shape}: ${c.mflop} MFLOP ${c.ms} ms ${c.gflops} GFLOP/s`),
      ].join("  "),
    );
  }
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: +(totalmem() / 2 ** 30).toFixed(0), node: process.version };
  writeFileSync(join(root, "bench/predict-results.json"), `${JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2)}\n`);
  const ratios = rows.map((r) => r.ratio).filter((r) => r !== undefined);
  if (ratios.length > 0) console.log(`ours / ONNX Runtime: median ${median(ratios)}x over ${ratios.length} models, worst ${Math.max(...ratios)}x`);
  console.log(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}; wrote bench/predict-results.json`);
}

if (argv[0] === "--child") {
  const result = argv[1] === "ours" ? await childOurs(argv[2], argv[3]) : await childOrt(argv[2], argv[3]);
  console.log(JSON.stringify(result));
} else {
  await main();
}

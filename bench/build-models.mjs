// Builds the benchmark models with the project's own codec (nothing is downloaded).
// Layer mixes follow the reference timings in docs/performance.md.
//   node bench/build-models.mjs [--large] [--many-layers]   -> bench/models/*.mlmodel
import { create } from "@bufbuild/protobuf";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { ModelSchema } from "../dist/gen/Model_pb.js";
import {
  NeuralNetworkSchema,
  NeuralNetworkLayerSchema,
  InnerProductLayerParamsSchema,
  ConvolutionLayerParamsSchema,
  BatchnormLayerParamsSchema,
  ActivationParamsSchema,
  ActivationReLUSchema,
  WeightParamsSchema,
} from "../dist/gen/NeuralNetwork_pb.js";
import { encodeModel } from "../dist/index.js";

/** Deterministic pseudo-random normal-ish weights (xorshift32 + sum of uniforms). */
function weights(count, seed) {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    let acc = 0;
    for (let k = 0; k < 3; k++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      acc += s / 4294967296;
    }
    out[i] = (acc - 1.5) * 0.1;
  }
  return out;
}
const wp = (values) => ({ ...create(WeightParamsSchema), floatValue: values });
let seed = 1;
const layer = (name, input, output, kind, value) => ({
  ...create(NeuralNetworkLayerSchema, { name, input: [input], output: [output] }),
  layer: { case: kind, value },
});
const innerProduct = (name, input, output, n) =>
  layer(name, input, output, "innerProduct", {
    ...create(InnerProductLayerParamsSchema, { inputChannels: BigInt(n), outputChannels: BigInt(n), hasBias: true }),
    weights: wp(weights(n * n, seed++)),
    bias: wp(weights(n, seed++)),
  });
const conv = (name, input, output, c) =>
  layer(name, input, output, "convolution", {
    ...create(ConvolutionLayerParamsSchema, {
      outputChannels: BigInt(c),
      kernelChannels: BigInt(c),
      nGroups: 1n,
      kernelSize: [3n, 3n],
      stride: [1n, 1n],
      dilationFactor: [1n, 1n],
      hasBias: true,
    }),
    weights: wp(weights(c * c * 9, seed++)),
    bias: wp(weights(c, seed++)),
  });
const batchnorm = (name, input, output, c) =>
  layer(name, input, output, "batchnorm", {
    ...create(BatchnormLayerParamsSchema, { channels: BigInt(c), epsilon: 1e-5 }),
    gamma: wp(weights(c, seed++).map((x) => 1 + x)),
    beta: wp(weights(c, seed++)),
    mean: wp(weights(c, seed++)),
    variance: wp(weights(c, seed++).map((x) => 1 + Math.abs(x))),
  });
const relu = (name, input, output) =>
  layer(name, input, output, "activation", create(ActivationParamsSchema, { NonlinearityType: { case: "ReLU", value: create(ActivationReLUSchema) } }));

// Many small layers (issue 11): time and memory must grow linearly with the layer count.
const tinyInnerProduct = (name, input, output) =>
  layer(name, input, output, "innerProduct", {
    ...create(InnerProductLayerParamsSchema, { inputChannels: 2n, outputChannels: 2n, hasBias: true }),
    weights: wp(weights(4, seed++)),
    bias: wp(weights(2, seed++)),
  });
function chain(count, make, prefix) {
  const layers = [];
  const blob = (i) => i.toString(36);
  for (let i = 0; i < count; i++) layers.push(make(`${prefix}${blob(i)}`, i === 0 ? "data" : blob(i - 1), blob(i)));
  return model(layers);
}

function model(layers) {
  return { ...create(ModelSchema, { specificationVersion: 4 }), Type: { case: "neuralNetwork", value: { ...create(NeuralNetworkSchema), layers } } };
}
function dense(count, n = 1024) {
  const layers = [conv("conv", "data", "c0", 64)];
  for (let i = 0; i < count; i++) layers.push(innerProduct(`fc${i}`, i === 0 ? "c0" : `f${i - 1}`, `f${i}`, n));
  return model(layers);
}
function deep(blocks) {
  const layers = [];
  let blob = "data";
  for (let i = 0; i < blocks; i++) {
    layers.push(conv(`conv${i}`, blob, `c${i}`, 16), batchnorm(`bn${i}`, `c${i}`, `b${i}`, 16), relu(`relu${i}`, `b${i}`, `r${i}`));
    blob = `r${i}`;
  }
  return model(layers);
}

const dir = new URL("./models/", import.meta.url);
mkdirSync(dir, { recursive: true });
const plans = {
  "dense-63mb": () => dense(15),
  "dense-13mb": () => dense(3),
  "deep-900": () => deep(300),
};
if (process.argv.includes("--large")) {
  // 2048x2048 layers: 16.8 MB each.
  plans["dense-500mb"] = () => dense(30, 2048);
  plans["dense-1900mb"] = () => dense(113, 2048);
}
if (process.argv.includes("--many-layers")) {
  // 1M ReLU layers (name, input, output, ReLU parameters): 23 MB. 100k innerProducts of 2 x 2 weights and a bias: 6 MB.
  plans["relu-1m"] = () => chain(1_000_000, relu, "relu");
  plans["fc-100k"] = () => chain(100_000, tinyInnerProduct, "fc");
}
for (const [name, build] of Object.entries(plans)) {
  const file = new URL(`${name}.mlmodel`, dir);
  if (existsSync(file)) continue;
  seed = 1;
  const bytes = encodeModel(build());
  writeFileSync(file, bytes);
  console.log(`${name}: ${(bytes.length / 1e6).toFixed(1)} MB`);
}

// Builds ML Program packages holding the same weights as the benchmark's neural
// networks (bench/models/*.mlmodel, built first by build-models.mjs), so the two
// formats can be timed per MB on identical values. Each innerProduct becomes a
// `linear` op reading two blob consts; the small conv in front is left out.
//   node bench/build-programs.mjs   -> bench/models/*.mlpackage
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { ModelSchema } from "../dist/gen/Model_pb.js";
import { decodeModel } from "../dist/index.js";
import { blobOffsets, decodeWeightBin, encodeWeightBin } from "../dist/mlprogram/weight-bin.js";
import { writeMlPackage } from "../dist/node/mlpackage-files.js";

const FLOAT32 = "FLOAT32";
const WEIGHT_FILE = "@model_path/weights/weight.bin";
const MANIFEST = {
  fileFormatVersion: "1.0.0",
  itemInfoEntries: {
    "bench-model": { author: "com.apple.CoreML", description: "CoreML Model Specification", name: "model.mlmodel", path: "com.apple.CoreML/model.mlmodel" },
    "bench-weights": { author: "com.apple.CoreML", description: "CoreML Model Weights", name: "weights", path: "com.apple.CoreML/weights" },
  },
  rootModelIdentifier: "bench-model",
};

const tensorType = (dataType, shape) => ({
  tensorType: { dataType, rank: String(shape.length), dimensions: shape.map((size) => ({ constant: { size: String(size) } })) },
});
const stringValue = (s) => ({ type: tensorType("STRING", []), immediateValue: { tensor: { strings: { values: [s] } } } });
const constOp = (name, shape, offset) => ({
  type: "const",
  outputs: [{ name, type: tensorType(FLOAT32, shape) }],
  attributes: { name: stringValue(name), val: { type: tensorType(FLOAT32, shape), blobFileValue: { fileName: WEIGHT_FILE, offset: String(offset) } } },
});
const linearOp = (name, x, weight, bias, width) => ({
  type: "linear",
  inputs: { x: { arguments: [{ name: x }] }, weight: { arguments: [{ name: weight }] }, bias: { arguments: [{ name: bias }] } },
  outputs: [{ name, type: tensorType(FLOAT32, [1, width]) }],
  attributes: { name: stringValue(name) },
});

/** The innerProduct layers of a model as [name, weights, bias, width]. */
function innerProducts(model) {
  return model.Type.value.layers
    .filter((layer) => layer.layer.case === "innerProduct")
    .map((layer) => [layer.name, layer.layer.value.weights.floatValue, layer.layer.value.bias.floatValue, Number(layer.layer.value.outputChannels)]);
}

function program(model) {
  const layers = innerProducts(model);
  const blobs = layers.flatMap(([, w, b]) =>
    [w, b].map((values) => ({ dataType: "float32", data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) })),
  );
  const offsets = blobOffsets(blobs);
  const operations = [];
  const width = layers[0][3];
  let x = "x";
  layers.forEach(([name, , , n], i) => {
    operations.push(
      constOp(`${name}_weight`, [n, n], offsets[2 * i]),
      constOp(`${name}_bias`, [n], offsets[2 * i + 1]),
      linearOp(name, x, `${name}_weight`, `${name}_bias`, n),
    );
    x = name;
  });
  const json = {
    specificationVersion: 9,
    description: {
      input: [{ name: "x", type: { multiArrayType: { shape: ["1", String(width)], dataType: FLOAT32 } } }],
      output: [{ name: x, type: { multiArrayType: { shape: ["1", String(width)], dataType: FLOAT32 } } }],
    },
    mlProgram: {
      version: "1",
      functions: {
        main: {
          inputs: [{ name: "x", type: tensorType(FLOAT32, [1, width]) }],
          opset: "CoreML8",
          blockSpecializations: { CoreML8: { outputs: [x], operations } },
        },
      },
    },
  };
  return { manifest: MANIFEST, model: fromJson(ModelSchema, json), weights: decodeWeightBin(encodeWeightBin(blobs)), otherFiles: new Map() };
}

for (const name of ["dense-63mb", "dense-13mb"]) {
  const target = fileURLToPath(new URL(`./models/${name}.mlpackage`, import.meta.url));
  if (existsSync(target)) continue;
  const model = decodeModel(readFileSync(fileURLToPath(new URL(`./models/${name}.mlmodel`, import.meta.url))));
  writeMlPackage(target, program(model));
  console.log(`${name}.mlpackage written`);
}

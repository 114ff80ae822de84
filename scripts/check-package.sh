#!/usr/bin/env bash
# The package as a user gets it: packed, installed from the tarball into an empty
# project, then used there the ways the README promises — the CLI, an ES module
# import, a require(), Jest, and a strict TypeScript consumer — and checked by
# @arethetypeswrong/cli. Run after `npm run build` (npm pack builds again through
# `prepare` when dist/ is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "-- pack"
npm pack --pack-destination "$work" > "$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; exit 1; }
tarball=$(ls "$work"/coreml-quantize-*.tgz)
tar -tzf "$tarball" | sed 's#^package/##' > "$work/files.txt"
for required in dist/index.js dist/cjs/index.js dist/bin/coreml-quantize.js dist/node/quantize-worker.js \
  dist/cjs/node/quantize-worker.js dist/schema.js LICENSE README.md CHANGELOG.md examples/cnn.mlmodel; do
  grep -qx "$required" "$work/files.txt" || { echo "the tarball lacks $required" >&2; exit 1; }
done
if grep -E '\.map$|^dist/cli/|^src/|^test/' "$work/files.txt"; then
  echo "the tarball holds files a user does not need (above)" >&2
  exit 1
fi
echo "$(wc -l < "$work/files.txt") files, $(du -k "$tarball" | cut -f1) KB"

echo "-- types for every resolution mode (attw)"
npx --no-install attw --pack . --profile node16 --format ascii

echo "-- install into an empty project"
consumer=$work/consumer
mkdir -p "$consumer"
cd "$consumer"
echo '{ "name": "consumer", "private": true, "version": "1.0.0" }' > package.json
npm install --no-audit --no-fund --no-save --loglevel=error "$tarball" > /dev/null
cp "$repo/examples/cnn.mlmodel" model.mlmodel

echo "-- the CLI"
npx --no-install coreml-quantize --version
npx --no-install coreml-quantize inspect model.mlmodel > /dev/null
npx --no-install coreml-quantize quantize model.mlmodel -o small.mlmodel --nbits 4 --quiet

echo "-- an ES module import"
cat > esm.mjs <<'EOF'
import { readFileSync } from "node:fs";
import { decodeModel, encodeModel, quantizeWeights } from "coreml-quantize";
import { readModelFile } from "coreml-quantize/node";
import { create } from "@bufbuild/protobuf";
import { ModelSchema } from "coreml-quantize/schema";
const model = readModelFile("model.mlmodel");
const bytes = encodeModel(quantizeWeights(model, { nbits: 8 }));
if (bytes.length >= readFileSync("model.mlmodel").length) throw new Error("8-bit model not smaller");
if (decodeModel(encodeModel(create(ModelSchema, { specificationVersion: 4 }))).specificationVersion !== 4) throw new Error("schema entry");
EOF
node esm.mjs

echo "-- require()"
cat > cjs.cjs <<'EOF'
const { quantizeWeights, isQuantizeError } = require("coreml-quantize");
const { readModelFile, quantizeWeightsParallel } = require("coreml-quantize/node");
const model = readModelFile("model.mlmodel");
quantizeWeights(model, { nbits: 4, mode: "kmeans_lut" });
try { quantizeWeights(model, { nbits: 9 }); throw new Error("nbits 9 accepted"); } catch (e) { if (!isQuantizeError(e)) throw e; }
quantizeWeightsParallel(model, { nbits: 4, mode: "kmeans_lut", threads: 2 }).catch((e) => { console.error(e); process.exit(1); });
EOF
node cjs.cjs

echo "-- Jest, with its default CommonJS module loader"
cat > model.test.cjs <<'EOF'
const { quantizeWeights, QuantizeError } = require("coreml-quantize");
const { readModelFile } = require("coreml-quantize/node");
test("quantizes", () => {
  const model = readModelFile(`${__dirname}/model.mlmodel`);
  expect(quantizeWeights(model, { nbits: 8 })).not.toBe(model);
  expect(() => quantizeWeights(model, { nbits: 0 })).toThrow(QuantizeError);
});
EOF
node "$repo/node_modules/jest/bin/jest.js" --rootDir "$consumer" --ci --silent --transform '{}' --testMatch '**/*.test.cjs' 2>&1 | tail -4

echo "-- a strict TypeScript consumer (node16 modules)"
cat > consumer.ts <<'EOF'
import { decodeModel, quantizeWeights, QuantizedLayerSelector, type Model, type NeuralNetworkLayer, type QuantizeOptions } from "coreml-quantize";
import { readModelFile, writeModelFile } from "coreml-quantize/node";
import { ModelSchema } from "coreml-quantize/schema";
import { create, toBinary } from "@bufbuild/protobuf";

class ConvolutionsOnly extends QuantizedLayerSelector {
  override doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean {
    return layer.layer.case === "convolution" && super.doQuantize(layer, weightParam);
  }
}
const options: QuantizeOptions = { nbits: 6, mode: "linear", selector: new ConvolutionsOnly() };
const model: Model = readModelFile("model.mlmodel");
writeModelFile("out.mlmodel", quantizeWeights(model, options));
const built: Model = decodeModel(toBinary(ModelSchema, create(ModelSchema, { specificationVersion: 4 })));
void built;
EOF
cat > tsconfig.json <<'EOF'
{ "compilerOptions": { "strict": true, "module": "node16", "moduleResolution": "node16", "target": "es2022",
  "noEmit": true, "skipLibCheck": false, "typeRoots": ["REPO/node_modules/@types"], "types": ["node"], "exactOptionalPropertyTypes": true, "noUncheckedIndexedAccess": true },
  "files": ["consumer.ts"] }
EOF
sed -i "s#REPO#$repo#" tsconfig.json
"$repo/node_modules/.bin/tsc" -p tsconfig.json
echo "package check passed"

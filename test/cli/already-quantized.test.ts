/**
 * Quantizing a model whose weights are quantized already changes nothing: the CLI
 * says which tensors it left as they are and why, and exits 0.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "../../src/cli/run.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import { quantizeWeights, type TensorLeft } from "../../src/quantize/quantize-weights.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { weightStorage } from "../../src/codec/weight-storage.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import { cli } from "../support/cli.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";

let root = "";
let quantized8 = "";
let half = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "coreml-quantize-already-"));
  const mlp = decodeModel(readFileSync(join(GOLDEN_MODELS_DIR, "mlp.mlmodel")));
  quantized8 = join(root, "mlp.linear8.mlmodel");
  writeFileSync(quantized8, encodeModel(quantizeWeights(mlp, { nbits: 8 })));
  half = join(root, "mlp.fp16.mlmodel");
  writeFileSync(half, encodeModel(quantizeWeights(mlp, { nbits: 16 })));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The "left as they are" line of the output. */
const leftLine = (stdout: string): string => stdout.split("\n").find((l) => l.startsWith("left as they are: ")) ?? "";

describe("quantize on already-quantized weights", () => {
  test("8-bit linear weights at --nbits 4: nothing changes, each tensor is named with why, exit 0", async () => {
    const r = await cli(["quantize", quantized8, "-o", join(root, "out4.mlmodel"), "--nbits", "4"]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain("0 layers (0 tensors) changed");
    const line = leftLine(r.stdout);
    expect(line).toMatch(/layers\[\d+\] "[^"]+"\/weights \(already 8-bit linear; dequantize first to requantize\)/);
    // Every quantized weight tensor of the input is named, once.
    const named = line.match(/\(already 8-bit linear; dequantize first to requantize\)/g) ?? [];
    const quantizedTensors = allLayers(decodeModel(readFileSync(quantized8)))
      .flatMap((l) => layerWeights(l.layer))
      .filter((ref) => weightStorage(ref.weightParams).kind === "linear");
    expect(quantizedTensors.length).toBeGreaterThan(0);
    expect(named.length).toBe(quantizedTensors.length);
    // The line comes after the summary and the report.
    expect(r.stdout.indexOf("left as they are: ")).toBeGreaterThan(r.stdout.indexOf("changed"));
  });

  test("--nbits auto leaves them too, and says so", async () => {
    const r = await cli(["quantize", quantized8, "-o", join(root, "outauto.mlmodel"), "--nbits", "auto"]);
    expect(r.code).toBe(EXIT.ok);
    expect(leftLine(r.stdout)).toContain("(already 8-bit linear; dequantize first to requantize)");
  });

  test("half-precision weights at --nbits 16 are named as already half precision", async () => {
    const r = await cli(["quantize", half, "-o", join(root, "out16.mlmodel"), "--nbits", "16"]);
    expect(r.code).toBe(EXIT.ok);
    expect(leftLine(r.stdout)).toMatch(/\/weights \(already half precision\)/);
  });

  test("a float32 model prints no such line", async () => {
    const r = await cli(["quantize", join(GOLDEN_MODELS_DIR, "mlp.mlmodel"), "-o", join(root, "outf.mlmodel"), "--nbits", "8"]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).not.toContain("left as they are");
  });

  test("the library reports the same through onTensorLeft, matching the tensors that stay", () => {
    const input = decodeModel(readFileSync(quantized8));
    const left: TensorLeft[] = [];
    const decided: string[] = [];
    quantizeWeights(input, { nbits: 4, mode: "kmeans_lut", onTensor: (d) => decided.push(d.path), onTensorLeft: (l) => left.push(l) });
    expect(decided).toEqual([]);
    expect(left.length).toBeGreaterThan(0);
    for (const l of left)
      expect(l).toEqual({
        path: expect.stringMatching(/^model\//),
        storage: "linear",
        nbits: 8,
        reason: "already 8-bit linear; dequantize first to requantize",
      });
  });
});

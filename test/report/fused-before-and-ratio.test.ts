/**
 * The report's "before" side of fused tensors is the original's storage (a
 * float16 model's fused weights are not counted as float32), and a quantized model
 * larger than its original is said to be larger.
 */
import type { Model } from "../../src/codec/model-types.js";
import { storedByteLength, weightStorage } from "../../src/codec/weight-storage.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { formatReport } from "../../src/report/format-report.js";
import { weightReport } from "../../src/report/weight-report.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";
import { loadGolden as golden } from "../support/golden.js";

/** Storage kind and bytes of every tensor of `model`, keyed `layer name/field` (names are unique in these models). */
function storagesByName(model: Model): Map<string, { storage: string; bytes: number }> {
  const out = new Map<string, { storage: string; bytes: number }>();
  for (const { layer } of allLayers(model)) {
    for (const ref of layerWeights(layer)) {
      out.set(`${layer.name}/${ref.field}`, { storage: weightStorage(ref.weightParams).kind, bytes: storedByteLength(ref.weightParams) });
    }
  }
  return out;
}

describe("report: before of fused tensors", () => {
  test("a float16 model quantized to 8 bits: fused tensors count their float16 bytes before, as every other", () => {
    const half = quantizeWeights(golden("cnn"), { nbits: 16 });
    const report = weightReport(half, quantizeWeights(half, { nbits: 8 }));
    const fused = report.tensors.filter((t) => t.fused);
    expect(fused.length).toBeGreaterThan(0);
    const original = storagesByName(half);
    for (const t of fused) {
      const source = original.get(`${t.layer}/${t.field}`);
      if (source === undefined) continue; // a bias fusion made: no original tensor
      expect({ path: `${t.layerPath}/${t.field}`, storage: t.before.storage, bytes: t.before.bytes }).toEqual({
        path: `${t.layerPath}/${t.field}`,
        storage: "float16",
        bytes: source.bytes,
      });
    }
    expect(fused.some((t) => t.before.storage === "float16" && t.field === "weights")).toBe(true);
  });

  test("mixed float16/float32 model: every fused tensor's before is the original model's storage of it", () => {
    const input = golden("mixed_fp16");
    const report = weightReport(input, quantizeWeights(input, { nbits: 8 }));
    const original = storagesByName(input);
    const fused = report.tensors.filter((t) => t.fused && original.has(`${t.layer}/${t.field}`));
    expect(fused.length).toBeGreaterThan(0);
    for (const t of fused) expect({ storage: t.before.storage, bytes: t.before.bytes }).toEqual(original.get(`${t.layer}/${t.field}`));
  });

  test("a float32 model: fused tensors still count float32 bytes (unchanged)", () => {
    const input = golden("cnn");
    const report = weightReport(input, quantizeWeights(input, { nbits: 8 }));
    for (const t of report.tensors.filter((x) => x.fused)) expect(t.before.storage).toBe("float32");
  });
});

describe("report: the ratio of a larger model", () => {
  test("comparing a larger model with a smaller one says how many times larger, not a fraction smaller", () => {
    const input = golden("cnn");
    const small = quantizeWeights(input, { nbits: 4, fuse: false });
    const report = weightReport(small, input);
    expect(report.totals.ratio).toBeLessThan(1);
    const times = (1 / (report.totals.ratio as number)).toFixed(1);
    const text = formatReport(report);
    expect(text).toContain(`(${times}x larger)`);
    expect(text).not.toMatch(/x smaller/);
  });

  test("a smaller model is still said to be smaller", () => {
    const input = golden("cnn");
    const text = formatReport(weightReport(input, quantizeWeights(input, { nbits: 4, fuse: false })));
    expect(text).toMatch(/\(\d+\.\d\dx smaller\)/);
    expect(text).not.toContain("larger");
  });
});

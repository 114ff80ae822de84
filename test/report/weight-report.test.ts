/**
 * weightReport on the golden set: every (input, output) pair of the reference
 * against a straightforward computation over the walk of test/walker/helpers
 * (against the reference's fused model where it fused), fused layers, half
 * precision, identical and dequantized models, totals, and refusals.
 */
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { storedByteLength } from "../../src/codec/weight-storage.js";
import { readWeights } from "../../src/walker/read-weights.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { weightReport, type TensorReport, type WeightReport } from "../../src/report/weight-report.js";
import { layerWeights } from "../../src/walker/weights.js";
import { buildModel, floats, walkLayers } from "../walker/helpers.js";
import { expectDb, straightforward } from "./helpers.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";
import { type GoldenCase, goldenCases, loadGolden, loadGoldenFile } from "../support/golden.js";

const cases = goldenCases().filter((c): c is GoldenCase & { expected: string } => c.expected !== undefined);
const quantizing = cases.filter((c) => c.mode !== "dequantization");

const key = (t: Pick<TensorReport, "layerPath" | "field">): string => `${t.layerPath}/${t.field}`;
const sumBytes = (model: Model): number =>
  walkLayers(model).reduce((s, { layer }) => s + layerWeights(layer).reduce((a, r) => a + storedByteLength(r.weightParams), 0), 0);

/** The reference's fused model when it fused anything in `quantized`, else the input. */
function baseOf(c: GoldenCase, input: Model, quantized: Model): Model {
  if (walkLayers(quantized).length === walkLayers(input).length || c.fused === undefined) return input;
  return loadGoldenFile(c.fused);
}

/** The measures of every tensor present in both, walked independently, keyed by path/field. */
function independent(base: Model, quantized: Model): Map<string, ReturnType<typeof straightforward> & { count: number }> {
  const baseLayers = walkLayers(base);
  const out = new Map<string, ReturnType<typeof straightforward> & { count: number }>();
  walkLayers(quantized).forEach(({ path, layer }, i) => {
    const baseLayer = (baseLayers[i] as { layer: NeuralNetworkLayer }).layer;
    expect(baseLayer.name).toBe(layer.name);
    const baseRefs = new Map(layerWeights(baseLayer).map((r) => [r.field, r]));
    for (const ref of layerWeights(layer)) {
      const b = baseRefs.get(ref.field);
      if (b === undefined) continue;
      const x = readWeights(b.weightParams, { shape: b.shape, axis: b.axis });
      const y = readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis });
      if (x.length === 0) continue;
      out.set(`${path}/${ref.field}`, { ...straightforward(x, y), count: x.length });
    }
  });
  return out;
}

describe.each(quantizing.map((c) => [c.id, c] as const))("golden %s", (_id, c) => {
  test("SNR, PSNR, max error and cosine agree with a straightforward computation; totals add up", () => {
    const input = loadGoldenFile(c.input);
    const quantized = loadGoldenFile(c.expected);
    const report = weightReport(input, quantized);
    const want = independent(baseOf(c, input, quantized), quantized);
    expect(report.tensors.map(key)).toEqual([...want.keys()]);
    let weighted = 0;
    let weight = 0;
    for (const t of report.tensors) {
      const w = want.get(key(t));
      if (w === undefined) throw new Error(`unexpected ${key(t)}`);
      expect(t.count).toBe(w.count);
      expectDb(t.snrDb, w.snrDb);
      expectDb(t.psnrDb, w.psnrDb);
      expect(t.maxAbsError).toBe(w.maxAbsError);
      expect(Math.abs(t.cosine - w.cosine)).toBeLessThanOrEqual(1e-9);
      expect(t.exact).toBe(w.maxAbsError === 0);
      if (Number.isFinite(w.snrDb)) {
        weighted += w.snrDb * w.count;
        weight += w.count;
      }
    }
    const { totals } = report;
    expect(totals.tensors).toBe(want.size);
    expect(totals.values).toBe([...want.values()].reduce((s, w) => s + w.count, 0));
    expect(totals.bytesBefore).toBe(sumBytes(input));
    expect(totals.bytesAfter).toBe(sumBytes(quantized));
    expect(totals.ratio).toBe(totals.bytesBefore / totals.bytesAfter);
    if (weight === 0) expect(totals.meanSnrDb).toBeNull();
    else expect(Math.abs((totals.meanSnrDb as number) - weighted / weight)).toBeLessThanOrEqual(0.01);
    expect(totals.exactTensors).toBe(report.tensors.filter((t) => t.exact).length);
  });

  test("fused layers: the report against the input equals the report against the reference's fused model", () => {
    const quantized = loadGoldenFile(c.expected);
    const fromInput = weightReport(loadGoldenFile(c.input), quantized);
    // Only where the reference fused (not at 16 bits, not for int8 matmul).
    if (c.fused === undefined || !fromInput.tensors.some((t) => t.fused)) return;
    const fromFused = new Map(weightReport(loadGoldenFile(c.fused), quantized).tensors.map((t) => [key(t), t]));
    for (const t of fromInput.tensors.filter((x) => x.fused)) {
      const { fused: _a, before: _b, ...measures } = t;
      const other = fromFused.get(key(t));
      expect(other).toBeDefined();
      const { fused: _c, before: _d, ...otherMeasures } = other as TensorReport;
      expect(measures).toEqual(otherMeasures);
    }
  });
});

describe("fusion", () => {
  test.each(["cnn", "mixed_fp16", "mlp"])("%s: the golden set exercises fused layers (the per-case fused test is not vacuous)", (name) => {
    const report = weightReport(loadGolden(name), loadGoldenFile(`expected/${name}.linear.4.mlmodel`));
    expect(report.tensors.filter((t) => t.fused).length).toBeGreaterThan(0);
  });

  test("cnn: conv1 absorbed bn1 and conv2 absorbed scale2; both are marked fused and compared as fused", () => {
    const report = weightReport(loadGolden("cnn"), loadGoldenFile("expected/cnn.linear.8.mlmodel"));
    const fusedLayers = [...new Set(report.tensors.filter((t) => t.fused).map((t) => t.layer))];
    expect(fusedLayers).toEqual(["conv1", "conv2"]);
    // conv2 had no bias; fusing scale2 (with a bias) gave it one, present in both.
    expect(report.tensors.some((t) => t.layer === "conv2" && t.field === "bias")).toBe(true);
    expect(report.tensors.some((t) => t.layer === "bn1")).toBe(false);
    // 8 bits per channel: 40 dB or better, or exact (a channel of one value is on its grid).
    for (const t of report.tensors) expect(t.exact || (t.snrDb as number) > 40).toBe(true);
  });

  test("a model quantized without fusion is compared layer for layer", () => {
    const input = loadGolden("cnn");
    const report = weightReport(input, quantizeWeights(input, { nbits: 8, fuse: false }));
    expect(report.tensors.some((t) => t.fused)).toBe(false);
    expect(report.tensors.some((t) => t.layer === "bn1")).toBe(true);
  });

  test("fuse: 'never' refuses a fused model, naming the first difference", () => {
    expectQuantizeError(
      () => weightReport(loadGolden("cnn"), loadGoldenFile("expected/cnn.linear.8.mlmodel"), { fuse: "never" }),
      "models-differ",
      "layers[1]",
      '"bn1" (batchnorm)',
      '"relu1" (activation)',
    );
  });

  test("nested branch and loop bodies are matched", () => {
    const report = weightReport(loadGolden("control_flow"), loadGoldenFile("expected/control_flow.linear.4.mlmodel"));
    expect(report.tensors.map((t) => t.layer)).toContain("nested_fc");
    expect(report.tensors.find((t) => t.layer === "nested_fc")?.layerPath).toBe(
      'model/neuralNetwork/layers[3] "loop"/bodyNetwork/layers[1] "nested_branch"/ifBranch/layers[0] "nested_fc"',
    );
  });
});

describe("half precision", () => {
  const halves = cases.filter((c) => c.nbits === 16);
  test.each(halves.map((c) => [c.id, c] as const))("%s: every float16 tensor has an SNR of at least 60 dB", (_id, c) => {
    const report = weightReport(loadGoldenFile(c.input), loadGoldenFile(c.expected));
    const half = report.tensors.filter((t) => t.after.storage === "float16" && t.before.storage === "float32");
    expect(half.length).toBeGreaterThan(0);
    for (const t of half) {
      if (t.exact) continue;
      // Rounding to 11 significant bits: relative error <= 2^-11 per value, so >= 66 dB
      // unless values are in float16's subnormal range.
      expect(t.snrDb).toBeGreaterThanOrEqual(60);
      expect(t.cosine).toBeGreaterThan(0.999999);
    }
  });
});

describe("exact comparisons", () => {
  const inputs = [...new Set(cases.map((c) => c.input))].filter((f) => f.startsWith("models/"));
  test.each(inputs)("%s against itself: every tensor exact", (file) => {
    const model = loadGoldenFile(file);
    const report = weightReport(model, loadGoldenFile(file));
    expect(report.tensors.length).toBeGreaterThan(0);
    for (const t of report.tensors) {
      expect(t).toMatchObject({ exact: true, snrDb: null, psnrDb: null, maxAbsError: 0, cosine: 1 });
      expect(t.after).toEqual(t.before);
    }
    expect(report.totals).toMatchObject({ meanSnrDb: null, minSnrDb: null, ratio: 1, exactTensors: report.tensors.length });
  });

  const dequantized = cases.filter((c) => c.mode === "dequantization");
  test.each(dequantized.map((c) => [c.id, c] as const))("%s: dequantizing loses nothing", (_id, c) => {
    const report = weightReport(loadGoldenFile(c.input), loadGoldenFile(c.expected));
    for (const t of report.tensors) expect(t.exact).toBe(true);
  });
});

describe("the report", () => {
  test("is plain data: JSON keeps it whole", () => {
    const report = weightReport(loadGolden("cnn"), loadGoldenFile("expected/cnn.kmeans_lut.2.mlmodel"));
    expect(JSON.parse(JSON.stringify(report)) as WeightReport).toEqual(report);
  });

  test("describes storage and bytes on both sides", () => {
    const report = weightReport(loadGolden("mlp"), loadGoldenFile("expected/mlp.linear_lut.3.mlmodel"));
    for (const t of report.tensors) {
      expect(t.before.storage).toBe("float32");
      expect(t.before.bytes).toBe(t.count * 4);
      expect(t.after).toMatchObject({ storage: "lut", nbits: 3 });
      expect(t.after.bytes).toBe(Math.ceil((t.count * 3) / 8) + 8 * 4);
    }
  });

  test("leaves both models unchanged", () => {
    const input = loadGolden("cnn");
    const quantized = loadGoldenFile("expected/cnn.linear.4.mlmodel");
    const [a, b] = [encodeModel(input), encodeModel(quantized)];
    weightReport(input, quantized);
    expect(encodeModel(input)).toEqual(a);
    expect(encodeModel(quantized)).toEqual(b);
  });

  test("minSnrDb is the lowest finite SNR", () => {
    const report = weightReport(loadGolden("cnn"), loadGoldenFile("expected/cnn.linear.2.mlmodel"));
    const finite = report.tensors.flatMap((t) => (t.snrDb === null ? [] : [t.snrDb]));
    expect(report.totals.minSnrDb).toBe(Math.min(...finite));
  });
});

describe("refusals", () => {
  const fc = (name: string, n: number) => ({
    name,
    input: ["x"],
    output: [`${name}_out`],
    layer: { case: "innerProduct" as const, value: { inputChannels: 2n, outputChannels: BigInt(n / 2), weights: floats(n) } },
  });
  const network = (...layers: ReturnType<typeof fc>[]): Model => buildModel({ specificationVersion: 4, Type: { case: "neuralNetwork", value: { layers } } });

  test("models of different networks, naming the first different layer", () => {
    expectQuantizeError(() => weightReport(loadGolden("cnn"), loadGolden("mlp")), "models-differ", "do not correspond", "layers[0]");
    expectQuantizeError(
      () => weightReport(network(fc("a", 4), fc("b", 4)), network(fc("a", 4), fc("c", 4))),
      "models-differ",
      "model/neuralNetwork/layers[1]",
      '"b" (innerProduct)',
      '"c" (innerProduct)',
    );
  });

  test("a network with more layers than the original", () => {
    expectQuantizeError(
      () => weightReport(network(fc("a", 4)), network(fc("a", 4), fc("b", 4))),
      "models-differ",
      "layers[1]",
      "the original has 1 layers",
      'quantized "b"',
    );
  });

  test("different model kinds and pipeline lengths", () => {
    expectQuantizeError(() => weightReport(loadGolden("cnn"), loadGolden("pipeline")), "models-differ", "neuralNetwork", "pipeline");
    expectQuantizeError(() => weightReport(loadGolden("classifier"), loadGolden("cnn")), "models-differ", "neuralNetworkClassifier");
  });

  test("a tensor of another shape", () => {
    expectQuantizeError(() => weightReport(network(fc("a", 4)), network(fc("a", 6))), "models-differ", '"a"/weights', "shape");
  });

  test("an unknown fuse option", () => {
    expectQuantizeError(() => weightReport(network(fc("a", 4)), network(fc("a", 4)), { fuse: "always" as "auto" }), "invalid-option", "fuse");
  });

  test("a model without a neural network", () => {
    const empty = buildModel({ specificationVersion: 4 });
    expectQuantizeError(() => weightReport(empty, empty), "unsupported-model");
  });
});

/**
 * The size-against-SNR chart, measured in the worker: each point is what the
 * library gives when called directly at that setting.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import { isQuantizeError } from "../../src/errors.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { inspectModel } from "../../src/inspect-model.js";
import { quantizeWeights, type QuantizeOptions } from "../../src/quantize/quantize-weights.js";
import { weightReport } from "../../src/report/weight-report.js";
import { AdvancedQuantizedLayerSelector } from "../../src/selectors.js";
import { handleWorkerRequest } from "../../src/worker/handle-worker-request.js";
import { SIZE_SNR_SETTINGS, sizeSnrChart, type SizeSnrChartOptions, type SizeSnrProgress, type SizeSnrSetting } from "../../src/worker/size-snr-chart.js";
import type { WorkerReply } from "../../src/worker/worker-messages.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";

const golden = (file: string): Uint8Array => new Uint8Array(readFileSync(join(GOLDEN_MODELS_DIR, file)));

/** The quantizeWeights options of one setting. */
const optionsAt = (setting: SizeSnrSetting): QuantizeOptions => (setting.series === "float16" ? { nbits: 16 } : { nbits: setting.nbits, mode: setting.series });

/** One point measured by calling the library directly. */
function measuredDirectly(file: string, setting: SizeSnrSetting, shared: Omit<SizeSnrChartOptions, "onProgress">): unknown {
  const model = decodeModel(golden(file));
  const quantized = quantizeWeights(model, { ...shared, ...optionsAt(setting) });
  const { totals } = weightReport(model, quantized);
  return {
    ...setting,
    fileBytes: encodeModel(quantized).byteLength,
    weightBytes: totals.bytesAfter,
    meanSnrDb: totals.meanSnrDb,
    minSnrDb: totals.minSnrDb,
  };
}

test("the settings: float16, then linear, linear_lut and kmeans_lut at 1..8 bits", () => {
  expect(SIZE_SNR_SETTINGS).toHaveLength(25);
  expect(SIZE_SNR_SETTINGS[0]).toEqual({ series: "float16", nbits: 16 });
  expect(SIZE_SNR_SETTINGS.filter((s) => s.series === "kmeans_lut").map((s) => s.nbits)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
});

describe.each<[string, string, Omit<SizeSnrChartOptions, "onProgress">]>([
  ["cnn.mlmodel", "default options", {}],
  [
    "fusion_edges.mlmodel",
    "an advanced selector, no fusion",
    {
      fuse: false,
      selector: new AdvancedQuantizedLayerSelector({ skipLayerTypes: ["innerProduct"], minimumConvWeightCount: 1 }),
    },
  ],
])("%s with %s", (file, _what, shared) => {
  const chart = sizeSnrChart(decodeModel(golden(file)), shared);

  test("every point is what quantizeWeights, weightReport and encodeModel give at its setting", () => {
    expect(chart.refused).toEqual([]);
    expect(chart.points.map(({ series, nbits }) => ({ series, nbits }))).toEqual(SIZE_SNR_SETTINGS);
    for (const [i, setting] of SIZE_SNR_SETTINGS.entries()) expect(chart.points[i]).toEqual(measuredDirectly(file, setting, shared));
  });

  test("the model's own size and weight bytes", () => {
    const model = decodeModel(golden(file));
    expect(chart.fileBytes).toBe(encodeModel(model).byteLength);
    expect(chart.weightBytes).toBe(inspectModel(model).totals.bytes);
  });
});

test("the options change the points (an advanced selector skipping every layer type leaves the model exact)", () => {
  const skipAll = sizeSnrChart(decodeModel(golden("cnn.mlmodel")), {
    selector: new AdvancedQuantizedLayerSelector({
      skipLayerTypes: ["convolution", "innerProduct", "batchnorm", "bias", "scale", "embedding", "embeddingND", "loadConstant", "loadConstantND"],
    }),
  });
  expect(skipAll.points.every((p) => p.meanSnrDb === null)).toBe(true);
});

test("a setting the library refuses is listed as refused, the others measured; with clamp it is measured", () => {
  const model = decodeModel(golden("fp16_overflow.mlmodel"));
  let expected = "";
  try {
    quantizeWeights(model, { nbits: 16 });
  } catch (error) {
    if (isQuantizeError(error)) expected = error.message;
  }
  expect(expected).toMatch(/65504/);
  const chart = sizeSnrChart(model);
  expect(chart.refused).toEqual([{ series: "float16", nbits: 16, message: expected }]);
  expect(chart.points).toHaveLength(SIZE_SNR_SETTINGS.length - 1);
  const clamped = sizeSnrChart(model, { float16Overflow: "clamp" });
  expect(clamped.refused).toEqual([]);
  expect(clamped.points[0]).toEqual(measuredDirectly("fp16_overflow.mlmodel", { series: "float16", nbits: 16 }, { float16Overflow: "clamp" }));
});

test("progress: within each setting below 1, after each setting its count, ending at the total", () => {
  const progress: SizeSnrProgress[] = [];
  sizeSnrChart(decodeModel(golden("cnn.mlmodel")), { onProgress: (p) => progress.push(p) });
  const after = progress.filter((p) => p.fraction === undefined);
  expect(after.map((p) => p.done)).toEqual(SIZE_SNR_SETTINGS.map((_, i) => i + 1));
  expect(progress.every((p) => p.total === SIZE_SNR_SETTINGS.length)).toBe(true);
  const within = progress.filter((p) => p.fraction !== undefined);
  expect(within.length).toBeGreaterThan(SIZE_SNR_SETTINGS.length);
  expect(within.every((p) => (p.fraction ?? -1) >= 0 && (p.fraction ?? 1) < 1)).toBe(true);
  // Never backwards.
  const overall = progress.map((p) => p.done + (p.fraction ?? 0));
  expect(overall).toEqual([...overall].sort((a, b) => a - b));
});

describe("the worker's chart request", () => {
  const answer = (request: Parameters<typeof handleWorkerRequest>[0]): WorkerReply[] => {
    const replies: WorkerReply[] = [];
    handleWorkerRequest(request, (reply) => replies.push(reply));
    return replies;
  };

  test("replies chart-progress, then charted with the library's chart; the posted options apply", () => {
    const replies = answer({
      type: "chart",
      id: 9,
      name: "cnn.mlmodel",
      bytes: golden("cnn.mlmodel"),
      options: { fuse: false, selector: { kind: "advanced", skipLayerTypes: ["bias"] } },
    });
    const last = replies.at(-1);
    expect(last?.type).toBe("charted");
    expect(replies.slice(0, -1).every((r) => r.type === "chart-progress" && r.id === 9)).toBe(true);
    const expected = sizeSnrChart(decodeModel(golden("cnn.mlmodel")), {
      fuse: false,
      selector: new AdvancedQuantizedLayerSelector({ skipLayerTypes: ["bias"] }),
    });
    expect(last).toEqual({ type: "charted", id: 9, chart: expected });
    // Not the default options' chart.
    expect(expected).not.toEqual(sizeSnrChart(decodeModel(golden("cnn.mlmodel"))));
  });

  test("an ML Program fails once, with the CLI's message", () => {
    const program = toBinary(ModelSchema, create(ModelSchema, { specificationVersion: 7, Type: { case: "mlProgram", value: {} } }));
    const replies = answer({ type: "chart", id: 2, name: "p.mlmodel", bytes: program, options: {} });
    expect(replies).toEqual([{ type: "failed", id: 2, error: { code: "unsupported-model", message: expect.stringMatching(/^this is an ML Program/) } }]);
  });

  test("refused options fail with the selector's message", () => {
    const replies = answer({
      type: "chart",
      id: 3,
      name: "cnn.mlmodel",
      bytes: golden("cnn.mlmodel"),
      options: { selector: { kind: "advanced", skipLayerTypes: ["conv"] } },
    });
    expect(replies).toEqual([
      { type: "failed", id: 3, error: { code: "invalid-option", message: expect.stringMatching(/unknown layer type to skip: "conv"/) } },
    ]);
  });
});

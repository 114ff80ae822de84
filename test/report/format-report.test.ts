/**
 * formatReport and reportJson: the table's columns and labels (storage, bytes,
 * exact / inf / -inf), the fused and non-finite notes, the totals line.
 */
import { formatBytes } from "../../src/report/format-table.js";
import { formatReport, reportJson } from "../../src/report/format-report.js";
import { weightReport, type ReportTotals, type TensorReport, type WeightReport } from "../../src/report/weight-report.js";
import { loadGolden, loadGoldenFile } from "../support/golden.js";

const tensor = (fields: Partial<TensorReport>): TensorReport => ({
  networkPath: "model/neuralNetwork",
  layerPath: 'model/neuralNetwork/layers[0] "fc"',
  layer: "fc",
  kind: "innerProduct",
  field: "weights",
  shape: [4, 2],
  fused: false,
  before: { storage: "float32", bytes: 32 },
  after: { storage: "linear", nbits: 4, bytes: 12 },
  count: 8,
  nonFinite: 0,
  exact: false,
  snrDb: 24.04,
  psnrDb: 30,
  maxAbsError: 0.1,
  cosine: 0.99,
  ...fields,
});

const totals = (fields: Partial<ReportTotals> = {}): ReportTotals => ({
  tensors: 1,
  values: 8,
  bytesBefore: 32,
  bytesAfter: 12,
  ratio: 32 / 12,
  meanSnrDb: 24.04,
  minSnrDb: 24.04,
  exactTensors: 0,
  exactValues: 0,
  ...fields,
});

describe("formatReport", () => {
  test("one row: layer path without 'model/', field, storage and bytes before -> after, SNR to 0.1 dB", () => {
    expect(formatReport({ tensors: [tensor({})], totals: totals() }).split("\n")).toEqual([
      "layer                         field    storage                         bytes      SNR",
      'neuralNetwork/layers[0] "fc"  weights  float32 -> 4-bit linear  32 B -> 12 B  24.0 dB',
      "",
      // Wrapped at "; " to fit 100 columns, the rest indented under the first part.
      "total: 1 tensor (0 exact); weights 32 B -> 12 B (2.67x smaller);",
      "       SNR 24.0 dB mean by size (exact tensors left out), 24.0 dB lowest",
      "",
    ]);
  });

  test.each([
    [{ exact: true, snrDb: null, maxAbsError: 0 }, "exact"],
    [{ exact: false, snrDb: null, maxAbsError: 0, nonFinite: 1 }, "inf"],
    [{ exact: false, snrDb: null, maxAbsError: 0.5 }, "-inf"],
    [{ snrDb: -3.04 }, "-3.0 dB"],
  ] as const)("SNR cell for %j: %s", (fields, label) => {
    const row = formatReport({ tensors: [tensor(fields)], totals: totals() }).split("\n")[1] as string;
    expect(row.endsWith(`  ${label}`)).toBe(true);
  });

  test.each([
    [{ storage: "lut", nbits: 2, bytes: 20 }, "2-bit LUT"],
    [{ storage: "float16", bytes: 16 }, "float16"],
    [{ storage: "int8", bytes: 12 }, "int8"],
  ] as const)("storage label for %j: %s", (after, label) => {
    const row = formatReport({ tensors: [tensor({ after })], totals: totals() }).split("\n")[1] as string;
    expect(row).toContain(`float32 -> ${label}`);
    expect(row).toContain(`32 B -> ${formatBytes(after.bytes)}`);
  });

  test("fused layers are starred and explained; non-finite values are noted", () => {
    const text = formatReport({
      tensors: [tensor({ fused: true }), tensor({ field: "bias", nonFinite: 2 }), tensor({ field: "x", nonFinite: 1 })],
      totals: totals({ tensors: 3 }),
    });
    expect(text).toContain('neuralNetwork/layers[0] "fc" *  weights');
    expect(text).toContain("* fused layer: compared against the original's weights with batchnorm/scale/bias folded in");
    expect(text).toContain("2 tensors with NaN or infinite values");
  });

  test("no tensors, no finite SNR, no bytes after", () => {
    const empty: WeightReport = { tensors: [], totals: totals({ tensors: 0, values: 0, bytesAfter: 0, ratio: null, meanSnrDb: null, minSnrDb: null }) };
    expect(formatReport(empty)).toBe("no weight tensor in both models\n\ntotal: 0 tensors (0 exact); weights 32 B -> 0 B\n");
  });

  test("a golden report: one row per tensor, in order", () => {
    const report = weightReport(loadGolden("cnn"), loadGoldenFile("expected/cnn.linear.3.mlmodel"));
    const lines = formatReport(report).trimEnd().split("\n");
    // The totals take two lines at 100 columns.
    expect(lines).toHaveLength(1 + report.tensors.length + 1 + 3);
    report.tensors.forEach((t, i) => {
      // cnn's table is one column too wide whole: its longest name loses its middle.
      expect(lines[i + 1]).toContain(t.layer === "deconv5_grouped" ? '"deconv…grouped"' : `"${t.layer}"`);
      expect(lines[i + 1]).toContain("3-bit linear");
    });
  });
});

describe("reportJson", () => {
  test("two-space JSON of the report, newline-terminated, parsing back to it", () => {
    const report = weightReport(loadGolden("mlp"), loadGoldenFile("expected/mlp.linear.16.mlmodel"));
    const text = reportJson(report);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "tensors": [');
    expect(JSON.parse(text)).toEqual(report);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../../src/codec/decode-model.js";
import { quantizeWeights, type TensorDecision } from "../../src/quantize/quantize-weights.js";
import { weightReport } from "../../src/report/weight-report.js";
import { withDecisions } from "../../src/report/with-decisions.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";

const model = decodeModel(new Uint8Array(readFileSync(join(GOLDEN_MODELS_DIR, "cnn.mlmodel"))));

test("each tensor gets the decision made for its path; the others and the report are left as they are", () => {
  const decisions = new Map<string, TensorDecision>();
  const output = quantizeWeights(model, { nbits: "auto", targetSnrDb: 30, onTensor: (d) => decisions.set(d.path, d) });
  const report = weightReport(model, output);
  const [first] = decisions.keys();
  if (first === undefined) throw new Error("no decision");
  const one = new Map([[first, decisions.get(first) as TensorDecision]]);
  const before = JSON.stringify(report);

  const attached = withDecisions(report, one);
  expect(JSON.stringify(report)).toBe(before);
  const withOne = attached.tensors.filter((t) => "decision" in t);
  expect(withOne).toHaveLength(1);
  expect(`${withOne[0]?.layerPath}/${withOne[0]?.field}`).toBe(first);
  expect((withOne[0] as { decision?: unknown }).decision).toEqual(decisions.get(first));
  expect(attached.tensors.filter((t) => !("decision" in t)).every((t) => report.tensors.includes(t))).toBe(true);
  expect(attached.totals).toBe(report.totals);

  expect(withDecisions(report, decisions).tensors.every((t) => "decision" in t)).toBe(true);
  expect(withDecisions(report, new Map())).toBe(report);
});

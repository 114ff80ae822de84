/**
 * Progress within a long tensor: k-means and nbits "auto" report the part of the
 * tensor under way (`fraction`) between the per-tensor reports, which stay as they were.
 */
import { quantizeWeights, type Progress, type QuantizeOptions } from "../src/quantize/quantize-weights.js";
import { loadGolden } from "./support/golden.js";

const cnn = loadGolden("cnn");

describe("progress within a tensor", () => {
  for (const [name, options] of [
    ["k-means", { nbits: 6, mode: "kmeans_lut" }],
    ["auto", { nbits: "auto", targetSnrDb: 45 }],
  ] as const) {
    test(`${name}: reports fractions of the tensor under way, and one report per tensor without`, () => {
      const reports: Progress[] = [];
      quantizeWeights(cnn, { ...(options as QuantizeOptions), onProgress: (p) => reports.push(p) });
      const within = reports.filter((p) => p.fraction !== undefined);
      const after = reports.filter((p) => p.fraction === undefined);
      expect(within.length).toBeGreaterThan(0);
      expect(after.map((p) => p.done)).toEqual(after.map((_, i) => i + 1));
      for (const p of within) {
        expect(p.fraction).toBeGreaterThan(0);
        expect(p.fraction).toBeLessThan(1);
        // The tensor under way is the next one reported done.
        const next = after.find((a) => a.done === p.done + 1);
        expect(next?.path).toBe(p.path);
      }
    });
  }
});

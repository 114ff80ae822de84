/**
 * nbits "auto" and float16Overflow: every chosen tensor meets the target (SNR
 * recomputed here, independently of src/report), the choice is the smallest width
 * that does, and overflowing half-precision tensors are handled as asked.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { propertySeed } from "../support/property-seed.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model } from "../../src/codec/model-types.js";
import { storedByteLength, weightStorage } from "../../src/codec/weight-storage.js";
import { readWeights } from "../../src/walker/read-weights.js";
import { chooseTensorStorage } from "../../src/quantize/auto-bits.js";
import { isQuantizeError } from "../../src/errors.js";
import { quantizeWeights, type TensorDecision } from "../../src/quantize/quantize-weights.js";
import { model as modelArbitrary } from "../../src/testing/model.js";
import { fuseLayers } from "../../src/walker/fuse.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights } from "../../src/walker/weights.js";

const golden = (name: string): Model => decodeModel(readFileSync(join(__dirname, "..", "fixtures", "golden", "models", `${name}.mlmodel`)));

/** 10 log10(Σx² / Σ(y-x)²), +Infinity when equal: written out here on purpose. */
function snrDb(x: Float32Array, y: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < x.length; i++) {
    signal += (x[i] as number) ** 2;
    noise += ((y[i] as number) - (x[i] as number)) ** 2;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

/** Per tensor path: [original (fused) values, quantized values, storage]. */
function pairs(original: Model, quantized: Model): { path: string; x: Float32Array; y: Float32Array; storage: string; nbits?: number }[] {
  const fusedOriginal = structuredClone(original);
  const orig = allLayers(fusedOriginal);
  const quant = allLayers(quantized);
  const out: { path: string; x: Float32Array; y: Float32Array; storage: string; nbits?: number }[] = [];
  const byName = new Map<string, (typeof orig)[number]>();
  // Fuse each original network the way quantizeWeights did, then match layers by name.
  const fusedLayers = new Map<string, ReturnType<typeof fuseLayers>>();
  for (const l of orig) {
    if (!fusedLayers.has(l.networkPath)) {
      const net = orig.filter((o) => o.networkPath === l.networkPath && o.path.split("/").length === l.path.split("/").length).map((o) => o.layer);
      fusedLayers.set(l.networkPath, fuseLayers(net));
    }
  }
  for (const [networkPath, layers] of fusedLayers) for (const layer of layers) byName.set(`${networkPath}/${layer.name}`, { path: "", networkPath, layer });
  for (const q of quant) {
    const o = byName.get(`${q.networkPath}/${q.layer.name}`);
    if (o === undefined) continue;
    const oRefs = layerWeights(o.layer);
    layerWeights(q.layer).forEach((ref, k) => {
      const oRef = oRefs[k];
      if (oRef === undefined || !ref.quantized) return;
      const storage = weightStorage(ref.weightParams);
      out.push({
        path: `${q.path}/${ref.field}`,
        x: readWeights(oRef.weightParams, { shape: oRef.shape, axis: oRef.axis }),
        y: readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis }),
        storage: storage.kind,
        ...(storage.kind === "linear" || storage.kind === "lut" ? { nbits: storage.nbits } : {}),
      });
    });
  }
  return out;
}

describe("nbits auto", () => {
  for (const name of ["cnn", "mlp", "sequence", "control_flow", "mixed_fp16", "real_updatable_drawing_pipeline_nn_knn"]) {
    for (const target of [20, 35, 50]) {
      test(`${name} at ${target} dB: every tensor meets the target, and its decision says so`, () => {
        const input = golden(name);
        const decisions: TensorDecision[] = [];
        const output = quantizeWeights(input, { nbits: "auto", targetSnrDb: target, onTensor: (d) => decisions.push(d) });
        const tensors = pairs(input, output);
        expect(tensors.length).toBeGreaterThan(0);
        for (const t of tensors) {
          expect({ path: t.path, meets: snrDb(t.x, t.y) >= target - 1e-9 }).toEqual({ path: t.path, meets: true });
        }
        expect(decisions.length).toBeGreaterThan(0);
        for (const d of decisions) {
          const t = tensors.find((p) => p.path === d.path);
          if (t === undefined) continue;
          expect(t.storage).toBe(d.storage);
          if (d.snrDb !== undefined && Number.isFinite(d.snrDb)) expect(Math.abs(snrDb(t.x, t.y) - d.snrDb)).toBeLessThan(0.01);
        }
      });
    }
  }

  test("each tensor takes no more bytes than any width and mode that meets the target, and the model is no larger than any uniform width that does", () => {
    const target = 35;
    for (const name of ["cnn", "mlp", "sequence"]) {
      const input = golden(name);
      const output = quantizeWeights(input, { nbits: "auto", targetSnrDb: target });
      const chosen = new Map(pairs(input, output).map((t) => [t.path, t]));
      const bytesOf = (m: Model): Map<string, number> => {
        const out = new Map<string, number>();
        for (const { path, layer } of allLayers(m)) for (const ref of layerWeights(layer)) out.set(`${path}/${ref.field}`, storedByteLength(ref.weightParams));
        return out;
      };
      const chosenBytes = bytesOf(output);
      let chosenTotal = 0;
      for (const path of chosen.keys()) chosenTotal += chosenBytes.get(path) ?? 0;
      for (const mode of ["linear", "kmeans_lut"] as const) {
        for (let nbits = 1; nbits <= 8; nbits++) {
          const uniform = quantizeWeights(input, { nbits, mode });
          const uniformBytes = bytesOf(uniform);
          let allMeet = true;
          let uniformTotal = 0;
          for (const t of pairs(input, uniform)) {
            const meets = snrDb(t.x, t.y) >= target;
            allMeet &&= meets;
            uniformTotal += uniformBytes.get(t.path) ?? 0;
            // Per tensor: a candidate that meets the target is never smaller than the choice.
            if (meets && chosen.has(t.path)) {
              expect({ path: t.path, mode, nbits, notSmaller: (uniformBytes.get(t.path) ?? 0) >= (chosenBytes.get(t.path) ?? 0) }).toEqual({
                path: t.path,
                mode,
                nbits,
                notSmaller: true,
              });
            }
          }
          if (allMeet) expect(chosenTotal).toBeLessThanOrEqual(uniformTotal);
        }
      }
    }
  });

  test("is deterministic and never larger than the input", () => {
    const input = golden("mlp");
    const a = encodeModel(quantizeWeights(input, { nbits: "auto" }));
    const b = encodeModel(quantizeWeights(input, { nbits: "auto" }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length).toBeLessThan(encodeModel(input).length);
  });

  test("random models: every tensor meets the target", () => {
    fc.assert(
      fc.property(modelArbitrary(), fc.integer({ min: 10, max: 60 }), (m, target) => {
        const output = quantizeWeights(m, { nbits: "auto", targetSnrDb: target });
        for (const t of pairs(m, output)) expect(snrDb(t.x, t.y) >= target - 1e-9).toBe(true);
      }),
      { seed: propertySeed(), numRuns: 25 },
    );
  });

  test("refuses a bad target or mode list", () => {
    const input = golden("mlp");
    for (const options of [{ targetSnrDb: NaN }, { targetSnrDb: Infinity }, { modes: [] }, { modes: ["custom_lut"] }]) {
      let caught: unknown;
      try {
        quantizeWeights(input, { nbits: "auto", ...(options as object) });
      } catch (error) {
        caught = error;
      }
      expect(isQuantizeError(caught, "invalid-option")).toBe(true);
    }
  });
});

describe("float16Overflow", () => {
  const input = golden("fp16_overflow");
  const weights = (m: Model) => {
    const ref = layerWeights((allLayers(m)[0] as ReturnType<typeof allLayers>[number]).layer)[0];
    if (ref === undefined) throw new Error("no weights");
    return ref;
  };

  test("error (the default) refuses, naming the tensor", () => {
    let caught: unknown;
    try {
      quantizeWeights(input, { nbits: 16 });
    } catch (error) {
      caught = error;
    }
    expect(isQuantizeError(caught, "float16-overflow")).toBe(true);
    expect((caught as Error).message).toContain("fc_overflow");
  });

  test("keep-float32 leaves just that tensor in float32 and says so", () => {
    const decisions: TensorDecision[] = [];
    const output = quantizeWeights(input, { nbits: 16, float16Overflow: "keep-float32", onTensor: (d) => decisions.push(d) });
    expect(weightStorage(weights(output).weightParams).kind).toBe("float32");
    expect(weights(output).weightParams.floatValue).toEqual(weights(input).weightParams.floatValue);
    expect(decisions.filter((d) => d.overflow === "kept-float32").map((d) => d.path)).toEqual([expect.stringContaining("fc_overflow")]);
  });

  test("clamp saturates to ±65504 and stores half precision", () => {
    const decisions: TensorDecision[] = [];
    const output = quantizeWeights(input, { nbits: 16, float16Overflow: "clamp", onTensor: (d) => decisions.push(d) });
    const ref = weights(output);
    expect(weightStorage(ref.weightParams).kind).toBe("float16");
    const before = weights(input).weightParams.floatValue;
    const after = readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis });
    for (let i = 0; i < before.length; i++) {
      const v = before[i] as number;
      if (Math.abs(v) > 65504) expect(after[i]).toBe(Math.sign(v) * 65504);
    }
    expect(decisions.some((d) => d.overflow === "clamped")).toBe(true);
  });

  test("an unknown value is refused", () => {
    let caught: unknown;
    try {
      quantizeWeights(input, { nbits: 16, float16Overflow: "wrap" as "clamp" });
    } catch (error) {
      caught = error;
    }
    expect(isQuantizeError(caught, "invalid-option")).toBe(true);
  });
});

describe("nbits auto on updatable weights", () => {
  // At 60 dB half precision is the smallest storage that keeps the target for these tensors.
  const drawing = golden("real_updatable_drawing_pipeline_nn_knn");
  const storages = (m: Model, options: { targetSnrDb: number }) => {
    const decisions: TensorDecision[] = [];
    const output = quantizeWeights(m, { nbits: "auto", ...options, onTensor: (d) => decisions.push(d) });
    const stored = allLayers(output).flatMap((l) => layerWeights(l.layer).map((ref) => weightStorage(ref.weightParams).kind));
    return { decided: decisions.map((d) => d.storage), stored };
  };

  test("the same weights in a model that is not updatable do get half precision (the premise)", () => {
    expect(storages({ ...drawing, isUpdatable: false }, { targetSnrDb: 60 }).decided).toContain("float16");
  });

  test("an updatable model never gets half precision, as nbits 16 refuses it; n-bit is still chosen where it meets the target", () => {
    expect(drawing.isUpdatable).toBe(true);
    for (const targetSnrDb of [60, 30]) {
      const { decided, stored } = storages(drawing, { targetSnrDb });
      expect(decided).not.toContain("float16");
      expect(stored).not.toContain("float16");
    }
    // Consistent with nbits 8, which quantizes the updatable model's weights.
    expect(storages(drawing, { targetSnrDb: 30 }).decided).toContain("linear");
    expect(() => quantizeWeights(drawing, { nbits: 16 })).toThrow(/updatable/);
  });

  test("weights marked updatable (WeightParams.isUpdatable) stay out of half precision, the others do not", () => {
    const input = structuredClone({ ...drawing, isUpdatable: false });
    const first = layerWeights((allLayers(input)[0] as ReturnType<typeof allLayers>[number]).layer)[0];
    if (first === undefined) throw new Error("no weights");
    first.weightParams.isUpdatable = true;
    const decisions: TensorDecision[] = [];
    quantizeWeights(input, { nbits: "auto", targetSnrDb: 60, onTensor: (d) => decisions.push(d) });
    expect(decisions[0]?.path).toMatch(/conv2d_4"\/weights$/);
    expect(decisions[0]?.storage).toBe("float32");
    expect(decisions.slice(1).map((d) => d.storage)).toContain("float16");
  });

  test("chooseTensorStorage with allowHalfPrecision false picks float32 where half precision would win", () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const context = { shape: [64], axis: 0 as const, path: "t" };
    expect(chooseTensorStorage(values, context, 60, ["linear"]).storage).toBe("float16");
    expect(chooseTensorStorage(values, context, 60, ["linear"], { allowHalfPrecision: false }).storage).toBe("float32");
  });
});

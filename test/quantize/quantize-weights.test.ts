// Properties of quantizeWeights, dequantizeWeights and
// activateInt8Int8MatrixMultiplications over generated models
// (src/testing): purity, output storage and error bounds, spec versions,
// re-quantization, refusals, fusion switch, progress.
import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { decodeFloat16, encodeFloat16 } from "../../src/codec/float16.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { Model, NeuralNetworkLayer, WeightParams } from "../../src/codec/model-types.js";
import { weightStorage } from "../../src/codec/weight-storage.js";
import { readWeights } from "../../src/walker/read-weights.js";
import { activateInt8Int8MatrixMultiplications, dequantizeWeights, quantizeWeights, type Progress } from "../../src/quantize/quantize-weights.js";
import { layerWeights, type WeightRef } from "../../src/walker/weights.js";
import { allLayers } from "../../src/walker/networks.js";
import { isQuantizeError } from "../../src/errors.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { InnerProductLayerParamsSchema, NeuralNetworkLayerSchema, NeuralNetworkSchema, WeightParamsSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { model, weightTensor } from "../../src/testing/index.js";
import { allModels, allNetworks, carried, carrierModel, channelOf, layerPaths, networkModels, pairLayers, sameBytes } from "../testing/helpers.js";
import { propertySeed } from "../support/property-seed.js";
import { expectQuantizeError } from "../support/expect-quantize-error.js";

/** Pinned for fc.sample: the tests below look at particular samples. Properties use propertySeed(). */
const seed = 42;

type Mode = "linear" | "linear_symmetric" | "linear_lut" | "kmeans_lut" | "custom_lut";

/** A custom LUT: 2^n evenly spaced entries over [min, max], each value to its nearest entry. */
function evenLut(nbits: number, values: Float32Array): { lut: number[]; indices: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const size = 2 ** nbits;
  const step = size > 1 ? (hi - lo) / (size - 1) : 0;
  const lut = Array.from({ length: size }, (_, i) => Math.fround(lo + i * step));
  const indices = Array.from(values, (v) => (step === 0 ? 0 : Math.min(size - 1, Math.max(0, Math.round((v - lo) / step)))));
  return { lut, indices };
}

/** The n-bit modes and widths, 16-bit half precision among them. */
const quantizeRequest: fc.Arbitrary<{ mode: Mode; nbits: number }> = fc.oneof(
  fc.record({ mode: fc.constantFrom<Mode>("linear", "linear_lut", "kmeans_lut", "custom_lut"), nbits: fc.integer({ min: 1, max: 8 }) }),
  fc.constant({ mode: "linear_symmetric" as Mode, nbits: 8 }),
  fc.constant({ mode: "linear" as Mode, nbits: 16 }),
);

/** Weights of a layer, by field. */
const refsByField = (l: NeuralNetworkLayer): Map<string, WeightRef> => new Map(layerWeights(l).map((r) => [r.field, r]));

const isFloat = (wp: WeightParams): boolean => {
  const kind = weightStorage(wp).kind;
  return kind === "float32" || kind === "float16";
};

/** A deep snapshot of a model: its encoding and a structured clone. */
const snapshotOf = (m: Model): { bytes: Uint8Array; clone: Model } => ({ bytes: encodeModel(m), clone: structuredClone(m) });

function expectUnchanged(m: Model, before: { bytes: Uint8Array; clone: Model }): void {
  expect(sameBytes(encodeModel(m), before.bytes)).toBe(true);
  expect(m).toEqual(before.clone);
}

describe("purity", () => {
  test("no operation changes its input model (generated, or decoded from bytes that must stay as they are)", () => {
    fc.assert(
      fc.property(model(), fc.integer({ min: 1, max: 8 }), fc.boolean(), (generated, nbits, decoded) => {
        // Decoded models' weights are views of the bytes: those must not change either.
        const bytes = encodeModel(generated);
        const input = decoded ? decodeModel(bytes) : generated;
        const bytesBefore = bytes.slice();
        const before = snapshotOf(input);
        const runs: (() => unknown)[] = [
          () => quantizeWeights(input, { nbits }),
          () => quantizeWeights(input, { nbits: 8, mode: "linear_symmetric" }),
          () => quantizeWeights(input, { nbits, mode: "linear_lut" }),
          () => quantizeWeights(input, { nbits, mode: "kmeans_lut" }),
          () => quantizeWeights(input, { nbits, mode: "custom_lut", lutFunction: evenLut }),
          () => quantizeWeights(input, { nbits, mode: "dequantization" }),
          () => quantizeWeights(input, { nbits: 16 }),
          () => dequantizeWeights(input),
          () => activateInt8Int8MatrixMultiplications(input),
        ];
        for (const run of runs) {
          run();
          expectUnchanged(input, before);
        }
        expect(sameBytes(bytes, bytesBefore)).toBe(true);
      }),
      { seed: propertySeed(), numRuns: 25 },
    );
  });

  test("quantized models are pure inputs too: dequantizing and int8-activating them changes nothing in them", () => {
    fc.assert(
      fc.property(model(), quantizeRequest, (m, request) => {
        const q = quantizeWeights(m, { ...request, lutFunction: evenLut });
        const before = snapshotOf(q);
        dequantizeWeights(q);
        expectUnchanged(q, before);
        activateInt8Int8MatrixMultiplications(q);
        expectUnchanged(q, before);
        quantizeWeights(q, { nbits: 4 });
        expectUnchanged(q, before);
      }),
      { seed: propertySeed(), numRuns: 25 },
    );
  });
});

/**
 * The reconstruction error bound of one value: half a step, or (where the step is
 * below the reference's 1e-6 guard, so every index is 0 and the value becomes the
 * stored bias) the distance to that bias, plus float32 slack (stored scale and result).
 */
function linearBound(scale: number, bias: number, range: number, w: number, out: number, symmetric: boolean): number {
  const slack = scale * 1e-4 + (Math.abs(w) + Math.abs(out)) * 2 ** -23 + 2 ** -148;
  if (scale > 1.0000001e-6) return scale / 2 + slack;
  // linear: the bias is the channel minimum; symmetric: -(2^n / 2) * scale rounded to float32 on its own.
  return (symmetric ? range + Math.abs(bias) : range) + slack;
}

describe("output", () => {
  test("encodes and decodes; every selected float weight ends in the requested storage within the error bound", () => {
    fc.assert(
      fc.property(model(), quantizeRequest, (m, { mode, nbits }) => {
        const calls: { values: Float32Array; result: { lut: number[]; indices: number[] } }[] = [];
        const lutFunction = (n: number, values: Float32Array): { lut: number[]; indices: number[] } => {
          const result = evenLut(n, values);
          calls.push({ values: values.slice(), result });
          return result;
        };
        const out = quantizeWeights(m, { nbits, mode, lutFunction });
        const bytes = encodeModel(out);
        expect(sameBytes(encodeModel(decodeModel(bytes)), bytes)).toBe(true);

        let call = 0;
        for (const [before, after, path] of pairLayers(m, out, nbits < 16)) {
          expect(after.layer.case).toBe(before.layer.case);
          const afterRefs = refsByField(after);
          for (const ref of layerWeights(before)) {
            const next = afterRefs.get(ref.field);
            if (next === undefined) throw new Error(`${path}/${ref.field} vanished`);
            const where = `${path}/${ref.field}`;
            // Already-quantized weights are left alone (generated models hold float weights only).
            if (!isFloat(ref.weightParams)) {
              expect(next.weightParams).toBe(ref.weightParams);
              continue;
            }
            const input = readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis });
            const output = readWeights(next.weightParams, { shape: next.shape, axis: next.axis });
            expect({ where, length: output.length }).toEqual({ where, length: input.length });
            const storage = weightStorage(next.weightParams);
            if (nbits === 16) {
              expect({ where, kind: storage.kind }).toEqual({ where, kind: "float16" });
              expect(output).toEqual(decodeFloat16(encodeFloat16(input)));
              continue;
            }
            const expected = mode === "linear" || mode === "linear_symmetric" ? "linear" : "lut";
            expect({ where, kind: storage.kind, nbits: (storage as { nbits?: number }).nbits }).toEqual({ where, kind: expected, nbits });
            const q = next.weightParams.quantization?.QuantizationType;
            if (mode === "custom_lut") {
              // The function saw this tensor's (fused) values, and its table and indices are what is stored.
              const { values, result } = calls[call++] ?? { values: new Float32Array(0), result: { lut: [], indices: [] } };
              expect(values).toEqual(input);
              expect(Array.from(output)).toEqual(result.indices.map((i) => result.lut[i]));
            } else if (mode === "linear" || mode === "linear_symmetric") {
              if (q?.case !== "linearQuantization") throw new Error(`${where}: no linear parameters`);
              const channels = ref.shape.length < 2 ? 1 : (ref.shape[ref.axis] as number);
              expect(q.value.scale).toHaveLength(channels);
              const lo = new Float64Array(channels).fill(Infinity);
              const hi = new Float64Array(channels).fill(-Infinity);
              input.forEach((w, k) => {
                const c = channelOf(k, ref.shape, ref.axis);
                lo[c] = Math.min(lo[c] as number, w);
                hi[c] = Math.max(hi[c] as number, w);
              });
              input.forEach((w, k) => {
                const c = channelOf(k, ref.shape, ref.axis);
                const range = mode === "linear" ? (hi[c] as number) - (lo[c] as number) : Math.max(Math.abs(lo[c] as number), Math.abs(hi[c] as number));
                const bound = linearBound(q.value.scale[c] as number, q.value.bias[c] as number, range, w, output[k] as number, mode === "linear_symmetric");
                if (!(Math.abs(w - (output[k] as number)) <= bound)) {
                  throw new Error(`${where}[${k}]: ${w} -> ${output[k]}, error beyond ${bound} (scale ${q.value.scale[c]})`);
                }
              });
            } else {
              if (q?.case !== "lookupTableQuantization") throw new Error(`${where}: no lookup table`);
              let lo = Infinity;
              let hi = -Infinity;
              for (const w of input) {
                lo = Math.min(lo, w);
                hi = Math.max(hi, w);
              }
              const step = (hi - lo) / (2 ** nbits - 1);
              input.forEach((w, k) => {
                // linear_lut: half a step of the whole-tensor grid; kmeans: within the tensor's range.
                const bound = mode === "linear_lut" ? linearBound(step, lo, hi - lo, w, output[k] as number, false) : (hi - lo) * (1 + 1e-6) + 2 ** -148;
                if (!(Math.abs(w - (output[k] as number)) <= bound)) throw new Error(`${where}[${k}]: ${w} -> ${output[k]} beyond ${bound}`);
              });
            }
          }
        }
        if (mode === "custom_lut" && nbits < 16) expect(call).toBe(calls.length);
      }),
      { seed: propertySeed(), numRuns: 120 },
    );
  });

  test("spec versions: network (sub)models max(v, 2) at 16 bits, max(v, 3) otherwise and for dequantization; containers unchanged", () => {
    const requests: fc.Arbitrary<{ mode: Mode | "dequantization"; nbits: number }> = fc.oneof(
      quantizeRequest,
      fc.constant({ mode: "dequantization" as const, nbits: 8 }),
    );
    fc.assert(
      fc.property(model({ minSpecificationVersion: 1, maxSpecificationVersion: 5 }), requests, (m, request) => {
        const out = quantizeWeights(m, { ...request, lutFunction: evenLut });
        const floor = request.mode !== "dequantization" && request.nbits === 16 ? 2 : 3;
        expectVersions(m, out, floor);
      }),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("dequantizeWeights bumps network (sub)models to max(v, 3); int8 matmul to max(v, 5) where it selects a matrix product, else max(v, 3)", () => {
    // The default MatrixMultiplyLayerSelector takes every innerProduct and batchedMatmul
    // with at least one input and one output channel, nested bodies included.
    const hasProduct = (sub: Model): boolean =>
      allLayers(sub).some(({ layer }) => {
        const { case: kind, value } = layer.layer;
        if (kind === "innerProduct") return value.inputChannels >= 1n && value.outputChannels >= 1n;
        if (kind === "batchedMatmul") return value.weightMatrixFirstDimension >= 1n && value.weightMatrixSecondDimension >= 1n;
        return false;
      });
    fc.assert(
      fc.property(model({ minSpecificationVersion: 1, maxSpecificationVersion: 7 }), (m) => {
        expectVersions(m, dequantizeWeights(m), 3);
        expectVersions(m, activateInt8Int8MatrixMultiplications(m), (sub) => (hasProduct(sub) ? 5 : 3));
      }),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("int8 matmul: innerProduct and batchedMatmul weights become int8 with int8DynamicQuantize; nothing else changes", () => {
    fc.assert(
      fc.property(model(), (m) => {
        const out = activateInt8Int8MatrixMultiplications(m);
        for (const [before, after, path] of pairLayers(m, out, false)) {
          const kind = before.layer.case;
          if (kind === "innerProduct" || kind === "batchedMatmul") {
            const l = after.layer as Extract<NeuralNetworkLayer["layer"], { case: "innerProduct" | "batchedMatmul" }>;
            const weights = l.value.weights;
            if (weights === undefined) throw new Error(`${path}: weights vanished`);
            expect({ path, kind: weightStorage(weights).kind, dynamic: l.value.int8DynamicQuantize }).toEqual({ path, kind: "int8", dynamic: true });
            const input = readWeights((before.layer.value as { weights: WeightParams }).weights);
            const output = readWeights(weights);
            const m8 = input.reduce((a, w) => Math.max(a, Math.abs(w)), 0);
            const bound = int8Bound(m8);
            output.forEach((w, k) => expect({ path, k, w, error: Math.abs(w - (input[k] as number)) <= bound }).toEqual({ path, k, w, error: true }));
            // The bias is dequantized first (float16 -> float32), not int8-quantized.
            if (l.value.hasBias && l.value.bias !== undefined) {
              expect(weightStorage(l.value.bias).kind).toBe("float32");
              expect(readWeights(l.value.bias)).toEqual(readWeights((before.layer.value as { bias: WeightParams }).bias));
            }
          } else if (kind !== "branch" && kind !== "loop") {
            expect(after).toBe(before);
          }
        }
      }),
      { seed: propertySeed(), numRuns: 40 },
    );
  });
});

/**
 * int8 matmul's reconstruction error bound for a tensor whose largest magnitude is m:
 * truncation loses less than one step (m / 127). The step is stored as a float32, as
 * the reference stores it: 2^-24 relative, or up to 2^-150 absolute where m / 127 is
 * subnormal or underflows to 0, which |q| <= 127 multiplies; the result is a float32 too.
 */
function int8Bound(m: number): number {
  return m / 127 + m * 2 ** -23 + 128 * 2 ** -150;
}

/** A network model of one innerProduct layer with float32 weights [oc, ic]. */
function innerProductModel(weights: Float32Array, oc: number): Model {
  const params = create(InnerProductLayerParamsSchema, { inputChannels: BigInt(weights.length / oc), outputChannels: BigInt(oc) });
  const value = { ...params, weights: { ...create(WeightParamsSchema), floatValue: weights } };
  const layer = { ...create(NeuralNetworkLayerSchema, { name: "fc", input: ["in"], output: ["out"] }), layer: { case: "innerProduct" as const, value } };
  return {
    ...(create(ModelSchema, { specificationVersion: 4 }) as unknown as Model),
    Type: { case: "neuralNetwork", value: { ...create(NeuralNetworkSchema), layers: [layer] } },
  } as Model;
}

function expectVersions(before: Model, after: Model, floorOf: number | ((sub: Model) => number)): void {
  const a = allModels(before);
  const b = allModels(after);
  expect(b).toHaveLength(a.length);
  const networks = new Set(networkModels(before));
  a.forEach((sub, i) => {
    const version = (b[i] as Model).specificationVersion;
    const floor = typeof floorOf === "number" ? floorOf : floorOf(sub);
    expect(version).toBe(networks.has(sub) ? Math.max(sub.specificationVersion, floor) : sub.specificationVersion);
  });
}

describe("int8 matmul on subnormal weights", () => {
  // m = 3 * 2^-149 (4.2e-45): m / 127 is below the smallest float32, so the stored
  // step is 0 (the reference's float32 scale underflows alike) and every value
  // reconstructs as 0, an error of up to m: within the bound, not half a step.
  test("the step underflows to 0 as in the reference; q = trunc(127 * w / m); the error stays within the bound", () => {
    const m = 3 * 2 ** -149;
    const input = Float32Array.of(m, -(2 ** -149), 0);
    const out = activateInt8Int8MatrixMultiplications(innerProductModel(input, 3));
    const layer = out.Type.case === "neuralNetwork" ? out.Type.value.layers[0]?.layer : undefined;
    if (layer?.case !== "innerProduct" || layer.value.weights === undefined) throw new Error("no innerProduct");
    const q = layer.value.weights.quantization?.QuantizationType;
    if (q?.case !== "linearQuantization") throw new Error("no int8 scale");
    expect(q.value.scale).toEqual([0]);
    expect(Array.from(new Int8Array(layer.value.weights.int8RawValue.buffer, layer.value.weights.int8RawValue.byteOffset, 3))).toEqual([127, -42, 0]);
    const output = readWeights(layer.value.weights);
    input.forEach((w, k) => expect(Math.abs(w - (output[k] as number))).toBeLessThanOrEqual(int8Bound(m)));
    expect(Math.abs(m - (output[0] as number))).toBeGreaterThan(m / 127 + 2 ** -148);
  });
});

describe("single tensors (weightTensor through a one-layer carrier model)", () => {
  test("kmeans_lut never has a larger squared error than linear_lut (an optimal 1-D clustering beats any grid)", () => {
    fc.assert(
      fc.property(weightTensor({ maxMagnitude: 65504, maxLength: 40 }), fc.integer({ min: 1, max: 8 }), ({ values, shape }, nbits) => {
        const sse = (mode: "kmeans_lut" | "linear_lut"): number => {
          const out = readWeights(carried(quantizeWeights(carrierModel(values, shape), { nbits, mode })), { shape });
          return values.reduce((a, v, i) => a + (v - (out[i] as number)) ** 2, 0);
        };
        const kmeans = sse("kmeans_lut");
        const linear = sse("linear_lut");
        expect(kmeans <= linear * (1 + 1e-6) + 1e-30).toBe(true);
      }),
      { seed: propertySeed(), numRuns: 150 },
    );
  });

  // At 1 bit a channel spanning more than the float32 range gets a float64 step
  // (max - min) / 1 that float32 storage cannot hold; it must be refused, not
  // written as scale = Infinity (which decodes to NaN and Infinity).
  test("linear at 1 bit on [-3.4e38, 3.4e38] refuses or stays finite", () => {
    const values = new Float32Array([-3.4028234663852886e38, 3.4028234663852886e38, 0]);
    let out: Float32Array;
    try {
      out = readWeights(carried(quantizeWeights(carrierModel(values, [3]), { nbits: 1 })), { shape: [3] });
    } catch (error) {
      expect(isQuantizeError(error)).toBe(true);
      return;
    }
    expect(Array.from(out).every(Number.isFinite)).toBe(true);
  });
});

describe("re-quantization", () => {
  // quantize(dequantize(q)) == q for linear mode at n bits. It holds because every
  // input value is within half a step of its grid point q * scale + bias, so the
  // dequantized value (that grid point rounded to float32) lands back on the input
  // value when the step is below float32 spacing, and within half a step of the grid
  // point otherwise; the extremes map to indices 0 and 2^n - 1 again, so the step is
  // recomputed (nearly) unchanged.
  //
  // The one exception: the reference's guard (index 0 everywhere when the step is
  // at most 1e-6) looks at the float64 step, while the model stores the float32 one.
  // A step just above 1e-6 can be stored as 0.99999999e-6; dequantized, the channel's
  // range then gives a float64 step at or below 1e-6 and every index becomes 0. The
  // property skips channels whose stored step is in (0, 1e-6]; the example below pins
  // the exception.
  //
  // q is fused already, so the second run does not fuse: a pair left as two layers
  // because its fold overflows in float16 arithmetic (test/walker/fuse-overflow.test.ts)
  // holds float32 weights once dequantized, and would fold then.
  test("re-quantizing a dequantized linear model reproduces the same rawValue", () => {
    fc.assert(
      fc.property(model(), fc.integer({ min: 1, max: 8 }), (m, nbits) => {
        const q = quantizeWeights(m, { nbits, mode: "linear" });
        const again = quantizeWeights(dequantizeWeights(q), { nbits, mode: "linear", fuse: false });
        for (const [before, after, path] of pairLayers(q, again, false)) {
          const afterRefs = refsByField(after);
          for (const ref of layerWeights(before)) {
            const next = afterRefs.get(ref.field);
            if (next === undefined) throw new Error(`${path}/${ref.field} vanished`);
            if (!clearOfTheGuard(ref)) continue;
            expect({ where: `${path}/${ref.field}`, raw: Array.from(next.weightParams.rawValue) }).toEqual({
              where: `${path}/${ref.field}`,
              raw: Array.from(ref.weightParams.rawValue),
            });
          }
        }
      }),
      { seed: propertySeed(), numRuns: 80 },
    );
  });

  test("the exception: a float64 step just above 1e-6 stored as float32 at or below it", () => {
    // [0, m] at 4 bits: step m / 15 = 1.0000000354e-6 > 1e-6, indices [0, 15]; stored step 9.99999997e-7.
    const input = carrierModel(new Float32Array([0, 0.00001500000053056283]), [2]);
    const rawOf = (x: Model): number[] => Array.from(carried(x).rawValue);
    const q = quantizeWeights(input, { nbits: 4 });
    expect(rawOf(q)).toEqual([0x0f]);
    expect(rawOf(quantizeWeights(dequantizeWeights(q), { nbits: 4 }))).toEqual([0x00]);
  });
});

/** Whether no channel's stored step is in (0, 1e-6] (see the exception above). */
function clearOfTheGuard(ref: WeightRef): boolean {
  const q = ref.weightParams.quantization?.QuantizationType;
  if (q?.case !== "linearQuantization") return false;
  return q.value.scale.every((scale) => scale === 0 || scale > 1e-6);
}

/** Each network's layers as `name:kind:inputs>outputs`. */
const layerLists = (x: Model): string[][] =>
  allNetworks(x).map((n) => n.layers.map((l) => `${l.name}:${String(l.layer.case)}:${l.input.join()}>${l.output.join()}`));

/** A float32-only model with the index-th quantizable weight's value `at` set to `value`; its path. */
function withValue(m: Model, index: number, at: number, value: number): { model: Model; path: string } | undefined {
  const clone = structuredClone(m);
  const refs = layerPaths(clone).flatMap(({ path, layer }) => layerWeights(layer).map((ref) => ({ ref, path: `${path}/${ref.field}` })));
  if (refs.length === 0) return undefined;
  const { ref, path } = refs[index % refs.length] as { ref: WeightRef; path: string };
  const values = ref.weightParams.floatValue;
  values[at % values.length] = value;
  return { model: clone, path };
}

describe("refusals", () => {
  test.each([0, 9, 16.5, -1, NaN])("nbits %p is refused", (nbits) => {
    const [m] = fc.sample(model(), { numRuns: 1, seed });
    expectQuantizeError(() => quantizeWeights(m as Model, { nbits }), "invalid-option", 'nbits must be 16 (half precision), 1..8 or "auto", got');
  });

  test("an unknown mode, linear_symmetric below 8 bits, custom_lut without a function, 16 bits on an updatable model", () => {
    const [m] = fc.sample(model(), { numRuns: 1, seed }) as [Model];
    expectQuantizeError(
      () => quantizeWeights(m, { nbits: 8, mode: "cubic" as never }),
      "invalid-option",
      'unknown quantization mode "cubic"',
      "linear_symmetric",
    );
    expectQuantizeError(() => quantizeWeights(m, { nbits: 4, mode: "linear_symmetric" }), "invalid-option", "linear_symmetric", "8", "4");
    // @ts-expect-error custom_lut without a lutFunction does not compile; JavaScript callers get the error.
    expectQuantizeError(() => quantizeWeights(m, { nbits: 4, mode: "custom_lut" }), "invalid-option", "lutFunction");
    expectQuantizeError(() => quantizeWeights({ ...m, isUpdatable: true }, { nbits: 16 }), "invalid-option", "updatable");
    // Below 16 bits an updatable model is accepted.
    expect(() => quantizeWeights({ ...m, isUpdatable: true }, { nbits: 8 })).not.toThrow();
  });

  const float32Models = model({ network: { storages: ["float32"] } });

  test("at 16 bits a value beyond ±65504 is refused naming the layer and field; ±65504 itself is accepted", () => {
    fc.assert(
      fc.property(float32Models, fc.nat(), fc.nat(), fc.constantFrom(65504.0078125, 65519.99609375, 65520, 1e30, -65520, Infinity), (m, index, at, value) => {
        const bad = withValue(m, index, at, value);
        const edge = withValue(m, index, at, Math.sign(value) * 65504);
        if (bad === undefined || edge === undefined) return;
        expectQuantizeError(() => quantizeWeights(bad.model, { nbits: 16 }), "float16-overflow", bad.path, `value ${String(Math.fround(value))}`);
        expect(() => quantizeWeights(edge.model, { nbits: 16 })).not.toThrow();
      }),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("below 16 bits a non-finite value is refused naming the layer and field", () => {
    fc.assert(
      fc.property(
        float32Models,
        fc.nat(),
        fc.nat(),
        fc.constantFrom(NaN, Infinity, -Infinity),
        fc.constantFrom<Exclude<Mode, "custom_lut">>("linear", "linear_lut", "kmeans_lut"),
        (m, index, at, value, mode) => {
          const bad = withValue(m, index, at, value);
          if (bad === undefined) return;
          expectQuantizeError(() => quantizeWeights(bad.model, { nbits: 4, mode, fuse: false }), "non-finite-weight", bad.path);
        },
      ),
      { seed: propertySeed(), numRuns: 40 },
    );
  });

  test("a lutFunction returning a table of the wrong size is refused naming the first tensor", () => {
    fc.assert(
      fc.property(float32Models, fc.integer({ min: 1, max: 8 }), fc.constantFrom(-1, 1), (m, nbits, off) => {
        const first = layerPaths(m).find(({ layer }) => layerWeights(layer).length > 0);
        if (first === undefined) return;
        const field = (layerWeights(first.layer)[0] as WeightRef).field;
        const lutFunction = (n: number, values: Float32Array): { lut: number[]; indices: number[] } => ({
          lut: new Array<number>(2 ** n + off).fill(0),
          indices: Array.from(values, () => 0),
        });
        expectQuantizeError(
          () => quantizeWeights(m, { nbits, mode: "custom_lut", lutFunction, fuse: false }),
          "lut-function",
          `${first.path}/${field}`,
          `${2 ** nbits + off} entries`,
          `${2 ** nbits}`,
        );
      }),
      { seed: propertySeed(), numRuns: 30 },
    );
  });

  test("a pipeline holding no network is refused as unsupported-model naming its kind", () => {
    const [m] = fc.sample(model({ kinds: ["pipelineRegressor"] }), { numRuns: 1, seed }) as [Model];
    const t = m.Type;
    if (t.case !== "pipelineRegressor" || t.value.pipeline === undefined) throw new Error("unreachable");
    const noNetwork = { ...m, Type: { ...t, value: { ...t.value, pipeline: { ...t.value.pipeline, models: [] } } } } as Model;
    expectQuantizeError(() => quantizeWeights(noNetwork, { nbits: 8 }), "unsupported-model", "pipelineRegressor");
  });

  test("int8 matmul refuses a model that is neither a network nor a pipeline", () => {
    const [m] = fc.sample(model({ kinds: ["pipeline"] }), { numRuns: 1, seed }) as [Model];
    const scaler =
      allModels(m).find((s) => s.Type.case === "scaler") ??
      ({ ...m, Type: { case: "scaler", value: { $typeName: "CoreML.Specification.Scaler", shiftValue: [], scaleValue: [] } } } as Model);
    expectQuantizeError(() => activateInt8Int8MatrixMultiplications(scaler), "unsupported-model", "scaler");
  });
});

describe("options", () => {
  test("fuse: false leaves every layer list unchanged (names, kinds, order)", () => {
    fc.assert(
      fc.property(model(), fc.integer({ min: 1, max: 8 }), (m, nbits) => {
        const out = quantizeWeights(m, { nbits, fuse: false });
        expect(layerLists(out)).toEqual(layerLists(m));
      }),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("fusion happens by default", () => {
    // Among the fusing kinds about 3 networks in 10 fuse (a quarter have one layer, and
    // grouped convolutions and deconvolutions do not fuse): 60 runs all without a
    // fusion is a chance of 0.7^60, about 1e-9. Among all kinds it is about 1 in 8.
    const fusingKinds = model({ network: { kinds: ["convolution", "innerProduct", "batchnorm", "scale", "bias"] } });
    let fusedSomewhere = false;
    fc.assert(
      fc.property(fusingKinds, fc.integer({ min: 1, max: 8 }), (m, nbits) => {
        const layerCount = (x: Model): number => allNetworks(x).reduce((a, n) => a + n.layers.length, 0);
        const fused = quantizeWeights(m, { nbits });
        fusedSomewhere ||= layerCount(fused) < layerCount(m);
        expect(layerCount(fused)).toBeLessThanOrEqual(layerCount(m));
      }),
      { seed: propertySeed(), numRuns: 60 },
    );
    expect(fusedSomewhere).toBe(true);
  });

  test("onProgress is called once per quantized tensor, done counting up to the final total", () => {
    fc.assert(
      fc.property(model(), quantizeRequest, fc.boolean(), (m, request, fuse) => {
        const progress: Progress[] = [];
        // Reports within a long tensor (with a fraction) come between these; not counted here.
        const out = quantizeWeights(m, { ...request, lutFunction: evenLut, fuse, onProgress: (p) => p.fraction === undefined && progress.push(p) });
        // Every weight of the (fused) output is one quantized tensor: the default selector takes them all.
        const expected = layerPaths(out).flatMap(({ path, layer }) => layerWeights(layer).map((r) => `${path}/${r.field}`));
        expect(progress.map((p) => p.path)).toEqual(expected);
        progress.forEach((p, i) => {
          expect(p.done).toBe(i + 1);
          expect(p.total).toBeGreaterThanOrEqual(p.done);
        });
        if (progress.length > 0) expect(progress[progress.length - 1]?.total).toBe(expected.length);
      }),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("onProgress in dequantizeWeights and int8 matmul counts the tensors of the selected layers", () => {
    fc.assert(
      fc.property(model(), (m) => {
        const seen: Progress[] = [];
        dequantizeWeights(m, { onProgress: (p) => seen.push(p) });
        const all = layerPaths(m).flatMap(({ layer }) => layerWeights(layer));
        expect(seen).toHaveLength(all.length);
        const int8: Progress[] = [];
        activateInt8Int8MatrixMultiplications(m, { onProgress: (p) => int8.push(p) });
        const matmuls = layerPaths(m)
          .filter(({ layer }) => layer.layer.case === "innerProduct" || layer.layer.case === "batchedMatmul")
          .flatMap(({ layer }) => layerWeights(layer));
        expect(int8.length).toBeGreaterThanOrEqual(matmuls.length);
        int8.forEach((p, i) => expect(p.done).toBe(i + 1));
      }),
      { seed: propertySeed(), numRuns: 30 },
    );
  });
});

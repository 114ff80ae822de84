/**
 * Parity with the reference: every case of test/fixtures/golden (see its README).
 * Exact equality for every mode but kmeans_lut; kmeans_lut: same structure and a
 * summed squared error against the fused model no larger than the reference's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../src/codec/decode-model.js";
import { encodeModel } from "../src/codec/encode-model.js";
import type { Model } from "../src/codec/model-types.js";
import { readWeights } from "../src/codec/weight-storage.js";
import { isQuantizeError } from "../src/errors.js";
import { activateInt8Int8MatrixMultiplications, dequantizeWeights, quantizeWeights, type QuantizationMode } from "../src/quantize-weights.js";
import { AdvancedQuantizedLayerSelector } from "../src/selectors.js";
import { allLayers } from "../src/walker/networks.js";
import { layerWeights } from "../src/walker/weights.js";

interface GoldenCase {
  id: string;
  input: string;
  nbits: number | null;
  mode: QuantizationMode | "int8_matmul";
  selector: { skip_layer_types?: string[]; minimum_conv_kernel_channels?: number; minimum_conv_weight_count?: number } | null;
  fused?: string;
  expected?: string;
  error?: string;
}

const root = join(__dirname, "fixtures", "golden");
const cases = JSON.parse(readFileSync(join(root, "cases.json"), "utf8")) as GoldenCase[];
const load = (file: string): Model => decodeModel(readFileSync(join(root, file)));

function run(c: GoldenCase): Model {
  const input = load(c.input);
  const selector = c.selector === null ? undefined : new AdvancedQuantizedLayerSelector({
    ...(c.selector.skip_layer_types === undefined ? {} : { skipLayerTypes: c.selector.skip_layer_types }),
    ...(c.selector.minimum_conv_kernel_channels === undefined ? {} : { minimumConvKernelChannels: c.selector.minimum_conv_kernel_channels }),
    ...(c.selector.minimum_conv_weight_count === undefined ? {} : { minimumConvWeightCount: c.selector.minimum_conv_weight_count }),
  });
  const withSelector = selector === undefined ? {} : { selector };
  if (c.mode === "int8_matmul") return activateInt8Int8MatrixMultiplications(input, withSelector);
  if (c.mode === "dequantization") return dequantizeWeights(input, withSelector);
  return quantizeWeights(input, { nbits: c.nbits ?? 0, mode: c.mode, ...withSelector });
}

/** Summed squared error of every quantized tensor against the same tensor of `base`. */
function squaredError(model: Model, base: Model): number {
  const baseLayers = allLayers(base);
  let total = 0;
  allLayers(model).forEach(({ layer }, i) => {
    const baseRefs = layerWeights((baseLayers[i] as (typeof baseLayers)[number]).layer);
    layerWeights(layer).forEach((ref, k) => {
      const baseRef = baseRefs[k];
      if (baseRef === undefined) throw new Error("structure differs");
      const got = readWeights(ref.weightParams, ref.shape, ref.axis);
      const want = readWeights(baseRef.weightParams, baseRef.shape, baseRef.axis);
      for (let j = 0; j < want.length; j++) total += ((got[j] as number) - (want[j] as number)) ** 2;
    });
  });
  return total;
}

/** The model with every LUT and index payload blanked, to compare structure only. */
function structure(model: Model): unknown {
  const bytes = encodeModel(model);
  const copy = decodeModel(bytes);
  for (const { layer } of allLayers(copy)) {
    for (const ref of layerWeights(layer)) {
      const wp = ref.weightParams as { rawValue: Uint8Array; quantization?: { QuantizationType: { case?: string; value?: { floatValue: number[] } } } };
      wp.rawValue = new Uint8Array(wp.rawValue.length);
      const q = wp.quantization?.QuantizationType;
      if (q?.case === "lookupTableQuantization" && q.value !== undefined) q.value.floatValue = q.value.floatValue.map(() => 0);
    }
  }
  return copy;
}

describe.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
  if (c.error !== undefined) {
    test("is refused", () => {
      let caught: unknown;
      try {
        run(c);
      } catch (error) {
        caught = error;
      }
      expect(isQuantizeError(caught)).toBe(true);
    });
  } else if (c.mode === "kmeans_lut") {
    test("has the reference's structure and no larger error", () => {
      const actual = run(c);
      const expected = load(c.expected as string);
      expect(structure(actual)).toEqual(structure(expected));
      const fused = load(c.fused as string);
      expect(squaredError(actual, fused)).toBeLessThanOrEqual(squaredError(expected, fused));
    });
  } else {
    test("equals the reference's output", () => {
      const actual = run(c);
      const expectedBytes = readFileSync(join(root, c.expected as string));
      expect(actual).toEqual(decodeModel(expectedBytes));
      expect(Buffer.from(encodeModel(actual)).equals(expectedBytes)).toBe(true);
    });
  }
});

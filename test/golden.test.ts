/**
 * Parity with the reference: every case of test/fixtures/golden (see its README).
 * Exact equality for every mode but kmeans_lut; kmeans_lut: same structure and a
 * summed squared error against the fused model no larger than the reference's.
 */
import { decodeModel } from "../src/codec/decode-model.js";
import { encodeModel } from "../src/codec/encode-model.js";
import type { Model } from "../src/codec/model-types.js";
import { readWeights } from "../src/walker/read-weights.js";
import type { ErrorCode } from "../src/errors.js";
import { activateInt8Int8MatrixMultiplications, dequantizeWeights, quantizeWeights, type QuantizationMode } from "../src/quantize/quantize-weights.js";
import { AdvancedQuantizedLayerSelector } from "../src/selectors.js";
import { allLayers } from "../src/walker/networks.js";
import { layerWeights } from "../src/walker/weights.js";
import { expectQuantizeError } from "./support/expect-quantize-error.js";
import { goldenCases, goldenFileBytes, loadGoldenFile as load, type GoldenCase } from "./support/golden.js";

/**
 * The code we refuse with where the reference raised this exception. A refusal
 * missing here fails its case, so a new one is looked at.
 */
const REFUSAL_CODES: Readonly<Record<string, ErrorCode>> = {
  "Exception: Symmetric quantization is only applicable for 8 bitlinear": "invalid-option",
  "Exception: updatable models cannot get quantized to FP16.": "invalid-option",
  "Exception: Model cannot be converted as it has weights that cannot be represented in half precision.": "float16-overflow",
};

function run(c: GoldenCase): Model {
  const input = load(c.input);
  const selector =
    c.selector === null
      ? undefined
      : new AdvancedQuantizedLayerSelector({
          ...(c.selector.skip_layer_types === undefined ? {} : { skipLayerTypes: c.selector.skip_layer_types }),
          ...(c.selector.minimum_conv_kernel_channels === undefined ? {} : { minimumConvKernelChannels: c.selector.minimum_conv_kernel_channels }),
          ...(c.selector.minimum_conv_weight_count === undefined ? {} : { minimumConvWeightCount: c.selector.minimum_conv_weight_count }),
        });
  const withSelector = selector === undefined ? {} : { selector };
  if (c.mode === "int8_matmul") return activateInt8Int8MatrixMultiplications(input, withSelector);
  if (c.mode === "dequantization") return dequantizeWeights(input, withSelector);
  return quantizeWeights(input, { nbits: c.nbits ?? 0, mode: c.mode as Exclude<QuantizationMode, "custom_lut">, ...withSelector });
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
      const got = readWeights(ref.weightParams, { shape: ref.shape, axis: ref.axis });
      const want = readWeights(baseRef.weightParams, { shape: baseRef.shape, axis: baseRef.axis });
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

/**
 * A copy of `value` with every typed array replaced by its type and base64 bytes:
 * the same comparison as a deep toEqual of the models (types and contents), but
 * toEqual walks typed arrays element by element: about 10 s of this suite, 2 s so.
 */
function typedArraysAsText(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")})`;
  if (Array.isArray(value)) return value.map(typedArraysAsText);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, typedArraysAsText(field)]));
  }
  return value;
}

describe.each(goldenCases().map((c) => [c.id, c] as const))("%s", (_id, c) => {
  if (c.error !== undefined) {
    const error = c.error;
    test("is refused with the code matching the reference's exception", () => {
      const code = REFUSAL_CODES[error];
      if (code === undefined) throw new Error(`no code listed in REFUSAL_CODES for the reference's ${JSON.stringify(error)}`);
      expectQuantizeError(() => run(c), code);
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
      const expectedBytes = goldenFileBytes(c.expected as string);
      expect(typedArraysAsText(actual)).toEqual(typedArraysAsText(decodeModel(expectedBytes)));
      expect(Buffer.from(encodeModel(actual)).equals(expectedBytes)).toBe(true);
    });
  }
});

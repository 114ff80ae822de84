// The selector classes against the rules in docs (QUANTIZATION.md, "Selectors"),
// written out independently here, and user subclasses passed to quantizeWeights.
import * as fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import type { Model, NeuralNetworkLayer, WeightParams } from "../src/codec/model-types.js";
import { weightStorage } from "../src/codec/weight-storage.js";
import { ConvolutionLayerParamsSchema, NeuralNetworkLayerSchema } from "../src/gen/NeuralNetwork_pb.js";
import { quantizeWeights } from "../src/quantize/quantize-weights.js";
import {
  AdvancedQuantizedLayerSelector,
  MatrixMultiplyLayerSelector,
  QUANTIZABLE_LAYER_TYPES,
  QuantizedLayerSelector,
  type AdvancedSelectorOptions,
  type MatrixMultiplySelectorOptions,
} from "../src/selectors.js";
import { layerWeights } from "../src/walker/weights.js";
import { advancedSelectorOptions, layer, matrixMultiplySelectorOptions, model } from "../src/testing/index.js";
import { layerPaths, pairLayers } from "./testing/helpers.js";
import { propertySeed } from "./support/property-seed.js";
import { expectQuantizeError } from "./support/expect-quantize-error.js";

/** Pinned for fc.sample: the tests below look at particular samples. Properties use propertySeed(). */
const seed = 42;

/** One layer of every case of the `layer` oneof, with empty parameters. */
function everyLayerKind(): NeuralNetworkLayer[] {
  const oneof = NeuralNetworkLayerSchema.oneofs.find((o) => o.localName === "layer");
  if (oneof === undefined) throw new Error("NeuralNetworkLayer has no layer oneof");
  return oneof.fields.map((f) => {
    if (f.message === undefined) throw new Error(`${f.localName} is not a message`);
    const value = create(f.message);
    return { ...create(NeuralNetworkLayerSchema, { name: f.localName }), layer: { case: f.localName, value } } as unknown as NeuralNetworkLayer;
  });
}

/** A convolution layer with the given sizes (float weights not needed by selectors). */
function conv(p: { oc: number; kc: number; groups?: number; kernel?: number[]; name?: string }): NeuralNetworkLayer {
  const value = create(ConvolutionLayerParamsSchema, {
    outputChannels: BigInt(p.oc),
    kernelChannels: BigInt(p.kc),
    nGroups: BigInt(p.groups ?? 1),
    kernelSize: (p.kernel ?? [3, 3]).map(BigInt),
    hasBias: true,
  });
  return { ...create(NeuralNetworkLayerSchema, { name: p.name ?? "conv" }), layer: { case: "convolution", value } } as unknown as NeuralNetworkLayer;
}

const quantizable = (kind: string | undefined): boolean => (QUANTIZABLE_LAYER_TYPES as readonly (string | undefined)[]).includes(kind);

/** AdvancedQuantizedLayerSelector.do_quantize as the reference states it. */
function advancedExpected(options: AdvancedSelectorOptions, l: NeuralNetworkLayer, weightParam: string | undefined): boolean {
  const kind = l.layer.case;
  if (!quantizable(kind)) return false;
  const skip = options.skipLayerTypes ?? [];
  if (skip.includes(kind as string)) return false;
  if (weightParam === "bias") return !skip.includes("bias");
  if (l.layer.case !== "convolution") return true;
  const c = l.layer.value;
  const kc = Number(c.kernelChannels);
  if (skip.includes("depthwiseConv") && kc === 1 && Number(c.nGroups) > 1) return false;
  const [kh = 3, kw = 3] = c.kernelSize.map(Number);
  return kc >= (options.minimumConvKernelChannels ?? 4) && Number(c.outputChannels) * kc * kh * kw >= (options.minimumConvWeightCount ?? 4096);
}

/** MatrixMultiplyLayerSelector as the reference states it (names honoured). */
function matmulExpected(options: MatrixMultiplySelectorOptions, l: NeuralNetworkLayer): boolean {
  let input: number;
  let output: number;
  if (l.layer.case === "branch" || l.layer.case === "loop") return true;
  if (l.layer.case === "innerProduct") {
    input = Number(l.layer.value.inputChannels);
    output = Number(l.layer.value.outputChannels);
  } else if (l.layer.case === "batchedMatmul") {
    input = Number(l.layer.value.weightMatrixFirstDimension);
    output = Number(l.layer.value.weightMatrixSecondDimension);
  } else {
    return false;
  }
  if (options.includeLayersWithNames !== undefined && !options.includeLayersWithNames.includes(l.name)) return false;
  return (
    input * output >= (options.minimumWeightCount ?? 1) &&
    input >= (options.minimumInputChannels ?? 1) &&
    output >= (options.minimumOutputChannels ?? 1) &&
    input <= (options.maximumInputChannels ?? Infinity) &&
    output <= (options.maximumOutputChannels ?? Infinity)
  );
}

describe("QuantizedLayerSelector", () => {
  test("selects exactly the layer kinds of QUANTIZABLE_LAYER_TYPES, with or without a weight parameter", () => {
    const selector = new QuantizedLayerSelector();
    const layers = everyLayerKind();
    expect(layers.length).toBeGreaterThan(100);
    const selected = layers.filter((l) => selector.doQuantize(l)).map((l) => l.layer.case);
    expect(new Set(selected)).toEqual(new Set<string>(QUANTIZABLE_LAYER_TYPES.filter((t) => t !== "depthwiseConv")));
    for (const l of layers) expect(selector.doQuantize(l, "bias")).toBe(selector.doQuantize(l));
    const empty = { ...create(NeuralNetworkLayerSchema), layer: { case: undefined } } as unknown as NeuralNetworkLayer;
    expect(selector.doQuantize(empty)).toBe(false);
  });

  test("every listed type but the pseudo-kind depthwiseConv is a real layer kind", () => {
    const kinds = new Set<string | undefined>(everyLayerKind().map((l) => l.layer.case));
    expect(QUANTIZABLE_LAYER_TYPES.filter((t) => !kinds.has(t))).toEqual(["depthwiseConv"]);
  });
});

describe("AdvancedQuantizedLayerSelector", () => {
  test("defaults: nothing skipped, 4 kernel channels, 4096 weights", () => {
    const s = new AdvancedQuantizedLayerSelector();
    expect([s.skipLayerTypes, s.minimumConvKernelChannels, s.minimumConvWeightCount]).toEqual([[], 4, 4096]);
    expect(s.doQuantize(conv({ oc: 128, kc: 4 }))).toBe(true); // 4608 weights
    expect(s.doQuantize(conv({ oc: 64, kc: 4 }))).toBe(false); // 2304 weights
    expect(s.doQuantize(conv({ oc: 2048, kc: 3 }))).toBe(false); // 3 kernel channels
    expect(s.doQuantize(conv({ oc: 128, kc: 4, kernel: [] }))).toBe(true); // default kernel is 3x3
    expect(s.doQuantize(conv({ oc: 128, kc: 4, kernel: [1, 1] }))).toBe(false);
  });

  test("unknown skip types are refused with a message listing the valid ones; so are negative minimums", () => {
    expectQuantizeError(
      () => new AdvancedQuantizedLayerSelector({ skipLayerTypes: ["dense", "bias", "pooling"] }),
      "invalid-option",
      "dense",
      "pooling",
      `valid: ${QUANTIZABLE_LAYER_TYPES.join(", ")}`,
    );
    expectQuantizeError(() => new AdvancedQuantizedLayerSelector({ minimumConvKernelChannels: -1 }), "invalid-option", "minimumConvKernelChannels");
    expectQuantizeError(() => new AdvancedQuantizedLayerSelector({ minimumConvWeightCount: NaN }), "invalid-option", "minimumConvWeightCount");
  });

  test("depthwiseConv skips convolutions with kernelChannels 1 and nGroups > 1 only", () => {
    const s = new AdvancedQuantizedLayerSelector({ skipLayerTypes: ["depthwiseConv"], minimumConvKernelChannels: 0, minimumConvWeightCount: 0 });
    expect(s.doQuantize(conv({ oc: 8, kc: 1, groups: 8 }))).toBe(false);
    expect(s.doQuantize(conv({ oc: 8, kc: 1, groups: 1 }))).toBe(true);
    expect(s.doQuantize(conv({ oc: 8, kc: 2, groups: 4 }))).toBe(true);
    const keep = new AdvancedQuantizedLayerSelector({ minimumConvKernelChannels: 0, minimumConvWeightCount: 0 });
    expect(keep.doQuantize(conv({ oc: 8, kc: 1, groups: 8 }))).toBe(true);
  });

  test('"bias" skips the bias of convolutions and of every other kind, and bias layers, but not the layers\' weights', () => {
    const s = new AdvancedQuantizedLayerSelector({ skipLayerTypes: ["bias"], minimumConvKernelChannels: 0, minimumConvWeightCount: 0 });
    const small = new AdvancedQuantizedLayerSelector();
    fc.assert(
      fc.property(layer({ kinds: ["convolution", "innerProduct", "batchedMatmul", "bias", "scale"], maxDepth: 0 }), (l) => {
        const isBiasLayer = l.layer.case === "bias";
        expect(s.doQuantize(l)).toBe(!isBiasLayer);
        expect(s.doQuantize(l, "bias")).toBe(false);
        // Without "bias" skipped a bias is asked for separately and taken, even on a convolution too small to quantize.
        expect(small.doQuantize(l, "bias")).toBe(true);
      }),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("agrees with the reference rules on generated layers and options", () => {
    fc.assert(
      fc.property(advancedSelectorOptions({ maxKernelChannels: 6, maxWeightCount: 400 }), layer({ maxChannels: 8 }), (options, l) => {
        const s = new AdvancedQuantizedLayerSelector(options);
        expect(s.doQuantize(l)).toBe(advancedExpected(options, l, undefined));
        expect(s.doQuantize(l, "bias")).toBe(advancedExpected(options, l, "bias"));
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
  });
});

describe("MatrixMultiplyLayerSelector", () => {
  test("defaults select every innerProduct and batchedMatmul, and branch and loop layers", () => {
    const s = new MatrixMultiplyLayerSelector();
    for (const l of everyLayerKind()) {
      expect(s.doQuantize(l)).toBe(["branch", "loop"].includes(l.layer.case as string));
    }
    fc.assert(
      fc.property(layer({ kinds: ["innerProduct", "batchedMatmul"] }), (l) => expect(s.doQuantize(l)).toBe(true)),
      { seed: propertySeed(), numRuns: 30 },
    );
  });

  test("bounds are inclusive, names are honoured, negative bounds refused", () => {
    const [l] = fc.sample(layer({ kinds: ["innerProduct"], maxChannels: 1, name: "fc" }), { numRuns: 1, seed }) as [NeuralNetworkLayer];
    expect(new MatrixMultiplyLayerSelector({ minimumWeightCount: 1, maximumInputChannels: 1, maximumOutputChannels: 1 }).doQuantize(l)).toBe(true);
    expect(new MatrixMultiplyLayerSelector({ minimumWeightCount: 2 }).doQuantize(l)).toBe(false);
    expect(new MatrixMultiplyLayerSelector({ maximumInputChannels: 0 }).doQuantize(l)).toBe(false);
    expect(new MatrixMultiplyLayerSelector({ includeLayersWithNames: ["fc"] }).doQuantize(l)).toBe(true);
    expect(new MatrixMultiplyLayerSelector({ includeLayersWithNames: ["other"] }).doQuantize(l)).toBe(false);
    expect(new MatrixMultiplyLayerSelector({ includeLayersWithNames: [] }).doQuantize(l)).toBe(false);
    expectQuantizeError(() => new MatrixMultiplyLayerSelector({ maximumOutputChannels: -2 }), "invalid-option", "maximumOutputChannels", "-2");
  });

  test("agrees with the reference rules on generated layers and options", () => {
    const names = ["layer0", "fc", "mm"];
    fc.assert(
      fc.property(
        matrixMultiplySelectorOptions({ layerNames: names, maxChannels: 6 }),
        layer({ maxChannels: 6 }),
        fc.constantFrom(...names),
        (options, generated, name) => {
          const l = { ...generated, name };
          expect(new MatrixMultiplyLayerSelector(options).doQuantize(l)).toBe(matmulExpected(options, l));
        },
      ),
      { seed: propertySeed(), numRuns: 300 },
    );
  });
});

/** Skips layers by name (nested ones included). */
class SkipNamed extends QuantizedLayerSelector {
  constructor(private readonly names: ReadonlySet<string>) {
    super();
  }

  override doQuantize(l: NeuralNetworkLayer, weightParam?: string): boolean {
    return super.doQuantize(l, weightParam) && !this.names.has(l.name);
  }
}

/** Quantizes every selected layer's weights, but the optional bias only of the named layers. */
class BiasOnlyOf extends QuantizedLayerSelector {
  constructor(private readonly names: ReadonlySet<string>) {
    super();
  }

  override doQuantize(l: NeuralNetworkLayer, weightParam?: string): boolean {
    if (!super.doQuantize(l, weightParam)) return false;
    return weightParam === undefined || this.names.has(l.name);
  }
}

const isFloat = (wp: WeightParams): boolean => ["float32", "float16"].includes(weightStorage(wp).kind);

/** Names of every layer of a model. */
const namesOf = (m: Model): string[] => layerPaths(m).map(({ layer: l }) => l.name);

describe("a user subclass passed to quantizeWeights", () => {
  test("skipping layers by name changes exactly the other layers", () => {
    fc.assert(
      fc.property(
        model().chain((m) => fc.tuple(fc.constant(m), fc.subarray(namesOf(m)))),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        ([m, skipped], fuse, nbits) => {
          const skip = new Set(skipped);
          const selector = new SkipNamed(skip);
          const out = quantizeWeights(m, { nbits, fuse, selector });
          // A skipped branch or loop layer's networks are not fused either.
          for (const [before, after, path, holders] of pairLayers(m, out, fuse, (l) => selector.doQuantize(l))) {
            // A skipped branch or loop layer is skipped whole: its networks are not visited.
            if (skip.has(before.name) || holders.some((h) => skip.has(h.name))) {
              // Unselected: the same layer (the same object when fusion did not rebuild it).
              expect({ path, layer: after }).toEqual({ path, layer: before });
              if (!fuse && before.layer.case !== "branch" && before.layer.case !== "loop") expect(after).toBe(before);
            } else {
              for (const ref of layerWeights(after))
                expect({ path, field: ref.field, float: isFloat(ref.weightParams) }).toEqual({ path, field: ref.field, float: false });
            }
          }
        },
      ),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("quantizing the optional bias of some layers only: other biases keep their WeightParams object", () => {
    fc.assert(
      fc.property(
        model().chain((m) => fc.tuple(fc.constant(m), fc.subarray(namesOf(m)))),
        fc.integer({ min: 1, max: 8 }),
        ([m, chosen], nbits) => {
          const names = new Set(chosen);
          const out = quantizeWeights(m, { nbits, fuse: false, selector: new BiasOnlyOf(names) });
          for (const [before, after, path] of pairLayers(m, out, false)) {
            const next = new Map(layerWeights(after).map((r) => [r.field, r]));
            for (const ref of layerWeights(before)) {
              const result = next.get(ref.field)?.weightParams;
              const where = `${path}/${ref.field}`;
              if (ref.selectorParam === "bias" && !names.has(before.name)) {
                expect({ where, same: result === ref.weightParams }).toEqual({ where, same: true });
              } else {
                // Weights, and biases the selector is not asked about (embedding, scale, recurrent), are quantized.
                expect({ where, float: result !== undefined && isFloat(result) }).toEqual({ where, float: false });
              }
            }
          }
        },
      ),
      { seed: propertySeed(), numRuns: 60 },
    );
  });

  test("AdvancedQuantizedLayerSelector in quantizeWeights changes exactly the layers and biases the rules select", () => {
    fc.assert(
      fc.property(model(), advancedSelectorOptions({ maxKernelChannels: 4, maxWeightCount: 200 }), (m, options) => {
        const out = quantizeWeights(m, { nbits: 4, fuse: false, selector: new AdvancedQuantizedLayerSelector(options) });
        for (const [before, after, path, holders] of pairLayers(m, out, false)) {
          // Layers inside a branch or loop the selector refuses are not visited.
          const selected = advancedExpected(options, before, undefined) && holders.every((h) => advancedExpected(options, h, undefined));
          const next = new Map(layerWeights(after).map((r) => [r.field, r]));
          for (const ref of layerWeights(before)) {
            const changed = next.get(ref.field)?.weightParams !== ref.weightParams;
            const expected = selected && (ref.selectorParam !== "bias" || advancedExpected(options, before, "bias"));
            expect({ where: `${path}/${ref.field}`, changed }).toEqual({ where: `${path}/${ref.field}`, changed: expected });
          }
        }
      }),
      { seed: propertySeed(), numRuns: 60 },
    );
  });
});

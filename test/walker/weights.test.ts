/**
 * layerWeights and withLayerWeight against an expectation derived independently
 * from each layer's parameters, following the table "Which weights, with which
 * shape" in /work/shared/reference/QUANTIZATION.md (and NeuralNetwork.proto for
 * the kinds the reference does not quantize). The value count of every
 * WeightParams must equal the product of its shape: that is what proves the
 * shapes right.
 */
import { create } from "@bufbuild/protobuf";
import type { NeuralNetworkLayer, WeightParams } from "../../src/codec/model-types.js";
import { WeightParamsSchema } from "../../src/gen/NeuralNetwork_pb.js";
import { allLayers } from "../../src/walker/networks.js";
import { layerWeights, weightCount, withLayerWeight, type WeightRef } from "../../src/walker/weights.js";
import { buildLayer, floatCount, floats, snapshot, walkLayers } from "./helpers.js";
import { goldenInputs, loadGolden } from "../support/golden.js";
import { product } from "../support/product.js";

// ---------------------------------------------------------------------------
// The independent derivation
// ---------------------------------------------------------------------------

interface Expected {
  readonly field: string;
  readonly shape: readonly number[];
  readonly axis: 0 | 1;
  readonly selectorParam: "bias" | undefined;
  readonly quantized: boolean;
  /** The WeightParams the entry is about, read straight from the parameters. */
  readonly wp: WeightParams;
}

const N = Number;
const prod = (dims: readonly (bigint | number)[]): number => dims.reduce<number>((a, d) => a * N(d), 1);

/**
 * What the table says a layer holds, in the reference's order (for a
 * biDirectionalLSTM: all of weight set 0, then all of weight set 1).
 */
function expectedWeights(layer: NeuralNetworkLayer): Expected[] {
  const out: Expected[] = [];
  const add = (
    field: string,
    wp: WeightParams | undefined,
    shape: readonly number[] | ((wp: WeightParams) => readonly number[]),
    opts: { axis?: 0 | 1; selectorParam?: "bias"; quantized?: boolean } = {},
  ): void => {
    if (wp === undefined) return; // an unset message holds no weights
    out.push({
      field,
      wp,
      shape: typeof shape === "function" ? shape(wp) : shape,
      axis: opts.axis ?? 0,
      selectorParam: opts.selectorParam,
      quantized: opts.quantized ?? true,
    });
  };
  const l = layer.layer;
  switch (l.case) {
    case "convolution": {
      const p = l.value;
      // NeuralNetwork.proto: kernelSize "If not set, default value [3, 3] is used";
      // nGroups "If not set or 0, it is set to the default value 1".
      const [kh, kw] = p.kernelSize.length === 0 ? [3, 3] : p.kernelSize.map(N);
      const oc = N(p.outputChannels);
      const kc = N(p.kernelChannels);
      const groups = N(p.nGroups) === 0 ? 1 : N(p.nGroups);
      if (p.isDeconvolution) add("weights", p.weights, [kc, oc / groups, kh ?? 3, kw ?? 3], { axis: 1 });
      else add("weights", p.weights, [oc, kc, kh ?? 3, kw ?? 3]);
      if (p.hasBias) add("bias", p.bias, [oc], { selectorParam: "bias" });
      break;
    }
    case "innerProduct": {
      const p = l.value;
      add("weights", p.weights, [N(p.outputChannels), N(p.inputChannels)]);
      if (p.hasBias) add("bias", p.bias, [N(p.outputChannels)], { selectorParam: "bias" });
      break;
    }
    case "batchedMatmul": {
      const p = l.value;
      const first = N(p.weightMatrixFirstDimension);
      const second = N(p.weightMatrixSecondDimension);
      add("weights", p.weights, [second, first]);
      if (p.hasBias) add("bias", p.bias, [second], { selectorParam: "bias" });
      break;
    }
    case "embedding": {
      const p = l.value;
      add("weights", p.weights, [N(p.outputChannels), N(p.inputDim)]);
      if (p.hasBias) add("bias", p.bias, [N(p.outputChannels)]); // no selector check
      break;
    }
    case "embeddingND": {
      const p = l.value;
      add("weights", p.weights, [N(p.embeddingSize), N(p.vocabSize)]);
      if (p.hasBias) add("bias", p.bias, [N(p.embeddingSize)]);
      break;
    }
    case "batchnorm": {
      const p = l.value;
      const c = [N(p.channels)];
      add("gamma", p.gamma, c);
      add("beta", p.beta, c);
      add("mean", p.mean, c);
      add("variance", p.variance, c);
      break;
    }
    case "scale": {
      const p = l.value;
      add("scale", p.scale, [prod(p.shapeScale)]);
      if (p.hasBias) add("bias", p.bias, [prod(p.shapeBias)]);
      break;
    }
    case "bias":
      add("bias", l.value.bias, [prod(l.value.shape)]);
      break;
    case "loadConstant":
      add("data", l.value.data, [prod(l.value.shape)]);
      break;
    case "loadConstantND":
      add("data", l.value.data, [prod(l.value.shape)]);
      break;
    case "simpleRecurrent": {
      const p = l.value;
      const i = N(p.inputVectorSize);
      const o = N(p.outputVectorSize);
      add("weightMatrix", p.weightMatrix, [o, i]);
      add("recursionMatrix", p.recursionMatrix, [o, o]);
      if (p.hasBiasVector) add("biasVector", p.biasVector, [o]);
      break;
    }
    case "gru": {
      const p = l.value;
      const i = N(p.inputVectorSize);
      const o = N(p.outputVectorSize);
      add("updateGateWeightMatrix", p.updateGateWeightMatrix, [o, i]);
      add("resetGateWeightMatrix", p.resetGateWeightMatrix, [o, i]);
      add("outputGateWeightMatrix", p.outputGateWeightMatrix, [o, i]);
      add("updateGateRecursionMatrix", p.updateGateRecursionMatrix, [o, o]);
      add("resetGateRecursionMatrix", p.resetGateRecursionMatrix, [o, o]);
      add("outputGateRecursionMatrix", p.outputGateRecursionMatrix, [o, o]);
      if (p.hasBiasVectors) {
        add("updateGateBiasVector", p.updateGateBiasVector, [o]);
        add("resetGateBiasVector", p.resetGateBiasVector, [o]);
        add("outputGateBiasVector", p.outputGateBiasVector, [o]);
      }
      break;
    }
    case "uniDirectionalLSTM":
    case "biDirectionalLSTM": {
      const p = l.value;
      const i = N(p.inputVectorSize);
      const o = N(p.outputVectorSize);
      const peepholes = p.params?.hasPeepholeVectors === true;
      const sets =
        l.case === "uniDirectionalLSTM"
          ? [{ prefix: "weightParams.", set: l.value.weightParams }]
          : l.value.weightParams.map((set, k) => ({ prefix: `weightParams[${k}].`, set }));
      for (const { prefix, set } of sets) {
        if (set === undefined) continue;
        add(`${prefix}inputGateWeightMatrix`, set.inputGateWeightMatrix, [o, i]);
        add(`${prefix}forgetGateWeightMatrix`, set.forgetGateWeightMatrix, [o, i]);
        add(`${prefix}blockInputWeightMatrix`, set.blockInputWeightMatrix, [o, i]);
        add(`${prefix}outputGateWeightMatrix`, set.outputGateWeightMatrix, [o, i]);
        add(`${prefix}inputGateRecursionMatrix`, set.inputGateRecursionMatrix, [o, o]);
        add(`${prefix}forgetGateRecursionMatrix`, set.forgetGateRecursionMatrix, [o, o]);
        add(`${prefix}blockInputRecursionMatrix`, set.blockInputRecursionMatrix, [o, o]);
        add(`${prefix}outputGateRecursionMatrix`, set.outputGateRecursionMatrix, [o, o]);
        // The four bias vectors always (the reference ignores hasBiasVectors).
        add(`${prefix}inputGateBiasVector`, set.inputGateBiasVector, [o]);
        add(`${prefix}forgetGateBiasVector`, set.forgetGateBiasVector, [o]);
        add(`${prefix}blockInputBiasVector`, set.blockInputBiasVector, [o]);
        add(`${prefix}outputGateBiasVector`, set.outputGateBiasVector, [o]);
        if (peepholes) {
          add(`${prefix}inputGatePeepholeVector`, set.inputGatePeepholeVector, [o]);
          add(`${prefix}forgetGatePeepholeVector`, set.forgetGatePeepholeVector, [o]);
          add(`${prefix}outputGatePeepholeVector`, set.outputGatePeepholeVector, [o]);
        }
      }
      break;
    }
    // Weights the reference leaves alone: listed, not quantized.
    case "activation": {
      const a = l.value.NonlinearityType;
      const count = (wp: WeightParams): number[] => [floatCount(wp)];
      if (a.case === "PReLU") add("PReLU.alpha", a.value.alpha, count, { quantized: false });
      if (a.case === "parametricSoftplus") {
        add("parametricSoftplus.alpha", a.value.alpha, count, { quantized: false });
        add("parametricSoftplus.beta", a.value.beta, count, { quantized: false });
      }
      break;
    }
    case "convolution3d": {
      const p = l.value;
      const groups = p.nGroups === 0 ? 1 : p.nGroups;
      add("weights", p.weights, [p.outputChannels, p.inputChannels / groups, p.kernelDepth, p.kernelHeight, p.kernelWidth], { quantized: false });
      if (p.hasBias) add("bias", p.bias, [p.outputChannels], { quantized: false });
      break;
    }
    case "layerNormalization": {
      const p = l.value;
      add("gamma", p.gamma, [prod(p.normalizedShape)], { quantized: false });
      add("beta", p.beta, [prod(p.normalizedShape)], { quantized: false });
      break;
    }
    case "custom":
      l.value.weights.forEach((wp, k) => add(`weights[${k}]`, wp, [floatCount(wp)], { quantized: false }));
      break;
    default:
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison helpers
// ---------------------------------------------------------------------------

interface Row {
  readonly path: string;
  readonly kind: string;
  readonly field: string;
  readonly shape: readonly number[];
  readonly axis: 0 | 1;
}

/** Rows grouped by layer (layer order kept), fields sorted inside each layer. */
function byLayerSorted(rows: readonly Row[]): Row[] {
  const order: string[] = [];
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    if (!groups.has(row.path)) {
      groups.set(row.path, []);
      order.push(row.path);
    }
    groups.get(row.path)?.push(row);
  }
  return order.flatMap((p) => [...(groups.get(p) ?? [])].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)));
}

const actualRows = (name: string): Row[] =>
  allLayers(loadGolden(name)).flatMap(({ path, layer }) =>
    layerWeights(layer).map((r) => ({ path, kind: layer.layer.case ?? "none", field: r.field, shape: [...r.shape], axis: r.axis })),
  );

const expectedRows = (name: string): Row[] =>
  walkLayers(loadGolden(name)).flatMap(({ path, layer }) =>
    expectedWeights(layer).map((e) => ({ path, kind: layer.layer.case ?? "none", field: e.field, shape: [...e.shape], axis: e.axis })),
  );

const refAt = (layer: NeuralNetworkLayer, field: string): WeightRef => {
  const ref = layerWeights(layer).find((r) => r.field === field);
  if (ref === undefined) throw new Error(`no ${field} in ${layer.name}`);
  return ref;
};

const fieldsOf = (layer: NeuralNetworkLayer): string[] => layerWeights(layer).map((r) => r.field);

/** A WeightParams with `n` float32 values, distinguishable by its first value. */
const newWeights = (n: number, first = 42): WeightParams => {
  const floatValue = new Float32Array(n);
  floatValue[0] = first;
  return { ...create(WeightParamsSchema), floatValue };
};

// ---------------------------------------------------------------------------
// Golden inputs
// ---------------------------------------------------------------------------

const INPUTS = goldenInputs();

test("the golden inputs are all here", () => {
  expect(INPUTS).toHaveLength(17);
});

describe.each(INPUTS)("golden input %s", (name) => {
  test("allLayers + layerWeights list exactly the (path, kind, field, shape, axis) the layer parameters call for", () => {
    const expected = expectedRows(name);
    expect(byLayerSorted(actualRows(name))).toEqual(byLayerSorted(expected));
  });

  test("every WeightParams holds exactly product(shape) values", () => {
    const model = loadGolden(name);
    let checked = 0;
    for (const { path, layer } of allLayers(model)) {
      for (const ref of layerWeights(layer)) {
        expect({ at: `${path}/${ref.field}`, count: floatCount(ref.weightParams) }).toEqual({
          at: `${path}/${ref.field}`,
          count: product(ref.shape),
        });
        expect(weightCount(ref.weightParams)).toBe(product(ref.shape));
        checked++;
      }
    }
    expect(checked).toBe(expectedRows(name).length);
    expect(checked).toBeGreaterThan(0);
  });

  test("each ref is the layer's own WeightParams object, with its selectorParam and quantized flag", () => {
    for (const { path, layer } of walkLayers(loadGolden(name))) {
      const refs = layerWeights(layer);
      for (const e of expectedWeights(layer)) {
        const ref = refs.find((r) => r.field === e.field);
        expect(ref).toBeDefined();
        if (ref === undefined) continue;
        expect(ref.weightParams).toBe(e.wp);
        expect({ at: `${path}/${e.field}`, selectorParam: ref.selectorParam, quantized: ref.quantized }).toEqual({
          at: `${path}/${e.field}`,
          selectorParam: e.selectorParam,
          quantized: e.quantized,
        });
      }
    }
  });

  test("fields come in the reference's order (layers other than biDirectionalLSTM)", () => {
    for (const { layer } of walkLayers(loadGolden(name))) {
      if (layer.layer.case === "biDirectionalLSTM") continue;
      expect(fieldsOf(layer)).toEqual(expectedWeights(layer).map((e) => e.field));
    }
  });

  test("withLayerWeight replaces each WeightParams in a new layer and leaves the original untouched", () => {
    for (const { layer } of allLayers(loadGolden(name))) {
      const before = snapshot(layer);
      const refsBefore = layerWeights(layer);
      for (const ref of refsBefore) {
        const replacement = newWeights(product(ref.shape));
        const out = withLayerWeight(layer, ref.steps, replacement);
        expect(out).not.toBe(layer);
        expect(out.layer.value).not.toBe(layer.layer.value);
        expect(refAt(out, ref.field).weightParams).toBe(replacement);
        // Every other field of the new layer still holds the original weights.
        for (const other of refsBefore) {
          if (other.field !== ref.field) expect(refAt(out, other.field).weightParams).toBe(other.weightParams);
        }
        expect(refAt(layer, ref.field).weightParams).toBe(ref.weightParams);
      }
      expect(layer).toEqual(before);
    }
  });
});

// ---------------------------------------------------------------------------
// Specific rows of the table, on the golden inputs
// ---------------------------------------------------------------------------

describe("golden specifics", () => {
  const layerNamed = (model: string, name: string): NeuralNetworkLayer => {
    const found = allLayers(loadGolden(model)).find((l) => l.layer.name === name);
    if (found === undefined) throw new Error(`no layer ${name} in ${model}`);
    return found.layer;
  };
  const shapes = (layer: NeuralNetworkLayer): [string, readonly number[], 0 | 1][] => layerWeights(layer).map((r) => [r.field, r.shape, r.axis]);

  test("deconvolution: [kernelChannels, outputChannels / nGroups, kh, kw] on axis 1, bias [outputChannels]", () => {
    const deconv = layerNamed("cnn", "deconv4");
    const grouped = layerNamed("cnn", "deconv5_grouped");
    if (deconv.layer.case !== "convolution" || grouped.layer.case !== "convolution") throw new Error("not convolutions");
    expect(deconv.layer.value).toMatchObject({ isDeconvolution: true, kernelChannels: 16n, outputChannels: 8n, kernelSize: [2n, 2n] });
    expect(grouped.layer.value).toMatchObject({ isDeconvolution: true, kernelChannels: 4n, outputChannels: 16n, nGroups: 2n, kernelSize: [2n, 2n] });
    expect(shapes(deconv)).toEqual([
      ["weights", [16, 8, 2, 2], 1],
      ["bias", [8], 0],
    ]);
    expect(shapes(grouped)).toEqual([
      ["weights", [4, 8, 2, 2], 1],
      ["bias", [16], 0],
    ]);
  });

  test("convolution: [outputChannels, kernelChannels, kh, kw] on axis 0 (depthwise too)", () => {
    expect(shapes(layerNamed("cnn", "conv1"))).toEqual([
      ["weights", [8, 3, 3, 3], 0],
      ["bias", [8], 0],
    ]);
    expect(shapes(layerNamed("cnn", "dw3"))).toEqual([
      ["weights", [16, 1, 3, 3], 0],
      ["bias", [16], 0],
    ]);
  });

  test("hasBias = false leaves the bias out", () => {
    const conv2 = layerNamed("cnn", "conv2");
    const fc1 = layerNamed("mlp", "fc1");
    const scale = layerNamed("mlp", "scale2");
    const embnd = layerNamed("sequence", "embnd");
    expect(conv2.layer.case === "convolution" && conv2.layer.value.hasBias).toBe(false);
    expect(fc1.layer.case === "innerProduct" && fc1.layer.value.hasBias).toBe(false);
    expect(scale.layer.case === "scale" && scale.layer.value.hasBias).toBe(false);
    expect(embnd.layer.case === "embeddingND" && embnd.layer.value.hasBias).toBe(false);
    expect(fieldsOf(conv2)).toEqual(["weights"]);
    expect(fieldsOf(fc1)).toEqual(["weights"]);
    expect(fieldsOf(scale)).toEqual(["scale"]);
    expect(fieldsOf(embnd)).toEqual(["weights"]);
  });

  test("batchedMatmul: weights [second, first], bias [second] with selectorParam 'bias'", () => {
    const bmm = layerNamed("real_tf_batchedmatmul_softmaxnd", "sequential/dense/MatMul");
    if (bmm.layer.case !== "batchedMatmul") throw new Error("not batchedMatmul");
    const { weightMatrixFirstDimension: first, weightMatrixSecondDimension: second } = bmm.layer.value;
    expect([first, second]).toEqual([3n, 10n]);
    expect(shapes(bmm)).toEqual([
      ["weights", [10, 3], 0],
      ["bias", [10], 0],
    ]);
    expect(layerWeights(bmm).map((r) => r.selectorParam)).toEqual([undefined, "bias"]);
  });

  test("bias selectorParam: 'bias' for convolution, innerProduct and batchedMatmul; none for embedding", () => {
    expect(refAt(layerNamed("cnn", "conv1"), "bias").selectorParam).toBe("bias");
    expect(refAt(layerNamed("mlp", "fc2"), "bias").selectorParam).toBe("bias");
    expect(refAt(layerNamed("sequence", "bmm"), "bias").selectorParam).toBe("bias");
    expect(refAt(layerNamed("sequence", "emb"), "bias").selectorParam).toBeUndefined();
    expect(refAt(layerNamed("cnn", "scale2"), "bias").selectorParam).toBeUndefined();
    for (const ref of layerWeights(layerNamed("cnn", "conv1"))) {
      if (ref.field === "weights") expect(ref.selectorParam).toBeUndefined();
    }
  });

  test("uniDirectionalLSTM with hasPeepholeVectors lists the three peepholes", () => {
    const lstm = layerNamed("sequence", "lstm");
    if (lstm.layer.case !== "uniDirectionalLSTM") throw new Error("not an LSTM");
    expect(lstm.layer.value.params?.hasPeepholeVectors).toBe(true);
    expect(fieldsOf(lstm).filter((f) => f.includes("Peephole"))).toEqual([
      "weightParams.inputGatePeepholeVector",
      "weightParams.forgetGatePeepholeVector",
      "weightParams.outputGatePeepholeVector",
    ]);
    expect(fieldsOf(lstm)).toHaveLength(15);
  });

  test("biDirectionalLSTM has two weight sets, weightParams[0] and weightParams[1]", () => {
    const bi = layerNamed("sequence", "bilstm");
    if (bi.layer.case !== "biDirectionalLSTM") throw new Error("not a biLSTM");
    expect(bi.layer.value.weightParams).toHaveLength(2);
    const fields = fieldsOf(bi);
    const set0 = fields.filter((f) => f.startsWith("weightParams[0]."));
    const set1 = fields.filter((f) => f.startsWith("weightParams[1]."));
    expect(set0).toHaveLength(bi.layer.value.params?.hasPeepholeVectors === true ? 15 : 12);
    expect(set1.map((f) => f.replace("[1]", "[0]"))).toEqual(set0);
    expect(set0.length + set1.length).toBe(fields.length);
    const refs = layerWeights(bi);
    expect(refAt(bi, "weightParams[1].inputGateWeightMatrix").weightParams).toBe(bi.layer.value.weightParams[1]?.inputGateWeightMatrix);
    expect(refs.find((r) => r.field === "weightParams[0].outputGateBiasVector")?.steps).toEqual(["weightParams", 0, "outputGateBiasVector"]);
  });

  test("biDirectionalLSTM lists weight set 0 whole before weight set 1, as the reference walks them", () => {
    // coremltools' _quantize_nn_spec: `for lstm_wp in layer.biDirectionalLSTM.weightParams:
    // _lstmwp_to_fp16_lstmwp(lstm_wp, ...)` - one set after the other. The order is
    // visible to a custom_lut function (called once per WeightParams) and in `inspect`.
    const bi = layerNamed("sequence", "bilstm");
    expect(fieldsOf(bi)).toEqual(expectedWeights(bi).map((e) => e.field));
  });
});

// ---------------------------------------------------------------------------
// Built layers: flags the golden inputs do not exercise
// ---------------------------------------------------------------------------

describe("presence flags on built layers", () => {
  test("hasBias = false leaves a set bias out, for every kind with an optional bias", () => {
    const layers = [
      buildLayer({
        name: "c",
        layer: {
          case: "convolution",
          value: { outputChannels: 2n, kernelChannels: 1n, kernelSize: [1n, 1n], hasBias: false, weights: floats(2), bias: floats(2) },
        },
      }),
      buildLayer({
        name: "ip",
        layer: { case: "innerProduct", value: { outputChannels: 2n, inputChannels: 3n, hasBias: false, weights: floats(6), bias: floats(2) } },
      }),
      buildLayer({
        name: "bm",
        layer: {
          case: "batchedMatmul",
          value: { weightMatrixFirstDimension: 3n, weightMatrixSecondDimension: 2n, hasBias: false, weights: floats(6), bias: floats(2) },
        },
      }),
      buildLayer({ name: "e", layer: { case: "embedding", value: { outputChannels: 2n, inputDim: 3n, hasBias: false, weights: floats(6), bias: floats(2) } } }),
      buildLayer({
        name: "end",
        layer: { case: "embeddingND", value: { embeddingSize: 2n, vocabSize: 3n, hasBias: false, weights: floats(6), bias: floats(2) } },
      }),
      buildLayer({ name: "s", layer: { case: "scale", value: { shapeScale: [2n], shapeBias: [2n], hasBias: false, scale: floats(2), bias: floats(2) } } }),
    ];
    for (const layer of layers) {
      expect({ layer: layer.name, fields: fieldsOf(layer) }).toEqual({ layer: layer.name, fields: expectedWeights(layer).map((e) => e.field) });
      expect(fieldsOf(layer)).not.toContain("bias");
    }
  });

  test("hasBias = true with a bias lists it with the declared shape", () => {
    const e = buildLayer({
      name: "e",
      layer: { case: "embedding", value: { outputChannels: 2n, inputDim: 3n, hasBias: true, weights: floats(6), bias: floats(2) } },
    });
    const end = buildLayer({
      name: "end",
      layer: { case: "embeddingND", value: { embeddingSize: 2n, vocabSize: 3n, hasBias: true, weights: floats(6), bias: floats(2) } },
    });
    const s = buildLayer({
      name: "s",
      layer: { case: "scale", value: { shapeScale: [2n, 1n, 1n], shapeBias: [1n, 2n], hasBias: true, scale: floats(2), bias: floats(2) } },
    });
    expect(layerWeights(e).map((r) => [r.field, r.shape, r.selectorParam])).toEqual([
      ["weights", [2, 3], undefined],
      ["bias", [2], undefined],
    ]);
    expect(layerWeights(end).map((r) => [r.field, r.shape, r.selectorParam])).toEqual([
      ["weights", [2, 3], undefined],
      ["bias", [2], undefined],
    ]);
    expect(layerWeights(s).map((r) => [r.field, r.shape])).toEqual([
      ["scale", [2]],
      ["bias", [2]],
    ]);
  });

  test("hasBias = true with the bias message unset lists no bias", () => {
    const ip = buildLayer({ name: "ip", layer: { case: "innerProduct", value: { outputChannels: 2n, inputChannels: 3n, hasBias: true, weights: floats(6) } } });
    expect(fieldsOf(ip)).toEqual(["weights"]);
  });

  test("simpleRecurrent and gru: bias vectors only with their flag", () => {
    const rnn = (has: boolean): NeuralNetworkLayer =>
      buildLayer({
        name: "rnn",
        layer: {
          case: "simpleRecurrent",
          value: { inputVectorSize: 3n, outputVectorSize: 2n, hasBiasVector: has, weightMatrix: floats(6), recursionMatrix: floats(4), biasVector: floats(2) },
        },
      });
    const gru = (has: boolean): NeuralNetworkLayer =>
      buildLayer({
        name: "gru",
        layer: {
          case: "gru",
          value: {
            inputVectorSize: 3n,
            outputVectorSize: 2n,
            hasBiasVectors: has,
            updateGateWeightMatrix: floats(6),
            resetGateWeightMatrix: floats(6),
            outputGateWeightMatrix: floats(6),
            updateGateRecursionMatrix: floats(4),
            resetGateRecursionMatrix: floats(4),
            outputGateRecursionMatrix: floats(4),
            updateGateBiasVector: floats(2),
            resetGateBiasVector: floats(2),
            outputGateBiasVector: floats(2),
          },
        },
      });
    expect(layerWeights(rnn(true)).map((r) => [r.field, r.shape])).toEqual([
      ["weightMatrix", [2, 3]],
      ["recursionMatrix", [2, 2]],
      ["biasVector", [2]],
    ]);
    expect(fieldsOf(rnn(false))).toEqual(["weightMatrix", "recursionMatrix"]);
    expect(fieldsOf(gru(true))).toEqual(expectedWeights(gru(true)).map((e) => e.field));
    expect(fieldsOf(gru(true))).toHaveLength(9);
    expect(fieldsOf(gru(false))).toEqual(fieldsOf(gru(true)).slice(0, 6));
    for (const ref of layerWeights(gru(true))) expect(floatCount(ref.weightParams)).toBe(product(ref.shape));
  });

  const lstmSet = (i: number, o: number): Record<string, { floatValue: number[] }> => {
    const set: Record<string, { floatValue: number[] }> = {};
    for (const g of ["inputGate", "forgetGate", "blockInput", "outputGate"]) {
      set[`${g}WeightMatrix`] = floats(o * i);
      set[`${g}RecursionMatrix`] = floats(o * o);
      set[`${g}BiasVector`] = floats(o);
    }
    for (const g of ["inputGate", "forgetGate", "outputGate"]) set[`${g}PeepholeVector`] = floats(o);
    return set;
  };

  test("LSTM peepholes only with params.hasPeepholeVectors; the four bias vectors always", () => {
    const uni = (peep: boolean, bias: boolean): NeuralNetworkLayer =>
      buildLayer({
        name: "lstm",
        layer: {
          case: "uniDirectionalLSTM",
          value: { inputVectorSize: 3n, outputVectorSize: 2n, params: { hasPeepholeVectors: peep, hasBiasVectors: bias }, weightParams: lstmSet(3, 2) },
        },
      });
    const withPeep = fieldsOf(uni(true, true));
    const withoutPeep = fieldsOf(uni(false, true));
    expect(withPeep).toHaveLength(15);
    expect(withoutPeep).toHaveLength(12);
    expect(withoutPeep.some((f) => f.includes("Peephole"))).toBe(false);
    expect(fieldsOf(uni(false, false))).toEqual(withoutPeep);
    expect(withoutPeep.filter((f) => f.endsWith("BiasVector"))).toHaveLength(4);
    for (const layer of [uni(true, true), uni(false, false)]) {
      expect(fieldsOf(layer)).toEqual(expectedWeights(layer).map((e) => e.field));
      for (const ref of layerWeights(layer)) expect(floatCount(ref.weightParams)).toBe(product(ref.shape));
    }
    const noParams = buildLayer({
      name: "lstm",
      layer: { case: "uniDirectionalLSTM", value: { inputVectorSize: 3n, outputVectorSize: 2n, weightParams: lstmSet(3, 2) } },
    });
    expect(fieldsOf(noParams)).toHaveLength(12);
  });

  test("biDirectionalLSTM: both weight sets, peepholes by the shared params flag", () => {
    const bi = (peep: boolean): NeuralNetworkLayer =>
      buildLayer({
        name: "bi",
        layer: {
          case: "biDirectionalLSTM",
          value: { inputVectorSize: 3n, outputVectorSize: 2n, params: { hasPeepholeVectors: peep }, weightParams: [lstmSet(3, 2), lstmSet(3, 2)] },
        },
      });
    expect(fieldsOf(bi(true))).toHaveLength(30);
    expect(fieldsOf(bi(false))).toHaveLength(24);
    for (const layer of [bi(true), bi(false)]) {
      expect([...fieldsOf(layer)].sort()).toEqual(
        expectedWeights(layer)
          .map((e) => e.field)
          .sort(),
      );
      for (const ref of layerWeights(layer)) expect(floatCount(ref.weightParams)).toBe(product(ref.shape));
    }
  });

  test("a convolution without kernelSize uses the format's default [3, 3]", () => {
    // NeuralNetwork.proto, ConvolutionLayerParams.kernelSize: "If not set, default value [3, 3] is used."
    const conv = buildLayer({ name: "c", layer: { case: "convolution", value: { outputChannels: 2n, kernelChannels: 3n, weights: floats(2 * 3 * 3 * 3) } } });
    const [weights] = layerWeights(conv);
    if (weights === undefined) throw new Error("no weights listed");
    expect(floatCount(weights.weightParams)).toBe(54);
    expect(weights.shape).toEqual([2, 3, 3, 3]);
  });

  test("a deconvolution with nGroups unset divides by 1", () => {
    const deconv = buildLayer({
      name: "d",
      layer: {
        case: "convolution",
        value: { isDeconvolution: true, outputChannels: 4n, kernelChannels: 3n, kernelSize: [2n, 2n], weights: floats(3 * 4 * 4) },
      },
    });
    expect(layerWeights(deconv).map((r) => [r.field, r.shape, r.axis])).toEqual([["weights", [3, 4, 2, 2], 1]]);
  });

  test("kinds the reference leaves alone are listed with quantized = false", () => {
    const prelu = buildLayer({ name: "p", layer: { case: "activation", value: { NonlinearityType: { case: "PReLU", value: { alpha: floats(5) } } } } });
    const softplus = buildLayer({
      name: "sp",
      layer: { case: "activation", value: { NonlinearityType: { case: "parametricSoftplus", value: { alpha: floats(3), beta: floats(3) } } } },
    });
    const relu = buildLayer({ name: "r", layer: { case: "activation", value: { NonlinearityType: { case: "ReLU", value: {} } } } });
    const norm = buildLayer({ name: "ln", layer: { case: "layerNormalization", value: { normalizedShape: [2n, 3n], gamma: floats(6), beta: floats(6) } } });
    const conv3d = buildLayer({
      name: "c3",
      layer: {
        case: "convolution3d",
        value: {
          outputChannels: 4,
          inputChannels: 6,
          nGroups: 2,
          kernelDepth: 1,
          kernelHeight: 2,
          kernelWidth: 2,
          hasBias: true,
          weights: floats(4 * 3 * 4),
          bias: floats(4),
        },
      },
    });
    const custom = buildLayer({ name: "cu", layer: { case: "custom", value: { className: "X", weights: [floats(7), floats(2)] } } });
    for (const layer of [prelu, softplus, norm, conv3d, custom]) {
      const refs = layerWeights(layer);
      expect(refs.map((r) => [r.field, r.shape, r.quantized])).toEqual(expectedWeights(layer).map((e) => [e.field, e.shape, false]));
      for (const ref of refs) expect(floatCount(ref.weightParams)).toBe(product(ref.shape));
    }
    expect(fieldsOf(prelu)).toEqual(["PReLU.alpha"]);
    expect(fieldsOf(softplus)).toEqual(["parametricSoftplus.alpha", "parametricSoftplus.beta"]);
    expect(fieldsOf(custom)).toEqual(["weights[0]", "weights[1]"]);
    expect(fieldsOf(relu)).toEqual([]);
  });

  test("layer kinds without weights, and a layer with no kind, list nothing", () => {
    expect(layerWeights(buildLayer({ name: "sm", layer: { case: "softmax", value: {} } }))).toEqual([]);
    expect(layerWeights(buildLayer({ name: "none" }))).toEqual([]);
  });
});

describe("weightCount", () => {
  test("counts float32 values, float16 pairs of bytes and int8 bytes", () => {
    const base = create(WeightParamsSchema);
    expect(weightCount({ ...base, floatValue: new Float32Array(5) })).toBe(5);
    expect(weightCount({ ...base, floatValue: new Float32Array(0), float16Value: new Uint8Array(8) })).toBe(4);
    expect(weightCount({ ...base, floatValue: new Float32Array(0), int8RawValue: new Uint8Array(3) })).toBe(3);
    expect(weightCount({ ...base, floatValue: new Float32Array(0) })).toBe(0);
  });
});

describe("withLayerWeight on nested steps", () => {
  test("a oneof step (PReLU alpha) is replaced in a copy; the original keeps its alpha", () => {
    const prelu = buildLayer({ name: "p", layer: { case: "activation", value: { NonlinearityType: { case: "PReLU", value: { alpha: floats(5) } } } } });
    const before = snapshot(prelu);
    const [ref] = layerWeights(prelu);
    if (ref === undefined) throw new Error("no alpha");
    expect(ref.steps).toEqual([{ oneof: "NonlinearityType", case: "PReLU" }, "alpha"]);
    const replacement = newWeights(5, 7);
    const out = withLayerWeight(prelu, ref.steps, replacement);
    expect(layerWeights(out)[0]?.weightParams).toBe(replacement);
    expect(out.layer.case).toBe("activation");
    expect(prelu).toEqual(before);
    expect(layerWeights(prelu)[0]?.weightParams).toBe(ref.weightParams);
  });

  test("an index step (biDirectionalLSTM weightParams[1]) copies the list, shares the other set", () => {
    const bi = loadGolden("sequence");
    const layer = allLayers(bi).find((l) => l.layer.layer.case === "biDirectionalLSTM")?.layer;
    if (layer === undefined || layer.layer.case !== "biDirectionalLSTM") throw new Error("no biLSTM");
    const before = snapshot(layer);
    const originalSets = layer.layer.value.weightParams;
    const [set0, set1] = originalSets;
    const ref = refAt(layer, "weightParams[1].forgetGateRecursionMatrix");
    const replacement = newWeights(36);
    const out = withLayerWeight(layer, ref.steps, replacement);
    if (out.layer.case !== "biDirectionalLSTM") throw new Error("kind changed");
    expect(out.layer.value.weightParams).not.toBe(originalSets);
    expect(out.layer.value.weightParams[0]).toBe(set0);
    expect(out.layer.value.weightParams[1]).not.toBe(set1);
    expect(out.layer.value.weightParams[1]?.forgetGateRecursionMatrix).toBe(replacement);
    expect(out.layer.value.weightParams[1]?.inputGateWeightMatrix).toBe(set1?.inputGateWeightMatrix);
    expect(layer.layer.value.weightParams).toBe(originalSets);
    expect(layer).toEqual(before);
  });

  test("name, inputs and outputs of the layer are kept", () => {
    const fc = allLayers(loadGolden("mlp")).find((l) => l.layer.name === "fc2")?.layer;
    if (fc === undefined) throw new Error("no fc2");
    const out = withLayerWeight(fc, ["bias"], newWeights(16));
    expect({ name: out.name, input: out.input, output: out.output, kind: out.layer.case }).toEqual({
      name: fc.name,
      input: fc.input,
      output: fc.output,
      kind: fc.layer.case,
    });
  });
});

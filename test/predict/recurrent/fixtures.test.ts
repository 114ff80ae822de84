/**
 * The recurrent layers of the prediction fixtures (test/fixtures/predict), run
 * directly through RECURRENT_LAYERS: every output the layer computes that the
 * case stores is compared with the expected values (README: SNR >= 80 dB). The
 * naive oracle is checked against the same expected values, so that the
 * property tests comparing with it rest on the fixtures.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeModel } from "../../../src/codec/decode-model.js";
import type { NeuralNetworkLayer } from "../../../src/codec/model-types.js";
import type { Tensor } from "../../../src/predict/layer-runner.js";
import { parseNpy } from "../../../src/predict/npy.js";
import { prepare, run, snrDb } from "./helpers.js";
import { oracleOutputs, type Steps } from "./oracle-layer.js";
import type { Vec } from "./oracle.js";

const ROOT = join(__dirname, "../../fixtures/predict");
const SAMPLES = ["0", "1", "2"];
const SNR_MIN_DB = 80;
const RECURRENT = new Set(["simpleRecurrent", "gru", "uniDirectionalLSTM", "biDirectionalLSTM"]);

function loadNetwork(model: string): NeuralNetworkLayer[] {
  const decoded = decodeModel(readFileSync(join(ROOT, "models", `${model}.mlmodel`)));
  if (decoded.Type.case !== "neuralNetwork") throw new Error(`${model}: not a plain neuralNetwork`);
  return decoded.Type.value.layers;
}

function recurrentLayer(layers: NeuralNetworkLayer[]): NeuralNetworkLayer {
  const layer = layers.find((l) => RECURRENT.has(l.layer.case ?? ""));
  if (layer === undefined) throw new Error("no recurrent layer");
  return layer;
}

/** A stored float32 array as a rank-5 blob: kept when rank 5, else `[1, 1, C, 1, 1]`. */
function npyBlob(file: string): Tensor {
  const a = parseNpy(readFileSync(file));
  if (a.dtype !== "float32") throw new Error(`${file}: ${a.dtype}`);
  const shape = a.shape.length === 5 ? [...a.shape] : [1, 1, a.data.length, 1, 1];
  return { shape, data: a.data };
}

/** `[Seq, Batch, C, 1, 1]` blob -> `[step][batch]` vectors. */
function steps(t: Tensor): Steps {
  const [seq = 0, batch = 0, c = 0] = t.shape;
  return Array.from({ length: seq }, (_, s) =>
    Array.from({ length: batch }, (_, b) => Array.from(t.data.subarray((s * batch + b) * c, (s * batch + b + 1) * c))),
  );
}

/** The layer's inputs present in a sample, in layer order, up to the first absent one (the fixtures only omit trailing states). */
function sampleInputs(model: string, sample: string, layer: NeuralNetworkLayer): Tensor[] {
  const blobs: Tensor[] = [];
  for (const name of layer.input) {
    const file = join(ROOT, "inputs", model, sample, `${name}.npy`);
    if (!existsSync(file)) break;
    blobs.push(npyBlob(file));
  }
  return blobs;
}

/** The state inputs as oracle vectors (one per batch sequence). */
const oracleStates = (blobs: readonly Tensor[]): (Vec[] | undefined)[] => blobs.slice(1).map((b) => [Array.from(b.data)]);

const SEQUENCE_MODELS = [
  "simple_rnn_seq",
  "simple_rnn_reverse_last",
  "gru_seq_state",
  "gru_last_nobias",
  "lstm_peephole_seq_state",
  "lstm_last_nostate",
  "lstm_coupled_input_forget",
  "lstm_reverse_input",
  "lstm_nobias",
  "bilstm_seq_state",
  "bilstm_last",
  "gru_tagger",
];

describe.each(SEQUENCE_MODELS)("%s", (model) => {
  const layer = recurrentLayer(loadNetwork(model));
  const prepared = prepare(layer, `model/neuralNetwork/layers[0] "${layer.name}"`);

  test.each(SAMPLES)("sample %s: stored outputs within 80 dB, shapes [Seq|1, 1, C, 1, 1]", (sample) => {
    const inputs = sampleInputs(model, sample, layer);
    const before = inputs.map((t) => Float32Array.from(t.data));
    const outputs = run(prepared, inputs);
    expect(outputs).toHaveLength(layer.output.length);
    const oracle = oracleOutputs(layer, steps(inputs[0] as Tensor), oracleStates(inputs));
    let compared = 0;
    layer.output.forEach((name, k) => {
      const file = join(ROOT, "expected", model, sample, `${name}.npy`);
      if (!existsSync(file)) return;
      const expected = npyBlob(file);
      const actual = outputs[k] as Tensor;
      expect(actual.shape).toEqual(expected.shape);
      expect(actual.data).toBeInstanceOf(Float32Array);
      expect(snrDb(actual.data, expected.data)).toBeGreaterThanOrEqual(SNR_MIN_DB);
      expect(snrDb(oracle[k] as number[], expected.data)).toBeGreaterThanOrEqual(SNR_MIN_DB);
      compared++;
    });
    expect(compared).toBeGreaterThan(0);
    inputs.forEach((t, k) => expect(t.data).toEqual(before[k]));
  });
});

describe("text_lstm_sentiment", () => {
  // embedding -> LSTM (last output) -> innerProduct -> sigmoid: the other three
  // layers are computed here from their params, in plain loops.
  const layers = loadNetwork("text_lstm_sentiment");
  const lstm = recurrentLayer(layers);
  const prepared = prepare(lstm);
  const param = <K extends string>(kind: K): Extract<NeuralNetworkLayer["layer"], { case: K }>["value"] => {
    const l = layers.find((x) => x.layer.case === kind);
    if (l === undefined) throw new Error(`no ${kind}`);
    return l.layer.value as never;
  };

  test.each(SAMPLES)("sample %s: score within 80 dB", (sample) => {
    const emb = param("embedding");
    const ip = param("innerProduct");
    const tokens = npyBlob(join(ROOT, "inputs", "text_lstm_sentiment", sample, "tokens.npy"));
    const dims = Number(emb.outputChannels);
    const vocab = Number(emb.inputDim);
    const table = emb.weights?.floatValue ?? new Float32Array();
    // Embedding weights are [outputChannels, inputDim]: column `index` is the vector.
    const embedded = new Float32Array(tokens.data.length * dims);
    tokens.data.forEach((index, s) => {
      for (let d = 0; d < dims; d++) embedded[s * dims + d] = table[d * vocab + index] as number;
    });
    const [h] = run(prepared, [{ shape: [tokens.data.length, 1, dims, 1, 1], data: embedded }]);
    const w = ip.weights?.floatValue ?? new Float32Array();
    let logit = ip.hasBias ? (ip.bias?.floatValue[0] ?? 0) : 0;
    (h as Tensor).data.forEach((v, k) => {
      logit += (w[k] as number) * v;
    });
    const score = 1 / (1 + Math.exp(-logit));
    const expected = parseNpy(readFileSync(join(ROOT, "expected", "text_lstm_sentiment", sample, "score.npy")));
    expect(snrDb([score], expected.data as Float32Array)).toBeGreaterThanOrEqual(SNR_MIN_DB);
  });
});

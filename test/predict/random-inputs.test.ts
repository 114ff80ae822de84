/**
 * randomInputs: determinism, value ranges by input type, embedding indices,
 * optional inputs, sequences, and that every fixture model runs on its samples.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ArrayFeatureType_ArrayDataType, ImageFeatureType_ColorSpace } from "../../src/gen/FeatureTypes_pb.js";
import type { ArrayValue, ImageValue, InputValue } from "../../src/predict/feature-io.js";
import { prepareModel } from "../../src/predict/predict.js";
import { randomInputs } from "../../src/predict/random-inputs.js";
import { buildModel, expectError, FIXTURES, loadFixtureModel } from "./support.js";

const asArray = (v: InputValue | undefined): ArrayValue => v as ArrayValue;
const asImage = (v: InputValue | undefined): ImageValue => v as ImageValue;
const bytesOf = (v: InputValue | undefined): number[] => {
  const data = (v as ArrayValue | ImageValue).data;
  return Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
};

describe("determinism", () => {
  const model = loadFixtureModel("mobilenet_classifier");

  test("the same seed gives the same bytes; another seed other bytes", () => {
    const a = randomInputs(model, 3, 123);
    const b = randomInputs(model, 3, 123);
    const c = randomInputs(model, 3, 124);
    for (let s = 0; s < 3; s++) {
      expect(bytesOf(b[s]?.image)).toEqual(bytesOf(a[s]?.image));
      expect(bytesOf(c[s]?.image)).not.toEqual(bytesOf(a[s]?.image));
    }
    expect(bytesOf(a[1]?.image)).not.toEqual(bytesOf(a[0]?.image));
  });

  test("a larger count extends a smaller one's samples", () => {
    const few = randomInputs(loadFixtureModel("regressor"), 2, 9);
    const more = randomInputs(loadFixtureModel("regressor"), 5, 9);
    expect(more.slice(0, 2).map((s) => bytesOf(s.x))).toEqual(few.map((s) => bytesOf(s.x)));
  });

  test("pinned values: the generator does not drift between versions or platforms", () => {
    const [sample] = randomInputs(loadFixtureModel("regressor"), 1, 1);
    const first = Array.from((asArray(sample?.x).data as Float32Array).slice(0, 4), (v) => Number(v.toFixed(6)));
    // Recomputed here from mulberry32 and Box–Muller, written out independently.
    let state = 1;
    const next = (): number => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    const expected: number[] = [];
    while (expected.length < 4) {
      const u1 = (next() + 0.5) / 2 ** 32;
      const u2 = next() / 2 ** 32;
      const r = Math.sqrt(-2 * Math.log(u1));
      expected.push(r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2));
    }
    expect(first).toEqual(expected.map((v) => Number(Math.fround(v).toFixed(6))));
  });

  test("count 0 gives no sample; seeds are taken modulo 2^32", () => {
    expect(randomInputs(model, 0, 1)).toEqual([]);
    expect(bytesOf(randomInputs(model, 1, -1)[0]?.image)).toEqual(bytesOf(randomInputs(model, 1, 2 ** 32 - 1)[0]?.image));
  });
});

describe("values by input type", () => {
  test("image: 8-bit pixels of the declared size, R, G, B interleaved, spread over 0..255", () => {
    const image = asImage(randomInputs(loadFixtureModel("mobilenet_classifier"), 1, 5)[0]?.image);
    expect(image.width).toBe(32);
    expect(image.height).toBe(32);
    expect(image.data).toBeInstanceOf(Uint8Array);
    expect(image.data.length).toBe(32 * 32 * 3);
    const values = Array.from(image.data);
    expect(Math.min(...values)).toBeLessThan(5);
    expect(Math.max(...values)).toBeGreaterThan(250);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean - 127.5)).toBeLessThan(6);
  });

  test("grayscale: one byte a pixel", () => {
    const gray = buildModel({
      specificationVersion: 1,
      description: {
        input: [{ name: "g", type: { Type: { case: "imageType", value: { width: 5n, height: 3n, colorSpace: ImageFeatureType_ColorSpace.GRAYSCALE } } } }],
        output: [],
      },
      Type: { case: "neuralNetwork", value: { layers: [] } },
    });
    const image = asImage(randomInputs(gray, 1, 1)[0]?.g);
    expect([image.width, image.height, image.data.length]).toEqual([5, 3, 15]);
  });

  test("multiArray: standard normal values in the declared shape", () => {
    const samples = randomInputs(loadFixtureModel("regressor"), 300, 17);
    const values = samples.flatMap((s) => {
      const x = asArray(s.x);
      expect(x.shape).toEqual([2, 6, 6]);
      expect(x.data).toBeInstanceOf(Float32Array);
      return Array.from(x.data as Float32Array);
    });
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const within1 = values.filter((v) => Math.abs(v) < 1).length / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.02);
  });

  test("int32 and double multiArrays get data of their type (int32: whole numbers)", () => {
    const typed = buildModel({
      specificationVersion: 1,
      description: {
        input: [
          { name: "i", type: { Type: { case: "multiArrayType", value: { shape: [50n], dataType: ArrayFeatureType_ArrayDataType.INT32 } } } },
          { name: "d", type: { Type: { case: "multiArrayType", value: { shape: [2n, 3n], dataType: ArrayFeatureType_ArrayDataType.DOUBLE } } } },
        ],
        output: [],
      },
      Type: { case: "neuralNetwork", value: { layers: [] } },
    });
    const [sample] = randomInputs(typed, 1, 3);
    expect(asArray(sample?.i).data).toBeInstanceOf(Int32Array);
    expect(new Set(Array.from(asArray(sample?.i).data as Int32Array)).size).toBeGreaterThan(2);
    expect(asArray(sample?.d).data).toBeInstanceOf(Float64Array);
    expect(asArray(sample?.d).shape).toEqual([2, 3]);
  });

  test("an input read by an embedding: whole indices in [0, inputDim)", () => {
    const samples = randomInputs(loadFixtureModel("text_lstm_sentiment"), 50, 2, { sequenceLength: 7 });
    const seen = new Set<number>();
    for (const s of samples) {
      const tokens = asArray(s.tokens);
      expect(tokens.shape).toEqual([7, 1, 1, 1, 1]);
      for (const v of tokens.data) {
        expect(Number.isInteger(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(20);
        seen.add(Number(v));
      }
    }
    expect(seen.size).toBe(20); // 350 draws cover all 20 words
  });

  test("embeddingND (exact layout): indices in [0, vocabSize), declared shape kept whatever sequenceLength", () => {
    for (const s of randomInputs(loadFixtureModel("embedding_nd"), 20, 4, { sequenceLength: 3 })) {
      const ids = asArray(s.ids);
      expect(ids.shape).toEqual([5, 1]);
      for (const v of ids.data) expect(Number.isInteger(v) && v >= 0 && v < 10).toBe(true);
    }
  });

  test("sequenceLength reaches the sequence input of a recurrent layer, not its states nor a classifier's input", () => {
    const [tagger] = randomInputs(loadFixtureModel("gru_tagger"), 1, 1, { sequenceLength: 4 });
    expect(asArray(tagger?.x).shape[0]).toBe(4);
    expect(asArray(tagger?.h_in).shape).toEqual([8]);
    const [classifier] = randomInputs(loadFixtureModel("int64_classifier"), 1, 1, { sequenceLength: 4 });
    expect(asArray(classifier?.features).shape).toEqual([6]);
    expect(() => prepareModel(loadFixtureModel("gru_tagger")).predict(tagger ?? {})).not.toThrow();
  });

  test("optional inputs (RNN states) are left out: the model uses zeros", () => {
    const model = loadFixtureModel("simple_rnn_reverse_last");
    const [sample] = randomInputs(model, 1, 1);
    expect(Object.keys(sample ?? {})).not.toContain("h_in");
    expect(() => prepareModel(model).predict(sample ?? {})).not.toThrow();
  });

  test("pipelines: the first stage taking the input decides", () => {
    const [sample] = randomInputs(loadFixtureModel("pipeline_two_networks"), 1, 1);
    expect(asArray(sample?.features).shape).toEqual([8]);
  });
});

describe("every fixture model runs on its random samples", () => {
  const names = readdirSync(join(FIXTURES, "models"))
    .filter((f) => f.endsWith(".mlmodel"))
    .map((f) => f.replace(/\.mlmodel$/, ""));
  test.each(names)("%s", (name) => {
    const model = loadFixtureModel(name);
    const prepared = prepareModel(model);
    for (const sample of randomInputs(model, 2, 1, { sequenceLength: 3 })) expect(() => prepared.predict(sample)).not.toThrow();
  });
});

describe("refusals", () => {
  const model = loadFixtureModel("regressor");

  test("count, seed and options must be integers in range", () => {
    expectError(() => randomInputs(model, -1, 1), "invalid-option", /count must be an integer >= 0, got -1/);
    expectError(() => randomInputs(model, 1.5, 1), "invalid-option", /count/);
    expectError(() => randomInputs(model, 1, 0.5), "invalid-option", /seed must be an integer/);
    expectError(() => randomInputs(model, 1, 1, { sequenceLength: 0 }), "invalid-option", /sequenceLength must be an integer from 1/);
  });

  test("input types the executor does not take", () => {
    const strings = buildModel({
      specificationVersion: 1,
      description: { input: [{ name: "text", type: { Type: { case: "stringType", value: {} } } }], output: [] },
      Type: { case: "neuralNetwork", value: { layers: [] } },
    });
    expectError(() => randomInputs(strings, 1, 1), "unsupported-model", /input 'text' is of type stringType/);
  });
});

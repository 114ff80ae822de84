/**
 * The recurrent layers against the naive oracle (oracle.ts, straight from the
 * proto's equations) on random layers: every kind, flag and activation, batches,
 * given and absent states, short output lists; then the refusals and the
 * documented choices.
 */
import fc from "fast-check";
import { isQuantizeError, type ErrorCode } from "../../../src/errors.js";
import type { Tensor } from "../../../src/predict/layer-runner.js";
import { activationInit, buildLayer, maxRelErr, prepare, prng, randomMat, randomVec, run, sequenceBlob, stateBlob, wp, type LayerInit } from "./helpers.js";
import { oracleOutputs } from "./oracle-layer.js";
import type { ActName, Vec } from "./oracle.js";
import { propertySeed } from "../../support/property-seed.js";

const ACTS: readonly ActName[] = ["linear", "sigmoid", "tanh", "relu", "scaledTanh", "sigmoidHard"];
type Kind = "simpleRecurrent" | "gru" | "uniDirectionalLSTM" | "biDirectionalLSTM";
/** Inputs (sequence + states) and outputs (y + states) of each kind. */
const ARITY: Record<Kind, { inputs: number; outputs: number; activations: number }> = {
  simpleRecurrent: { inputs: 2, outputs: 2, activations: 1 },
  gru: { inputs: 2, outputs: 2, activations: 2 },
  uniDirectionalLSTM: { inputs: 3, outputs: 3, activations: 3 },
  biDirectionalLSTM: { inputs: 5, outputs: 5, activations: 3 },
};

interface Spec {
  readonly kind: Kind;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly seq: number;
  readonly batch: number;
  readonly seed: number;
  /** Weight magnitude: large ones drive pre-activations past the ±50 clip. */
  readonly scale: number;
  readonly acts: readonly ActName[];
  readonly backwardActs: readonly ActName[];
  readonly sequenceOutput: boolean;
  readonly reverseInput: boolean;
  readonly hasBias: boolean;
  readonly peepholes: boolean;
  readonly coupled: boolean;
  readonly forgetBias: boolean;
  readonly cellClipThreshold: number;
  readonly statesGiven: number;
  readonly outputs: number;
}

const specArb: fc.Arbitrary<Spec> = fc
  .constantFrom<Kind>("simpleRecurrent", "gru", "uniDirectionalLSTM", "biDirectionalLSTM")
  .chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      inputSize: fc.integer({ min: 1, max: 5 }),
      outputSize: fc.integer({ min: 1, max: 5 }),
      seq: fc.integer({ min: 0, max: 5 }),
      batch: fc.integer({ min: 1, max: 3 }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      scale: fc.constantFrom(0.5, 2, 40),
      acts: fc.array(fc.constantFrom(...ACTS), { minLength: 3, maxLength: 3 }),
      backwardActs: fc.array(fc.constantFrom(...ACTS), { minLength: 3, maxLength: 3 }),
      sequenceOutput: fc.boolean(),
      reverseInput: fc.boolean(),
      hasBias: fc.boolean(),
      peepholes: fc.boolean(),
      coupled: fc.boolean(),
      forgetBias: fc.boolean(),
      cellClipThreshold: fc.constantFrom(0, 0.75, 4),
      statesGiven: fc.integer({ min: 0, max: ARITY[kind].inputs - 1 }),
      outputs: fc.integer({ min: 1, max: ARITY[kind].outputs }),
    }),
  )
  // reverseInput with sequenceOutput is refused (tested below).
  .map((s) => ({ ...s, reverseInput: s.reverseInput && !s.sequenceOutput }));

const STATE_NAMES = ["h_in", "c_in", "h_in_rev", "c_in_rev"];
const OUTPUT_NAMES = ["y", "h_out", "c_out", "h_out_rev", "c_out_rev"];

/** The layer of a spec, with random float32 weights (biases and peepholes stored even when the flags are off). */
function layerInit(s: Spec): LayerInit {
  const rand = prng(s.seed);
  const i = s.inputSize;
  const o = s.outputSize;
  const m = (cols: number): number[] => wp(randomMat(rand, o, cols, s.scale / Math.sqrt(cols))).floatValue;
  const v = (): number[] => wp(randomVec(rand, o, s.scale / 2)).floatValue;
  const f = (values: number[]): { floatValue: number[] } => ({ floatValue: values });
  const sizes = { inputVectorSize: BigInt(i), outputVectorSize: BigInt(o) };
  const acts = (names: readonly ActName[]): ReturnType<typeof activationInit>[] => names.slice(0, ARITY[s.kind].activations).map(activationInit);
  const lstmWeights = () => ({
    inputGateWeightMatrix: f(m(i)),
    forgetGateWeightMatrix: f(m(i)),
    blockInputWeightMatrix: f(m(i)),
    outputGateWeightMatrix: f(m(i)),
    inputGateRecursionMatrix: f(m(o)),
    forgetGateRecursionMatrix: f(m(o)),
    blockInputRecursionMatrix: f(m(o)),
    outputGateRecursionMatrix: f(m(o)),
    inputGateBiasVector: f(v()),
    forgetGateBiasVector: f(v()),
    blockInputBiasVector: f(v()),
    outputGateBiasVector: f(v()),
    ...(s.peepholes ? { inputGatePeepholeVector: f(v()), forgetGatePeepholeVector: f(v()), outputGatePeepholeVector: f(v()) } : {}),
  });
  const lstmParams = {
    sequenceOutput: s.sequenceOutput,
    hasBiasVectors: s.hasBias,
    forgetBias: s.forgetBias,
    hasPeepholeVectors: s.peepholes,
    coupledInputAndForgetGate: s.coupled,
    cellClipThreshold: s.cellClipThreshold,
  };
  const wiring = {
    name: "rnn",
    input: ["x", ...STATE_NAMES.slice(0, ARITY[s.kind].inputs - 1)],
    output: OUTPUT_NAMES.slice(0, s.outputs),
  };
  switch (s.kind) {
    case "simpleRecurrent":
      return {
        ...wiring,
        layer: {
          case: "simpleRecurrent",
          value: {
            ...sizes,
            activation: activationInit(s.acts[0] as ActName),
            sequenceOutput: s.sequenceOutput,
            reverseInput: s.reverseInput,
            hasBiasVector: s.hasBias,
            weightMatrix: f(m(i)),
            recursionMatrix: f(m(o)),
            ...(s.hasBias ? { biasVector: f(v()) } : {}),
          },
        },
      };
    case "gru":
      return {
        ...wiring,
        layer: {
          case: "gru",
          value: {
            ...sizes,
            activations: acts(s.acts),
            sequenceOutput: s.sequenceOutput,
            reverseInput: s.reverseInput,
            hasBiasVectors: s.hasBias,
            updateGateWeightMatrix: f(m(i)),
            resetGateWeightMatrix: f(m(i)),
            outputGateWeightMatrix: f(m(i)),
            updateGateRecursionMatrix: f(m(o)),
            resetGateRecursionMatrix: f(m(o)),
            outputGateRecursionMatrix: f(m(o)),
            ...(s.hasBias ? { updateGateBiasVector: f(v()), resetGateBiasVector: f(v()), outputGateBiasVector: f(v()) } : {}),
          },
        },
      };
    case "uniDirectionalLSTM":
      return {
        ...wiring,
        layer: {
          case: "uniDirectionalLSTM",
          value: {
            ...sizes,
            activations: acts(s.acts),
            params: lstmParams,
            weightParams: lstmWeights(),
            reverseInput: s.reverseInput,
          },
        },
      };
    case "biDirectionalLSTM":
      return {
        ...wiring,
        layer: {
          case: "biDirectionalLSTM",
          value: {
            ...sizes,
            activationsForwardLSTM: acts(s.acts),
            activationsBackwardLSTM: acts(s.backwardActs),
            params: lstmParams,
            weightParams: [lstmWeights(), lstmWeights()],
          },
        },
      };
  }
}

/** Random sequence `[seq][batch]` and the given states `[state][batch]`. */
function sampleData(s: Spec): { xs: Vec[][]; states: Vec[][] } {
  const rand = prng(s.seed ^ 0x5eed);
  const xs = Array.from({ length: s.seq }, () => Array.from({ length: s.batch }, () => randomVec(rand, s.inputSize, 2)));
  const states = Array.from({ length: s.statesGiven }, () => Array.from({ length: s.batch }, () => randomVec(rand, s.outputSize, 1)));
  return { xs, states };
}

function errorCode(f: () => unknown): ErrorCode | "none" | "other" {
  try {
    f();
    return "none";
  } catch (e) {
    return isQuantizeError(e) ? e.code : "other";
  }
}

describe("recurrent layers against the naive oracle", () => {
  test("every kind, flag and activation, with batches, absent states and short output lists", () => {
    fc.assert(
      fc.property(specArb, (s) => {
        const layer = buildLayer(layerInit(s));
        const { xs, states } = sampleData(s);
        const x: Tensor = s.seq === 0 ? { shape: [0, s.batch, s.inputSize, 1, 1], data: new Float32Array(0) } : sequenceBlob(xs, s.inputSize);
        const inputs = [x, ...states.map((st) => stateBlob(st, s.outputSize))];
        const before = inputs.map((t) => Float32Array.from(t.data));
        const outputs = run(prepare(layer), inputs);
        const expected = oracleOutputs(layer, xs.length === 0 ? [] : xs, states);
        if (s.seq === 0) {
          // The oracle cannot see the batch size of an empty sequence: rebuild it from the states.
          expected.splice(0, expected.length, ...zeroSeqExpected(s, states));
        }
        expect(outputs).toHaveLength(s.outputs);
        const width = s.kind === "biDirectionalLSTM" ? 2 * s.outputSize : s.outputSize;
        outputs.forEach((out, k) => {
          const yShape = k === 0 && s.sequenceOutput ? [s.seq, s.batch, width, 1, 1] : [1, s.batch, k === 0 ? width : s.outputSize, 1, 1];
          expect(out.shape).toEqual(yShape);
          expect(out.data).toBeInstanceOf(Float32Array);
          expect(maxRelErr(out.data, expected[k] as number[])).toBeLessThanOrEqual(1e-6);
        });
        inputs.forEach((t, k) => expect(t.data).toEqual(before[k]));
      }),
      { seed: propertySeed(), numRuns: 400 },
    );
  });

  test("a state of one vector is shared by every sequence of the batch", () => {
    const s: Spec = {
      kind: "uniDirectionalLSTM",
      inputSize: 3,
      outputSize: 2,
      seq: 3,
      batch: 2,
      seed: 7,
      scale: 1,
      acts: ["sigmoid", "tanh", "tanh"],
      backwardActs: [],
      sequenceOutput: true,
      reverseInput: false,
      hasBias: true,
      peepholes: true,
      coupled: false,
      forgetBias: false,
      cellClipThreshold: 0,
      statesGiven: 2,
      outputs: 3,
    };
    const prepared = prepare(buildLayer(layerInit(s)));
    const { xs } = sampleData(s);
    const h0 = [0.25, -0.5];
    const c0 = [1, 0.125];
    const shared = run(prepared, [sequenceBlob(xs, 3), stateBlob([h0], 2), stateBlob([c0], 2)]);
    const repeated = run(prepared, [sequenceBlob(xs, 3), stateBlob([h0, h0], 2), stateBlob([c0, c0], 2)]);
    shared.forEach((t, k) => expect(t.data).toEqual((repeated[k] as Tensor).data));
  });
});

/** Expected outputs for an empty sequence: y is empty (sequence) or the initial h; states are the initial ones. */
function zeroSeqExpected(s: Spec, states: Vec[][]): number[][] {
  const zeros = new Array<number>(s.outputSize).fill(0);
  const state = (k: number): number[] => Array.from({ length: s.batch }, (_, b) => states[k]?.[b] ?? zeros).flat();
  if (s.kind === "biDirectionalLSTM") {
    const y = s.sequenceOutput ? [] : Array.from({ length: s.batch }, (_, b) => [...(states[0]?.[b] ?? zeros), ...(states[2]?.[b] ?? zeros)]).flat();
    return [y, state(0), state(1), state(2), state(3)];
  }
  const finals = s.kind === "uniDirectionalLSTM" ? [state(0), state(1)] : [state(0)];
  return [s.sequenceOutput ? [] : state(0), ...finals];
}

describe("choices where the proto is open", () => {
  const base: Spec = {
    kind: "uniDirectionalLSTM",
    inputSize: 2,
    outputSize: 3,
    seq: 4,
    batch: 1,
    seed: 11,
    scale: 1,
    acts: ["sigmoid", "tanh", "tanh"],
    backwardActs: ["sigmoid", "tanh", "tanh"],
    sequenceOutput: true,
    reverseInput: false,
    hasBias: true,
    peepholes: false,
    coupled: false,
    forgetBias: false,
    cellClipThreshold: 0,
    statesGiven: 0,
    outputs: 3,
  };
  const outputsOf = (s: Spec, withStates: readonly Tensor[] = []): readonly Tensor[] =>
    run(prepare(buildLayer(layerInit(s))), [sequenceBlob(sampleData(s).xs, s.inputSize), ...withStates]);

  test("forgetBias: the stored forget bias already includes the +1 (the flag changes nothing)", () => {
    const off = outputsOf(base);
    const on = outputsOf({ ...base, forgetBias: true });
    on.forEach((t, k) => expect(t.data).toEqual((off[k] as Tensor).data));
  });

  test("absent trailing states are zeros", () => {
    const zeros = stateBlob([[0, 0, 0]], 3);
    const absent = outputsOf(base);
    const given = outputsOf(base, [zeros, zeros]);
    absent.forEach((t, k) => expect(t.data).toEqual((given[k] as Tensor).data));
  });

  test("an unset linear activation is the identity; sigmoidHard / scaledTanh with the fixed parameters equal the unset ones", () => {
    const simple = (activation: object, zeroWeights = false): Float32Array => {
      const init = layerInit({ ...base, kind: "simpleRecurrent", sequenceOutput: true, outputs: 1, hasBias: !zeroWeights });
      if (init.layer?.case !== "simpleRecurrent") throw new Error("unreachable");
      const zeros = (n: number): { floatValue: number[] } => ({ floatValue: new Array<number>(n).fill(0) });
      const o = base.outputSize;
      const layer = buildLayer({
        ...init,
        layer: {
          case: "simpleRecurrent",
          value: {
            ...init.layer.value,
            activation,
            ...(zeroWeights ? { weightMatrix: zeros(o * base.inputSize), recursionMatrix: zeros(o * o) } : {}),
          },
        },
      } as LayerInit);
      const [y] = run(prepare(layer), [sequenceBlob(sampleData(base).xs, base.inputSize)]);
      return (y as Tensor).data;
    };
    const act = (kind: string, value: object): object => ({ NonlinearityType: { case: kind, value } });
    expect(simple(act("linear", { alpha: 1, beta: 0 }))).toEqual(simple(act("linear", {})));
    expect(simple(act("sigmoidHard", { alpha: 0.2, beta: 0.5 }))).toEqual(simple(act("sigmoidHard", {})));
    expect(simple(act("scaledTanh", { alpha: 1.7159, beta: 2 / 3 }))).toEqual(simple(act("scaledTanh", {})));
    // A set linear pair follows alpha * x + beta: with no weights and no bias, beta at every step.
    expect([...simple(act("linear", { alpha: 2, beta: 0.25 }), true)]).toEqual(new Array<number>(base.seq * base.outputSize).fill(0.25));
    expect([...simple(act("linear", {}), true)]).toEqual(new Array<number>(base.seq * base.outputSize).fill(0));
  });
});

describe("refusals", () => {
  const lstm = (patch: (v: Record<string, unknown>) => Record<string, unknown>, wiring: Partial<LayerInit> = {}): LayerInit => {
    const init = layerInit({
      kind: "uniDirectionalLSTM",
      inputSize: 2,
      outputSize: 2,
      seq: 2,
      batch: 1,
      seed: 3,
      scale: 1,
      acts: ["sigmoid", "tanh", "tanh"],
      backwardActs: [],
      sequenceOutput: false,
      reverseInput: false,
      hasBias: true,
      peepholes: false,
      coupled: false,
      forgetBias: false,
      cellClipThreshold: 0,
      statesGiven: 0,
      outputs: 3,
    });
    if (init.layer?.case !== "uniDirectionalLSTM") throw new Error("unreachable");
    return { ...init, ...wiring, layer: { case: "uniDirectionalLSTM", value: patch({ ...init.layer.value }) } } as LayerInit;
  };
  const prepareCode = (init: LayerInit): ErrorCode | "none" | "other" => errorCode(() => prepare(buildLayer(init)));

  test.each(["simpleRecurrent", "gru", "uniDirectionalLSTM"] as const)("%s: reverseInput with sequenceOutput is unsupported-layer", (kind) => {
    const init = layerInit({
      kind,
      inputSize: 2,
      outputSize: 2,
      seq: 2,
      batch: 1,
      seed: 5,
      scale: 1,
      acts: ["sigmoid", "tanh", "tanh"],
      backwardActs: [],
      sequenceOutput: true,
      reverseInput: true,
      hasBias: true,
      peepholes: false,
      coupled: false,
      forgetBias: false,
      cellClipThreshold: 0,
      statesGiven: 0,
      outputs: 1,
    });
    let message = "";
    try {
      prepare(buildLayer(init));
    } catch (e) {
      expect(isQuantizeError(e, "unsupported-layer")).toBe(true);
      message = (e as Error).message;
    }
    expect(message).toContain('layers[0] "rnn"');
    expect(message).toContain(kind);
    expect(message).toContain("reverseInput");
  });

  test("scaledTanh / sigmoidHard with other parameters, and activations recurrent layers do not take, are unsupported-layer", () => {
    const withAct = (act: object): LayerInit =>
      lstm((v) => ({
        ...v,
        activations: [act, activationInit("tanh"), activationInit("tanh")],
      }));
    expect(prepareCode(withAct({ NonlinearityType: { case: "scaledTanh", value: { alpha: 2, beta: 1 } } }))).toBe("unsupported-layer");
    expect(prepareCode(withAct({ NonlinearityType: { case: "sigmoidHard", value: { alpha: 0.3, beta: 0.5 } } }))).toBe("unsupported-layer");
    expect(prepareCode(withAct({ NonlinearityType: { case: "leakyReLU", value: { alpha: 0.1 } } }))).toBe("unsupported-layer");
    expect(prepareCode(withAct({}))).toBe("unsupported-layer");
  });

  test("a wrong number of activations, weight sets or inputs/outputs is unsupported-layer", () => {
    expect(prepareCode(lstm((v) => ({ ...v, activations: [activationInit("sigmoid"), activationInit("tanh")] })))).toBe("unsupported-layer");
    expect(prepareCode(lstm((v) => v, { input: ["x", "h", "c", "extra"] }))).toBe("unsupported-layer");
    expect(prepareCode(lstm((v) => v, { output: ["y", "h", "c", "extra"] }))).toBe("unsupported-layer");
    expect(prepareCode(lstm((v) => v, { output: [] }))).toBe("unsupported-layer");
    expect(prepareCode(lstm((v) => ({ ...v, inputVectorSize: 0n })))).not.toBe("none");
    const bi = layerInit({
      kind: "biDirectionalLSTM",
      inputSize: 2,
      outputSize: 2,
      seq: 2,
      batch: 1,
      seed: 9,
      scale: 1,
      acts: ["sigmoid", "tanh", "tanh"],
      backwardActs: ["sigmoid", "tanh", "tanh"],
      sequenceOutput: false,
      reverseInput: false,
      hasBias: true,
      peepholes: false,
      coupled: false,
      forgetBias: false,
      cellClipThreshold: 0,
      statesGiven: 0,
      outputs: 1,
    });
    if (bi.layer?.case !== "biDirectionalLSTM") throw new Error("unreachable");
    const [first] = bi.layer.value.weightParams ?? [];
    expect(prepareCode({ ...bi, layer: { case: "biDirectionalLSTM", value: { ...bi.layer.value, weightParams: [first ?? {}] } } } as LayerInit)).toBe(
      "unsupported-layer",
    );
    expect(prepareCode(lstm((v) => ({ ...v, params: { ...(v.params as object), cellClipThreshold: -1 } })))).toBe("unsupported-layer");
  });

  test("a missing weight field is refused when the layer is prepared", () => {
    const code = prepareCode(lstm((v) => ({ ...v, weightParams: { ...(v.weightParams as object), inputGateBiasVector: undefined } })));
    expect(["invalid-weights", "unsupported-layer"]).toContain(code);
  });

  test("an input or state of the wrong size is invalid-input", () => {
    const prepared = prepare(buildLayer(lstm((v) => v)));
    const x = sequenceBlob([[[1, 2]], [[3, 4]]], 2);
    expect(errorCode(() => run(prepared, [sequenceBlob([[[1, 2, 3]]], 3)]))).toBe("invalid-input");
    expect(errorCode(() => run(prepared, [{ shape: [2, 2], data: new Float32Array(4) }]))).toBe("invalid-input");
    expect(errorCode(() => run(prepared, [x, stateBlob([[1, 2, 3]], 3)]))).toBe("invalid-input");
    expect(errorCode(() => run(prepared, []))).toBe("invalid-input");
    expect(errorCode(() => run(prepared, [x]))).toBe("none");
  });
});

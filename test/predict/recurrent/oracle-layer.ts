/**
 * Runs the naive oracle on a decoded recurrent layer: reads its float32 weights
 * straight from the params (no src/predict code), applies its flags, loops over
 * the batch and lays out the outputs as the proto and the README describe:
 * y, then the final states, each flattened `[step][batch][channel]`.
 */
import type { NeuralNetworkLayer, WeightParams } from "../../../src/codec/model-types.js";
import { gruOracle, lstmOracle, simpleRecurrentOracle, type ActName, type LstmConfig, type LstmWeights, type Mat, type Vec } from "./oracle.js";

/** `[step][batch]` vectors. */
export type Steps = Vec[][];

function values(w: WeightParams | undefined, n: number): Vec {
  if (w === undefined || w.floatValue.length === 0) return new Array<number>(n).fill(0);
  if (w.floatValue.length !== n) throw new Error(`oracle: ${w.floatValue.length} weights, expected ${n}`);
  return Array.from(w.floatValue);
}

function matrix(w: WeightParams | undefined, rows: number, cols: number): Mat {
  const v = values(w, rows * cols);
  return Array.from({ length: rows }, (_, r) => v.slice(r * cols, (r + 1) * cols));
}

function actName(a: { NonlinearityType: { case: string | undefined; value?: unknown } } | undefined): ActName {
  const c = a?.NonlinearityType.case;
  switch (c) {
    case "linear": {
      const v = a?.NonlinearityType.value as { alpha: number; beta: number };
      if (v.alpha !== 0 || v.beta !== 0) throw new Error("oracle: only the unset linear (identity)");
      return "linear";
    }
    case "sigmoid":
    case "tanh":
    case "scaledTanh":
    case "sigmoidHard":
      return c;
    case "ReLU":
      return "relu";
    default:
      throw new Error(`oracle: activation ${String(c)}`);
  }
}

/** Per sequence of the batch: its steps, and each given state (zeros when absent). */
function perBatch(x: Steps, b: number): Vec[] {
  return x.map((step) => step[b] as Vec);
}
const stateOf = (states: readonly (Vec[] | undefined)[], k: number, b: number, o: number): Vec => states[k]?.[b] ?? new Array<number>(o).fill(0);

/**
 * The oracle's outputs for `layer` on `x` with initial `states` (per state input,
 * one vector per sequence of the batch, or undefined for zeros).
 *
 * @returns y, then every final state, as flat arrays
 */
export function oracleOutputs(layer: NeuralNetworkLayer, x: Steps, states: readonly (Vec[] | undefined)[]): number[][] {
  const seq = x.length;
  const batch = x[0]?.length ?? 0;
  const l = layer.layer;
  const ysAll: Vec[][] = []; // [batch][position] -> output vector
  const finals: Vec[][] = []; // [state][batch]
  const push = (k: number, b: number, v: Vec): void => {
    (finals[k] ??= [])[b] = v;
  };

  switch (l.case) {
    case "simpleRecurrent":
    case "gru": {
      const p = l.value;
      const i = Number(p.inputVectorSize);
      const o = Number(p.outputVectorSize);
      for (let b = 0; b < batch; b++) {
        const xs = perBatch(x, b);
        const ordered = p.reverseInput ? [...xs].reverse() : xs;
        const h0 = stateOf(states, 0, b, o);
        let ys: Vec[];
        if (l.case === "simpleRecurrent") {
          const q = l.value;
          const b0 = q.hasBiasVector ? values(q.biasVector, o) : values(undefined, o);
          ys = simpleRecurrentOracle({ W: matrix(q.weightMatrix, o, i), R: matrix(q.recursionMatrix, o, o), b: b0 }, actName(q.activation), ordered, h0);
        } else {
          const q = l.value;
          const bias = (w: WeightParams | undefined): Vec => (q.hasBiasVectors ? values(w, o) : values(undefined, o));
          ys = gruOracle(
            {
              Wz: matrix(q.updateGateWeightMatrix, o, i),
              Wr: matrix(q.resetGateWeightMatrix, o, i),
              Wo: matrix(q.outputGateWeightMatrix, o, i),
              Rz: matrix(q.updateGateRecursionMatrix, o, o),
              Rr: matrix(q.resetGateRecursionMatrix, o, o),
              Ro: matrix(q.outputGateRecursionMatrix, o, o),
              bz: bias(q.updateGateBiasVector),
              br: bias(q.resetGateBiasVector),
              bo: bias(q.outputGateBiasVector),
            },
            actName(q.activations[0]),
            actName(q.activations[1]),
            ordered,
            h0,
          );
        }
        if (p.reverseInput && p.sequenceOutput) throw new Error("oracle: reverse + sequence output is not specified");
        const last = ys[ys.length - 1] ?? h0;
        ysAll[b] = p.sequenceOutput ? ys : [last];
        push(0, b, last);
      }
      break;
    }
    case "uniDirectionalLSTM": {
      const q = l.value;
      const { o, weightsOf, cfgOf, sequenceOutput } = lstmParts(q);
      if (q.reverseInput && sequenceOutput) throw new Error("oracle: reverse + sequence output is not specified");
      for (let b = 0; b < batch; b++) {
        const xs = perBatch(x, b);
        const ordered = q.reverseInput ? [...xs].reverse() : xs;
        const h0 = stateOf(states, 0, b, o);
        const c0 = stateOf(states, 1, b, o);
        const { ys, cs } = lstmOracle(weightsOf(q.weightParams), cfgOf(q.activations), ordered, h0, c0);
        const last = ys[ys.length - 1] ?? h0;
        ysAll[b] = sequenceOutput ? ys : [last];
        push(0, b, last);
        push(1, b, cs[cs.length - 1] ?? c0);
      }
      break;
    }
    case "biDirectionalLSTM": {
      const q = l.value;
      const { weightsOf, cfgOf, sequenceOutput, o } = lstmParts(q);
      for (let b = 0; b < batch; b++) {
        const xs = perBatch(x, b);
        const fw = lstmOracle(weightsOf(q.weightParams[0]), cfgOf(q.activationsForwardLSTM), xs, stateOf(states, 0, b, o), stateOf(states, 1, b, o));
        const bw = lstmOracle(
          weightsOf(q.weightParams[1]),
          cfgOf(q.activationsBackwardLSTM),
          [...xs].reverse(),
          stateOf(states, 2, b, o),
          stateOf(states, 3, b, o),
        );
        const fLast = fw.ys[seq - 1] ?? stateOf(states, 0, b, o);
        const bLast = bw.ys[seq - 1] ?? stateOf(states, 2, b, o);
        // Position t: forward after x_0..x_t, backward after x_{S-1}..x_t (its step S-1-t).
        ysAll[b] = sequenceOutput ? xs.map((_, t) => [...(fw.ys[t] as Vec), ...(bw.ys[seq - 1 - t] as Vec)]) : [[...fLast, ...bLast]];
        push(0, b, fLast);
        push(1, b, fw.cs[seq - 1] ?? stateOf(states, 1, b, o));
        push(2, b, bLast);
        push(3, b, bw.cs[seq - 1] ?? stateOf(states, 3, b, o));
      }
      break;
    }
    default:
      throw new Error(`oracle: ${String(l.case)} is not recurrent`);
  }
  const positions = ysAll[0]?.length ?? 0;
  const y: number[] = [];
  for (let t = 0; t < positions; t++) for (let b = 0; b < batch; b++) y.push(...((ysAll[b] as Vec[])[t] as Vec));
  return [y, ...finals.map((perB) => perB.flat())];
}

type LstmLayerParams = Extract<NeuralNetworkLayer["layer"], { case: "uniDirectionalLSTM" | "biDirectionalLSTM" }>["value"];
type LstmWeightParams = NonNullable<Extract<NeuralNetworkLayer["layer"], { case: "uniDirectionalLSTM" }>["value"]["weightParams"]>;
type Activations = Extract<NeuralNetworkLayer["layer"], { case: "uniDirectionalLSTM" }>["value"]["activations"];

/** What both LSTM kinds read from their LSTMParams. */
function lstmParts(p: LstmLayerParams): {
  o: number;
  sequenceOutput: boolean;
  weightsOf: (w: LstmWeightParams | undefined) => LstmWeights;
  cfgOf: (acts: Activations) => LstmConfig;
} {
  const i = Number(p.inputVectorSize);
  const o = Number(p.outputVectorSize);
  const lp = p.params;
  const cfgOf = (acts: Activations): LstmConfig => ({
    f: actName(acts[0]),
    g: actName(acts[1]),
    h: actName(acts[2]),
    coupled: lp?.coupledInputAndForgetGate === true,
    cellClip: lp === undefined || lp.cellClipThreshold === 0 ? 50 : lp.cellClipThreshold,
  });
  const weightsOf = (w: LstmWeightParams | undefined): LstmWeights => {
    const bias = (v: WeightParams | undefined): Vec => (lp?.hasBiasVectors === true ? values(v, o) : values(undefined, o));
    const peep = (v: WeightParams | undefined): Vec => (lp?.hasPeepholeVectors === true ? values(v, o) : values(undefined, o));
    return {
      Wi: matrix(w?.inputGateWeightMatrix, o, i),
      Wf: matrix(w?.forgetGateWeightMatrix, o, i),
      Wz: matrix(w?.blockInputWeightMatrix, o, i),
      Wo: matrix(w?.outputGateWeightMatrix, o, i),
      Ri: matrix(w?.inputGateRecursionMatrix, o, o),
      Rf: matrix(w?.forgetGateRecursionMatrix, o, o),
      Rz: matrix(w?.blockInputRecursionMatrix, o, o),
      Ro: matrix(w?.outputGateRecursionMatrix, o, o),
      bi: bias(w?.inputGateBiasVector),
      bf: bias(w?.forgetGateBiasVector),
      bz: bias(w?.blockInputBiasVector),
      bo: bias(w?.outputGateBiasVector),
      pi: peep(w?.inputGatePeepholeVector),
      pf: peep(w?.forgetGatePeepholeVector),
      po: peep(w?.outputGatePeepholeVector),
    };
  };
  return { o, sequenceOutput: lp?.sequenceOutput === true, weightsOf, cfgOf };
}

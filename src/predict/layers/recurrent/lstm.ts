/**
 * uniDirectionalLSTM and biDirectionalLSTM, sharing one LSTM direction (the
 * LSTMParams equations) run forwards or backwards over the sequence.
 *
 * Choices where the proto is not explicit:
 * - `forgetBias`: the stored b_f is taken to already include the +1, as the
 *   Keras converter writes it; the flag adds nothing.
 * - `cellClipThreshold` clips c_t to ±threshold (0 means 50) right after it is
 *   computed, before the output gate's peephole and h(c_t) read it.
 * - reverseInput with sequenceOutput (unidirectional) is refused: the order of
 *   the output sequence is not specified.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../../errors.js";
import type { LSTMParams } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { activateInPlace, clipInPlace, recurrentActivation, type ActivationParams, type RecurrentActivation } from "./recurrent-activation.js";
import {
  addMatVec,
  checkWiring,
  initialState,
  recurrentSizes,
  refuseReverseSequence,
  requiredWeight,
  sequenceInput,
  stacked,
  stateName,
  stateTensor,
  type SequenceInput,
} from "./sequence-blobs.js";

/** cellClipThreshold when the field is 0. */
const DEFAULT_CELL_CLIP = 50;
/** Gate order inside the stacked matrices and the pre-activation buffer. */
const GATES = ["inputGate", "forgetGate", "blockInput", "outputGate"] as const;
/** Peephole order inside the stacked peephole vector. */
const PEEPHOLES = ["inputGate", "forgetGate", "outputGate"] as const;

/** The options both LSTM kinds take from LSTMParams, resolved. */
interface LstmOptions {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly sequenceOutput: boolean;
  readonly coupledInputAndForgetGate: boolean;
  /** c_t is clipped to ±cellClip. */
  readonly cellClip: number;
}

/** The weights and activations of one direction. */
interface LstmDirection {
  /** `[4*O, I]`: W_i, W_f, W_z, W_o stacked. */
  readonly w: Float32Array;
  /** `[4*O, O]`: R_i, R_f, R_z, R_o stacked. */
  readonly r: Float32Array;
  /** `[4*O]`: b_i, b_f, b_z, b_o (zeros without hasBiasVectors). */
  readonly bias: Float32Array;
  /** `[3*O]`: p_i, p_f, p_o, or undefined without hasPeepholeVectors. */
  readonly peephole: Float32Array | undefined;
  /** f (gates i, f, o), g (block input z), h (applied to c_t). */
  readonly f: RecurrentActivation;
  readonly g: RecurrentActivation;
  readonly h: RecurrentActivation;
}

/** Where a direction writes its output sequence: `[Seq, Batch, width]`, at `offset` in each row. */
interface SequenceTarget {
  readonly data: Float32Array;
  readonly width: number;
  readonly offset: number;
}

function lstmOptions(params: LSTMParams | undefined, sizes: { inputSize: number; outputSize: number }, kind: string, path: string): LstmOptions {
  const threshold = params?.cellClipThreshold ?? 0;
  if (!(threshold >= 0) || threshold === Infinity) {
    throw new QuantizeError("unsupported-layer", `${kind} with cellClipThreshold ${threshold} is not supported`, { path });
  }
  return {
    ...sizes,
    sequenceOutput: params?.sequenceOutput === true,
    coupledInputAndForgetGate: params?.coupledInputAndForgetGate === true,
    cellClip: threshold === 0 ? DEFAULT_CELL_CLIP : threshold,
  };
}

/**
 * Gathers one direction's weights (fields under `prefix`, e.g. `weightParams.`
 * or `weightParams[1].`) and its three activations.
 */
function lstmDirection(
  weights: ReadonlyMap<string, Float32Array>,
  prefix: string,
  params: LSTMParams | undefined,
  activations: readonly ActivationParams[],
  activationsField: string,
  options: LstmOptions,
  kind: string,
  path: string,
): LstmDirection {
  if (activations.length !== 3) {
    throw new QuantizeError("unsupported-layer", `${kind} takes 3 ${activationsField} [f, g, h], not ${activations.length}`, { path });
  }
  const [f, g, h] = activations.map((a, k) => recurrentActivation(a, `${kind} ${activationsField}[${k}]`, path)) as [
    RecurrentActivation,
    RecurrentActivation,
    RecurrentActivation,
  ];
  const field = (name: string): Float32Array => requiredWeight(weights, `${prefix}${name}`, path);
  const { inputSize: i, outputSize: o } = options;
  return {
    w: stacked(
      GATES.map((gate) => field(`${gate}WeightMatrix`)),
      o * i,
    ),
    r: stacked(
      GATES.map((gate) => field(`${gate}RecursionMatrix`)),
      o * o,
    ),
    bias: stacked(
      GATES.map((gate) => (params?.hasBiasVectors === true ? field(`${gate}BiasVector`) : undefined)),
      o,
    ),
    peephole:
      params?.hasPeepholeVectors === true
        ? stacked(
            PEEPHOLES.map((gate) => field(`${gate}PeepholeVector`)),
            o,
          )
        : undefined,
    f,
    g,
    h,
  };
}

/**
 * Runs one direction over the whole sequence, updating `h` and `c` (`[Batch, O]`)
 * in place, and writing the output of each step at the position of the input it
 * consumed when `target` is given.
 */
function runDirection(
  direction: LstmDirection,
  options: LstmOptions,
  x: SequenceInput,
  h: Float64Array,
  c: Float64Array,
  backwards: boolean,
  target: SequenceTarget | undefined,
): void {
  const { w, r, bias, peephole, f, g, h: hAct } = direction;
  const { inputSize, outputSize: o, coupledInputAndForgetGate, cellClip } = options;
  const { seq, batch, data } = x;
  const pre = new Float64Array(4 * o);
  const cellOut = new Float64Array(o);
  for (let step = 0; step < seq; step++) {
    const t = backwards ? seq - 1 - step : step;
    for (let b = 0; b < batch; b++) {
      const s = b * o;
      pre.set(bias);
      addMatVec(pre, 0, w, 4 * o, inputSize, data, (t * batch + b) * inputSize);
      addMatVec(pre, 0, r, 4 * o, o, h, s);
      if (peephole !== undefined) {
        for (let k = 0; k < o; k++) {
          const cPrev = c[s + k] as number;
          pre[k] = (pre[k] as number) + (peephole[k] as number) * cPrev;
          pre[o + k] = (pre[o + k] as number) + (peephole[o + k] as number) * cPrev;
        }
      }
      clipInPlace(pre, 0, 3 * o);
      activateInPlace(f, pre, 0, 2 * o);
      activateInPlace(g, pre, 2 * o, 3 * o);
      for (let k = 0; k < o; k++) {
        const i = pre[k] as number;
        const keep = coupledInputAndForgetGate ? 1 - i : (pre[o + k] as number);
        const cNew = (c[s + k] as number) * keep + i * (pre[2 * o + k] as number);
        c[s + k] = cNew > cellClip ? cellClip : cNew < -cellClip ? -cellClip : cNew;
      }
      if (peephole !== undefined) {
        for (let k = 0; k < o; k++) pre[3 * o + k] = (pre[3 * o + k] as number) + (peephole[2 * o + k] as number) * (c[s + k] as number);
      }
      clipInPlace(pre, 3 * o, 4 * o);
      activateInPlace(f, pre, 3 * o, 4 * o);
      for (let k = 0; k < o; k++) cellOut[k] = c[s + k] as number;
      activateInPlace(hAct, cellOut, 0, o);
      for (let k = 0; k < o; k++) h[s + k] = (cellOut[k] as number) * (pre[3 * o + k] as number);
      if (target !== undefined) {
        const row = (t * batch + b) * target.width + target.offset;
        for (let k = 0; k < o; k++) target.data[row + k] = h[s + k] as number;
      }
    }
  }
}

/**
 * Runs a uniDirectionalLSTM layer. Inputs: the sequence `[Seq, Batch, I, 1, 1]`,
 * then the optional initial h and c (zeros when absent). Outputs: y (every step
 * with sequenceOutput, else the last), then the final h and c.
 */
export const uniDirectionalLSTM: LayerImpl<"uniDirectionalLSTM"> = {
  prepare(params, layer, context) {
    const kind = "uniDirectionalLSTM";
    const { path } = context;
    checkWiring(layer, kind, 3, 3, path);
    const options = lstmOptions(params.params, recurrentSizes(params, kind, path), kind, path);
    refuseReverseSequence(kind, params.reverseInput, options.sequenceOutput, path);
    const weights = decodedWeights(layer, path);
    const direction = lstmDirection(weights, "weightParams.", params.params, params.activations, "activations", options, kind, path);
    const { outputSize: o, sequenceOutput } = options;
    const outputCount = layer.output.length;
    const hName = stateName(layer, 1);
    const cName = stateName(layer, 2);

    return (inputs) => {
      const x = sequenceInput(inputs[0], options.inputSize, kind, path);
      const { seq, batch } = x;
      const h = initialState(inputs[1], batch, o, hName, path);
      const c = initialState(inputs[2], batch, o, cName, path);
      const target = sequenceOutput ? { data: new Float32Array(seq * batch * o), width: o, offset: 0 } : undefined;
      runDirection(direction, options, x, h, c, params.reverseInput, target);
      const y = target === undefined ? stateTensor(h, batch, o) : tensor([seq, batch, o, 1, 1], target.data);
      return [y, stateTensor(h, batch, o), stateTensor(c, batch, o)].slice(0, outputCount);
    };
  },
};

/**
 * Runs a biDirectionalLSTM layer: a forward LSTM from x_0 and a backward one
 * from x_{Seq-1}, with their own weights (weightParams[0], [1]) and activations.
 * Inputs: the sequence, then the optional initial forward h, c and backward h, c.
 * Outputs: y, then the final forward h, c and backward h, c. y is
 * `[forward, backward]` along C: with sequenceOutput, step t holds the forward
 * output after x_0..x_t and the backward output after x_{Seq-1}..x_t; without,
 * both final outputs (the backward one after consuming x_0).
 */
export const biDirectionalLSTM: LayerImpl<"biDirectionalLSTM"> = {
  prepare(params, layer, context) {
    const kind = "biDirectionalLSTM";
    const { path } = context;
    checkWiring(layer, kind, 5, 5, path);
    const options = lstmOptions(params.params, recurrentSizes(params, kind, path), kind, path);
    if (params.weightParams.length !== 2) {
      throw new QuantizeError("unsupported-layer", `${kind} takes 2 weightParams (forward, backward), not ${params.weightParams.length}`, { path });
    }
    const weights = decodedWeights(layer, path);
    const forward = lstmDirection(weights, "weightParams[0].", params.params, params.activationsForwardLSTM, "activationsForwardLSTM", options, kind, path);
    const backward = lstmDirection(weights, "weightParams[1].", params.params, params.activationsBackwardLSTM, "activationsBackwardLSTM", options, kind, path);
    const { outputSize: o, sequenceOutput } = options;
    const outputCount = layer.output.length;
    const names = [1, 2, 3, 4].map((index) => stateName(layer, index));

    return (inputs) => {
      const x = sequenceInput(inputs[0], options.inputSize, kind, path);
      const { seq, batch } = x;
      const [hf, cf, hb, cb] = names.map((name, k) => initialState(inputs[k + 1], batch, o, name, path)) as [
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
      ];
      const ys = sequenceOutput ? new Float32Array(seq * batch * 2 * o) : undefined;
      runDirection(forward, options, x, hf, cf, false, ys && { data: ys, width: 2 * o, offset: 0 });
      runDirection(backward, options, x, hb, cb, true, ys && { data: ys, width: 2 * o, offset: o });
      let y: Tensor;
      if (ys === undefined) {
        const last = new Float32Array(batch * 2 * o);
        for (let b = 0; b < batch; b++) {
          last.set(hf.subarray(b * o, (b + 1) * o), b * 2 * o);
          last.set(hb.subarray(b * o, (b + 1) * o), b * 2 * o + o);
        }
        y = tensor([1, batch, 2 * o, 1, 1], last);
      } else {
        y = tensor([seq, batch, 2 * o, 1, 1], ys);
      }
      return [y, ...[hf, cf, hb, cb].map((state) => stateTensor(state, batch, o))].slice(0, outputCount);
    };
  },
};

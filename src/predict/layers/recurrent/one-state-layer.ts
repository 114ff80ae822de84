/**
 * The frame of the recurrent layers whose only state is their output h
 * (simpleRecurrent and gru): checking the wiring, sizes and flags, reading the
 * sequence and h_in, stepping along the sequence, and laying out y and the
 * final h. Each kind gives the step.
 *
 * @packageDocumentation
 */
import type { NeuralNetworkLayer } from "../../../codec/model-types.js";
import type { LayerContext, PreparedLayer } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import {
  checkWiring,
  initialState,
  recurrentSizes,
  refuseReverseSequence,
  sequenceInput,
  stateName,
  stateTensor,
  type RecurrentSizes,
} from "./sequence-blobs.js";

/** The parameters the frame reads: those SimpleRecurrentLayerParams and GRULayerParams share. */
export interface OneStateParams {
  readonly inputVectorSize: bigint;
  readonly outputVectorSize: bigint;
  readonly sequenceOutput: boolean;
  readonly reverseInput: boolean;
}

/**
 * One time step of one sequence of the batch: reads x_t (`inputSize` values of
 * `x` from `xOffset`) and h_{t-1} (`outputSize` values of `h` from `hOffset`),
 * and writes h_t over h_{t-1}.
 */
export type StateStep = (x: Float64Array, xOffset: number, h: Float64Array, hOffset: number) => void;

/**
 * Prepares a recurrent layer with one state. Inputs: the sequence
 * `[Seq, Batch, I, 1, 1]`, then the optional initial output h_in (zeros when
 * absent). Outputs: y (every step `[Seq, Batch, O, 1, 1]` with sequenceOutput,
 * else the last `[1, Batch, O, 1, 1]`), then the final h. With reverseInput the
 * steps run from x_{Seq-1} down to x_0; reverseInput with sequenceOutput is
 * refused (the output order is not specified).
 *
 * @param params - the layer's parameters
 * @param layer - the layer
 * @param context - the layer's context
 * @param kind - the layer kind, for errors
 * @param makeStep - called once the wiring, sizes and flags pass: reads the
 *   kind's activations and weights and returns its step
 * @returns the prepared layer
 * @throws QuantizeError `unsupported-layer` for a wiring, size or flag the
 *   layers refuse (and whatever `makeStep` throws); when run, `invalid-input`
 *   for a sequence or state of the wrong shape
 */
export function prepareOneStateLayer(
  params: OneStateParams,
  layer: NeuralNetworkLayer,
  context: LayerContext,
  kind: string,
  makeStep: (sizes: RecurrentSizes) => StateStep,
): PreparedLayer {
  const { path } = context;
  checkWiring(layer, kind, 2, 2, path);
  const sizes = recurrentSizes(params, kind, path);
  const { sequenceOutput, reverseInput } = params;
  refuseReverseSequence(kind, reverseInput, sequenceOutput, path);
  const step = makeStep(sizes);
  const { inputSize, outputSize: o } = sizes;
  const outputCount = layer.output.length;
  const hName = stateName(layer, 1);

  return (inputs) => {
    const x = sequenceInput(inputs[0], inputSize, kind, path);
    const { seq, batch } = x;
    const h = initialState(inputs[1], batch, o, hName, path);
    const ys = sequenceOutput ? new Float32Array(seq * batch * o) : undefined;
    for (let s = 0; s < seq; s++) {
      const t = reverseInput ? seq - 1 - s : s;
      for (let b = 0; b < batch; b++) step(x.data, (t * batch + b) * inputSize, h, b * o);
      ys?.set(h, t * batch * o);
    }
    const y = ys === undefined ? stateTensor(h, batch, o) : tensor([seq, batch, o, 1, 1], ys);
    return [y, stateTensor(h, batch, o)].slice(0, outputCount);
  };
}

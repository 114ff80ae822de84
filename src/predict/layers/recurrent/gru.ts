/**
 * gru: update gate z, reset gate r, output o = g(clip(W_o x + R_o (r ⊙ h) + b_o)),
 * `h_t = (1 - z) ⊙ o + z ⊙ h_{t-1}`.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../../errors.js";
import type { LayerImpl } from "../../layer-runner.js";
import { decodedWeights } from "../../tensor.js";
import { prepareOneStateLayer } from "./one-state-layer.js";
import { activateInPlace, clipInPlace, recurrentActivation } from "./recurrent-activation.js";
import { addMatVec, requiredWeight, stacked } from "./sequence-blobs.js";

const KIND = "gru";
/** Gate order inside the stacked matrices: update, reset, output. */
const GATES = ["update", "reset", "output"] as const;

/**
 * Runs a gru layer. Inputs: the sequence `[Seq, Batch, I, 1, 1]`, then the
 * optional initial output h_in (zeros when absent). Outputs: y (every step with
 * sequenceOutput, else the last), then the final h. activations are [f, g]
 * (f for z and r, g for o). reverseInput with sequenceOutput is refused (the
 * output order is not specified).
 */
export const gru: LayerImpl<"gru"> = {
  prepare: (params, layer, context) =>
    prepareOneStateLayer(params, layer, context, KIND, ({ inputSize, outputSize: o }) => {
      const { path } = context;
      if (params.activations.length !== 2) {
        throw new QuantizeError("unsupported-layer", `${KIND} takes 2 activations [f, g], not ${params.activations.length}`, { path });
      }
      const f = recurrentActivation(params.activations[0], `${KIND} activations[0]`, path);
      const g = recurrentActivation(params.activations[1], `${KIND} activations[1]`, path);
      const weights = decodedWeights(layer, path);
      const field = (name: string): Float32Array => requiredWeight(weights, name, path);
      // z, r and o share one input product; z and r one recursion product (o's
      // recursion reads r ⊙ h, so it is separate).
      const wAll = stacked(
        GATES.map((gate) => field(`${gate}GateWeightMatrix`)),
        o * inputSize,
      );
      const rZr = stacked([field("updateGateRecursionMatrix"), field("resetGateRecursionMatrix")], o * o);
      const rO = field("outputGateRecursionMatrix");
      const bias = stacked(
        GATES.map((gate) => (params.hasBiasVectors ? field(`${gate}GateBiasVector`) : undefined)),
        o,
      );
      const pre = new Float64Array(3 * o);
      const resetH = new Float64Array(o);
      return (x, xOffset, h, hOffset) => {
        pre.set(bias);
        addMatVec(pre, 0, wAll, 3 * o, inputSize, x, xOffset);
        addMatVec(pre, 0, rZr, 2 * o, o, h, hOffset);
        clipInPlace(pre, 0, 2 * o);
        activateInPlace(f, pre, 0, 2 * o);
        for (let k = 0; k < o; k++) resetH[k] = (pre[o + k] as number) * (h[hOffset + k] as number);
        addMatVec(pre, 2 * o, rO, o, o, resetH, 0);
        clipInPlace(pre, 2 * o, 3 * o);
        activateInPlace(g, pre, 2 * o, 3 * o);
        for (let k = 0; k < o; k++) {
          const z = pre[k] as number;
          h[hOffset + k] = (1 - z) * (pre[2 * o + k] as number) + z * (h[hOffset + k] as number);
        }
      };
    }),
};

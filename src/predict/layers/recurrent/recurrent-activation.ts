/**
 * The activations recurrent layers accept (a subset of ActivationParams), and the
 * pre-activation clip every recurrent gate applies.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../../errors.js";
import type { WithTypedWeights } from "../../../codec/model-types.js";
import type * as nnPb from "../../../gen/NeuralNetwork_pb.js";

/** An ActivationParams message as the model types hold it. */
export type ActivationParams = WithTypedWeights<nnPb.ActivationParams>;

/** Gate pre-activations are clipped to `[-PRE_ACTIVATION_CLIP, PRE_ACTIVATION_CLIP]` before the activation (the proto's clip()). */
export const PRE_ACTIVATION_CLIP = 50;

/** The only scaledTanh parameters the proto allows in recurrent layers. */
const SCALED_TANH = { alpha: 1.7159, beta: 2 / 3 } as const;
/** The only sigmoidHard parameters the proto allows in recurrent layers. */
const SIGMOID_HARD = { alpha: 0.2, beta: 0.5 } as const;

/**
 * A recurrent activation, resolved once at prepare time. scaledTanh and
 * sigmoidHard carry their fixed parameters; linear carries the stored ones.
 */
export type RecurrentActivation =
  | { readonly kind: "linear"; readonly alpha: number; readonly beta: number }
  | { readonly kind: "sigmoid" }
  | { readonly kind: "tanh" }
  | { readonly kind: "relu" }
  | { readonly kind: "scaledTanh"; readonly alpha: number; readonly beta: number }
  | { readonly kind: "sigmoidHard"; readonly alpha: number; readonly beta: number };

/** Whether a stored float32 parameter pair is unset (both 0) or the fixed pair, compared at float32 precision. */
function unsetOrFixed(alpha: number, beta: number, fixed: { readonly alpha: number; readonly beta: number }): boolean {
  return (alpha === 0 && beta === 0) || (Math.fround(alpha) === Math.fround(fixed.alpha) && Math.fround(beta) === Math.fround(fixed.beta));
}

/**
 * Resolves one activation of a recurrent layer.
 *
 * coremltools' builder writes every recurrent activation as an empty message, so
 * an unset alpha/beta pair (both 0) means: linear is the identity, scaledTanh and
 * sigmoidHard use the fixed parameters the proto names. Other scaledTanh /
 * sigmoidHard parameters are not specified and are refused; a linear with a set
 * pair follows the proto formula `alpha * x + beta`.
 *
 * @param params - the ActivationParams message (undefined when the list is short)
 * @param what - which activation, for errors: e.g. `uniDirectionalLSTM activations[1]`
 * @param path - the layer's path, for errors
 * @returns the activation to apply
 * @throws QuantizeError `unsupported-layer` for an absent activation, a kind
 *   recurrent layers do not accept, or unsupported scaledTanh / sigmoidHard parameters
 */
export function recurrentActivation(params: ActivationParams | undefined, what: string, path: string): RecurrentActivation {
  const type = params?.NonlinearityType;
  switch (type?.case) {
    case "linear": {
      const { alpha, beta } = type.value;
      return alpha === 0 && beta === 0 ? { kind: "linear", alpha: 1, beta: 0 } : { kind: "linear", alpha, beta };
    }
    case "sigmoid":
      return { kind: "sigmoid" };
    case "tanh":
      return { kind: "tanh" };
    case "ReLU":
      return { kind: "relu" };
    case "scaledTanh":
    case "sigmoidHard": {
      const fixed = type.case === "scaledTanh" ? SCALED_TANH : SIGMOID_HARD;
      const { alpha, beta } = type.value;
      if (!unsetOrFixed(alpha, beta, fixed)) {
        throw new QuantizeError(
          "unsupported-layer",
          `${what}: ${type.case} with alpha ${alpha}, beta ${beta} is not supported in a recurrent layer (only alpha ${fixed.alpha}, beta ${fixed.beta})`,
          { path },
        );
      }
      return { kind: type.case, ...fixed };
    }
    case undefined:
      throw new QuantizeError("unsupported-layer", `${what}: the activation is missing`, { path });
    default:
      throw new QuantizeError(
        "unsupported-layer",
        `${what}: activation ${type?.case ?? "(unset)"} is not supported in a recurrent layer (linear, sigmoid, tanh, ReLU, scaledTanh, sigmoidHard)`,
        { path },
      );
  }
}

/**
 * Clips `values[start, end)` to the gate pre-activation range, in place.
 *
 * @param values - pre-activations
 * @param start - first index
 * @param end - one past the last index
 */
export function clipInPlace(values: Float64Array, start: number, end: number): void {
  const lim = PRE_ACTIVATION_CLIP;
  for (let i = start; i < end; i++) {
    const v = values[i] as number;
    values[i] = v > lim ? lim : v < -lim ? -lim : v;
  }
}

/**
 * Applies the activation to `values[start, end)` in place (no clip: gates call
 * {@link clipInPlace} first; the LSTM's h(c_t) has no clip in the proto). The
 * switch sits outside the loops so each loop is plain.
 *
 * @param activation - the activation
 * @param values - the inputs; overwritten with the activations
 * @param start - first index
 * @param end - one past the last index
 */
export function activateInPlace(activation: RecurrentActivation, values: Float64Array, start: number, end: number): void {
  switch (activation.kind) {
    case "linear": {
      const { alpha, beta } = activation;
      for (let i = start; i < end; i++) values[i] = alpha * (values[i] as number) + beta;
      return;
    }
    case "sigmoid":
      for (let i = start; i < end; i++) values[i] = 1 / (1 + Math.exp(-(values[i] as number)));
      return;
    case "tanh":
      for (let i = start; i < end; i++) values[i] = Math.tanh(values[i] as number);
      return;
    case "relu":
      for (let i = start; i < end; i++) values[i] = Math.max(0, values[i] as number);
      return;
    case "scaledTanh": {
      const { alpha, beta } = activation;
      for (let i = start; i < end; i++) values[i] = alpha * Math.tanh(beta * (values[i] as number));
      return;
    }
    case "sigmoidHard": {
      const { alpha, beta } = activation;
      for (let i = start; i < end; i++) values[i] = Math.min(1, Math.max(0, alpha * (values[i] as number) + beta));
      return;
    }
    default: {
      const never: never = activation;
      throw new TypeError(`unknown recurrent activation ${JSON.stringify(never)}`);
    }
  }
}

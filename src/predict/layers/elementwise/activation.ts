/**
 * The activation layer: one nonlinearity applied to every value; PReLU and
 * parametric softplus take one parameter per channel (axis -3) or one for all.
 *
 * @packageDocumentation
 */
import type { LayerParams } from "../../../walker/layer-table.js";
import type { LayerContext, LayerImpl, PreparedLayer, Tensor } from "../../layer-runner.js";
import { decodedWeights, tensor } from "../../tensor.js";
import { chwView } from "../chw-view.js";
import { checkCount, formatShape, inputShapeError, invalidParameter, weightCountError } from "../layer-errors.js";

type Nonlinearity = LayerParams<"activation">["NonlinearityType"];
/** The nonlinearities without per-channel weights. */
type PlainNonlinearity = Exclude<Nonlinearity, { case: "PReLU" | "parametricSoftplus" | undefined }>;

/** The activation layer kind. */
export const activationLayer: LayerImpl<"activation"> = {
  prepare(params, layer, context) {
    checkCount(context, "activation", layer.input, 1);
    const fn = params.NonlinearityType;
    switch (fn.case) {
      case undefined:
        throw invalidParameter(context, "activation has no nonlinearity set");
      case "PReLU": {
        const alpha = perChannelWeights(decodedWeights(layer, context.path), context, "PReLU.alpha");
        return (inputs) => {
          const x = inputs[0] as Tensor;
          return [perChannel(context, "PReLU", x.shape, x.data, alpha, alpha, preluKernel)];
        };
      }
      case "parametricSoftplus": {
        const weights = decodedWeights(layer, context.path);
        const alpha = perChannelWeights(weights, context, "parametricSoftplus.alpha");
        const beta = perChannelWeights(weights, context, "parametricSoftplus.beta");
        return (inputs) => {
          const x = inputs[0] as Tensor;
          return [perChannel(context, "parametricSoftplus", x.shape, x.data, alpha, beta, softplusKernel)];
        };
      }
      default:
        return plainActivation(fn);
    }
  },
};

function plainActivation(fn: PlainNonlinearity): PreparedLayer {
  return (inputs) => {
    const x = inputs[0] as Tensor;
    const out = new Float32Array(x.data.length);
    activate(x.data, out, fn);
    return [tensor(x.shape, out)];
  };
}

/**
 * Writes `f(src[i])` to `out[i]`; one loop per function so that each stays a
 * tight loop over typed arrays.
 */
function activate(src: Float32Array, out: Float32Array, fn: PlainNonlinearity): void {
  const n = src.length;
  switch (fn.case) {
    case "linear": {
      const { alpha, beta } = fn.value;
      for (let i = 0; i < n; i++) out[i] = alpha * (src[i] as number) + beta;
      return;
    }
    case "ReLU":
      for (let i = 0; i < n; i++) out[i] = Math.max(0, src[i] as number);
      return;
    case "leakyReLU": {
      const { alpha } = fn.value;
      for (let i = 0; i < n; i++) {
        const v = src[i] as number;
        out[i] = v >= 0 ? v : alpha * v;
      }
      return;
    }
    case "thresholdedReLU": {
      const { alpha } = fn.value;
      for (let i = 0; i < n; i++) {
        const v = src[i] as number;
        out[i] = v >= alpha ? v : 0;
      }
      return;
    }
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(src[i] as number);
      return;
    case "scaledTanh": {
      const { alpha, beta } = fn.value;
      for (let i = 0; i < n; i++) out[i] = alpha * Math.tanh(beta * (src[i] as number));
      return;
    }
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(src[i] as number)));
      return;
    case "sigmoidHard": {
      const { alpha, beta } = fn.value;
      for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(alpha * (src[i] as number) + beta, 0), 1);
      return;
    }
    case "ELU": {
      const { alpha } = fn.value;
      // expm1: e^x - 1 without the cancellation near 0.
      for (let i = 0; i < n; i++) {
        const v = src[i] as number;
        out[i] = v >= 0 ? v : alpha * Math.expm1(v);
      }
      return;
    }
    case "softsign":
      for (let i = 0; i < n; i++) out[i] = (src[i] as number) / (1 + Math.abs(src[i] as number));
      return;
    case "softplus":
      for (let i = 0; i < n; i++) out[i] = softplus(src[i] as number);
      return;
    default: {
      const never: never = fn;
      throw new Error(`unreachable nonlinearity ${String(never)}`);
    }
  }
}

/** ln(1 + e^x), written so that e^x cannot overflow for large x. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** One value of a per-channel nonlinearity, with its channel's parameters. */
type ChannelKernel = (x: number, a: number, b: number) => number;

const preluKernel: ChannelKernel = (x, a) => (x >= 0 ? x : a * x);
const softplusKernel: ChannelKernel = (x, a, b) => a * softplus(b * x);

/**
 * Applies `kernel` with the parameters of each value's channel (axis -3); a
 * parameter of length 1 serves every channel.
 */
function perChannel(
  context: LayerContext,
  kind: string,
  shape: readonly number[],
  src: Float32Array,
  a: Float32Array,
  b: Float32Array,
  kernel: ChannelKernel,
): Tensor {
  const { outer, channels: c, height: h, width: w } = chwView(shape);
  for (const p of [a, b]) {
    if (p.length !== 1 && p.length !== c) {
      throw inputShapeError(context, `${kind} has ${p.length} parameters per channel, the input ${formatShape(shape)} has ${c} channels`);
    }
  }
  const out = new Float32Array(src.length);
  const hw = h * w;
  let i = 0;
  // The kernel is one of two module-level functions: the call site stays cheap.
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const pa = (a.length === 1 ? a[0] : a[ch]) as number;
      const pb = (b.length === 1 ? b[0] : b[ch]) as number;
      for (const end = i + hw; i < end; i++) out[i] = kernel(src[i] as number, pa, pb);
    }
  }
  return tensor(shape, out);
}

/** A per-channel weight field, decoded; refused when absent or empty. */
function perChannelWeights(weights: ReadonlyMap<string, Float32Array>, context: LayerContext, field: string): Float32Array {
  const values = weights.get(field);
  if (values === undefined || values.length === 0) throw weightCountError(context, field, 0, "1 or one per channel");
  return values;
}

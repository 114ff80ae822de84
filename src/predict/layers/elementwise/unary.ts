/**
 * The unary function layer: `f(scale * x + shift)`, with `scale` 0 read as 1 and
 * `epsilon` 0 as 1e-6 (the proto's defaults for unset fields).
 *
 * @packageDocumentation
 */
import { UnaryFunctionLayerParams_Operation as Op } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { checkCount, unsupportedOption } from "../layer-errors.js";

/** The epsilon of RSQRT and INVERSE when the field is unset (0). */
const DEFAULT_UNARY_EPSILON = 1e-6;

/** The unary layer kind. */
export const unaryLayer: LayerImpl<"unary"> = {
  prepare(params, layer, context) {
    checkCount(context, "unary", layer.input, 1);
    const op = params.type;
    if (!(op in Op)) throw unsupportedOption(context, `unary operation ${op} is not supported`);
    const scale = params.scale === 0 ? 1 : params.scale;
    const shift = params.shift;
    const alpha = params.alpha;
    const epsilon = params.epsilon === 0 ? DEFAULT_UNARY_EPSILON : params.epsilon;
    return (inputs) => {
      const x = inputs[0] as Tensor;
      const src = x.data;
      const n = src.length;
      const out = new Float32Array(n);
      // One loop per operation; the shift and scale come first in each.
      switch (op) {
        case Op.SQRT:
          for (let i = 0; i < n; i++) out[i] = Math.sqrt(scale * (src[i] as number) + shift);
          break;
        case Op.RSQRT:
          for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(scale * (src[i] as number) + shift + epsilon);
          break;
        case Op.INVERSE:
          for (let i = 0; i < n; i++) out[i] = 1 / (scale * (src[i] as number) + shift + epsilon);
          break;
        case Op.POWER:
          for (let i = 0; i < n; i++) out[i] = (scale * (src[i] as number) + shift) ** alpha;
          break;
        case Op.EXP:
          for (let i = 0; i < n; i++) out[i] = Math.exp(scale * (src[i] as number) + shift);
          break;
        case Op.LOG:
          for (let i = 0; i < n; i++) out[i] = Math.log(scale * (src[i] as number) + shift);
          break;
        case Op.ABS:
          for (let i = 0; i < n; i++) out[i] = Math.abs(scale * (src[i] as number) + shift);
          break;
        case Op.THRESHOLD:
          for (let i = 0; i < n; i++) out[i] = Math.max(alpha, scale * (src[i] as number) + shift);
          break;
        default:
          throw unsupportedOption(context, `unary operation ${String(op)} is not supported`);
      }
      return [tensor(x.shape, out)];
    };
  },
};

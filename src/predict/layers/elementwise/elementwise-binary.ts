/**
 * The classic multi-input elementwise layers: add, multiply, average, max and
 * min, with the limited broadcasting of the proto (see ../broadcast.ts). Add and
 * multiply with a single input apply their scalar `alpha` instead.
 *
 * @packageDocumentation
 */
import type { LayerContext, LayerImpl, PreparedLayer, Tensor } from "../../layer-runner.js";
import { sizeOf, tensor } from "../../tensor.js";
import { broadcastInputShapes, broadcastTo } from "../broadcast.js";
import { checkCount } from "../layer-errors.js";

/** The elementwise combinations, named as their layer kinds. */
export type Combination = "add" | "multiply" | "average" | "max" | "min";

/** The add layer kind: the sum of its inputs, or `x + alpha` for one input. */
export const addLayer: LayerImpl<"add"> = {
  prepare: (params, layer, context) => {
    checkCount(context, "add", layer.input, 1, Infinity);
    return layer.input.length === 1 ? affine(1, params.alpha) : combineLayer(context, "add");
  },
};

/** The multiply layer kind: the product of its inputs, or `alpha * x` for one input. */
export const multiplyLayer: LayerImpl<"multiply"> = {
  prepare: (params, layer, context) => {
    checkCount(context, "multiply", layer.input, 1, Infinity);
    return layer.input.length === 1 ? affine(params.alpha, 0) : combineLayer(context, "multiply");
  },
};

/** The average layer kind: the mean of its inputs. */
export const averageLayer: LayerImpl<"average"> = {
  prepare: (_params, layer, context) => combinePrepared(layer.input, context, "average"),
};

/** The max layer kind: the largest of its inputs, per value. */
export const maxLayer: LayerImpl<"max"> = {
  prepare: (_params, layer, context) => combinePrepared(layer.input, context, "max"),
};

/** The min layer kind: the smallest of its inputs, per value. */
export const minLayer: LayerImpl<"min"> = {
  prepare: (_params, layer, context) => combinePrepared(layer.input, context, "min"),
};

function combinePrepared(inputs: readonly string[], context: LayerContext, kind: Combination): PreparedLayer {
  checkCount(context, kind, inputs, 1, Infinity);
  // One input: the layer passes it through (unchanged, so shared).
  return inputs.length === 1 ? ([x]) => [x as Tensor] : combineLayer(context, kind);
}

/** `mul * x + add` for each value (exact for `1 * x + alpha` and `alpha * x + 0`). */
function affine(mul: number, add: number): PreparedLayer {
  return (inputs) => {
    const x = inputs[0] as Tensor;
    const src = x.data;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = mul * (src[i] as number) + add;
    return [tensor(x.shape, out)];
  };
}

function combineLayer(context: LayerContext, kind: Combination): PreparedLayer {
  return (inputs) => [combine(context, kind, inputs)];
}

/**
 * Combines two or more inputs value by value after broadcasting them to their
 * common shape.
 *
 * @param context - the layer's context, for errors
 * @param kind - the combination
 * @param inputs - at least two tensors
 * @returns a new tensor of the broadcast shape
 * @throws {@link QuantizeError} `invalid-input` when the shapes do not broadcast
 */
export function combine(context: LayerContext, kind: Combination, inputs: readonly Tensor[]): Tensor {
  const shape = broadcastInputShapes(
    context,
    kind,
    inputs.map((t) => t.shape),
  );
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  const [first, ...rest] = inputs as readonly [Tensor, ...Tensor[]];
  out.set(broadcastTo(first.data, first.shape, shape));
  for (const input of rest) {
    const b = broadcastTo(input.data, input.shape, shape);
    switch (kind) {
      case "add":
      case "average":
        for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (b[i] as number);
        break;
      case "multiply":
        for (let i = 0; i < n; i++) out[i] = (out[i] as number) * (b[i] as number);
        break;
      case "max":
        for (let i = 0; i < n; i++) out[i] = Math.max(out[i] as number, b[i] as number);
        break;
      case "min":
        for (let i = 0; i < n; i++) out[i] = Math.min(out[i] as number, b[i] as number);
        break;
      default: {
        const never: never = kind;
        throw new Error(`unreachable combination ${String(never)}`);
      }
    }
  }
  if (kind === "average") {
    const count = inputs.length;
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) / count;
  }
  return tensor(shape, out);
}

/**
 * Layers that move or relabel data without arithmetic: copy, expandDims,
 * squeeze, transpose, the reshapes, flattenTo2D, concatND, splitND and the
 * broadcastTo layers.
 *
 * @packageDocumentation
 */
import type { LayerContext, LayerImpls, Tensor } from "../../layer-runner.js";
import { sizeOf } from "../../tensor.js";
import { broadcastShape, broadcastTo } from "../broadcast.js";
import { checkCount, formatShape, inputShapeError, invalidParameter, normalizeAxis } from "../layer-errors.js";
import { transposeData } from "../strided-copy.js";

/** The same values under another shape (the data is shared: layers never write their inputs). */
function reshaped(context: LayerContext, kind: string, x: Tensor, target: readonly number[]): Tensor {
  // One -1 stands for whatever the other dimensions leave.
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1 || target.some((d) => !Number.isInteger(d) || d < -1)) throw inputShapeError(context, `${kind}: bad target shape ${formatShape(target)}`);
  const known = sizeOf(target.filter((d) => d !== -1));
  const shape = unknown === 1 && known > 0 ? target.map((d) => (d === -1 ? x.data.length / known : d)) : [...target];
  if (sizeOf(shape) !== x.data.length || !shape.every(Number.isInteger)) {
    throw inputShapeError(context, `${kind}: cannot reshape ${formatShape(x.shape)} (${x.data.length} values) to ${formatShape(target)}`);
  }
  return { shape, data: x.data };
}

/** `x` with its axes permuted: output axis i is input axis `axes[i]`. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  return transposeData(x.data, x.shape, axes);
}

/** Sizes of the axes before `axis`, of `axis`, and after it: the tensor as [outer, n, inner]. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis] as number, sizeOf(shape.slice(axis + 1))];
}

const one = (context: LayerContext, kind: string, inputs: readonly string[]): void => checkCount(context, kind, inputs, 1);

/** The shape-moving layer kinds. */
export const SHAPE_LAYERS: LayerImpls = {
  copy: {
    prepare: (_params, layer, context) => {
      one(context, "copy", layer.input);
      return ([x]) => [x as Tensor];
    },
  },

  expandDims: {
    prepare: (params, layer, context) => {
      one(context, "expandDims", layer.input);
      if (params.axes.length === 0) throw invalidParameter(context, "expandDims: axes is empty");
      return ([x]) => {
        const input = x as Tensor;
        const rank = input.shape.length + params.axes.length;
        const unit = new Array<boolean>(rank).fill(false);
        for (const a of params.axes) {
          const axis = normalizeAxis(context, "expandDims", a, rank);
          if (unit[axis] === true) throw invalidParameter(context, `expandDims: axis ${a} is listed twice`);
          unit[axis] = true;
        }
        let next = 0;
        const shape = unit.map((u) => (u ? 1 : (input.shape[next++] as number)));
        return [{ shape, data: input.data }];
      };
    },
  },

  squeeze: {
    prepare: (params, layer, context) => {
      one(context, "squeeze", layer.input);
      if (!params.squeezeAll && params.axes.length === 0) throw invalidParameter(context, "squeeze: axes is empty and squeezeAll is false");
      return ([x]) => {
        const input = x as Tensor;
        const rank = input.shape.length;
        const drop = new Array<boolean>(rank).fill(false);
        if (params.squeezeAll) input.shape.forEach((d, i) => (drop[i] = d === 1));
        else {
          for (const a of params.axes) {
            const axis = normalizeAxis(context, "squeeze", a, rank);
            if (input.shape[axis] !== 1) throw inputShapeError(context, `squeeze: axis ${a} of ${formatShape(input.shape)} is not 1`);
            drop[axis] = true;
          }
        }
        const shape = input.shape.filter((_, i) => drop[i] !== true);
        // Tensors keep rank 1 at least.
        return [{ shape: shape.length === 0 ? [1] : shape, data: input.data }];
      };
    },
  },

  transpose: {
    prepare: (params, layer, context) => {
      one(context, "transpose", layer.input);
      const axes = params.axes.map(Number);
      const sorted = [...axes].sort((a, b) => a - b);
      if (!sorted.every((a, i) => a === i))
        throw invalidParameter(context, `transpose: axes ${formatShape(axes)} is not a permutation of 0..${axes.length - 1}`);
      return ([x]) => {
        const input = x as Tensor;
        if (input.shape.length !== axes.length) {
          throw inputShapeError(context, `transpose: axes ${formatShape(axes)} for a rank-${input.shape.length} tensor ${formatShape(input.shape)}`);
        }
        return [permute(input, axes)];
      };
    },
  },

  reshapeStatic: {
    prepare: (params, layer, context) => {
      one(context, "reshapeStatic", layer.input);
      const target = params.targetShape.map(Number);
      return ([x]) => [reshaped(context, "reshapeStatic", x as Tensor, target)];
    },
  },

  reshapeLike: {
    prepare: (_params, layer, context) => {
      checkCount(context, "reshapeLike", layer.input, 2);
      return ([x, like]) => [reshaped(context, "reshapeLike", x as Tensor, (like as Tensor).shape)];
    },
  },

  reshapeDynamic: {
    prepare: (_params, layer, context) => {
      checkCount(context, "reshapeDynamic", layer.input, 2);
      return ([x, shape]) => [reshaped(context, "reshapeDynamic", x as Tensor, Array.from((shape as Tensor).data))];
    },
  },

  flattenTo2D: {
    prepare: (params, layer, context) => {
      one(context, "flattenTo2D", layer.input);
      return ([x]) => {
        const input = x as Tensor;
        const rank = input.shape.length;
        // axis may equal the rank (everything in the first dimension).
        const axis = Number(params.axis) === rank ? rank : normalizeAxis(context, "flattenTo2D", params.axis, rank);
        return [{ shape: [sizeOf(input.shape.slice(0, axis)), sizeOf(input.shape.slice(axis))], data: input.data }];
      };
    },
  },

  concatND: {
    prepare: (params, layer, context) => {
      checkCount(context, "concatND", layer.input, 2, Infinity);
      return (inputs) => {
        const first = inputs[0] as Tensor;
        const rank = first.shape.length;
        const axis = normalizeAxis(context, "concatND", params.axis, rank);
        for (const t of inputs) {
          const fits = t.shape.length === rank && t.shape.every((d, i) => i === axis || d === first.shape[i]);
          const equal = t.shape.every((d, i) => d === first.shape[i]);
          if (!fits || (params.interleave && !equal)) {
            throw inputShapeError(
              context,
              `concatND: shapes ${inputs.map((s) => formatShape(s.shape)).join(", ")} do not concatenate along axis ${axis}${params.interleave ? " with interleave (equal shapes needed)" : ""}`,
            );
          }
        }
        const [outer, , inner] = around(first.shape, axis);
        const total = inputs.reduce((s, t) => s + (t.shape[axis] as number), 0);
        const shape = [...first.shape];
        shape[axis] = total;
        const out = new Float32Array(sizeOf(shape));
        if (params.interleave) {
          // Slice i of input k lands at position i * count + k along the axis.
          const count = inputs.length;
          const n = first.shape[axis] as number;
          for (let o = 0; o < outer; o++) {
            for (let i = 0; i < n; i++) {
              inputs.forEach((t, k) => out.set(t.data.subarray((o * n + i) * inner, (o * n + i + 1) * inner), ((o * n + i) * count + k) * inner));
            }
          }
          return [{ shape, data: out }];
        }
        for (let o = 0; o < outer; o++) {
          let at = o * total * inner;
          for (const t of inputs) {
            const block = (t.shape[axis] as number) * inner;
            out.set(t.data.subarray(o * block, (o + 1) * block), at);
            at += block;
          }
        }
        return [{ shape, data: out }];
      };
    },
  },

  splitND: {
    prepare: (params, layer, context) => {
      one(context, "splitND", layer.input);
      checkCount(context, "splitND", layer.output, 1, Infinity, "output");
      const sizes = params.splitSizes.map(Number);
      const count = sizes.length > 0 ? sizes.length : Number(params.numSplits) || layer.output.length;
      if (count !== layer.output.length) {
        throw invalidParameter(context, `splitND: ${count} splits for ${layer.output.length} outputs`);
      }
      return ([x]) => {
        const input = x as Tensor;
        const axis = normalizeAxis(context, "splitND", params.axis, input.shape.length);
        const [outer, n, inner] = around(input.shape, axis);
        const parts = sizes.length > 0 ? sizes : new Array<number>(count).fill(n / count);
        if (!parts.every(Number.isInteger) || parts.reduce((a, b) => a + b, 0) !== n) {
          throw inputShapeError(
            context,
            `splitND: axis ${axis} of ${formatShape(input.shape)} does not split into ${sizes.length > 0 ? formatShape(sizes) : `${count} equal parts`}`,
          );
        }
        let start = 0;
        return parts.map((size) => {
          const shape = [...input.shape];
          shape[axis] = size;
          const out = new Float32Array(sizeOf(shape));
          for (let o = 0; o < outer; o++) out.set(input.data.subarray((o * n + start) * inner, (o * n + start + size) * inner), o * size * inner);
          start += size;
          return { shape, data: out };
        });
      };
    },
  },

  broadcastToStatic: {
    prepare: (params, layer, context) => {
      one(context, "broadcastToStatic", layer.input);
      const target = params.targetShape.map(Number);
      return ([x]) => [broadcastTensorTo(context, "broadcastToStatic", x as Tensor, target)];
    },
  },

  broadcastToLike: {
    prepare: (_params, layer, context) => {
      checkCount(context, "broadcastToLike", layer.input, 2);
      return ([x, like]) => [broadcastTensorTo(context, "broadcastToLike", x as Tensor, (like as Tensor).shape)];
    },
  },

  broadcastToDynamic: {
    prepare: (_params, layer, context) => {
      checkCount(context, "broadcastToDynamic", layer.input, 2);
      return ([x, shape]) => [broadcastTensorTo(context, "broadcastToDynamic", x as Tensor, Array.from((shape as Tensor).data))];
    },
  },
};

/** `x` repeated along its unit axes to `target`. */
function broadcastTensorTo(context: LayerContext, kind: string, x: Tensor, target: readonly number[]): Tensor {
  if (!target.every((d) => Number.isInteger(d) && d >= 0)) throw inputShapeError(context, `${kind}: bad target shape ${formatShape(target)}`);
  const shape = broadcastShape(x.shape, target);
  if (shape === undefined) {
    throw inputShapeError(context, `${kind}: shapes ${formatShape(x.shape)} and ${formatShape(target)} do not broadcast`);
  }
  if (shape.length !== target.length || shape.some((d, i) => d !== target[i])) {
    throw inputShapeError(context, `${kind}: ${formatShape(x.shape)} does not broadcast to ${formatShape(target)}`);
  }
  return { shape, data: broadcastTo(x.data, x.shape, shape) };
}

/**
 * One mode, one tensor: float values in, packed indices and their parameters out.
 * The table is exhaustive over {@link TensorMode}. Nothing here touches model
 * messages, so the same code runs in worker threads.
 *
 * @packageDocumentation
 */
import { packIndices } from "./codec/bit-pack.js";
import { channelLayout, type ChannelLayout } from "./codec/channel-layout.js";
import { QuantizeError } from "./errors.js";
import { customLut, type LutFunction } from "./quantizer/custom-lut.js";
import { kmeansLut } from "./quantizer/kmeans-lut.js";
import { quantizeLinear } from "./quantizer/linear.js";
import { quantizeLinearLut } from "./quantizer/linear-lut.js";
import { quantizeLinearSymmetric } from "./quantizer/linear-symmetric.js";

/** The modes that turn float weights into n-bit storage. */
export type TensorMode = "linear" | "linear_symmetric" | "linear_lut" | "kmeans_lut" | "custom_lut";

/** What a tensor quantizer needs besides the values. */
export interface TensorContext {
  readonly nbits: number;
  readonly shape: readonly number[];
  readonly axis: 0 | 1;
  readonly path: string;
  readonly lutFunction: LutFunction | undefined;
}

/** A quantized tensor, ready to store: packed n-bit indices and their parameters. */
export type TensorResult =
  | { readonly kind: "linear"; readonly packed: Uint8Array; readonly scale: Float32Array; readonly bias: Float32Array }
  | { readonly kind: "lut"; readonly packed: Uint8Array; readonly lut: Float32Array };

/**
 * How the per-channel modes split a tensor into channels: along the layer's channel
 * axis, one channel for rank-1 tensors (as the reference reshapes them).
 *
 * @throws {@link QuantizeError} `invalid-weights` when the values do not split evenly
 */
export const perChannel = (values: Float32Array, context: Pick<TensorContext, "shape" | "axis" | "path">): ChannelLayout => {
  const rank1 = context.shape.length === 1;
  const channels = rank1 ? 1 : (context.shape[context.axis] ?? 1);
  const declared = context.shape.reduce((a, b) => a * b, 1);
  if (channels === 0 || values.length % channels !== 0) {
    throw new QuantizeError("invalid-weights",
      `${values.length} values do not split into the ${channels} channels of shape [${context.shape.join(", ")}]`, { path: context.path });
  }
  if (declared !== values.length) {
    throw new QuantizeError("invalid-weights",
      `${values.length} values but the layer declares shape [${context.shape.join(", ")}] (${declared} values)`, { path: context.path });
  }
  return channelLayout(rank1 ? [values.length] : context.shape, rank1 ? 0 : context.axis, { path: context.path });
};

/** Each mode's quantizer. */
export const TENSOR_QUANTIZERS: { readonly [M in TensorMode]: (values: Float32Array, context: TensorContext) => TensorResult } = {
  linear: (values, c) => {
    const q = quantizeLinear(values, c.nbits, perChannel(values, c), { path: c.path });
    return { kind: "linear", packed: packIndices(q.indices, c.nbits), scale: q.scale, bias: q.bias };
  },
  linear_symmetric: (values, c) => {
    const q = quantizeLinearSymmetric(values, c.nbits, perChannel(values, c), { path: c.path });
    return { kind: "linear", packed: packIndices(q.indices, c.nbits), scale: q.scale, bias: q.bias };
  },
  linear_lut: (values, c) => {
    const q = quantizeLinearLut(values, c.nbits, { path: c.path });
    return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
  },
  kmeans_lut: (values, c) => {
    const q = kmeansLut(values, c.nbits, { path: c.path });
    return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
  },
  custom_lut: (values, c) => {
    if (c.lutFunction === undefined) throw new QuantizeError("invalid-option", "custom_lut needs a lutFunction", { path: c.path });
    const q = customLut(values, c.nbits, c.lutFunction, { path: c.path });
    return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
  },
};

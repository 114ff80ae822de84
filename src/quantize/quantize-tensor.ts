/**
 * One mode, one tensor: float values in, packed indices and their parameters out.
 * The table of modes, {@link TENSOR_QUANTIZERS}, is the one list of them. Nothing here touches model
 * messages, so the same code runs in worker threads.
 *
 * @packageDocumentation
 */
import { packIndices } from "../codec/bit-pack.js";
import { channelLayout, type ChannelLayout } from "../quantizer/channel-layout.js";
import { QuantizeError } from "../errors.js";
import { customLut, type LutFunction } from "../quantizer/custom-lut.js";
import { kmeansLut } from "../quantizer/kmeans-lut.js";
import { quantizeLinear } from "../quantizer/linear.js";
import { quantizeLinearLut } from "../quantizer/linear-lut.js";
import { quantizeLinearSymmetric } from "../quantizer/linear-symmetric.js";

/** What a tensor quantizer needs besides the values. */
export interface TensorContext {
  /** Bits per index, 1..8. */
  readonly nbits: number;
  /** The tensor's dimensions, row-major. */
  readonly shape: readonly number[];
  /** The channel axis of the per-channel modes (1 for deconvolution weights). */
  readonly axis: 0 | 1;
  /** Where the tensor is, for errors. */
  readonly path: string;
  /** The caller's table builder, for `custom_lut`. */
  readonly lutFunction: LutFunction | undefined;
  /** Hears how far a long quantization (k-means) is, in (0, 1); never sent to a worker. @defaultValue none */
  readonly onProgress?: ((fraction: number) => void) | undefined;
}

/** A quantized tensor, ready to store: packed n-bit indices and their parameters. */
export type TensorResult =
  | {
      /** Linear: `w = scale[c] * q + bias[c]`. */
      readonly kind: "linear";
      /** The n-bit indices, packed. */
      readonly packed: Uint8Array;
      /** Per-channel step. */
      readonly scale: Float32Array;
      /** Per-channel offset. */
      readonly bias: Float32Array;
    }
  | {
      /** A lookup table: `w = lut[q]`. */
      readonly kind: "lut";
      /** The n-bit indices, packed. */
      readonly packed: Uint8Array;
      /** The `2^nbits` table entries. */
      readonly lut: Float32Array;
    };

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
    throw new QuantizeError("invalid-weights", `${values.length} values do not split into the ${channels} channels of shape [${context.shape.join(", ")}]`, {
      path: context.path,
    });
  }
  if (declared !== values.length) {
    throw new QuantizeError("invalid-weights", `${values.length} values but the layer declares shape [${context.shape.join(", ")}] (${declared} values)`, {
      path: context.path,
    });
  }
  return channelLayout(rank1 ? [values.length] : context.shape, rank1 ? 0 : context.axis, { path: context.path });
};

/**
 * One quantization mode: how its result is stored, which bit widths it takes,
 * whether it needs the caller's code, and the quantizer itself.
 */
export interface TensorQuantizer {
  /** How its results are stored: per-channel scale and bias, or a lookup table. */
  readonly storage: TensorResult["kind"];
  /** The only bit width it accepts, when it takes just one (as the reference's modes do). @defaultValue any of 1..8 */
  readonly onlyNbits?: number;
  /**
   * Whether it needs nothing but the values: `nbits: "auto"` may try it and the CLI
   * offers it. False when it needs the caller's code (custom_lut's function).
   */
  readonly standalone: boolean;
  /** Quantizes one tensor. */
  readonly quantize: (values: Float32Array, context: TensorContext) => TensorResult;
}

/**
 * Each mode's row: the one list of modes. Every other list (the modes `auto` may
 * use, the options' and the CLI's mode names, error messages) is derived from it,
 * and `Record<TensorMode, …>` tables elsewhere fail to compile until they cover a
 * new row.
 */
export const TENSOR_QUANTIZERS = {
  linear: {
    storage: "linear",
    standalone: true,
    quantize: (values, c) => {
      const q = quantizeLinear(values, c.nbits, perChannel(values, c), { path: c.path });
      return { kind: "linear", packed: packIndices(q.indices, c.nbits), scale: q.scale, bias: q.bias };
    },
  },
  linear_symmetric: {
    storage: "linear",
    onlyNbits: 8,
    standalone: true,
    quantize: (values, c) => {
      const q = quantizeLinearSymmetric(values, c.nbits, perChannel(values, c), { path: c.path });
      return { kind: "linear", packed: packIndices(q.indices, c.nbits), scale: q.scale, bias: q.bias };
    },
  },
  linear_lut: {
    storage: "lut",
    standalone: true,
    quantize: (values, c) => {
      const q = quantizeLinearLut(values, c.nbits, { path: c.path });
      return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
    },
  },
  kmeans_lut: {
    storage: "lut",
    standalone: true,
    quantize: (values, c) => {
      const q = kmeansLut(values, c.nbits, c.onProgress === undefined ? { path: c.path } : { path: c.path, onProgress: c.onProgress });
      return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
    },
  },
  custom_lut: {
    storage: "lut",
    // The caller's function is made for one bit width: auto cannot try others, the CLI has none.
    standalone: false,
    quantize: (values, c) => {
      if (c.lutFunction === undefined) throw new QuantizeError("invalid-option", "custom_lut needs a lutFunction", { path: c.path });
      const q = customLut(values, c.nbits, c.lutFunction, { path: c.path });
      return { kind: "lut", packed: packIndices(q.indices, c.nbits), lut: q.lut };
    },
  },
} as const satisfies Record<string, TensorQuantizer>;

/**
 * The modes that turn float weights into n-bit storage: the rows of the mode table.
 *
 * @useDeclaredType
 */
export type TensorMode = keyof typeof TENSOR_QUANTIZERS;

/** Every {@link TensorMode}, in the table's order. */
export const TENSOR_MODES = Object.keys(TENSOR_QUANTIZERS) as readonly TensorMode[];

/** The row of `mode`, typed as any row (its optional fields read as such). */
export const tensorQuantizerOf = (mode: TensorMode): TensorQuantizer => TENSOR_QUANTIZERS[mode];

/** Whether `mode` takes `nbits` bits per weight (linear_symmetric: 8 only). */
export const acceptsNbits = (mode: TensorMode, nbits: number): boolean => {
  const only = tensorQuantizerOf(mode).onlyNbits;
  return only === undefined || only === nbits;
};

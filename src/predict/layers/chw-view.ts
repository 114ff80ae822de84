/**
 * How the classic layers see a blob: its trailing `[C, H, W]` axes, with every
 * leading axis (Seq and Batch in a rank-5 network) folded into one batch count.
 *
 * @packageDocumentation
 */
import type { LayerContext, Tensor } from "../layer-runner.js";
import { formatShape, inputShapeError } from "./layer-errors.js";

/** A blob as `outer` images of `channels` planes of `height` x `width`. */
export interface ChwView {
  /** The product of the axes before C (Seq x Batch in a rank-5 blob). */
  readonly outer: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/**
 * The `[outer, C, H, W]` view of a shape. Axes a blob of rank below 3 lacks
 * (possible only in an exact-layout network, or for a layer that accepts rank 2)
 * count as 1, so that layers defined on each value or on W alone work at any rank.
 *
 * @param shape - the blob's shape
 * @returns the view
 */
export function chwView(shape: readonly number[]): ChwView {
  const rank = shape.length;
  const at = (fromEnd: number): number => (rank >= fromEnd ? (shape[rank - fromEnd] as number) : 1);
  let outer = 1;
  for (let i = 0; i < rank - 3; i++) outer *= shape[i] as number;
  return { outer, channels: at(3), height: at(2), width: at(1) };
}

/**
 * The {@link chwView} of a layer's input, refused below the rank the layer's
 * proto text requires ("rank at least").
 *
 * @param input - the blob
 * @param minRank - the smallest rank the layer accepts
 * @param context - the layer's context, for errors
 * @param kind - the layer kind, for errors
 * @returns the view
 * @throws {@link QuantizeError} `invalid-input` when the blob's rank is below `minRank`
 */
export function inputChwView(input: Tensor, minRank: number, context: LayerContext, kind: string): ChwView {
  if (input.shape.length < minRank) {
    throw inputShapeError(context, `${kind}: needs an input of rank ${minRank} or more, got ${formatShape(input.shape)}`);
  }
  return chwView(input.shape);
}

/**
 * Refuses a blob of rank below `rank`, for the layers whose proto text requires
 * it (softmax over axis -3, concat along -5, ...).
 *
 * @param context - the layer's context
 * @param kind - the layer kind, for the message
 * @param shape - the blob's shape
 * @param rank - the least rank the layer takes
 * @throws {@link QuantizeError} `invalid-input`
 */
export function requireRank(context: LayerContext, kind: string, shape: readonly number[], rank: number): void {
  if (shape.length < rank) {
    throw inputShapeError(context, `${kind} needs a blob of rank >= ${rank}, got ${formatShape(shape)}`);
  }
}

/**
 * The shape of a layer's output: the input's shape with its trailing `[C, H, W]`
 * replaced (only the axes the input has: a rank-2 input keeps rank 2).
 *
 * @param shape - the input's shape
 * @param channels - the output's C
 * @param height - the output's H
 * @param width - the output's W
 * @returns the output's shape, same rank as the input
 */
export function withChw(shape: readonly number[], channels: number, height: number, width: number): number[] {
  const out = [...shape];
  const rank = out.length;
  if (rank >= 1) out[rank - 1] = width;
  if (rank >= 2) out[rank - 2] = height;
  if (rank >= 3) out[rank - 3] = channels;
  return out;
}

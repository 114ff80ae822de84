/**
 * How a row-major tensor splits into quantization channels.
 *
 * @packageDocumentation
 */

import { QuantizeError } from "../errors.js";
import type { QuantizeErrorOptions as QuantizerOptions } from "../errors.js";

/**
 * A row-major tensor seen as `[outer, channels, inner]`: element `(o, c, i)` is at
 * `(o * channels + c) * inner + i`, and channel `c` is every element with that `c`.
 */
export interface ChannelLayout {
  /** Number of channels, each quantized with its own scale and bias. */
  readonly channels: number;
  /** Product of the dimensions before the channel axis. */
  readonly outer: number;
  /** Product of the dimensions after the channel axis. */
  readonly inner: number;
}

/**
 * The channel layout of a tensor of `shape` quantized along `axis`.
 *
 * A rank-1 shape is one channel (the reference reshapes a vector `[n]` to `[1, n]`).
 * Axis 0 is the output channel of most weights (`[oc, ...]`); axis 1 is the output
 * channel of deconvolution weights `[kc, oc / nGroups, kh, kw]`.
 *
 * @param shape - the tensor's dimensions, row-major
 * @param axis - the channel axis
 * @param options - where the tensor lives, for errors
 * @returns the layout; `outer * channels * inner` is the element count
 * @throws QuantizeError `invalid-option` when a dimension is not a positive integer,
 *   the element count is not a safe integer, or `axis` is not below the rank
 * @example
 * ```ts
 * channelLayout([8, 3, 3, 3], 0); // { outer: 1, channels: 8, inner: 27 }
 * channelLayout([3, 8, 2, 2], 1); // { outer: 3, channels: 8, inner: 4 }
 * ```
 */
export function channelLayout(shape: readonly number[], axis: 0 | 1, options: QuantizerOptions = {}): ChannelLayout {
  if (shape.length === 0) {
    throw new QuantizeError("invalid-option", "a tensor shape needs at least one dimension", options);
  }
  let count = 1;
  for (const [d, size] of shape.entries()) {
    if (!Number.isInteger(size) || size < 1) {
      throw new QuantizeError("invalid-option", `dimension ${d} of shape [${shape.join(", ")}] must be a positive integer`, options);
    }
    count *= size;
  }
  if (!Number.isSafeInteger(count)) {
    throw new QuantizeError("invalid-option", `shape [${shape.join(", ")}] has too many elements`, options);
  }
  if ((axis !== 0 && axis !== 1) || axis >= shape.length) {
    throw new QuantizeError("invalid-option", `channel axis ${String(axis)} is not an axis of shape [${shape.join(", ")}]`, options);
  }
  if (shape.length === 1) return { outer: 1, channels: 1, inner: count };
  // Both reads are in range: the rank is at least 2 and the axis was checked above.
  const outer = axis === 0 ? 1 : (shape[0] as number);
  const channels = shape[axis] as number;
  return { outer, channels, inner: count / (outer * channels) };
}

/**
 * Number of elements a layout covers.
 *
 * @param layout - a channel layout
 * @returns `outer * channels * inner`
 */
export function layoutSize(layout: ChannelLayout): number {
  return layout.outer * layout.channels * layout.inner;
}

/**
 * Refuses a layout that does not cover exactly `length` values.
 *
 * @param layout - the layout the caller derived from the declared shape
 * @param length - how many values there are
 * @param options - where the tensor lives, for the error
 * @throws QuantizeError `invalid-option` when a field of `layout` is not a positive
 *   integer; `invalid-weights` when the counts differ
 */
export function assertLayoutFits(layout: ChannelLayout, length: number, options: QuantizerOptions): void {
  const { outer, channels, inner } = layout;
  if (!isPositiveInteger(outer) || !isPositiveInteger(channels) || !isPositiveInteger(inner)) {
    throw new QuantizeError("invalid-option", `layout { outer: ${outer}, channels: ${channels}, inner: ${inner} } needs positive integers`, options);
  }
  const size = layoutSize(layout);
  if (size !== length) {
    throw new QuantizeError("invalid-weights", `the shape holds ${size} values but there are ${length}`, options);
  }
}

function isPositiveInteger(n: number): boolean {
  return Number.isInteger(n) && n >= 1;
}

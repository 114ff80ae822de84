/**
 * Where a sliding window (a convolution kernel or a pooling window) sits along
 * one spatial axis: how many outputs, and how much padding comes before the
 * input. Positions outside `[0, input)` are padding.
 *
 * @packageDocumentation
 */

/** One axis of a window's placement. */
export interface WindowAxis {
  /** Number of window positions (the output size). */
  readonly size: number;
  /** Padding before the input: output `i` starts at input position `i * stride - padBefore`. */
  readonly padBefore: number;
}

/**
 * Valid placement inside the input extended by explicit padding:
 * `floor((input + before + after - kernel) / stride) + 1` positions.
 *
 * @param input - the input's size along the axis
 * @param kernel - the window's extent (after dilation)
 * @param stride - the step between windows
 * @param before - padding before the input
 * @param after - padding after the input
 * @returns the placement; `size` is 0 or less when the window does not fit
 */
export function validAxis(input: number, kernel: number, stride: number, before: number, after: number): WindowAxis {
  const room = input + before + after - kernel;
  return { size: room < 0 ? 0 : Math.floor(room / stride) + 1, padBefore: before };
}

/**
 * `same` placement: `ceil(input / stride)` positions, with just enough padding
 * for the last window, split between the two sides by the asymmetry mode (the
 * odd unit goes after the input when bottom/right heavy, before it otherwise).
 *
 * @param input - the input's size along the axis
 * @param kernel - the window's extent (after dilation)
 * @param stride - the step between windows
 * @param topLeftHeavy - whether the larger half of the padding goes before the input
 * @returns the placement
 */
export function sameAxis(input: number, kernel: number, stride: number, topLeftHeavy: boolean): WindowAxis {
  const size = Math.ceil(input / stride);
  const total = Math.max(0, (size - 1) * stride + kernel - input);
  const small = Math.floor(total / 2);
  return { size, padBefore: topLeftHeavy ? total - small : small };
}

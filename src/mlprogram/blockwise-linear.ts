/**
 * Blockwise linear quantization of one tensor as the reference computes it
 * (`coremltools/optimize/_utils.py` `compute_qparams_by_dtype`,
 * `quantize_weight_by_dtype`): every operation rounded to the weight's own float
 * type, so fp16 weights are computed in float16 arithmetic.
 *
 * @packageDocumentation
 */
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../codec/float16.js";
import { ROUNDING_SHIFT } from "../kernels/run-kernels.js";
import { roundHalfEven } from "../quantizer/round-half-even.js";
import type { FloatElements } from "./float32-const-view.js";
import { LINEAR_DTYPES, type LinearDtype, type LinearMode } from "./compression-config.js";

/** The float types a weight is computed in. */
export type WeightFloat = "float16" | "float32";

/** The float types arithmetic is rounded to: a weight's, or float64 (integer data palettized jointly). */
export type ArithmeticFloat = WeightFloat | "float64";

/** A tensor quantized in blocks. */
export interface BlockwiseQuantized {
  /** The integer codes, row-major, one per weight element: an Int8Array for signed types, a Uint8Array for unsigned. */
  readonly data: Int8Array | Uint8Array;
  /** One scale per block, row-major over the block grid (values of the weight's float type). */
  readonly scale: Float64Array;
  /** Blocks along each axis: the scale's shape. */
  readonly scaleShape: readonly number[];
  /** One zero point per block; undefined for symmetric signed types, which have none. */
  readonly offset: Int32Array | undefined;
}

/** How one tensor is quantized. */
export interface BlockwiseOptions {
  /** `linear` or `linear_symmetric`. */
  readonly mode: LinearMode;
  /** The integer type of the codes. */
  readonly dtype: LinearDtype;
  /** Elements per block along each axis; 0 = the whole axis. Each must divide its axis. */
  readonly blockSizes: readonly number[];
  /** The float type every operation is rounded to. */
  readonly float: WeightFloat;
}

/**
 * The code range of a dtype in a mode: signed `[-2^(n-1), 2^(n-1)-1]`, unsigned
 * `[0, 2^n-1]`; symmetric raises the signed minimum and lowers the unsigned
 * maximum by one.
 *
 * @param dtype - the integer type
 * @param mode - the mode
 * @returns the smallest and largest code
 */
export function codeRange(dtype: LinearDtype, mode: LinearMode): { readonly qmin: number; readonly qmax: number } {
  const { bits, signed } = LINEAR_DTYPES[dtype];
  const symmetric = mode === "linear_symmetric";
  const qmin = signed ? -(2 ** (bits - 1)) + (symmetric ? 1 : 0) : 0;
  const qmax = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (symmetric ? 1 : 0);
  return { qmin, qmax };
}

/** Scratch for {@link roundToFloat16}: one float32 and its bits, shared so rounding allocates nothing. */
const HALF_SCRATCH = new Float32Array(1);
const HALF_SCRATCH_BITS = new Uint32Array(HALF_SCRATCH.buffer);

/**
 * Rounds a number to the nearest float16 value, ties to even, without allocating.
 * Rounding through float32 first is exact for +, -, *, / of halves (24 >= 2 * 11 + 2 bits).
 *
 * @param x - the number
 * @returns the float16 value, as a number
 */
export function roundToFloat16(x: number): number {
  HALF_SCRATCH[0] = x;
  HALF_SCRATCH_BITS[0] = float16BitsToFloat32Bits(float32BitsToFloat16Bits(HALF_SCRATCH_BITS[0] as number));
  return HALF_SCRATCH[0] as number;
}

/**
 * Rounds a number to the nearest value of a float type, ties to even: a plain
 * function for hot loops, where a rounding closure per element would cost a call.
 *
 * @param float - the type
 * @param x - the number
 * @returns the rounded number
 */
export function roundToFloat(float: ArithmeticFloat, x: number): number {
  if (float === "float32") return Math.fround(x);
  if (float === "float16") return roundToFloat16(x);
  return x;
}

/**
 * Rounds a number to the nearest value of a float type, ties to even.
 *
 * @param float - the type
 * @returns the rounding function
 */
export function floatRounding(float: ArithmeticFloat): (x: number) => number {
  if (float === "float64") return (x) => x;
  if (float === "float32") return Math.fround;
  return roundToFloat16;
}

/**
 * Quantizes a tensor in blocks: per block, `scale = (hi - lo) / (qmax - qmin)` over
 * the block's range (symmetric around 0, or widened to hold 0), codes
 * `round(w / scale) + zero point`, clipped. A block of zeros has scale 0 and gives
 * codes and zero point 0, as the reference's NaN cast does on x86-64.
 *
 * @param values - the weight's values (of the float type), row-major
 * @param shape - its dimensions
 * @param options - mode, dtype, block sizes, float type
 * @returns codes, scales and zero points
 */
export function quantizeBlockwise(values: FloatElements, shape: readonly number[], options: BlockwiseOptions): BlockwiseQuantized {
  const float = options.float;
  const { qmin, qmax } = codeRange(options.dtype, options.mode);
  const symmetric = options.mode === "linear_symmetric";
  const signed = LINEAR_DTYPES[options.dtype].signed;
  const sizes = shape.map((dim, k) => ((options.blockSizes[k] ?? 0) > 0 ? (options.blockSizes[k] as number) : dim));
  const grid = shape.map((dim, k) => dim / (sizes[k] as number));
  const blockCount = grid.reduce((a, b) => a * b, 1);
  const layout = blockLayout(shape, sizes, grid);
  const { rowBlock, rowLength, segment } = layout;
  const rows = rowBlock.length;
  const lows = new Float64Array(blockCount).fill(Number.POSITIVE_INFINITY);
  const highs = new Float64Array(blockCount).fill(Number.NEGATIVE_INFINITY);
  // Each row of the last axis is cut into segments of one block each: the block's
  // range is kept in locals over a segment, in element order (the first of equal
  // extremes, -0 or +0, is kept).
  for (let row = 0, i = 0; row < rows; row++) {
    let b = rowBlock[row] as number;
    for (let end = i + rowLength; i < end; b++) {
      let lo = lows[b] as number;
      let hi = highs[b] as number;
      for (const segmentEnd = i + segment; i < segmentEnd; i++) {
        const v = values[i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      lows[b] = lo;
      highs[b] = hi;
    }
  }
  const scale = new Float64Array(blockCount);
  const zero = new Float64Array(blockCount);
  for (let b = 0; b < blockCount; b++) {
    const m = Math.max(Math.abs(lows[b] as number), Math.abs(highs[b] as number));
    const lo = symmetric ? -m : Math.min(0, lows[b] as number);
    const hi = symmetric ? m : Math.max(0, highs[b] as number);
    const range = roundToFloat(float, hi - lo);
    scale[b] = roundToFloat(float, range / (qmax - qmin));
    if (!symmetric) {
      const z = roundToFloat(float, roundToFloat(float, roundToFloat(float, qmin * hi) - roundToFloat(float, qmax * lo)) / range);
      zero[b] = clip(roundHalfEven(z), qmin, qmax);
    } else zero[b] = signed ? 0 : Math.floor(qmax / 2);
  }
  // Every code fits a byte (the dtypes have at most 8 bits).
  const data = signed ? new Int8Array(values.length) : new Uint8Array(values.length);
  for (let row = 0, i = 0; row < rows; row++) {
    let b = rowBlock[row] as number;
    for (let end = i + rowLength; i < end; b++) {
      const s = scale[b] as number;
      const z = zero[b] as number;
      const segmentEnd = i + segment;
      if (float === "float32") quantizeSegmentFloat32(values, i, segmentEnd, s, z, qmin - z, qmax - z, data);
      else quantizeSegment(float, values, i, segmentEnd, s, z, qmin - z, qmax - z, data);
      i = segmentEnd;
    }
  }
  const offset = symmetric && signed ? undefined : Int32Array.from(zero, (z) => clip(z, qmin, qmax));
  return { data, scale, scaleShape: grid, offset };
}

/**
 * Codes of the elements `from..to-1` of one block: `round(fl(w / scale)) + zero`,
 * clipped to [qmin, qmax]. The quotient is clipped to [low, high] = [qmin - zero,
 * qmax - zero] (integers) first, which gives the same code whichever way it would
 * round; then ROUNDING_SHIFT rounds it half to even, an infinity included. A NaN
 * quotient (0/0 of a block of zeros) stays NaN and is stored as 0 (ToInt8, ToUint8),
 * as the reference's cast gives on x86-64.
 */
function quantizeSegment(
  float: WeightFloat,
  values: FloatElements,
  from: number,
  to: number,
  scale: number,
  zero: number,
  low: number,
  high: number,
  data: Int8Array | Uint8Array,
): void {
  for (let i = from; i < to; i++) {
    const x = roundToFloat(float, (values[i] as number) / scale);
    data[i] = Math.min(Math.max(x, low), high) + ROUNDING_SHIFT - ROUNDING_SHIFT + zero;
  }
}

/** {@link quantizeSegment} for float32 weights: the same arithmetic, with nothing in the loop but it (about twice as fast). */
function quantizeSegmentFloat32(
  values: FloatElements,
  from: number,
  to: number,
  scale: number,
  zero: number,
  low: number,
  high: number,
  data: Int8Array | Uint8Array,
): void {
  const shift = ROUNDING_SHIFT;
  for (let i = from; i < to; i++) data[i] = Math.min(Math.max(Math.fround((values[i] as number) / scale), low), high) + shift - shift + zero;
}

/**
 * How a tensor's elements map to blocks, row by row of its last axis: the block of
 * each row's first element, the row length, and the length of the segments a row is
 * cut into (one block each, consecutive blocks). A scalar is one row of one element.
 */
function blockLayout(
  shape: readonly number[],
  sizes: readonly number[],
  grid: readonly number[],
): { readonly rowBlock: Int32Array; readonly rowLength: number; readonly segment: number } {
  const rank = shape.length;
  if (rank === 0) return { rowBlock: new Int32Array(1), rowLength: 1, segment: 1 };
  const last = rank - 1;
  const rowLength = shape[last] as number;
  const rows = shape.slice(0, last).reduce((a, b) => a * b, 1);
  const rowBlock = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    // The row's index on each leading axis, last first; the grid strides grow the same way.
    let rest = row;
    let block = 0;
    let stride = grid[last] as number;
    for (let k = last - 1; k >= 0; k--) {
      const dim = shape[k] as number;
      const index = rest % dim;
      rest = (rest - index) / dim;
      block += Math.floor(index / (sizes[k] as number)) * stride;
      stride *= grid[k] as number;
    }
    rowBlock[row] = block;
  }
  return { rowBlock, rowLength, segment: sizes[last] as number };
}

/** Clips to [lo, hi]; NaN (0/0 of a block of zeros) becomes 0, as the reference's cast gives on x86-64. */
function clip(x: number, lo: number, hi: number): number {
  return Number.isNaN(x) ? 0 : Math.min(hi, Math.max(lo, x));
}

/**
 * Blockwise linear quantization of one tensor as the reference computes it
 * (`coremltools/optimize/_utils.py` `compute_qparams_by_dtype`,
 * `quantize_weight_by_dtype`): every operation rounded to the weight's own float
 * type, so fp16 weights are computed in float16 arithmetic.
 *
 * @packageDocumentation
 */
import { float16BitsToFloat32Bits, float32BitsToFloat16Bits } from "../codec/float16.js";
import { roundHalfEven } from "../quantizer/round-half-even.js";
import { LINEAR_DTYPES, type LinearDtype, type LinearMode } from "./compression-config.js";

/** The float types a weight is computed in. */
export type WeightFloat = "float16" | "float32";

/** A tensor quantized in blocks. */
export interface BlockwiseQuantized {
  /** The integer codes, row-major, one per weight element. */
  readonly data: Int32Array;
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

/**
 * Rounds a number to the nearest value of a float type, ties to even.
 *
 * @param float - the type
 * @returns the rounding function
 */
export function floatRounding(float: WeightFloat): (x: number) => number {
  if (float === "float32") return Math.fround;
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  // Rounding through float32 first is exact for +, -, *, / of halves (24 >= 2 * 11 + 2 bits).
  return (x) => {
    f32[0] = x;
    u32[0] = float16BitsToFloat32Bits(float32BitsToFloat16Bits(u32[0] as number));
    return f32[0] as number;
  };
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
export function quantizeBlockwise(values: Float64Array, shape: readonly number[], options: BlockwiseOptions): BlockwiseQuantized {
  const r = floatRounding(options.float);
  const { qmin, qmax } = codeRange(options.dtype, options.mode);
  const symmetric = options.mode === "linear_symmetric";
  const signed = LINEAR_DTYPES[options.dtype].signed;
  const rank = shape.length;
  const sizes = shape.map((dim, k) => ((options.blockSizes[k] ?? 0) > 0 ? (options.blockSizes[k] as number) : dim));
  const grid = shape.map((dim, k) => dim / (sizes[k] as number));
  const blockCount = grid.reduce((a, b) => a * b, 1);
  const blockOf = new Int32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < values.length; i++) {
    let block = 0;
    for (let k = 0; k < rank; k++) block = block * (grid[k] as number) + Math.floor((index[k] as number) / (sizes[k] as number));
    blockOf[i] = block;
    for (let k = rank - 1; k >= 0; k--) {
      index[k] = (index[k] as number) + 1;
      if ((index[k] as number) < (shape[k] as number)) break;
      index[k] = 0;
    }
  }
  const lows = new Float64Array(blockCount).fill(Number.POSITIVE_INFINITY);
  const highs = new Float64Array(blockCount).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < values.length; i++) {
    const b = blockOf[i] as number;
    const v = values[i] as number;
    if (v < (lows[b] as number)) lows[b] = v;
    if (v > (highs[b] as number)) highs[b] = v;
  }
  const scale = new Float64Array(blockCount);
  const zero = new Float64Array(blockCount);
  for (let b = 0; b < blockCount; b++) {
    const m = Math.max(Math.abs(lows[b] as number), Math.abs(highs[b] as number));
    const lo = symmetric ? -m : Math.min(0, lows[b] as number);
    const hi = symmetric ? m : Math.max(0, highs[b] as number);
    const range = r(hi - lo);
    scale[b] = r(range / (qmax - qmin));
    if (!symmetric) zero[b] = clip(roundHalfEven(r(r(r(qmin * hi) - r(qmax * lo)) / range)), qmin, qmax);
    else zero[b] = signed ? 0 : Math.floor(qmax / 2);
  }
  const data = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = blockOf[i] as number;
    data[i] = clip(roundHalfEven(r((values[i] as number) / (scale[b] as number))) + (zero[b] as number), qmin, qmax);
  }
  const offset = symmetric && signed ? undefined : Int32Array.from(zero, (z) => clip(z, qmin, qmax));
  return { data, scale, scaleShape: grid, offset };
}

/** Clips to [lo, hi]; NaN (0/0 of a block of zeros) becomes 0, as the reference's cast gives on x86-64. */
function clip(x: number, lo: number, hi: number): number {
  return Number.isNaN(x) ? 0 : Math.min(hi, Math.max(lo, x));
}

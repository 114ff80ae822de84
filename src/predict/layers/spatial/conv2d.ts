/**
 * The 2-D convolution kernel over flat float32 planes, as matrix products: the
 * input patches of a strip of output rows are gathered into a column buffer
 * (im2col, `[patch, pixels]`), and each group's weights `[outChannels / groups,
 * patch]` times that buffer gives the strip's outputs, through the kernels'
 * matrix product (WebAssembly SIMD, or the bit-identical JavaScript one). A 1x1
 * convolution with stride 1 and no padding needs no gathering: its input planes
 * are the buffer. Groups of one input channel (depthwise) go to the kernels'
 * depthwise convolution, which sums in the same order.
 *
 * Every output is float32 arithmetic in one fixed order: the bias (or zero), then
 * the product of each patch element `(ci, ky, kx)` in that order added to it,
 * padding taps included as zeros.
 *
 * @packageDocumentation
 */
import { runKernels, type DilatedConvWindow2d, type MatmulStart } from "../../../kernels/index.js";

/** The sizes of one convolution, all positive integers. */
export interface Conv2dGeometry extends DilatedConvWindow2d {
  readonly inChannels: number;
  readonly outChannels: number;
  /** Channel groups; inChannels and outChannels are multiples of it. */
  readonly groups: number;
}

/** The sizes the packed weights depend on. */
export type Conv2dWeightSizes = Pick<Conv2dGeometry, "inChannels" | "outChannels" | "groups" | "kernelHeight" | "kernelWidth">;

/**
 * Values of the column buffer at most (4 MB): strips of output rows are sized to
 * fit it, and it is kept between calls, as allocating and faulting in megabytes
 * per layer would cost more than the gathering.
 */
const COLUMN_VALUES = 1 << 20;
let columns = new Float32Array(0);

/**
 * The weights as {@link conv2d} reads them. The stored order `[outChannels,
 * inChannels / groups, kernelHeight, kernelWidth]` is already, per group, the
 * row-major `[outChannels / groups, patch]` matrix the product takes: the array
 * is returned as it is, without a copy.
 *
 * @param weights - `[outChannels, inChannels / groups, kernelHeight, kernelWidth]`
 * @param g - the sizes
 * @returns the weights, for {@link conv2d}
 * @throws RangeError when the array does not hold that many values
 */
export function packConv2dWeights(weights: Float32Array, g: Conv2dWeightSizes): Float32Array {
  const count = g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
  if (weights.length !== count) throw new RangeError(`convolution weights: ${weights.length} values, expected ${count}`);
  return weights;
}

/**
 * One image's convolution: `output[co, oy, ox] = bias[co] + sum over the group's
 * input channels ci and kernel taps (ky, kx) of
 * weights[co, ci, ky, kx] * input[ci, oy*sy - padTop + ky*dy, ox*sx - padLeft + kx*dx]`,
 * reading zero outside the input, in float32 in the order the file's summary gives.
 *
 * @param input - the image, `[inChannels, inHeight, inWidth]` from `inOffset`
 * @param inOffset - where the image starts in `input`
 * @param packed - the weights, from {@link packConv2dWeights} with the same geometry
 * @param bias - `[outChannels]`, or undefined for none
 * @param g - the sizes
 * @param output - receives `[outChannels, outHeight, outWidth]` from `outOffset`
 * @param outOffset - where the result starts in `output`
 */
export function conv2d(
  input: Float32Array,
  inOffset: number,
  packed: Float32Array,
  bias: Float32Array | undefined,
  g: Conv2dGeometry,
  output: Float32Array,
  outOffset: number,
): void {
  const kernels = runKernels();
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, kernelHeight: KH, kernelWidth: KW } = g;
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const patch = cinG * KH * KW;
  const P = OH * OW;
  if (cinG === 1) {
    // Depthwise (each group reads one input channel): the patch is one plane's taps, convolved in place.
    kernels.depthwiseConv2d({
      channels: g.groups,
      multiplier: coutG,
      inHeight: H,
      inWidth: W,
      outHeight: OH,
      outWidth: OW,
      kernelHeight: KH,
      kernelWidth: KW,
      strideY: g.strideY,
      strideX: g.strideX,
      dilationY: g.dilationY,
      dilationX: g.dilationX,
      padTop: g.padTop,
      padLeft: g.padLeft,
      input,
      inOffset,
      weights: packed,
      bias,
      output,
      outOffset,
    });
    return;
  }
  const startOf = (group: number): MatmulStart => (bias === undefined ? { along: "none" } : { along: "rows", values: bias, offset: group * coutG });
  if (KH === 1 && KW === 1 && g.strideY === 1 && g.strideX === 1 && g.padTop === 0 && g.padLeft === 0 && OH === H && OW === W) {
    for (let group = 0; group < g.groups; group++) {
      kernels.matmul({
        m: coutG,
        n: P,
        k: cinG,
        a: packed,
        aOffset: group * coutG * cinG,
        aStride: cinG,
        b: input,
        bOffset: inOffset + group * cinG * P,
        bStride: P,
        c: output,
        cOffset: outOffset + group * coutG * P,
        cStride: P,
        start: startOf(group),
      });
    }
    return;
  }
  const rowsPerStrip = Math.max(1, Math.floor(COLUMN_VALUES / (patch * OW)));
  const size = patch * Math.min(OH, rowsPerStrip) * OW;
  if (columns.length < size) columns = new Float32Array(size);
  for (let group = 0; group < g.groups; group++) {
    for (let oy0 = 0; oy0 < OH; oy0 += rowsPerStrip) {
      const rows = Math.min(rowsPerStrip, OH - oy0);
      const tn = rows * OW;
      gatherPatches(input, inOffset + group * cinG * H * W, cinG, g, oy0, rows, columns, tn);
      kernels.matmul({
        m: coutG,
        n: tn,
        k: patch,
        a: packed,
        aOffset: group * coutG * patch,
        aStride: patch,
        b: columns,
        bOffset: 0,
        bStride: tn,
        c: output,
        cOffset: outOffset + group * coutG * P + oy0 * OW,
        cStride: P,
        start: startOf(group),
      });
    }
  }
}

/**
 * Fills `col[k * T + t]` with the input value that patch element k
 * `= (ci, ky, kx)` meets at pixel t of the strip (output rows oy0 .. oy0+rows-1),
 * zero where the patch is over the padding.
 */
function gatherPatches(
  input: Float32Array,
  groupOffset: number,
  cinG: number,
  g: Conv2dGeometry,
  oy0: number,
  rows: number,
  col: Float32Array,
  T: number,
): void {
  const { inHeight: H, inWidth: W, outWidth: OW, kernelHeight: KH, kernelWidth: KW } = g;
  const { strideY: SY, strideX: SX, dilationY: DY, dilationX: DX, padTop, padLeft } = g;
  for (let kx = 0; kx < KW; kx++) {
    const shiftX = kx * DX - padLeft;
    // Output columns whose input column is inside the image.
    const x0 = Math.min(OW, Math.max(0, Math.ceil(-shiftX / SX)));
    const x1 = Math.max(x0, Math.min(OW, Math.floor((W - 1 - shiftX) / SX) + 1));
    for (let ci = 0; ci < cinG; ci++) {
      const plane = groupOffset + ci * H * W;
      for (let ky = 0; ky < KH; ky++) {
        const k = (ci * KH + ky) * KW + kx;
        for (let r = 0; r < rows; r++) {
          const dst = k * T + r * OW;
          const iy = (oy0 + r) * SY + ky * DY - padTop;
          if (iy < 0 || iy >= H) {
            col.fill(0, dst, dst + OW);
            continue;
          }
          const src = plane + iy * W + shiftX;
          if (x0 > 0) col.fill(0, dst, dst + x0);
          if (SX === 1) {
            for (let ox = x0; ox < x1; ox++) col[dst + ox] = input[src + ox] as number;
          } else {
            for (let ox = x0; ox < x1; ox++) col[dst + ox] = input[src + ox * SX] as number;
          }
          if (x1 < OW) col.fill(0, dst + x1, dst + OW);
        }
      }
    }
  }
}

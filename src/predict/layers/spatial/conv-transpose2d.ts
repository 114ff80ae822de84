/**
 * The 2-D transposed convolution (deconvolution) kernel: every input value is
 * spread over the output through the kernel, `stride` output pixels apart per
 * input pixel; the result is read from an offset into that full output.
 *
 * @packageDocumentation
 */
import type { ConvWindow2d } from "../../../kernels/index.js";

/** The sizes of one transposed convolution, all positive integers but the crops. */
export interface ConvTranspose2dGeometry extends ConvWindow2d {
  readonly inChannels: number;
  readonly outChannels: number;
  /**
   * Rows of the full output `(inHeight - 1) * strideY + kernelHeight` dropped
   * before output row 0. Output rows past the full output get the bias only.
   */
  readonly cropTop: number;
  readonly cropLeft: number;
  /** Channel groups; inChannels and outChannels are multiples of it. */
  readonly groups: number;
}

/**
 * One image's transposed convolution:
 * `output[co, oy, ox] = bias[co] + sum of weights[ci, co', ky, kx] * input[ci, iy, ix]`
 * over the group's input channels ci and the (iy, ky), (ix, kx) with
 * `iy * strideY + ky = oy + cropTop` and `ix * strideX + kx = ox + cropLeft`,
 * where co' is co's index within its group.
 *
 * @param input - the image, `[inChannels, inHeight, inWidth]` from `inOffset`
 * @param inOffset - where the image starts in `input`
 * @param weights - `[inChannels, outChannels / groups, kernelHeight, kernelWidth]`
 * @param bias - `[outChannels]`, or undefined for none
 * @param g - the sizes
 * @param output - receives `[outChannels, outHeight, outWidth]` from `outOffset`
 * @param outOffset - where the result starts in `output`
 */
export function convTranspose2d(
  input: Float32Array,
  inOffset: number,
  weights: Float32Array,
  bias: Float32Array | undefined,
  g: ConvTranspose2dGeometry,
  output: Float32Array,
  outOffset: number,
): void {
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, kernelHeight: KH, kernelWidth: KW } = g;
  const { strideY: SY, strideX: SX, cropTop, cropLeft } = g;
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const plane = OH * OW;
  const taps = KH * KW;
  const acc = new Float64Array(plane);
  for (let co = 0; co < g.outChannels; co++) {
    const group = Math.floor(co / coutG);
    const local = co - group * coutG;
    acc.fill(bias === undefined ? 0 : (bias[co] as number));
    for (let c = 0; c < cinG; c++) {
      const ci = group * cinG + c;
      const inPlane = inOffset + ci * H * W;
      const wBase = (ci * coutG + local) * taps;
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) {
          const w = weights[wBase + ky * KW + kx] as number;
          // Input columns that land inside the output: 0 <= ix*SX + kx - cropLeft < OW.
          const shiftX = kx - cropLeft;
          const ix0 = Math.min(W, Math.max(0, Math.ceil(-shiftX / SX)));
          const ix1 = Math.min(W, Math.floor((OW - 1 - shiftX) / SX) + 1);
          for (let iy = 0; iy < H; iy++) {
            const oy = iy * SY + ky - cropTop;
            if (oy < 0 || oy >= OH) continue;
            const inRow = inPlane + iy * W;
            const outRow = oy * OW + shiftX;
            for (let ix = ix0; ix < ix1; ix++) {
              const at = outRow + ix * SX;
              acc[at] = (acc[at] as number) + w * (input[inRow + ix] as number);
            }
          }
        }
      }
    }
    const dst = outOffset + co * plane;
    for (let i = 0; i < plane; i++) output[dst + i] = acc[i] as number;
  }
}

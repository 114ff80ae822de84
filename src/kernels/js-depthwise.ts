/**
 * The depthwise convolution in plain JavaScript: the fallback where WebAssembly
 * SIMD is missing, the path for convolutions too small to be worth a call into
 * the module, and the reference the SIMD one is tested against, bit for bit
 * (float32 rounding as in js-matmul.ts).
 *
 * @packageDocumentation
 */
import type { DepthwiseConv2d } from "./run-kernels.js";

const f = Math.fround;

/**
 * The convolution of {@link DepthwiseConv2d}, one output at a time.
 *
 * @param d - the convolution
 */
export function jsDepthwiseConv2d(d: DepthwiseConv2d): void {
  const { channels, multiplier, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, kernelHeight: KH, kernelWidth: KW } = d;
  for (let c = 0; c < channels; c++) {
    for (let m = 0; m < multiplier; m++) {
      const co = c * multiplier + m;
      plane(d, d.inOffset + c * H * W, co * KH * KW, d.bias === undefined ? 0 : (d.bias[co] as number), d.outOffset + co * OH * OW);
    }
  }
}

/** One output plane from one input plane. */
function plane(d: DepthwiseConv2d, from: number, taps: number, start: number, to: number): void {
  const { input, weights, output, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, kernelHeight: KH, kernelWidth: KW } = d;
  const { strideY: SY, strideX: SX, dilationY: DY, dilationX: DX, padTop, padLeft } = d;
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      let s = start;
      for (let ky = 0; ky < KH; ky++) {
        const iy = oy * SY - padTop + ky * DY;
        const inside = iy >= 0 && iy < H;
        for (let kx = 0; kx < KW; kx++) {
          const ix = ox * SX - padLeft + kx * DX;
          const x = inside && ix >= 0 && ix < W ? (input[from + iy * W + ix] as number) : 0;
          s = f(s + f((weights[taps + ky * KW + kx] as number) * x));
        }
      }
      output[to + oy * OW + ox] = s;
    }
  }
}

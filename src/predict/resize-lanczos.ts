/**
 * Resizing 8-bit pixels as Pillow's `Image.resize(size, Image.LANCZOS)` does,
 * which is how coremltools resizes the images it compares models on. Both the
 * CLI (after sharp decodes a file) and the page (after the browser decodes one)
 * resize here, so they give the same pixels, and those of coremltools.
 *
 * What Pillow computes, and so what this does:
 * - a separable filter: the width first, then the height, each pass skipped
 *   when that side keeps its size (and a same-size image is copied as is);
 * - a Lanczos window of 3 lobes, widened by the scale when shrinking (its
 *   support is `3 * max(in / out, 1)` input pixels), centred on the output
 *   pixel's centre, clipped at the image's edges, its weights then divided by
 *   their sum;
 * - weights in fixed point, {@link LANCZOS_PRECISION_BITS} fraction bits,
 *   rounded half away from zero; each pass adds half a unit, shifts, and clips
 *   to 0..255, so the image between the passes is 8-bit;
 * - colours with alpha (gray+alpha, RGBA) are premultiplied by alpha before
 *   resizing and divided by it after, with Pillow's integer rounding.
 *
 * @packageDocumentation
 */

/** A width and height in pixels. */
export interface PixelSize {
  /** Pixels a row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
}

/**
 * Fraction bits of the fixed-point weights: 32 bits less 8 for the pixel and 2
 * so that sums over weights of either sign, which can exceed 1, fit an int32.
 */
export const LANCZOS_PRECISION_BITS = 22;

/** Lobes of the Lanczos window: the filter's support, in input pixels, before widening. */
const LANCZOS_LOBES = 3;

const ONE = 2 ** LANCZOS_PRECISION_BITS;
const HALF = 2 ** (LANCZOS_PRECISION_BITS - 1);

/** sin(pi x) / (pi x), 1 at 0. */
function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** The Lanczos-3 kernel; the interval is closed on the left and open on the right, as Pillow's. */
function lanczos(x: number): number {
  return x >= -LANCZOS_LOBES && x < LANCZOS_LOBES ? sinc(x) * sinc(x / LANCZOS_LOBES) : 0;
}

/** The taps of one pass: for output pixel `i`, `count[i]` input pixels from `first[i]`, weights at `i * taps`. */
interface Taps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  /** The longest window: the stride of `weights`. */
  readonly taps: number;
  /** Fixed-point weights. */
  readonly weights: Int32Array;
}

/**
 * The fixed-point weights resampling `inSize` pixels to `outSize`. The window's
 * ends and the tap positions are computed in the same order of float64
 * operations as Pillow's, so the same inputs round to the same weights.
 */
function lanczosTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const support = LANCZOS_LOBES * stretch;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const unnormalized = new Float64Array(taps);
  const inverse = 1 / stretch;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // Truncation, as C's (int) cast: the ends round to the nearest pixel boundary.
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    let sum = 0;
    for (let t = 0; t < end - start; t++) {
      const w = lanczos((t + start - center + 0.5) * inverse);
      unnormalized[t] = w;
      sum += w;
    }
    for (let t = 0; t < end - start; t++) {
      const w = sum === 0 ? (unnormalized[t] as number) : (unnormalized[t] as number) / sum;
      weights[o * taps + t] = Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5);
    }
    first[o] = start;
    count[o] = end - start;
  }
  return { first, count, taps, weights };
}

/** A fixed-point sum back to 8 bits: the integer part, clipped to 0..255. */
function clip8(sum: number): number {
  const v = sum >> LANCZOS_PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resamples the rows `rowFirst..rowFirst+rows` of `pixels` to `outWidth` pixels each. */
function resampleRows(pixels: Uint8Array, width: number, channels: number, rowFirst: number, rows: number, outWidth: number): Uint8Array {
  const { first, count, taps, weights } = lanczosTaps(width, outWidth);
  const out = new Uint8Array(rows * outWidth * channels);
  for (let y = 0; y < rows; y++) {
    const rowStart = (rowFirst + y) * width * channels;
    for (let x = 0; x < outWidth; x++) {
      const n = count[x] as number;
      const k = x * taps;
      const from = rowStart + (first[x] as number) * channels;
      const to = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) {
        let sum = HALF;
        // int32 arithmetic, as Pillow's C (the sums fit: see LANCZOS_PRECISION_BITS).
        for (let t = 0, at = from + c; t < n; t++, at += channels) sum = (sum + Math.imul(pixels[at] as number, weights[k + t] as number)) | 0;
        out[to + c] = clip8(sum);
      }
    }
  }
  return out;
}

/** Resamples the columns of `pixels` (`vertical` computed for rows counted `rowShift` above its first) to `vertical.first.length` rows. */
function resampleColumns(pixels: Uint8Array, width: number, channels: number, vertical: Taps, rowShift: number): Uint8Array {
  const { first, count, taps, weights } = vertical;
  const outHeight = first.length;
  const stride = width * channels;
  const out = new Uint8Array(outHeight * stride);
  const sums = new Int32Array(stride);
  for (let y = 0; y < outHeight; y++) {
    const n = count[y] as number;
    const k = y * taps;
    sums.fill(HALF);
    // Row by row, so that reads run along memory; int32 sums, as in the rows' pass.
    for (let t = 0, from = ((first[y] as number) - rowShift) * stride; t < n; t++, from += stride) {
      const w = weights[k + t] as number;
      for (let i = 0; i < stride; i++) sums[i] = (sums[i] as number) + Math.imul(pixels[from + i] as number, w);
    }
    for (let i = 0; i < stride; i++) out[y * stride + i] = clip8(sums[i] as number);
  }
  return out;
}

/**
 * Resizes 8-bit pixels, every channel on its own, as Pillow's
 * `Image.resize(size, Image.LANCZOS)` does for an image without alpha (L, RGB):
 * the width first, then the height, through an 8-bit intermediate image. Use
 * {@link resizeLanczosAlpha} for pixels with an alpha channel.
 *
 * @param pixels - `from.height` rows of `from.width` pixels of `channels` bytes
 * @param channels - bytes a pixel (1 to 4), resampled independently
 * @param from - the size of `pixels`
 * @param to - the size wanted (any positive size: shrunk or enlarged, the aspect
 *   ratio not kept)
 * @returns new pixels of `to`'s size, `channels` bytes each; a copy of `pixels`
 *   when the sizes are equal
 * @throws RangeError when a size is not a positive whole number or `pixels` is not
 *   `from`'s size
 * @example
 * ```ts
 * const small = resizeLanczos(rgb, 3, { width: 640, height: 480 }, { width: 224, height: 224 });
 * ```
 */
export function resizeLanczos(pixels: Uint8Array, channels: number, from: PixelSize, to: PixelSize): Uint8Array {
  checkSizes(pixels, channels, from, to);
  const needWidth = from.width !== to.width;
  const needHeight = from.height !== to.height;
  if (!needWidth && !needHeight) return pixels.slice();
  if (!needHeight) return resampleRows(pixels, from.width, channels, 0, from.height, to.width);
  const vertical = lanczosTaps(from.height, to.height);
  if (!needWidth) return resampleColumns(pixels, from.width, channels, vertical, 0);
  // The width pass runs only on the rows the height pass reads.
  const rowFirst = vertical.first[0] as number;
  const last = to.height - 1;
  const rowEnd = (vertical.first[last] as number) + (vertical.count[last] as number);
  const narrowed = resampleRows(pixels, from.width, channels, rowFirst, rowEnd - rowFirst, to.width);
  return resampleColumns(narrowed, to.width, channels, vertical, rowFirst);
}

/**
 * Resizes 8-bit pixels whose last channel is alpha (gray+alpha, RGBA) as Pillow
 * resizes LA and RGBA images: the colours premultiplied by alpha (`c * a / 255`,
 * rounded), {@link resizeLanczos}, then divided by the new alpha (`c * 255 / a`,
 * truncated and clipped; kept as is where alpha is 0 or 255). Transparent pixels
 * so lend no colour to their neighbours.
 *
 * @param pixels - `from.height` rows of `from.width` pixels of `channels` bytes,
 *   alpha last, not premultiplied
 * @param channels - 2 (gray, alpha) or 4 (RGB, alpha)
 * @param from - the size of `pixels`
 * @param to - the size wanted
 * @returns new pixels of `to`'s size, `channels` bytes each, alpha last, not
 *   premultiplied; a copy of `pixels` when the sizes are equal
 * @throws RangeError as {@link resizeLanczos}, or when `channels` is not 2 or 4
 * @example
 * ```ts
 * const small = resizeLanczosAlpha(rgba, 4, { width: 640, height: 480 }, { width: 224, height: 224 });
 * ```
 */
export function resizeLanczosAlpha(pixels: Uint8Array, channels: 2 | 4, from: PixelSize, to: PixelSize): Uint8Array {
  if (channels !== 2 && channels !== 4) throw new RangeError(`pixels with alpha have 2 or 4 channels, not ${channels}`);
  checkSizes(pixels, channels, from, to);
  if (from.width === to.width && from.height === to.height) return pixels.slice();
  const out = resizeLanczos(premultiply(pixels, channels), channels, from, to);
  unpremultiplyInPlace(out, channels);
  return out;
}

/** Colours times alpha / 255, rounded to nearest with Pillow's two-shift division by 255. */
function premultiply(pixels: Uint8Array, channels: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let p = 0; p < pixels.length; p += channels) {
    const alpha = pixels[p + channels - 1] as number;
    for (let c = 0; c < channels - 1; c++) {
      const t = (pixels[p + c] as number) * alpha + 128;
      out[p + c] = ((t >> 8) + t) >> 8;
    }
    out[p + channels - 1] = alpha;
  }
  return out;
}

/** Colours times 255 / alpha, truncated and clipped; left as they are where alpha is 0 or 255. */
function unpremultiplyInPlace(pixels: Uint8Array, channels: number): void {
  for (let p = 0; p < pixels.length; p += channels) {
    const alpha = pixels[p + channels - 1] as number;
    if (alpha === 0 || alpha === 255) continue;
    for (let c = 0; c < channels - 1; c++) pixels[p + c] = Math.min(Math.trunc(((pixels[p + c] as number) * 255) / alpha), 255);
  }
}

function checkSizes(pixels: Uint8Array, channels: number, from: PixelSize, to: PixelSize): void {
  for (const [what, n] of [
    ["channels", channels],
    ["from.width", from.width],
    ["from.height", from.height],
    ["to.width", to.width],
    ["to.height", to.height],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive whole number, got ${n}`);
  }
  if (pixels.length !== from.width * from.height * channels) {
    throw new RangeError(`${pixels.length} bytes are not ${from.width} x ${from.height} pixels of ${channels} bytes`);
  }
}

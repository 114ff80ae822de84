/**
 * Image files (PNG, JPEG, BMP) to the 8-bit pixels of a model's image input,
 * resized to the input's size. PNG and JPEG are decoded by `sharp`, an optional
 * dependency loaded only when an image is read; BMP by a small reader of ours.
 * Resizing is ours (`resizeLanczos`, Pillow's Lanczos), shared with the
 * page, so both give coremltools' pixels.
 *
 * @packageDocumentation
 */
import type { ImageValue } from "../predict/feature-io.js";
import { QuantizeError } from "../errors.js";
import { resizeLanczos, resizeLanczosAlpha } from "../predict/resize-lanczos.js";
import { decodeBmp } from "./decode-bmp.js";

/**
 * The most pixels (width x height) an image file may have: 2^27, about 134
 * megapixels, above any common camera's photos; decoding holds 3-4 bytes a pixel,
 * so a forged header cannot make us allocate gigabytes.
 */
export const MAX_IMAGE_PIXELS = 2 ** 27;

/** The file name extensions read as images (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = [".png", ".jpg", ".jpeg", ".bmp"];

/** The size pixels are resized to. */
export interface ImageSize {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

type ImageFormat = "png" | "jpeg" | "bmp";

/** The image format from the first bytes, whatever the file's name says. */
function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (starts(0xff, 0xd8, 0xff)) return "jpeg";
  if (starts(0x42, 0x4d)) return "bmp";
  return undefined;
}

type SharpFunction = typeof import("sharp")["default"];

let loaded: Promise<SharpFunction> | undefined;

/** Loads sharp once; its absence is a one-line error saying how to install it. */
function loadSharp(where: string): Promise<SharpFunction> {
  loaded ??= import("sharp").then(
    // An ES module namespace has it as `default`; a CommonJS require gives the function itself.
    (mod) => (typeof mod === "function" ? mod : (mod as { default: SharpFunction }).default),
    (cause: unknown) => {
      loaded = undefined;
      throw new QuantizeError(
        "io",
        `${where}: decoding PNG and JPEG images needs the optional dependency sharp, which cannot be loaded ` +
          `(${firstLine(cause)}): run npm install sharp, or give the pixels as .npy files or BMP images`,
        { cause },
      );
    },
  );
  return loaded;
}

/**
 * Decodes an image file and resizes it to `size`, as coremltools does with PIL
 * (`Image.resize(size, LANCZOS)`): stretched to exactly `size` without keeping
 * the aspect ratio (nothing is cropped or padded) by `resizeLanczos`,
 * which follows Pillow's fixed-point Lanczos-3 step for step. An image already
 * of that size is not resampled. Pixels are taken as stored: embedded colour
 * profiles and the EXIF orientation are ignored, as PIL does. Gray images stay
 * one channel, colour ones become RGB (palette and CMYK images converted).
 * Alpha is dropped after resizing, as coremltools resizes the image PIL opened
 * (RGBA stays RGBA) and Core ML drops alpha when it reads the pixels; the
 * resize weighs colours by alpha, as Pillow's does (`resizeLanczosAlpha`).
 * 16-bit images are reduced to 8 bits.
 *
 * Where PIL's pixels can still differ: palette and 1-bit images (PIL resizes
 * those with the nearest pixel, we after expanding the palette with Lanczos),
 * 16-bit and CMYK images (PIL resizes them in their own mode), and JPEGs if
 * sharp's decoder rounds differently from PIL's.
 *
 * @param bytes - the file's contents: PNG, JPEG or BMP, told by its first bytes
 *   whatever the file's name says
 * @param size - the width and height wanted
 * @param where - what to name in messages, e.g. `cats/1.png: input 'image'`
 * @returns 8-bit pixels of 1 (gray) or 3 (RGB) bytes
 * @throws {@link index!QuantizeError} `invalid-input` starting with `where` when
 *   the bytes are not a PNG, JPEG or BMP image, are broken, or have more than
 *   {@link MAX_IMAGE_PIXELS} pixels; `io` when a PNG or JPEG needs sharp and it
 *   is not installed
 * @example
 * ```ts
 * const image = await decodeImage(await readFile("cat.jpg"), { width: 224, height: 224 }, "cat.jpg");
 * ```
 */
export async function decodeImage(bytes: Uint8Array, size: ImageSize, where: string): Promise<ImageValue> {
  const format = sniffFormat(bytes);
  if (format === undefined) throw new QuantizeError("invalid-input", `${where}: not a PNG, JPEG or BMP image`);
  if (format === "bmp") {
    let pixels: ReturnType<typeof decodeBmp>;
    try {
      pixels = decodeBmp(bytes, MAX_IMAGE_PIXELS);
    } catch (cause) {
      throw new QuantizeError("invalid-input", `${where}: ${(cause as Error).message}`, { cause });
    }
    return resizeToInput(pixels.data, 3, pixels, size);
  }
  const decoded = await decodeWithSharp(bytes, where);
  return resizeToInput(decoded.data, decoded.channels, decoded, size);
}

/** Pixels as decoded, at the file's size: 1 to 4 bytes each (gray, gray+alpha, RGB, RGBA). */
interface DecodedPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/** Decodes a PNG or JPEG to 8-bit gray or sRGB pixels, alpha kept, not resized. */
async function decodeWithSharp(bytes: Uint8Array, where: string): Promise<DecodedPixels> {
  const sharp = await loadSharp(where);
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "warning", ignoreIcc: true, autoOrient: false });
    const meta = await image.metadata();
    const gray = meta.space === "b-w" || meta.space === "grey16" || (meta.channels ?? 3) <= 2;
    const { data, info } = await image
      .toColourspace(gray ? "b-w" : "srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (cause) {
    throw new QuantizeError("invalid-input", `${where}: not a readable image: ${firstLine(cause)}`, { cause });
  }
}

/** Resizes as PIL does for the image's mode (alpha weighing the colours), then drops alpha. */
function resizeToInput(data: Uint8Array, channels: number, from: ImageSize, size: ImageSize): ImageValue {
  const same = from.width === size.width && from.height === size.height;
  const resized = same ? data : channels === 2 || channels === 4 ? resizeLanczosAlpha(data, channels, from, size) : resizeLanczos(data, channels, from, size);
  return { width: size.width, height: size.height, data: dropAlpha(resized, channels) };
}

/** The first line of an error's message: sharp's may run over several, the first says what is wrong. */
function firstLine(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).split("\n")[0] ?? "";
}

/** Pixels of 1 or 3 bytes from pixels of 1-4 bytes (gray+alpha and RGBA lose their alpha). */
function dropAlpha(data: Uint8Array, channels: number): Uint8Array {
  if (channels === 1 || channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (channels !== 2 && channels !== 4) throw new Error(`unexpected ${channels} channels from the decoder`);
  const keep = channels - 1;
  const pixels = data.length / channels;
  const out = new Uint8Array(pixels * keep);
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += channels) {
    for (let c = 0; c < keep; c++) out[o++] = data[s + c] as number;
  }
  return out;
}

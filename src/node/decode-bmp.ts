/**
 * A small checked reader of Windows bitmaps (`.bmp`): the prebuilt image library
 * this package uses has no BMP decoder, and the uncompressed format is simple.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";

/** Decoded pixels: `width * height` RGB triplets, top row first. */
export interface RgbPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** The 14-byte file header that precedes the bitmap header. */
const FILE_HEADER_BYTES = 14;
/** Bitmap header sizes: BITMAPCOREHEADER, then BITMAPINFOHEADER and its V2-V5 extensions. */
const CORE_HEADER_BYTES = 12;
const INFO_HEADER_BYTES = 40;
const INFO_HEADER_SIZES: ReadonlySet<number> = new Set([40, 52, 56, 64, 108, 124]);

/** The `biCompression` values read: none, and uncompressed with channel masks. */
const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Readonly<Record<number, string>> = { 1: "RLE8", 2: "RLE4", 4: "JPEG", 5: "PNG" };

function fail(message: string): never {
  throw new QuantizeError("invalid-input", `BMP: ${message}`);
}

/**
 * Decodes an uncompressed BMP file (1, 4, 8 bits a pixel with a palette; 16, 24,
 * 32 bits, with or without channel masks; bottom-up or top-down) to RGB. Alpha
 * is dropped, as a model's image input ignores it. RLE-compressed and embedded
 * JPEG/PNG bitmaps are refused.
 *
 * @param bytes - the file's contents
 * @param maxPixels - the most pixels (width x height) accepted, checked before
 *   the pixels are allocated
 * @returns the pixels, top row first, 3 bytes a pixel
 * @throws {@link index!QuantizeError} `invalid-input` naming what is wrong: not a
 *   BMP, a compression or bit depth not read, a size beyond `maxPixels`, a file
 *   shorter than its pixel rows, a palette index beyond the palette
 */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): RgbPixels {
  if (bytes.length < FILE_HEADER_BYTES + CORE_HEADER_BYTES || bytes[0] !== 0x42 || bytes[1] !== 0x4d) fail("not a BMP file (no 'BM' signature)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(FILE_HEADER_BYTES, true);
  const core = headerSize === CORE_HEADER_BYTES;
  if (!core && !INFO_HEADER_SIZES.has(headerSize)) fail(`bitmap header of ${headerSize} bytes is not one of the known sizes (12, 40, 52, 56, 64, 108, 124)`);
  if (FILE_HEADER_BYTES + headerSize > bytes.length) fail("the file ends inside its bitmap header");
  const h = FILE_HEADER_BYTES;
  const width = core ? view.getUint16(h + 4, true) : view.getInt32(h + 4, true);
  const rawHeight = core ? view.getUint16(h + 6, true) : view.getInt32(h + 8, true);
  const bitCount = view.getUint16(h + (core ? 10 : 14), true);
  const compression = core ? BI_RGB : view.getUint32(h + 16, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) fail(`bad size ${width}x${rawHeight}`);
  if (width * height > maxPixels) fail(`${width}x${height} is more than the ${maxPixels} pixels allowed`);
  const named = COMPRESSION_NAMES[compression];
  if (named !== undefined) fail(`${named}-compressed bitmaps are not supported: save it uncompressed`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) fail(`unknown compression ${compression}`);
  const masked = compression !== BI_RGB;
  if (masked && bitCount !== 16 && bitCount !== 32) fail(`channel masks with ${bitCount} bits a pixel`);

  let masks: readonly [number, number, number] | undefined;
  let paletteStart = FILE_HEADER_BYTES + headerSize;
  if (masked) {
    // A 40-byte header is followed by the masks; longer headers hold them at the same place.
    const at = FILE_HEADER_BYTES + INFO_HEADER_BYTES;
    if (at + 12 > bytes.length) fail("the file ends inside its channel masks");
    masks = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true)];
    if (headerSize === INFO_HEADER_BYTES) paletteStart += compression === BI_ALPHABITFIELDS ? 16 : 12;
  } else if (bitCount === 16) {
    masks = [0x7c00, 0x03e0, 0x001f];
  }

  let palette: Uint8Array | undefined;
  if (bitCount === 1 || bitCount === 4 || bitCount === 8) {
    const entryBytes = core ? 3 : 4;
    const used = core ? 0 : view.getUint32(h + 32, true);
    const entries = used === 0 || used > 1 << bitCount ? 1 << bitCount : used;
    // Entries are blue, green, red (and a reserved byte).
    const available = Math.min(entries, Math.floor((Math.min(pixelOffset, bytes.length) - paletteStart) / entryBytes));
    if (available <= 0) fail("the palette is missing");
    palette = new Uint8Array(available * 3);
    for (let i = 0; i < available; i++) {
      const at = paletteStart + i * entryBytes;
      palette[i * 3] = bytes[at + 2] as number;
      palette[i * 3 + 1] = bytes[at + 1] as number;
      palette[i * 3 + 2] = bytes[at] as number;
    }
  } else if (bitCount !== 16 && bitCount !== 24 && bitCount !== 32) {
    fail(`${bitCount} bits a pixel is not supported (1, 4, 8, 16, 24, 32 are)`);
  }

  if (pixelOffset < paletteStart) fail(`pixel rows at offset ${pixelOffset} overlap the headers (which end at ${paletteStart})`);
  const stride = Math.ceil((bitCount * width) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) {
    fail(
      `${width}x${height} at ${bitCount} bits a pixel needs ${stride * height} bytes of pixel rows from offset ${pixelOffset}; the file has ${Math.max(0, bytes.length - pixelOffset)}`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  const channels = masks?.map(maskShape);
  const perByte = 8 / bitCount;
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (palette !== undefined) {
        const byte = bytes[row + Math.floor(x / perByte)] as number;
        const index = (byte >> (8 - bitCount * (1 + (x % perByte)))) & ((1 << bitCount) - 1);
        if (index * 3 >= palette.length) fail(`pixel (${x}, ${y}) uses palette entry ${index}; the palette has ${palette.length / 3}`);
        out[o] = palette[index * 3] as number;
        out[o + 1] = palette[index * 3 + 1] as number;
        out[o + 2] = palette[index * 3 + 2] as number;
      } else if (channels !== undefined) {
        const at = row + x * (bitCount / 8);
        const pixel = bitCount === 16 ? view.getUint16(at, true) : view.getUint32(at, true);
        for (let c = 0; c < 3; c++) out[o + c] = channelValue(pixel, channels[c] as MaskShape);
      } else {
        // 24 bits, or 32 without masks (the fourth byte unused): blue, green, red.
        const at = row + x * (bitCount / 8);
        out[o] = bytes[at + 2] as number;
        out[o + 1] = bytes[at + 1] as number;
        out[o + 2] = bytes[at] as number;
      }
    }
  }
  return { width, height, data: out };
}

interface MaskShape {
  readonly mask: number;
  readonly shift: number;
  /** The largest value the channel holds, `2^bits - 1` (0 for an empty mask). */
  readonly max: number;
}

function maskShape(mask: number): MaskShape {
  if (mask === 0) return { mask, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  if ((max & (max + 1)) !== 0) fail(`channel mask 0x${mask.toString(16)} is not one run of bits`);
  return { mask, shift, max };
}

/** A channel scaled to 8 bits, rounding to nearest. */
function channelValue(pixel: number, s: MaskShape): number {
  if (s.max === 0) return 0;
  const v = ((pixel & s.mask) >>> 0) >>> s.shift;
  return s.max === 255 ? v : Math.round((v * 255) / s.max);
}

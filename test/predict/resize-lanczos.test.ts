import * as fc from "fast-check";
import { type PixelSize, resizeLanczos, resizeLanczosAlpha } from "../../src/predict/resize-lanczos.js";
import { propertySeed } from "../support/property-seed.js";

// The oracle: Pillow's definition of a Lanczos resize written the slow, obvious
// way in float64, with no fixed point: every input pixel weighed by the kernel
// at its distance from the output pixel's centre (zero beyond 3 pixels, widened
// by the scale when shrinking), the weights divided by their sum, the width pass
// then the height pass, each rounded half up and clipped to 0..255. Where a sum
// lands so near a rounding boundary that the 22-bit weights could tip it, the
// pixel (and whatever the height pass reads from it) is left out of the exact
// comparison; those are counted, and must be few.

function kernel(x: number): number {
  const sinc = (t: number): number => (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t));
  return Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0;
}

/** weights[o][i]: how much input pixel i gives output pixel o. */
function oracleWeights(inSize: number, outSize: number): number[][] {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  return Array.from({ length: outSize }, (_, o) => {
    const center = (o + 0.5) * scale;
    const w = Array.from({ length: inSize }, (_, i) => kernel((i + 0.5 - center) / stretch));
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / sum);
  });
}

/**
 * The widest the fixed-point sum can stray from the exact one: half a unit of
 * 2^-22 in each weight, times 255, over up to 31 taps (scales up to 5 here).
 */
const MARGIN = (31 * 255) / 2 ** 23;

interface OracleImage {
  readonly data: number[];
  /** Pixels whose rounding the fixed point could change. */
  readonly unsure: boolean[];
}

/** One pass along an axis: `line(p)` lists the indices of line p's pixels; every line is resampled to `outSize`. */
function oraclePass(
  image: OracleImage,
  lines: number,
  inSize: number,
  outSize: number,
  index: (line: number, k: number, size: number) => number,
  outLength: number,
): OracleImage {
  const weights = oracleWeights(inSize, outSize);
  const data = new Array<number>(outLength).fill(0);
  const unsure = new Array<boolean>(outLength).fill(false);
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < outSize; o++) {
      let sum = 0;
      let inherited = false;
      for (let i = 0; i < inSize; i++) {
        const w = (weights[o] as number[])[i] as number;
        const at = index(line, i, inSize);
        sum += w * (image.data[at] as number);
        if (Math.abs(w) > 1e-12 && image.unsure[at]) inherited = true;
      }
      const half = sum + 0.5;
      const out = index(line, o, outSize);
      data[out] = Math.min(255, Math.max(0, Math.floor(half)));
      unsure[out] = inherited || Math.abs(half - Math.round(half)) < MARGIN;
    }
  }
  return { data, unsure };
}

function oracleResize(pixels: Uint8Array, channels: number, from: PixelSize, to: PixelSize): OracleImage {
  let image: OracleImage = { data: [...pixels], unsure: new Array<boolean>(pixels.length).fill(false) };
  let width = from.width;
  if (to.width !== from.width) {
    // Lines are (row, channel) pairs.
    const row = (line: number, k: number, size: number): number => (Math.floor(line / channels) * size + k) * channels + (line % channels);
    image = oraclePass(image, from.height * channels, from.width, to.width, row, from.height * to.width * channels);
    width = to.width;
  }
  if (to.height !== from.height) {
    // Lines are (column, channel) pairs.
    const column = (line: number, k: number, _size: number): number => (k * width + Math.floor(line / channels)) * channels + (line % channels);
    image = oraclePass(image, width * channels, from.height, to.height, column, width * to.height * channels);
  }
  return image;
}

const side = fc.integer({ min: 1, max: 12 });
const sizes = fc.record({ width: side, height: side });
const channelCount = fc.integer({ min: 1, max: 4 });
/** Pixels at random, or only 0 and 255, the strongest edges, whose overshoot the clip must catch. */
const pixelsOf = (n: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ minLength: n, maxLength: n }),
    fc.array(fc.constantFrom(0, 255), { minLength: n, maxLength: n }).map((a) => Uint8Array.from(a)),
  );
const cases = fc
  .tuple(sizes, sizes, channelCount)
  .chain(([from, to, channels]) => fc.tuple(fc.constant(from), fc.constant(to), fc.constant(channels), pixelsOf(from.width * from.height * channels)));

describe("resizeLanczos", () => {
  test("agrees exactly with the float64 oracle wherever fixed-point rounding cannot differ", () => {
    let compared = 0;
    let unsure = 0;
    fc.assert(
      fc.property(cases, ([from, to, channels, pixels]) => {
        const got = resizeLanczos(pixels, channels, from, to);
        const want = oracleResize(pixels, channels, from, to);
        expect(got.length).toBe(to.width * to.height * channels);
        for (let i = 0; i < got.length; i++) {
          if (want.unsure[i]) {
            unsure++;
            continue;
          }
          compared++;
          if (got[i] !== want.data[i]) {
            throw new Error(
              `${from.width}x${from.height} -> ${to.width}x${to.height}, ${channels} channels: byte ${i} is ${got[i]}, the oracle's ${want.data[i]}`,
            );
          }
        }
      }),
      { seed: propertySeed(), numRuns: 300 },
    );
    // The comparison is not empty: most bytes are far from a rounding boundary
    // (about 1 in 40 is not, mostly where 0s and 255s meet with equal weights).
    expect(unsure).toBeLessThan(compared / 10);
  });

  test("agrees with the oracle on larger shrinks and enlargements, one side at a time and both", () => {
    const pixels = Uint8Array.from({ length: 37 * 29 * 3 }, (_, i) => (i * 97 + ((i * i) % 13) * 17) % 256);
    const from = { width: 37, height: 29 };
    for (const to of [
      { width: 8, height: 29 },
      { width: 37, height: 7 },
      { width: 9, height: 6 },
      { width: 80, height: 61 },
      { width: 12, height: 50 },
    ]) {
      const got = resizeLanczos(pixels, 3, from, to);
      const want = oracleResize(pixels, 3, from, to);
      const sure = [...got.keys()].filter((i) => !want.unsure[i]);
      expect(sure.length).toBeGreaterThan(got.length * 0.95);
      expect(sure.map((i) => got[i])).toEqual(sure.map((i) => want.data[i]));
    }
  });

  test("an image already of the size wanted comes back as a copy of the same pixels", () => {
    const pixels = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const got = resizeLanczos(pixels, 3, { width: 5, height: 4 }, { width: 5, height: 4 });
    expect(got).toEqual(pixels);
    expect(got).not.toBe(pixels);
  });

  test("a constant image stays constant, shrunk or enlarged", () => {
    fc.assert(
      fc.property(
        fc.record({ width: fc.integer({ min: 1, max: 40 }), height: fc.integer({ min: 1, max: 40 }) }),
        fc.record({ width: fc.integer({ min: 1, max: 40 }), height: fc.integer({ min: 1, max: 40 }) }),
        fc.integer({ min: 0, max: 255 }),
        (from, to, value) => {
          const got = resizeLanczos(new Uint8Array(from.width * from.height).fill(value), 1, from, to);
          expect(got).toEqual(new Uint8Array(to.width * to.height).fill(value));
        },
      ),
      { seed: propertySeed(), numRuns: 100 },
    );
  });

  test("halving 2x1 and 2x2 images: the mean, rounded half up after each pass, the width first", () => {
    // Both pixels weigh the same (the kernel at +-0.25): the mean, a half rounded up.
    expect(resizeLanczos(Uint8Array.of(10, 30), 1, { width: 2, height: 1 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(20));
    expect(resizeLanczos(Uint8Array.of(10, 31), 1, { width: 2, height: 1 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(21));
    expect(resizeLanczos(Uint8Array.of(10, 31), 1, { width: 1, height: 2 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(21));
    // [[0, 1], [0, 3]]: the rows give 0.5 -> 1 and 1.5 -> 2, then 1.5 -> 2. The
    // exact mean is 1, and the columns first would give 0 and 2, then 1.
    expect(resizeLanczos(Uint8Array.of(0, 1, 0, 3), 1, { width: 2, height: 2 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(2));
    // Channels are resampled each on its own.
    expect(resizeLanczos(Uint8Array.of(0, 10, 1, 30, 0, 0, 3, 0), 2, { width: 2, height: 2 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(2, 10));
  });

  test("refuses sizes that do not match the pixels", () => {
    expect(() => resizeLanczos(new Uint8Array(5), 1, { width: 2, height: 2 }, { width: 1, height: 1 })).toThrow(/5 bytes are not 2 x 2 pixels of 1 bytes/);
    expect(() => resizeLanczos(new Uint8Array(4), 1, { width: 2, height: 2 }, { width: 0, height: 1 })).toThrow(
      /to.width must be a positive whole number, got 0/,
    );
  });
});

describe("resizeLanczosAlpha", () => {
  test("colours are weighed by alpha: a transparent pixel lends none, whatever its colour", () => {
    // Premultiplied: [200, 100, 50] and 0; halved: 100, 50, 25 and alpha 127.5 -> 128;
    // divided by 128/255 and truncated: 199, 99, 49.
    for (const hidden of [0, 255]) {
      const rgba = Uint8Array.of(200, 100, 50, 255, hidden, hidden, hidden, 0);
      expect(resizeLanczosAlpha(rgba, 4, { width: 2, height: 1 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(199, 99, 49, 128));
    }
    // Gray and alpha: 90 and 0 halved are 45.5 -> 45, alpha 128: 45 * 255 / 128 = 89.6 -> 89.
    expect(resizeLanczosAlpha(Uint8Array.of(90, 255, 0, 0), 2, { width: 1, height: 2 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(89, 128));
  });

  test("premultiplying rounds, dividing truncates: 200 at alpha 128 comes back as 199", () => {
    // 200 * 128 / 255 = 100.4 -> 100; 100 * 255 / 128 = 199.2 -> 199.
    const rgba = Uint8Array.of(200, 200, 200, 128, 200, 200, 200, 128);
    expect(resizeLanczosAlpha(rgba, 4, { width: 2, height: 1 }, { width: 1, height: 1 })).toEqual(Uint8Array.of(199, 199, 199, 128));
    // The same size: a copy, no premultiplying.
    expect(resizeLanczosAlpha(rgba, 4, { width: 2, height: 1 }, { width: 2, height: 1 })).toEqual(rgba);
  });

  test("opaque pixels resize as they would without alpha", () => {
    fc.assert(
      fc.property(sizes, sizes, (from, to) => {
        const rgb = Uint8Array.from({ length: from.width * from.height * 3 }, (_, i) => (i * 53 + from.width) % 256);
        const rgba = new Uint8Array(from.width * from.height * 4).fill(255);
        for (let p = 0; p < from.width * from.height; p++) rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
        const got = resizeLanczosAlpha(rgba, 4, from, to);
        const want = resizeLanczos(rgb, 3, from, to);
        expect(got.filter((_, i) => i % 4 !== 3)).toEqual(want);
        expect(got.filter((_, i) => i % 4 === 3)).toEqual(new Uint8Array(to.width * to.height).fill(255));
      }),
      { seed: propertySeed(), numRuns: 100 },
    );
  });
});

/**
 * Sample data from files: sample directories of .npy files, JSON files and
 * directories of images load to inputs that predict exactly as the fixtures'
 * own .npy inputs do; images are resized to the input's size; every refusal is
 * one line naming the file and the input. Image files are written here with
 * sharp (PNG, JPEG) or byte by byte (BMP, which sharp cannot write).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Model } from "../../src/codec/model-types.js";
import { decodeBmp } from "../../src/node/decode-bmp.js";
import { decodeImage, MAX_IMAGE_PIXELS } from "../../src/node/decode-image.js";
import { loadSamples, MAX_SAMPLES } from "../../src/node/sample-data.js";
import type { ImageValue, InputValue, PredictInputs } from "../../src/predict/feature-io.js";
import { encodeNpy, parseNpy, type NpyArray } from "../../src/predict/npy.js";
import { prepareModel } from "../../src/predict/predict.js";
import { resizeLanczos, resizeLanczosAlpha } from "../../src/predict/resize-lanczos.js";
import { FIXTURES, loadFixtureModel } from "../predict/support.js";

type SharpFunction = typeof import("sharp")["default"];
let sharp: SharpFunction;
let dir: string;

beforeAll(async () => {
  const mod = await import("sharp");
  sharp = typeof mod === "function" ? mod : (mod as { default: SharpFunction }).default;
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-samples-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const models = new Map<string, Model>();
function model(name: string): Model {
  let m = models.get(name);
  if (m === undefined) {
    m = loadFixtureModel(name);
    models.set(name, m);
  }
  return m;
}

const fixtureFile = (name: string, sample: string, input: string): string => join(FIXTURES, "inputs", name, sample, `${input}.npy`);
const npy = (name: string, sample: string, input: string): NpyArray => parseNpy(readFileSync(fixtureFile(name, sample, input)));

/** A fixture sample as the prediction cases read it: image pixels or float32 arrays, absent optional inputs left out. */
function fixtureSample(name: string, sample: string): PredictInputs {
  const out: Record<string, InputValue> = {};
  for (const file of readdirSync(join(FIXTURES, "inputs", name, sample))) {
    const input = file.replace(/\.npy$/, "");
    const a = npy(name, sample, input);
    if (a.dtype === "uint8") {
      const [height, width] = a.shape as [number, number];
      out[input] = { width, height, data: a.data };
    } else {
      out[input] = { shape: a.shape, data: a.data as Float32Array };
    }
  }
  return out;
}

/** Copies a fixture's sample directories into `root`. */
function copySamples(name: string, root: string): void {
  for (const sample of readdirSync(join(FIXTURES, "inputs", name))) {
    mkdirSync(join(root, sample), { recursive: true });
    for (const file of readdirSync(join(FIXTURES, "inputs", name, sample))) {
      copyFileSync(join(FIXTURES, "inputs", name, sample, file), join(root, sample, file));
    }
  }
}

async function writePng(path: string, pixels: ImageValue, channels = 3): Promise<void> {
  await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: channels as 3 } })
    .png()
    .toFile(path);
}

/** The fields of a BMP's headers these tests vary. */
interface BmpHeader {
  /** Where the pixel rows start (54 after the two headers, more after a palette or masks). */
  readonly dataOffset: number;
  readonly width: number;
  /** Negative for top-down rows. */
  readonly height: number;
  readonly bitsPerPixel: number;
  /** 0 BI_RGB, 1 RLE8, 3 BI_BITFIELDS. @defaultValue 0 */
  readonly compression?: number;
  /** Palette entries. @defaultValue 0 */
  readonly colors?: number;
}

/**
 * A BMP of `size` bytes starting with the 14-byte file header and a 40-byte
 * BITMAPINFOHEADER; the rest (palette, masks, rows) zeros for the caller to fill.
 */
function bmpWithHeaders(size: number, h: BmpHeader): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(2, size, true);
  view.setUint32(10, h.dataOffset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, h.width, true);
  view.setInt32(22, h.height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, h.bitsPerPixel, true);
  view.setUint32(30, h.compression ?? 0, true);
  view.setUint32(46, h.colors ?? 0, true);
  return { bytes, view };
}

/** A 24-bit bottom-up BMP: the 14-byte file header, a 40-byte BITMAPINFOHEADER, rows of B, G, R padded to 4 bytes. */
function bmp24(width: number, height: number, rgb: ArrayLike<number>): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const { bytes: out } = bmpWithHeaders(54 + stride * height, { dataOffset: 54, width, height, bitsPerPixel: 24 });
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      out.set([rgb[s + 2] as number, rgb[s + 1] as number, rgb[s] as number], row + x * 3);
    }
  }
  return out;
}

/** Expects a one-line QuantizeError of `code` whose message holds every part. */
async function expectRefusal(promise: Promise<unknown>, parts: readonly string[], code: "invalid-input" | "io" = "invalid-input"): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  // By name and code: the test without sharp loads its own copy of the error class.
  expect(error).toBeInstanceOf(Error);
  expect([(error as Error).name, (error as { code?: string }).code]).toEqual(["QuantizeError", code]);
  const message = (error as Error).message;
  expect(message).not.toContain("\n");
  for (const part of parts) expect(message).toContain(part);
}

describe("a directory of sample directories", () => {
  test.each([
    ["ip_rank1_bias"],
    ["ip_chw_input"],
    ["softmax_nd"],
    ["gru_seq_state"],
    ["simple_rnn_reverse_last"],
    ["pipeline_two_networks"],
    ["mobilenet_classifier"],
    ["style_transfer"],
    ["int64_classifier"],
  ])("%s: the fixture's .npy samples load in order and predict as the fixture inputs do", async (name) => {
    copySamples(name, dir);
    writeFileSync(join(dir, ".DS_Store"), "junk");
    writeFileSync(join(dir, "0", ".hidden"), "junk");
    const samples = await loadSamples(dir, model(name));
    expect(samples).toHaveLength(3);
    const prepared = prepareModel(model(name));
    samples.forEach((inputs, i) => {
      expect(prepared.predict(inputs)).toEqual(prepared.predict(fixtureSample(name, String(i))));
    });
  });

  test("samples are read in name order, numbers compared as numbers", async () => {
    const x = npy("ip_rank1_bias", "0", "x");
    for (const [i, s] of ["10", "2", "b", "a1"].entries()) {
      mkdirSync(join(dir, s));
      const data = Float32Array.from(x.data as Float32Array, (v) => v + i);
      writeFileSync(join(dir, s, "x.npy"), encodeNpy({ dtype: "float32", shape: [6], data }));
    }
    const samples = await loadSamples(dir, model("ip_rank1_bias"));
    const first = samples.map((s) => ((s.x as { data: Float32Array }).data[0] as number) - (x.data[0] as number));
    expect(first.map((v) => Math.round(v))).toEqual([1, 0, 3, 2]); // 2, 10, a1, b
  });

  test("numeric .npy types are converted to float32", async () => {
    mkdirSync(join(dir, "0"));
    writeFileSync(join(dir, "0", "x.npy"), encodeNpy({ dtype: "int64", shape: [6], data: BigInt64Array.of(1n, -2n, 3n, 4n, 5n, 6n) }));
    const [sample] = await loadSamples(dir, model("ip_rank1_bias"));
    expect(sample?.x).toEqual({ shape: [6], data: Float32Array.of(1, -2, 3, 4, 5, 6) });
  });

  test("an image file for an image input: a lossless PNG at the input's size gives the fixture's pixels exactly", async () => {
    for (const s of ["0", "1"]) {
      mkdirSync(join(dir, s));
      await writePng(join(dir, s, "image.png"), fixtureSample("mobilenet_classifier", s).image as ImageValue);
    }
    const samples = await loadSamples(dir, model("mobilenet_classifier"));
    const prepared = prepareModel(model("mobilenet_classifier"));
    for (const [i, inputs] of samples.entries()) {
      const expected = fixtureSample("mobilenet_classifier", String(i));
      expect(inputs.image).toEqual({ width: 32, height: 32, data: (expected.image as ImageValue).data });
      expect(prepared.predict(inputs)).toEqual(prepared.predict(expected));
    }
  });
});

describe("a directory of images", () => {
  test("PNG, BMP and upper-case extensions at the input's size: the fixture's pixels and predictions", async () => {
    const pixels = ["0", "1", "2"].map((s) => fixtureSample("style_transfer", s).image as ImageValue);
    await writePng(join(dir, "a.png"), pixels[0] as ImageValue);
    writeFileSync(join(dir, "b.BMP"), bmp24(24, 24, (pixels[1] as ImageValue).data));
    await writePng(join(dir, "c.PNG"), pixels[2] as ImageValue);
    writeFileSync(join(dir, ".DS_Store"), "junk");
    const samples = await loadSamples(dir, model("style_transfer"));
    expect(samples).toHaveLength(3);
    const prepared = prepareModel(model("style_transfer"));
    for (const [i, inputs] of samples.entries()) {
      expect(Uint8Array.from((inputs.image as ImageValue).data)).toEqual((pixels[i] as ImageValue).data);
      expect(prepared.predict(inputs)).toEqual(prepared.predict(fixtureSample("style_transfer", String(i))));
    }
  });

  test("JPEG loads at the input's size, close to the original pixels", async () => {
    const pixels = fixtureSample("mobilenet_classifier", "0").image as ImageValue;
    await sharp(pixels.data, { raw: { width: 32, height: 32, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: "4:4:4" })
      .toFile(join(dir, "x.jpeg"));
    const [sample] = await loadSamples(dir, model("mobilenet_classifier"));
    const image = sample?.image as ImageValue;
    expect([image.width, image.height, image.data.length]).toEqual([32, 32, 32 * 32 * 3]);
    // Random pixels are JPEG's worst case; quality 100 keeps them within a few levels on average.
    let sum = 0;
    for (let i = 0; i < image.data.length; i++) sum += Math.abs((image.data[i] as number) - (pixels.data[i] as number));
    expect(sum / image.data.length).toBeLessThan(8);
  });

  test.each([["png"], ["bmp"]])("a 64x48 %s is resized to the 32x32 input (Lanczos, no aspect ratio kept)", async (format) => {
    // Left half red, right half blue, a horizontal edge between a light top and a dark bottom in green.
    const width = 64;
    const height = 48;
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rgb.set([x < 32 ? 220 : 10, y < 24 ? 200 : 40, x < 32 ? 30 : 240], (y * width + x) * 3);
    }
    if (format === "png") await writePng(join(dir, "wide.png"), { width, height, data: rgb });
    else writeFileSync(join(dir, "wide.bmp"), bmp24(width, height, rgb));
    const [sample] = await loadSamples(dir, model("mobilenet_classifier"));
    const image = sample?.image as ImageValue;
    expect([image.width, image.height, image.data.length]).toEqual([32, 32, 32 * 32 * 3]);
    const at = (x: number, y: number): number[] => [...image.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)];
    // Away from the edges the colours are kept; the edges stay at x = 16 and y = 16 (stretched, not cropped).
    expect(at(4, 4)).toEqual([220, 200, 30]);
    expect(at(28, 4)).toEqual([10, 200, 240]);
    expect(at(4, 28)).toEqual([220, 40, 30]);
    expect(at(28, 28)).toEqual([10, 40, 240]);
    expect(Math.abs((at(15, 4)[0] as number) - 220)).toBeLessThan(40);
    expect(Math.abs((at(16, 4)[0] as number) - 10)).toBeLessThan(40);
    // Byte for byte the pixels of our Pillow-exact resize (the one the page uses), not sharp's.
    expect(image.data).toEqual(resizeLanczos(rgb, 3, { width, height }, { width: 32, height: 32 }));
  });

  test("a resized RGBA PNG: colours weighed by alpha as Pillow does, then the alpha dropped", async () => {
    const width = 20;
    const height = 10;
    const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i % 4 === 3 ? (i * 29) % 256 : (i * 13 + 7) % 256));
    await sharp(rgba, { raw: { width, height, channels: 4 } })
      .png()
      .toFile(join(dir, "alpha.png"));
    const image = await decodeImage(readFileSync(join(dir, "alpha.png")), { width: 8, height: 6 }, "alpha.png");
    const resized = resizeLanczosAlpha(rgba, 4, { width, height }, { width: 8, height: 6 });
    expect(image).toEqual({ width: 8, height: 6, data: resized.filter((_, i) => i % 4 !== 3) });
    // Not what the colours give resized without their alpha.
    const rgb = rgba.filter((_, i) => i % 4 !== 3);
    expect(image.data).not.toEqual(resizeLanczos(rgb, 3, { width, height }, { width: 8, height: 6 }));
  });

  test("gray images stay one channel, RGBA loses its alpha, palette PNGs become RGB", async () => {
    const gray = await sharp(Buffer.alloc(8 * 8, 77), { raw: { width: 8, height: 8, channels: 1 } })
      .toColourspace("b-w")
      .png()
      .toBuffer();
    const grayImage = await decodeImage(gray, { width: 4, height: 4 }, "gray.png");
    expect(grayImage).toEqual({ width: 4, height: 4, data: new Uint8Array(16).fill(77) });
    const rgba = Buffer.alloc(8 * 8 * 4);
    for (let i = 0; i < 64; i++) rgba.set([200, 100, 50, 255], i * 4);
    const rgbaPng = await sharp(rgba, { raw: { width: 8, height: 8, channels: 4 } })
      .png()
      .toBuffer();
    expect(await decodeImage(rgbaPng, { width: 8, height: 8 }, "rgba.png")).toEqual({
      width: 8,
      height: 8,
      data: Uint8Array.from({ length: 64 * 3 }, (_, i) => [200, 100, 50][i % 3] as number),
    });
    const palette = await sharp(Buffer.alloc(8 * 8 * 3, 90), { raw: { width: 8, height: 8, channels: 3 } })
      .png({ palette: true })
      .toBuffer();
    const fromPalette = await decodeImage(palette, { width: 8, height: 8 }, "palette.png");
    expect(fromPalette.data.length).toBe(8 * 8 * 3);
  });
});

describe("a JSON file", () => {
  test("nested arrays, { shape, data }, numbers and relative paths to .npy and image files", async () => {
    mkdirSync(join(dir, "files"));
    copyFileSync(fixtureFile("ip_rank1_bias", "2", "x"), join(dir, "files", "x2.npy"));
    const x0 = [...(npy("ip_rank1_bias", "0", "x").data as Float32Array)];
    const x1 = [...(npy("ip_rank1_bias", "1", "x").data as Float32Array)];
    const json = join(dir, "samples.json");
    writeFileSync(json, JSON.stringify([{ x: x0 }, { x: { shape: [6], data: x1 } }, { x: "files/x2.npy" }]));
    const samples = await loadSamples(json, model("ip_rank1_bias"));
    const prepared = prepareModel(model("ip_rank1_bias"));
    expect(samples).toHaveLength(3);
    for (const [i, inputs] of samples.entries()) {
      expect(prepared.predict(inputs)).toEqual(prepared.predict(fixtureSample("ip_rank1_bias", String(i))));
    }

    const pixels = fixtureSample("mobilenet_classifier", "1").image as ImageValue;
    await writePng(join(dir, "files", "cat.png"), pixels);
    copyFileSync(fixtureFile("mobilenet_classifier", "2", "image"), join(dir, "files", "cat2.npy"));
    const nested = Array.from({ length: 32 }, (_, y) =>
      Array.from({ length: 32 }, (_, x) => [...pixels.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)]),
    );
    writeFileSync(json, JSON.stringify([{ image: "files/cat.png" }, { image: "files/cat2.npy" }, { image: nested }]));
    const images = await loadSamples(json, model("mobilenet_classifier"));
    expect(images.map((s) => Uint8Array.from((s.image as ImageValue).data))).toEqual([
      pixels.data,
      (fixtureSample("mobilenet_classifier", "2").image as ImageValue).data,
      pixels.data,
    ]);
  });

  test("a multi-input model with an absent optional input (null or left out)", async () => {
    const name = "simple_rnn_reverse_last";
    const x = npy(name, "0", "x");
    const json = join(dir, "s.json");
    writeFileSync(json, JSON.stringify([{ x: { shape: x.shape, data: [...(x.data as Float32Array)] }, h_in: null }, { x: "x.npy" }]));
    writeFileSync(join(dir, "x.npy"), readFileSync(fixtureFile(name, "0", "x")));
    const samples = await loadSamples(json, model(name));
    const prepared = prepareModel(model(name));
    for (const inputs of samples) expect(prepared.predict(inputs)).toEqual(prepared.predict(fixtureSample(name, "0")));
  });
});

describe("refusals: one line naming the file and the input", () => {
  async function sampleDir(files: Record<string, Uint8Array | string>): Promise<string> {
    mkdirSync(join(dir, "s0"));
    for (const [file, contents] of Object.entries(files)) writeFileSync(join(dir, "s0", file), contents);
    return join(dir, "s0");
  }
  const x6 = encodeNpy({ dtype: "float32", shape: [6], data: new Float32Array(6) });

  test("an unknown input name", async () => {
    const s = await sampleDir({ "x.npy": x6, "y.npy": x6 });
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "y.npy"), "unknown input 'y'", "'x'"]);
  });

  test("a missing required input", async () => {
    const s = await sampleDir({});
    mkdirSync(join(dir, "s1"));
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [s, "input 'x' is missing", "x.npy"]);
  });

  test("a shape the input does not take", async () => {
    const s = await sampleDir({ "x.npy": encodeNpy({ dtype: "float32", shape: [7], data: new Float32Array(7) }) });
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "x.npy"), "input 'x'", "[7]", "[6]"]);
  });

  test("an image for an array input: an image file or uint8 [H, W, 3] pixels", async () => {
    const s = await sampleDir({ "x.png": "not even read" });
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "x.png"), "input 'x'", "an image for an array input"]);
    rmSync(join(s, "x.png"));
    writeFileSync(join(s, "x.npy"), encodeNpy({ dtype: "uint8", shape: [4, 4, 3], data: new Uint8Array(48) }));
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "x.npy"), "input 'x'", "an image for an array input"]);
  });

  test("an array for an image input", async () => {
    const s = await sampleDir({ "image.npy": encodeNpy({ dtype: "float32", shape: [32, 32, 3], data: new Float32Array(32 * 32 * 3) }) });
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [join(s, "image.npy"), "input 'image'", "float32", "8-bit pixels"]);
  });

  test("pixels of the wrong size given as .npy (not resized)", async () => {
    const s = await sampleDir({ "image.npy": encodeNpy({ dtype: "uint8", shape: [16, 16, 3], data: new Uint8Array(16 * 16 * 3) }) });
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [join(s, "image.npy"), "input 'image'", "16x16", "32x32"]);
  });

  test("a broken .npy", async () => {
    const s = await sampleDir({ "x.npy": x6.subarray(0, x6.length - 3) });
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "x.npy"), "input 'x'", ".npy"]);
    writeFileSync(join(s, "x.npy"), "hello");
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "x.npy"), "input 'x'", "not a .npy file"]);
  });

  test("a file that is neither .npy nor an image, in a sample or among sample directories", async () => {
    const s = await sampleDir({ "x.npy": x6, "notes.txt": "hi" });
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(s, "notes.txt"), "not a .npy or image file"]);
    rmSync(join(s, "notes.txt"));
    writeFileSync(join(dir, "README"), "hi");
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [join(dir, "README"), "a file among sample directories"]);
  });

  test("a non-image file among the images, and a broken image", async () => {
    await writePng(join(dir, "a.png"), fixtureSample("mobilenet_classifier", "0").image as ImageValue);
    writeFileSync(join(dir, "notes.txt"), "hi");
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [join(dir, "notes.txt"), "input 'image'", "not an image file"]);
    rmSync(join(dir, "notes.txt"));
    writeFileSync(join(dir, "b.jpg"), "GIF89a, not a JPEG");
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [join(dir, "b.jpg"), "input 'image'", "not a PNG, JPEG or BMP image"]);
    const png = readFileSync(join(dir, "a.png"));
    writeFileSync(join(dir, "b.jpg"), png.subarray(0, png.length >> 1));
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [join(dir, "b.jpg"), "input 'image'", "not a readable image"]);
    writeFileSync(join(dir, "b.jpg"), bmp24(4, 4, new Uint8Array(48)).subarray(0, 60));
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [join(dir, "b.jpg"), "input 'image'", "BMP"]);
  });

  test("a directory of images for a model without exactly one image input", async () => {
    await writePng(join(dir, "a.png"), fixtureSample("mobilenet_classifier", "0").image as ImageValue);
    await expectRefusal(loadSamples(dir, model("ip_rank1_bias")), [dir, "one image input", "'x'"]);
  });

  test("JSON: unknown input, ragged arrays, non-numbers, a missing input, not an array", async () => {
    const json = join(dir, "s.json");
    const model1 = model("ip_rank1_bias");
    const cases: [unknown, string[]][] = [
      [
        [{ x: [1, 2, 3, 4, 5, 6] }, { y: [1] }],
        [`${json} sample 1`, "unknown input 'y'"],
      ],
      [[{ x: [[1, 2], [3]] }], [`${json} sample 0`, "input 'x'", "rectangular"]],
      [[{ x: [1, 2, "3", 4, 5, 6] }], [`${json} sample 0`, "input 'x'", "not a number"]],
      [[{ x: { shape: [6], data: [1, 2] } }], [`${json} sample 0`, "input 'x'", "2 values"]],
      [[{ x: [1, 2, 3] }], [`${json} sample 0`, "input 'x'", "[3]"]],
      [[{}], [`${json} sample 0`, "input 'x' is missing"]],
      [[{ x: true }], [`${json} sample 0`, "input 'x'", "expected a nested array"]],
      [{ x: [1] }, [json, "an array of samples"]],
      [[{ x: "notes.txt" }], [join(dir, "notes.txt"), "input 'x'", "not a .npy or image file"]],
    ];
    for (const [value, parts] of cases) {
      writeFileSync(json, JSON.stringify(value));
      await expectRefusal(loadSamples(json, model1), parts);
    }
    writeFileSync(json, "[{");
    await expectRefusal(loadSamples(json, model1), [json, "not valid JSON"]);
  });

  test("more than MAX_SAMPLES samples, before anything is read", async () => {
    for (let i = 0; i <= MAX_SAMPLES; i++) writeFileSync(join(dir, `${i}.png`), "");
    await expectRefusal(loadSamples(dir, model("mobilenet_classifier")), [dir, `${MAX_SAMPLES + 1} entries`, "MAX_SAMPLES"]);
    // Writing 10,001 files takes seconds on a busy disk: more than jest's default 5 s.
  }, 60_000);

  test("a missing path and a file that is not JSON", async () => {
    await expectRefusal(loadSamples(join(dir, "nope"), model("ip_rank1_bias")), [join(dir, "nope"), "ENOENT"], "io");
    writeFileSync(join(dir, "x.npy"), "");
    await expectRefusal(loadSamples(join(dir, "x.npy"), model("ip_rank1_bias")), [join(dir, "x.npy"), "not a directory or a .json file"]);
  });
});

describe("decodeBmp", () => {
  test("24-bit bottom-up and top-down rows, odd widths with row padding", () => {
    const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 11);
    expect(decodeBmp(bmp24(3, 2, rgb), MAX_IMAGE_PIXELS)).toEqual({ width: 3, height: 2, data: rgb });
    const topDown = bmp24(3, 2, rgb);
    // Flip the stored rows and say so with a negative height.
    const stride = 12;
    const rows = topDown.slice(54);
    topDown.set(rows.subarray(stride, 2 * stride), 54);
    topDown.set(rows.subarray(0, stride), 54 + stride);
    new DataView(topDown.buffer).setInt32(22, -2, true);
    expect(decodeBmp(topDown, MAX_IMAGE_PIXELS).data).toEqual(rgb);
  });

  test("8-bit palette and 32-bit with channel masks", () => {
    // 2x1, 8 bits: palette of 2 entries (B, G, R, 0), indices 1, 0, padded to 4 bytes.
    const { bytes: pal } = bmpWithHeaders(54 + 8 + 4, { dataOffset: 54 + 8, width: 2, height: 1, bitsPerPixel: 8, colors: 2 });
    pal.set([3, 2, 1, 0, 30, 20, 10, 0], 54);
    pal.set([1, 0], 62);
    expect(decodeBmp(pal, MAX_IMAGE_PIXELS).data).toEqual(Uint8Array.of(10, 20, 30, 1, 2, 3));
    // 1x1, 32 bits, BI_BITFIELDS: masks R 0x00ff0000, G 0x0000ff00, B 0x000000ff after the header.
    const { bytes: masked, view: m } = bmpWithHeaders(54 + 12 + 4, { dataOffset: 66, width: 1, height: 1, bitsPerPixel: 32, compression: 3 });
    m.setUint32(54, 0x00ff0000, true);
    m.setUint32(58, 0x0000ff00, true);
    m.setUint32(62, 0x000000ff, true);
    m.setUint32(66, 0x80112233, true);
    expect(decodeBmp(masked, MAX_IMAGE_PIXELS).data).toEqual(Uint8Array.of(0x11, 0x22, 0x33));
  });

  test("refuses RLE, sizes over the pixel limit and truncated rows", () => {
    const rle = bmp24(2, 2, new Uint8Array(12));
    new DataView(rle.buffer).setUint32(30, 1, true);
    expect(() => decodeBmp(rle, MAX_IMAGE_PIXELS)).toThrow(/RLE8/);
    expect(() => decodeBmp(bmp24(4, 4, new Uint8Array(48)), 15)).toThrow(/more than the 15 pixels/);
    expect(() => decodeBmp(bmp24(4, 4, new Uint8Array(48)).subarray(0, 80), MAX_IMAGE_PIXELS)).toThrow(/needs 48 bytes/);
  });
});

describe("without sharp", () => {
  test("a PNG is refused with one line saying to install sharp; BMP and .npy need no sharp", async () => {
    await writePng(join(dir, "a.png"), fixtureSample("mobilenet_classifier", "0").image as ImageValue);
    const pixels = fixtureSample("mobilenet_classifier", "0").image as ImageValue;
    await jest.isolateModulesAsync(async () => {
      jest.doMock("sharp", () => {
        throw new Error("Cannot find module 'sharp'");
      });
      const isolated = await import("../../src/node/sample-data.js");
      await expectRefusal(isolated.loadSamples(dir, model("mobilenet_classifier")), [join(dir, "a.png"), "input 'image'", "npm install sharp"], "io");
      rmSync(join(dir, "a.png"));
      writeFileSync(join(dir, "a.bmp"), bmp24(32, 32, pixels.data));
      const [sample] = await isolated.loadSamples(dir, model("mobilenet_classifier"));
      expect(sample?.image).toEqual({ width: 32, height: 32, data: pixels.data });
      // Resizing is ours too.
      const small = Uint8Array.from(pixels.data.subarray(0, 16 * 8 * 3));
      writeFileSync(join(dir, "a.bmp"), bmp24(16, 8, small));
      const [resized] = await isolated.loadSamples(dir, model("mobilenet_classifier"));
      expect(resized?.image).toEqual({ width: 32, height: 32, data: resizeLanczos(small, 3, { width: 16, height: 8 }, { width: 32, height: 32 }) });
    });
  });
});

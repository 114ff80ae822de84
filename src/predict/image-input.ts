/**
 * Image inputs: 8-bit pixels to the network's float blob, in the model's colour
 * space, with the network's preprocessing (scaler, mean image) applied.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";
import { ImageFeatureType_ColorSpace, type FeatureType, type ImageFeatureType } from "../gen/FeatureTypes_pb.js";
import type { NeuralNetwork } from "../codec/model-types.js";
import { NeuralNetworkImageShapeMapping } from "../gen/NeuralNetwork_pb.js";
import type { ImageValue, InputValue } from "./feature-io.js";
import { isImageValue } from "./feature-io.js";
import type { Tensor } from "./layer-runner.js";

/** One preprocessing step: `scale * x + bias[c]`, or subtracting a mean image `[C, H, W]`. */
type ImageStep = { readonly kind: "scaler"; readonly scale: number; readonly bias: readonly number[] } | { readonly kind: "mean"; readonly mean: Float32Array };

/** An image input, resolved once from its feature description and the network's preprocessing. */
export interface ImageInputSpec {
  readonly kind: "image";
  readonly name: string;
  readonly optional: boolean;
  /** 3 for RGB / BGR, 1 for grayscale. */
  readonly channels: 1 | 3;
  /** Whether channel 0 of the blob is blue. */
  readonly bgr: boolean;
  readonly defaultWidth: number;
  readonly defaultHeight: number;
  /** Why a width x height is not accepted, or undefined. */
  readonly reject: (width: number, height: number) => string | undefined;
  /** Whether the blob is rank 4 `[1, C, H, W]` (RANK4_IMAGE_MAPPING) instead of `[1, 1, C, H, W]`. */
  readonly rank4: boolean;
  readonly steps: readonly ImageStep[];
}

/** Grayscale from colour pixels: ITU-R BT.601 luma weights (what most image libraries use for "L"). */
const LUMA = [0.299, 0.587, 0.114] as const;

const n = Number;

/**
 * Resolves an image feature: size and flexibility, colour space, preprocessing.
 *
 * @param name - the feature name
 * @param type - its feature type (for `isOptional`)
 * @param image - its image type
 * @param network - the network, for its preprocessing entries and image shape mapping
 * @param imageInputCount - how many image inputs the network has (a preprocessing
 *   entry without a feature name applies to the only one)
 * @param path - where, for errors
 * @returns the spec
 * @throws {@link QuantizeError} `unsupported-model` for an invalid colour space
 *   or a mean image of the wrong size
 */
export function imageInputSpec(
  name: string,
  type: FeatureType,
  image: ImageFeatureType,
  network: Pick<NeuralNetwork, "preprocessing" | "imageInputShapeMapping">,
  imageInputCount: number,
  path: string,
): ImageInputSpec {
  const space = image.colorSpace;
  if (space === ImageFeatureType_ColorSpace.INVALID_COLOR_SPACE) {
    throw new QuantizeError("unsupported-model", `image input '${name}' has no colour space`, { path });
  }
  const channels = space === ImageFeatureType_ColorSpace.RGB || space === ImageFeatureType_ColorSpace.BGR ? 3 : 1;
  const bgr = space === ImageFeatureType_ColorSpace.BGR;
  let width = n(image.width);
  let height = n(image.height);
  let reject: ImageInputSpec["reject"];
  const flex = image.SizeFlexibility;
  if (flex.case === "enumeratedSizes") {
    const sizes = flex.value.sizes.map((s) => [n(s.width), n(s.height)] as const);
    if ((width === 0 || height === 0) && sizes[0] !== undefined) [width, height] = sizes[0];
    reject = (w, h) =>
      sizes.some(([sw, sh]) => sw === w && sh === h)
        ? undefined
        : `size ${w}x${h} is not one of the enumerated sizes ${sizes.map(([sw, sh]) => `${sw}x${sh}`).join(", ")}`;
  } else if (flex.case === "imageSizeRange") {
    const range = (r: { lowerBound: bigint; upperBound: bigint } | undefined): [number, number] =>
      r === undefined ? [0, Infinity] : [n(r.lowerBound), r.upperBound < 0n ? Infinity : n(r.upperBound)];
    const [wLo, wHi] = range(flex.value.widthRange);
    const [hLo, hHi] = range(flex.value.heightRange);
    if (width === 0 || height === 0) [width, height] = [wLo, hLo];
    reject = (w, h) => (w >= wLo && w <= wHi && h >= hLo && h <= hHi ? undefined : `size ${w}x${h} is outside the range [${wLo}..${wHi}] x [${hLo}..${hHi}]`);
  } else {
    reject = (w, h) => (w === width && h === height ? undefined : `size ${w}x${h} is not the declared ${width}x${height}`);
  }
  const steps: ImageStep[] = [];
  // An entry without a feature name belongs to the only image input, when there is one.
  for (const pre of network.preprocessing) {
    if (pre.featureName !== name && !(pre.featureName === "" && imageInputCount === 1)) continue;
    const p = pre.preprocessor;
    if (p.case === "scaler") {
      const s = p.value;
      const bias = channels === 1 ? [s.grayBias] : bgr ? [s.blueBias, s.greenBias, s.redBias] : [s.redBias, s.greenBias, s.blueBias];
      steps.push({ kind: "scaler", scale: s.channelScale, bias });
    } else if (p.case === "meanImage") {
      const mean = Float32Array.from(p.value.meanImage);
      if (mean.length !== channels * width * height) {
        throw new QuantizeError("unsupported-model", `mean image of input '${name}' has ${mean.length} values, not ${channels}x${height}x${width}`, { path });
      }
      steps.push({ kind: "mean", mean });
    }
  }
  return {
    kind: "image",
    name,
    optional: type.isOptional,
    channels,
    bgr,
    defaultWidth: width,
    defaultHeight: height,
    reject,
    rank4: network.imageInputShapeMapping === NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING,
    steps,
  };
}

function invalid(message: string): never {
  throw new QuantizeError("invalid-input", message);
}

/**
 * The network blob of an image input, `[1, 1, C, H, W]` (or `[1, C, H, W]`):
 * channels in the model's order (blue first for BGR), then the preprocessing
 * steps in the network's order. A grayscale model given colour pixels gets
 * their BT.601 luma (0.299 R + 0.587 G + 0.114 B); a colour model given gray
 * pixels gets the gray value in every channel. An absent optional image is zeros.
 *
 * @param spec - the resolved input
 * @param value - the caller's image
 * @returns a new tensor
 * @throws {@link QuantizeError} `invalid-input` when the value is not an image,
 *   its size is not accepted, or its data length is not width x height x 1, 3 or 4
 */
export function imageInputBlob(spec: ImageInputSpec, value: InputValue | undefined): Tensor {
  let width = spec.defaultWidth;
  let height = spec.defaultHeight;
  const c = spec.channels;
  let data: Float32Array;
  if (value === undefined) {
    if (!spec.optional) invalid(`input '${spec.name}' is missing (an image ${width}x${height})`);
    data = new Float32Array(c * width * height);
  } else {
    if (!isImageValue(value)) return invalid(`input '${spec.name}' is an image: give { width, height, data } with 8-bit pixels`);
    ({ width, height } = value);
    const why = spec.reject(width, height);
    if (why !== undefined) invalid(`input '${spec.name}': ${why}`);
    data = pixelsToPlanes(spec, value);
  }
  const plane = width * height;
  for (const step of spec.steps) {
    if (step.kind === "scaler") {
      for (let ch = 0; ch < c; ch++) {
        const b = step.bias[ch] as number;
        for (let i = ch * plane, end = i + plane; i < end; i++) data[i] = step.scale * (data[i] as number) + b;
      }
    } else {
      if (step.mean.length !== data.length)
        invalid(`input '${spec.name}': the mean image is for ${spec.defaultWidth}x${spec.defaultHeight}, not ${width}x${height}`);
      for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) - (step.mean[i] as number);
    }
  }
  return { shape: spec.rank4 ? [1, c, height, width] : [1, 1, c, height, width], data };
}

/** Interleaved pixels to channel planes in the model's order. */
function pixelsToPlanes(spec: ImageInputSpec, image: ImageValue): Float32Array {
  const { width, height } = image;
  const plane = width * height;
  const given = plane === 0 ? 3 : image.data.length / plane;
  if (given !== 1 && given !== 3 && given !== 4) {
    invalid(`input '${spec.name}': ${image.data.length} bytes for a ${width}x${height} image (1, 3 or 4 bytes a pixel)`);
  }
  const src = image.data;
  const out = new Float32Array(spec.channels * plane);
  if (spec.channels === 1) {
    if (given === 1) for (let i = 0; i < plane; i++) out[i] = src[i] as number;
    else {
      for (let i = 0, p = 0; i < plane; i++, p += given) {
        out[i] = LUMA[0] * (src[p] as number) + LUMA[1] * (src[p + 1] as number) + LUMA[2] * (src[p + 2] as number);
      }
    }
    return out;
  }
  // Source offsets of the blob's channels 0, 1, 2 within a pixel.
  const order = given === 1 ? [0, 0, 0] : spec.bgr ? [2, 1, 0] : [0, 1, 2];
  for (let ch = 0; ch < 3; ch++) {
    const at = order[ch] as number;
    const base = ch * plane;
    for (let i = 0, p = at; i < plane; i++, p += given) out[base + i] = src[p] as number;
  }
  return out;
}

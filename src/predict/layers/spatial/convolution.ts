/**
 * The convolution layer kind: convolution (groups, dilation, valid or same
 * padding, weights from the parameters or from a second input) and
 * deconvolution (groups, valid padding amounts, same padding, outputShape).
 *
 * @packageDocumentation
 */
import { SamePadding_SamePaddingMode } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerParams } from "../../../walker/layer-table.js";
import type { LayerContext, LayerImpl, PreparedLayer, Tensor } from "../../layer-runner.js";
import { decodedWeights, sizeOf, tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { conv2d, packConv2dWeights, type Conv2dGeometry } from "./conv2d.js";
import { convTranspose2d, type ConvTranspose2dGeometry } from "./conv-transpose2d.js";
import { borders, hwPair, NO_BORDERS, weightVector, type Borders } from "./layer-fields.js";
import { sameAxis, validAxis, type WindowAxis } from "./window-axis.js";

const KIND = "convolution";
/** How deconvolution layers are named in messages. */
const DECONV = "convolution (isDeconvolution)";

type ConvolutionLayerParams = LayerParams<"convolution">;

/** The parameters shared by convolution and deconvolution, defaults resolved. */
interface ConvSettings {
  readonly outChannels: number;
  readonly kernelChannels: number;
  readonly groups: number;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: { readonly kind: "valid"; readonly amounts: Borders } | { readonly kind: "same"; readonly topLeftHeavy: boolean };
}

/** Runs convolution layers (and deconvolution, `isDeconvolution`). */
export const convolution: LayerImpl<"convolution"> = {
  prepare(params, layer, context) {
    const settings = readSettings(params, layer.input.length, context);
    return params.isDeconvolution
      ? prepareDeconvolution(params, settings, decodedWeights(layer, context.path), context)
      : prepareConvolution(params, settings, layer.input.length === 2, decodedWeights(layer, context.path), context);
  },
};

function readSettings(params: ConvolutionLayerParams, inputs: number, context: LayerContext): ConvSettings {
  const outChannels = Number(params.outputChannels);
  const kernelChannels = Number(params.kernelChannels);
  // An unset or zero nGroups means one group.
  const groups = Math.max(1, Number(params.nGroups));
  if (outChannels < 1 || kernelChannels < 1) {
    throw unsupportedOption(context, `${KIND} with outputChannels ${outChannels} and kernelChannels ${kernelChannels} is not supported`);
  }
  if (outChannels % groups !== 0) {
    throw unsupportedOption(context, `${KIND} with outputChannels ${outChannels} not a multiple of nGroups ${groups} is not supported`);
  }
  if (inputs !== 1 && (inputs !== 2 || params.isDeconvolution)) {
    throw unsupportedOption(context, `${params.isDeconvolution ? DECONV : KIND} with ${inputs} inputs is not supported`);
  }
  const padding = params.ConvolutionPaddingType;
  return {
    outChannels,
    kernelChannels,
    groups,
    kernel: hwPair(params.kernelSize, [3, 3], 1, context, KIND, "kernelSize"),
    stride: hwPair(params.stride, [1, 1], 1, context, KIND, "stride"),
    padding:
      padding.case === "same"
        ? { kind: "same", topLeftHeavy: padding.value.asymmetryMode === SamePadding_SamePaddingMode.TOP_LEFT_HEAVY }
        : { kind: "valid", amounts: padding.case === "valid" ? borders(padding.value.paddingAmounts, context, KIND, "valid.paddingAmounts") : NO_BORDERS },
  };
}

function biasOf(
  params: ConvolutionLayerParams,
  weights: ReadonlyMap<string, Float32Array>,
  outChannels: number,
  context: LayerContext,
): Float32Array | undefined {
  return params.hasBias ? weightVector(weights, "bias", outChannels, context, KIND) : undefined;
}

function prepareConvolution(
  params: ConvolutionLayerParams,
  settings: ConvSettings,
  weightsAsInput: boolean,
  weights: ReadonlyMap<string, Float32Array>,
  context: LayerContext,
): PreparedLayer {
  const { outChannels, kernelChannels, groups, kernel, stride, padding } = settings;
  const dilation = hwPair(params.dilationFactor, [1, 1], 1, context, KIND, "dilationFactor");
  const weightCount = outChannels * kernelChannels * kernel[0] * kernel[1];
  const bias = biasOf(params, weights, outChannels, context);
  const sizes = { inChannels: kernelChannels * groups, outChannels, groups, kernelHeight: kernel[0], kernelWidth: kernel[1] };
  const fixed = weightsAsInput ? undefined : packConv2dWeights(weightVector(weights, "weights", weightCount, context, KIND), sizes);
  const effective = [(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1] as const;
  const place = (size: number, axis: 0 | 1): WindowAxis => {
    if (padding.kind === "same") return sameAxis(size, effective[axis], stride[axis], padding.topLeftHeavy);
    const { top, bottom, left, right } = padding.amounts;
    return axis === 0 ? validAxis(size, effective[0], stride[0], top, bottom) : validAxis(size, effective[1], stride[1], left, right);
  };
  return (inputs: readonly Tensor[]): Tensor[] => {
    const x = inputs[0] as Tensor;
    const view = inputChwView(x, 3, context, KIND);
    if (view.channels !== kernelChannels * groups) {
      throw inputShapeError(
        context,
        `${KIND}: expects ${kernelChannels * groups} input channels (kernelChannels ${kernelChannels} x nGroups ${groups}), got ${formatShape(x.shape)}`,
      );
    }
    const rows = place(view.height, 0);
    const cols = place(view.width, 1);
    if (rows.size < 1 || cols.size < 1) {
      throw inputShapeError(context, `${KIND}: input ${formatShape(x.shape)} is smaller than the kernel ${effective[0]}x${effective[1]}`);
    }
    const geometry: Conv2dGeometry = {
      inChannels: view.channels,
      inHeight: view.height,
      inWidth: view.width,
      outChannels,
      outHeight: rows.size,
      outWidth: cols.size,
      kernelHeight: kernel[0],
      kernelWidth: kernel[1],
      strideY: stride[0],
      strideX: stride[1],
      dilationY: dilation[0],
      dilationX: dilation[1],
      padTop: rows.padBefore,
      padLeft: cols.padBefore,
      groups,
    };
    let packed = fixed;
    if (packed === undefined) {
      const w = inputs[1] as Tensor;
      if (w.data.length !== weightCount) {
        throw inputShapeError(
          context,
          `${KIND}: weight input ${formatShape(w.shape)} should hold ${outChannels}x${kernelChannels}x${kernel[0]}x${kernel[1]} values`,
        );
      }
      packed = packConv2dWeights(w.data, sizes);
    }
    const out = tensor(withChw(x.shape, outChannels, rows.size, cols.size));
    const inSize = sizeOf([view.channels, view.height, view.width]);
    const outSize = outChannels * rows.size * cols.size;
    for (let n = 0; n < view.outer; n++) conv2d(x.data, n * inSize, packed, bias, geometry, out.data, n * outSize);
    return [out];
  };
}

function prepareDeconvolution(
  params: ConvolutionLayerParams,
  settings: ConvSettings,
  weights: ReadonlyMap<string, Float32Array>,
  context: LayerContext,
): PreparedLayer {
  const { outChannels, kernelChannels, groups, kernel, stride, padding } = settings;
  if (kernelChannels % groups !== 0) {
    throw unsupportedOption(context, `${DECONV} with kernelChannels ${kernelChannels} not a multiple of nGroups ${groups} is not supported`);
  }
  const w = weightVector(weights, "weights", kernelChannels * (outChannels / groups) * kernel[0] * kernel[1], context, KIND);
  const bias = biasOf(params, weights, outChannels, context);
  const outputShape = params.outputShape.length === 0 ? undefined : hwPair(params.outputShape, [1, 1], 1, context, KIND, "outputShape");
  /**
   * Output size and rows dropped before it, along one axis, out of the full output
   * `(in - 1) * stride + kernel`. The proto leaves open where rows go when the
   * output is smaller than that full output (same padding, or a smaller
   * outputShape); the choice here: with same padding, drop them as the matching
   * forward convolution pads (asymmetryMode decides which side gets the odd row);
   * with an outputShape and valid (or unset) padding, keep the top-left corner
   * and drop from the bottom/right. An outputShape larger than the full output is
   * refused.
   */
  const place = (size: number, axis: 0 | 1): { size: number; crop: number } => {
    const full = (size - 1) * stride[axis] + kernel[axis];
    const split = (total: number, topLeftHeavy: boolean): number => (topLeftHeavy ? total - Math.floor(total / 2) : Math.floor(total / 2));
    if (outputShape !== undefined) {
      const wanted = outputShape[axis];
      if (wanted > full) {
        throw unsupportedOption(
          context,
          `${DECONV} with outputShape ${formatShape(outputShape)} larger than the full output ${full} along ${axis === 0 ? "H" : "W"} is not supported`,
        );
      }
      return { size: wanted, crop: padding.kind === "same" ? split(full - wanted, padding.topLeftHeavy) : 0 };
    }
    if (padding.kind === "same") {
      // Kernels narrower than the stride leave the last rows with the bias only.
      const wanted = size * stride[axis];
      return { size: wanted, crop: split(Math.max(0, full - wanted), padding.topLeftHeavy) };
    }
    const before = axis === 0 ? padding.amounts.top : padding.amounts.left;
    const after = axis === 0 ? padding.amounts.bottom : padding.amounts.right;
    return { size: full - before - after, crop: before };
  };
  return (inputs: readonly Tensor[]): Tensor[] => {
    const x = inputs[0] as Tensor;
    const view = inputChwView(x, 3, context, KIND);
    if (view.channels !== kernelChannels) {
      throw inputShapeError(context, `${DECONV}: expects ${kernelChannels} input channels (kernelChannels), got ${formatShape(x.shape)}`);
    }
    const rows = place(view.height, 0);
    const cols = place(view.width, 1);
    if (rows.size < 1 || cols.size < 1) {
      throw inputShapeError(context, `${DECONV}: padding leaves no output for input ${formatShape(x.shape)}`);
    }
    const geometry: ConvTranspose2dGeometry = {
      inChannels: view.channels,
      inHeight: view.height,
      inWidth: view.width,
      outChannels,
      outHeight: rows.size,
      outWidth: cols.size,
      kernelHeight: kernel[0],
      kernelWidth: kernel[1],
      strideY: stride[0],
      strideX: stride[1],
      cropTop: rows.crop,
      cropLeft: cols.crop,
      groups,
    };
    const out = tensor(withChw(x.shape, outChannels, rows.size, cols.size));
    const inSize = view.channels * view.height * view.width;
    const outSize = outChannels * rows.size * cols.size;
    for (let n = 0; n < view.outer; n++) convTranspose2d(x.data, n * inSize, w, bias, geometry, out.data, n * outSize);
    return [out];
  };
}

/**
 * The pooling layer kind: MAX, AVERAGE and L2 windows over each channel plane,
 * with valid (and padding amounts), same, includeLastPixel and global placement.
 *
 * @packageDocumentation
 */
import { PoolingLayerParams_PoolingType, SamePadding_SamePaddingMode } from "../../../gen/NeuralNetwork_pb.js";
import type { LayerParams } from "../../../walker/layer-table.js";
import type { LayerContext, LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { borders, hwPair, NO_BORDERS } from "./layer-fields.js";
import { sameAxis, validAxis, type WindowAxis } from "./window-axis.js";

const KIND = "pooling";

/** What a window reduces to. */
type Reduction = "max" | "average" | "l2";

const REDUCTIONS: Readonly<Record<PoolingLayerParams_PoolingType, Reduction>> = {
  [PoolingLayerParams_PoolingType.MAX]: "max",
  [PoolingLayerParams_PoolingType.AVERAGE]: "average",
  [PoolingLayerParams_PoolingType.L2]: "l2",
};

/** The sizes of one pooling over a plane. */
export interface Pool2dGeometry {
  readonly inHeight: number;
  readonly inWidth: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly strideY: number;
  readonly strideX: number;
  readonly rows: WindowAxis;
  readonly cols: WindowAxis;
}

/** Runs pooling layers. */
export const pooling: LayerImpl<"pooling"> = {
  prepare(params, _layer, context) {
    const reduction = REDUCTIONS[params.type];
    if (reduction === undefined) throw unsupportedOption(context, `${KIND} with type ${params.type} is not supported`);
    const kernel = hwPair(params.kernelSize, [3, 3], 1, context, KIND, "kernelSize");
    const stride = hwPair(params.stride, [1, 1], 1, context, KIND, "stride");
    const place = placement(params, kernel, stride, context);
    // Padding is excluded from the average's count only when asked; max and L2 never see it.
    const excludePadding = params.avgPoolExcludePadding;
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 3, context, KIND);
      const g: Pool2dGeometry = params.globalPooling
        ? {
            inHeight: view.height,
            inWidth: view.width,
            kernelHeight: view.height,
            kernelWidth: view.width,
            strideY: 1,
            strideX: 1,
            rows: { size: 1, padBefore: 0 },
            cols: { size: 1, padBefore: 0 },
          }
        : {
            inHeight: view.height,
            inWidth: view.width,
            kernelHeight: kernel[0],
            kernelWidth: kernel[1],
            strideY: stride[0],
            strideX: stride[1],
            rows: place(view.height, 0),
            cols: place(view.width, 1),
          };
      if (g.rows.size < 1 || g.cols.size < 1) {
        throw inputShapeError(context, `${KIND}: input ${formatShape(x.shape)} is smaller than the window ${kernel[0]}x${kernel[1]}`);
      }
      const out = tensor(withChw(x.shape, view.channels, g.rows.size, g.cols.size));
      const planes = view.outer * view.channels;
      for (let p = 0; p < planes; p++) {
        pool2d(x.data, p * view.height * view.width, g, reduction, excludePadding, out.data, p * g.rows.size * g.cols.size);
      }
      return [out];
    };
  },
};

/** The window placement along each axis, for the layer's padding type. */
function placement(
  params: LayerParams<"pooling">,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  context: LayerContext,
): (size: number, axis: 0 | 1) => WindowAxis {
  const padding = params.PoolingPaddingType;
  switch (padding.case) {
    case "same": {
      const topLeftHeavy = padding.value.asymmetryMode === SamePadding_SamePaddingMode.TOP_LEFT_HEAVY;
      return (size, axis) => sameAxis(size, kernel[axis], stride[axis], topLeftHeavy);
    }
    case "includeLastPixel": {
      const pads = hwPair(padding.value.paddingAmounts, [0, 0], 0, context, KIND, "includeLastPixel.paddingAmounts");
      const padded = pads[0] > 0 || pads[1] > 0;
      return (size, axis) => {
        const pad = pads[axis];
        const k = kernel[axis];
        const s = stride[axis];
        if (size + 2 * pad < k) return { size: 0, padBefore: pad };
        // The proto's size: one more window than fits, dropped again when it would start in the padding.
        let count = Math.ceil((size + 2 * pad - k) / s) + 1;
        if (padded && (count - 1) * s >= size + pad) count -= 1;
        if ((count - 1) * s + k > size + 2 * pad) {
          // The proto's size and coremltools' shape pass disagree here, and the
          // denominator of such an average is not specified: refused, not guessed.
          throw unsupportedOption(
            context,
            `${KIND} with includeLastPixel and a partial last window (size ${size}, kernel ${k}, stride ${s}, padding ${pad} along ${axis === 0 ? "H" : "W"}) is not supported`,
          );
        }
        return { size: count, padBefore: pad };
      };
    }
    case "valid":
    case undefined: {
      const b = padding.case === "valid" ? borders(padding.value.paddingAmounts, context, KIND, "valid.paddingAmounts") : NO_BORDERS;
      return (size, axis) => (axis === 0 ? validAxis(size, kernel[0], stride[0], b.top, b.bottom) : validAxis(size, kernel[1], stride[1], b.left, b.right));
    }
  }
}

/**
 * Pools one plane. Windows only read the input positions they cover: padding adds
 * nothing to a max (the proto leaves open whether padded values are zeros or
 * ignored; they agree whenever a window's inputs include a non-negative value) nor
 * to an L2 sum, and counts in an average's denominator unless `excludePadding`.
 * A window over padding only gives 0.
 *
 * @param input - the planes' values
 * @param inOffset - where the plane starts in `input`
 * @param g - the sizes and window placement
 * @param reduction - max, average or l2 (sqrt of the sum of squares)
 * @param excludePadding - whether an average divides by the covered input count instead of the window's size
 * @param output - receives the `[rows.size, cols.size]` plane from `outOffset`
 * @param outOffset - where the pooled plane starts in `output`
 */
function pool2d(
  input: Float32Array,
  inOffset: number,
  g: Pool2dGeometry,
  reduction: Reduction,
  excludePadding: boolean,
  output: Float32Array,
  outOffset: number,
): void {
  const { inHeight: H, inWidth: W, kernelHeight: KH, kernelWidth: KW, strideY: SY, strideX: SX, rows, cols } = g;
  const windowSize = KH * KW;
  let o = outOffset;
  for (let oy = 0; oy < rows.size; oy++) {
    const y0 = oy * SY - rows.padBefore;
    const ya = Math.max(0, y0);
    const yb = Math.min(H, y0 + KH);
    for (let ox = 0; ox < cols.size; ox++) {
      const x0 = ox * SX - cols.padBefore;
      const xa = Math.max(0, x0);
      const xb = Math.min(W, x0 + KW);
      const covered = Math.max(0, yb - ya) * Math.max(0, xb - xa);
      let result = 0;
      if (covered > 0) {
        if (reduction === "max") {
          let m = -Infinity;
          for (let y = ya; y < yb; y++) {
            const row = inOffset + y * W;
            for (let x = xa; x < xb; x++) {
              const v = input[row + x] as number;
              if (v > m || Number.isNaN(v)) m = v;
            }
          }
          result = m;
        } else {
          let sum = 0;
          for (let y = ya; y < yb; y++) {
            const row = inOffset + y * W;
            if (reduction === "average") {
              for (let x = xa; x < xb; x++) sum += input[row + x] as number;
            } else {
              for (let x = xa; x < xb; x++) sum += (input[row + x] as number) ** 2;
            }
          }
          result = reduction === "l2" ? Math.sqrt(sum) : sum / (excludePadding ? covered : windowSize);
        }
      }
      output[o++] = result;
    }
  }
}

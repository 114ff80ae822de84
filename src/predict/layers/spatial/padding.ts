/**
 * The padding layer kind: grows the last two axes by constant, reflection or
 * replication padding.
 *
 * @packageDocumentation
 */
import type { LayerImpl, Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";
import { inputChwView, withChw } from "../chw-view.js";
import { formatShape, inputShapeError, unsupportedOption } from "../layer-errors.js";
import { borders } from "./layer-fields.js";

const KIND = "padding";

/** How a position outside the input gets its value. */
type PadMode = "constant" | "reflection" | "replication";

/** Runs padding layers. */
export const padding: LayerImpl<"padding"> = {
  prepare(params, _layer, context) {
    const type = params.PaddingType;
    if (type.case === undefined) throw unsupportedOption(context, `${KIND} without a padding type is not supported`);
    const mode: PadMode = type.case;
    const fill = type.case === "constant" ? type.value.value : 0;
    const b = borders(params.paddingAmounts, context, KIND, "paddingAmounts");
    return (inputs: readonly Tensor[]): Tensor[] => {
      const x = inputs[0] as Tensor;
      const view = inputChwView(x, 2, context, KIND);
      const H = view.height;
      const W = view.width;
      // Reflection mirrors about the edge row without repeating it, so it reaches at most size - 1 rows out.
      if (mode === "reflection" && (Math.max(b.top, b.bottom) > H - 1 || Math.max(b.left, b.right) > W - 1)) {
        throw inputShapeError(
          context,
          `${KIND}: reflection padding (${b.top}, ${b.bottom}) x (${b.left}, ${b.right}) is wider than input ${formatShape(x.shape)} allows`,
        );
      }
      const OH = H + b.top + b.bottom;
      const OW = W + b.left + b.right;
      const rowOf = sourceIndex(H, b.top, OH, mode);
      const colOf = sourceIndex(W, b.left, OW, mode);
      const out = tensor(withChw(x.shape, view.channels, OH, OW));
      const planes = view.outer * view.channels;
      const src = x.data;
      const dst = out.data;
      for (let p = 0; p < planes; p++) {
        const inPlane = p * H * W;
        let o = p * OH * OW;
        for (let oy = 0; oy < OH; oy++) {
          const iy = rowOf[oy] as number;
          if (iy < 0) {
            dst.fill(fill, o, o + OW);
            o += OW;
            continue;
          }
          const row = inPlane + iy * W;
          for (let ox = 0; ox < OW; ox++) {
            const ix = colOf[ox] as number;
            dst[o++] = ix < 0 ? fill : (src[row + ix] as number);
          }
        }
      }
      return [out];
    };
  },
};

/**
 * For each output position along an axis, the input position it copies, or -1
 * for the constant.
 */
function sourceIndex(size: number, before: number, outSize: number, mode: PadMode): Int32Array {
  const map = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const i = o - before;
    if (i >= 0 && i < size) map[o] = i;
    else if (mode === "constant") map[o] = -1;
    else if (mode === "replication") map[o] = i < 0 ? 0 : size - 1;
    else map[o] = i < 0 ? -i : 2 * (size - 1) - i;
  }
  return map;
}

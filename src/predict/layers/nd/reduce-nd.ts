/**
 * The N-D reductions (`reduceSum`, `reduceMean`, …): over the listed axes
 * (negative counting from the end) or all of them, keeping the reduced axes as
 * 1 or dropping them.
 *
 * @packageDocumentation
 */
import type { LayerContext, LayerImpl, LayerImpls, Tensor } from "../../layer-runner.js";
import { sizeOf, stridesOf } from "../../tensor.js";
import { inputShapeError, checkCount, normalizeAxis } from "../layer-errors.js";

type ReduceKind =
  | "reduceSum"
  | "reduceMean"
  | "reduceMax"
  | "reduceMin"
  | "reduceProd"
  | "reduceL1"
  | "reduceL2"
  | "reduceLogSum"
  | "reduceSumSquare"
  | "reduceLogSumExp";

/** How a reduction starts, folds one value in, and finishes (given the count reduced). */
interface Fold {
  readonly init: number;
  readonly step: (acc: number, x: number) => number;
  readonly finish: (acc: number, count: number) => number;
}

const same = (acc: number): number => acc;
const sum = (acc: number, x: number): number => acc + x;

const FOLDS: { readonly [K in Exclude<ReduceKind, "reduceLogSumExp">]: Fold } = {
  reduceSum: { init: 0, step: sum, finish: same },
  reduceMean: { init: 0, step: sum, finish: (acc, count) => acc / count },
  reduceMax: { init: -Infinity, step: (acc, x) => (x > acc || Number.isNaN(x) ? x : acc), finish: same },
  reduceMin: { init: Infinity, step: (acc, x) => (x < acc || Number.isNaN(x) ? x : acc), finish: same },
  reduceProd: { init: 1, step: (acc, x) => acc * x, finish: same },
  reduceL1: { init: 0, step: (acc, x) => acc + Math.abs(x), finish: same },
  reduceL2: { init: 0, step: (acc, x) => acc + x * x, finish: (acc) => Math.sqrt(acc) },
  reduceLogSum: { init: 0, step: sum, finish: (acc) => Math.log(acc) },
  reduceSumSquare: { init: 0, step: (acc, x) => acc + x * x, finish: same },
};

interface Plan {
  /** For each input element, the output element it folds into. */
  readonly target: Int32Array;
  readonly outShape: number[];
  readonly outSize: number;
  /** Elements folded into each output. */
  readonly count: number;
}

/** Where every input element goes, for a reduction over `axes` of `shape`. */
function plan(context: LayerContext, kind: string, shape: readonly number[], params: ReduceParams): Plan {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(params.reduceAll);
  if (!params.reduceAll) {
    if (params.axes.length === 0) throw inputShapeError(context, `${kind}: no axes given and reduceAll is false`);
    for (const a of params.axes) reduced[normalizeAxis(context, kind, a, rank)] = true;
  }
  const keptShape = shape.map((d, i) => (reduced[i] === true ? 1 : d));
  const outStrides = stridesOf(keptShape).map((s, i) => (reduced[i] === true ? 0 : s));
  const size = sizeOf(shape);
  const target = new Int32Array(size);
  const counter = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < size; i++) {
    target[i] = at;
    for (let d = rank - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (shape[d] as number)) {
        counter[d] = c;
        at += outStrides[d] as number;
        break;
      }
      counter[d] = 0;
      at -= (c - 1) * (outStrides[d] as number);
    }
  }
  let outShape = params.keepDims ? keptShape : shape.filter((_, i) => reduced[i] !== true);
  // Tensors keep rank 1 at least.
  if (outShape.length === 0) outShape = [1];
  const outSize = sizeOf(keptShape);
  return { target, outShape, outSize, count: outSize === 0 ? 0 : size / outSize };
}

interface ReduceParams {
  readonly axes: readonly bigint[];
  readonly keepDims: boolean;
  readonly reduceAll: boolean;
}

function reduceLayer<K extends ReduceKind>(kind: K): LayerImpl<K> {
  return {
    prepare: (params, layer, context) => {
      checkCount(context, kind, layer.input, 1);
      return ([x]) => {
        const input = x as Tensor;
        const p = plan(context, kind, input.shape, params);
        const src = input.data;
        const acc = new Float64Array(p.outSize);
        const out = new Float32Array(p.outSize);
        if (kind === "reduceLogSumExp") {
          // Shift by the maximum so exp does not overflow.
          const max = new Float64Array(p.outSize).fill(-Infinity);
          for (let i = 0; i < src.length; i++) {
            const t = p.target[i] as number;
            if ((src[i] as number) > (max[t] as number)) max[t] = src[i] as number;
          }
          for (let i = 0; i < src.length; i++) {
            const t = p.target[i] as number;
            acc[t] = (acc[t] as number) + Math.exp((src[i] as number) - (max[t] as number));
          }
          for (let o = 0; o < out.length; o++) {
            const m = max[o] as number;
            out[o] = m === -Infinity || m === Infinity ? m : m + Math.log(acc[o] as number);
          }
        } else {
          const fold = FOLDS[kind as Exclude<ReduceKind, "reduceLogSumExp">];
          acc.fill(fold.init);
          const step = fold.step;
          for (let i = 0; i < src.length; i++) {
            const t = p.target[i] as number;
            acc[t] = step(acc[t] as number, src[i] as number);
          }
          for (let o = 0; o < out.length; o++) out[o] = fold.finish(acc[o] as number, p.count);
        }
        return [{ shape: p.outShape, data: out }];
      };
    },
  };
}

/** The N-D reduction layer kinds. */
export const REDUCE_ND_LAYERS: LayerImpls = {
  reduceSum: reduceLayer("reduceSum"),
  reduceMean: reduceLayer("reduceMean"),
  reduceMax: reduceLayer("reduceMax"),
  reduceMin: reduceLayer("reduceMin"),
  reduceProd: reduceLayer("reduceProd"),
  reduceL1: reduceLayer("reduceL1"),
  reduceL2: reduceLayer("reduceL2"),
  reduceLogSum: reduceLayer("reduceLogSum"),
  reduceSumSquare: reduceLayer("reduceSumSquare"),
  reduceLogSumExp: reduceLayer("reduceLogSumExp"),
};

/**
 * Layers whose values come from their weights: loadConstantND and embeddingND.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../../errors.js";
import type { LayerImpls, Tensor } from "../../layer-runner.js";
import { decodedWeights, sizeOf } from "../../tensor.js";
import { inputShapeError, checkCount, formatShape, invalidParameter } from "../layer-errors.js";

/** The loadConstantND and embeddingND layer kinds. */
export const CONSTANT_ND_LAYERS: LayerImpls = {
  loadConstantND: {
    prepare: (params, layer, context) => {
      checkCount(context, "loadConstantND", layer.input, 0);
      const shape = params.shape.map(Number);
      if (shape.length === 0) throw invalidParameter(context, "loadConstantND: shape is empty");
      const data = decodedWeights(layer, context.path).get("data");
      if (data === undefined || data.length !== sizeOf(shape)) {
        throw new QuantizeError("invalid-weights", `loadConstantND data holds ${data?.length ?? 0} values for shape ${formatShape(shape)}`, {
          path: `${context.path}/data`,
        });
      }
      // A fresh copy each run: the blob may become an output the caller owns.
      return () => [{ shape: [...shape], data: Float32Array.from(data) }];
    },
  },

  embeddingND: {
    prepare: (params, layer, context) => {
      checkCount(context, "embeddingND", layer.input, 1);
      const vocab = Number(params.vocabSize);
      const size = Number(params.embeddingSize);
      const weights = decodedWeights(layer, context.path);
      const w = weights.get("weights");
      if (w === undefined || w.length !== vocab * size || w.length === 0) {
        throw new QuantizeError("invalid-weights", `embeddingND weights hold ${w?.length ?? 0} values for [embeddingSize=${size}, vocabSize=${vocab}]`, {
          path: `${context.path}/weights`,
        });
      }
      const bias = params.hasBias ? weights.get("bias") : undefined;
      if (params.hasBias && bias?.length !== size) {
        throw new QuantizeError("invalid-weights", `embeddingND bias holds ${bias?.length ?? 0} values, expected embeddingSize=${size}`, {
          path: `${context.path}/bias`,
        });
      }
      return ([x]) => {
        const input = x as Tensor;
        if (input.shape.length < 2 || input.shape.at(-1) !== 1) {
          throw inputShapeError(context, `embeddingND: input ${formatShape(input.shape)} must have rank 2 or more and a last axis of 1`);
        }
        const ids = input.data;
        const out = new Float32Array(ids.length * size);
        for (let r = 0; r < ids.length; r++) {
          // Indices travel as floats holding integers.
          const id = Math.round(ids[r] as number);
          if (!(id >= 0 && id < vocab)) throw inputShapeError(context, `embeddingND: index ${ids[r] as number} is outside [0, ${vocab})`);
          // Weights are [embeddingSize, vocabSize]: the embedding of id is column id.
          for (let e = 0; e < size; e++) out[r * size + e] = (w[e * vocab + id] as number) + (bias === undefined ? 0 : (bias[e] as number));
        }
        return [{ shape: [...input.shape.slice(0, -1), size], data: out }];
      };
    },
  },
};

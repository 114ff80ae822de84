/**
 * Checks a model is one this tool can work on, and that every weight tensor is
 * consistent with the layer that holds it: run on inputs before any work and on
 * results before they are written.
 *
 * @packageDocumentation
 */
import { assertModelShape } from "./assert-model-shape.js";
import { packedByteLength } from "./codec/bit-pack.js";
import type { Model, NeuralNetworkLayer } from "./codec/model-types.js";
import { weightStorage } from "./codec/weight-storage.js";
import { QuantizeError } from "./errors.js";
import { forEachLayer, layerPath } from "./walker/networks.js";
import { layerWeights, weightCount } from "./walker/weights.js";

/**
 * Refuses a model that holds no neural network, saying what it is instead, and
 * anything that is not a model (`assertModelShape`).
 *
 * @param model - the model
 * @throws {@link QuantizeError} `unsupported-model`
 */
export function assertHasNetwork(model: Model): void {
  assertModelShape(model);
  // Any layer is in a network model: whether there is one is all that is asked.
  if (hasEmptyNetwork(model)) return;
  const kind = model.Type.case;
  if (kind === "mlProgram") {
    throw new QuantizeError(
      "unsupported-model",
      "this is an ML Program (mlProgram) model; this tool compresses neuralNetwork weights. ML Program weights are compressed with coremltools.optimize.coreml (linear_quantize_weights, palettize_weights)",
    );
  }
  throw new QuantizeError(
    "unsupported-model",
    kind === undefined
      ? "the model is empty (no model type is set): nothing to quantize"
      : `the model is a ${kind} and holds no neural network: nothing to quantize`,
  );
}

function hasEmptyNetwork(model: Model): boolean {
  switch (model.Type.case) {
    case "neuralNetwork":
    case "neuralNetworkClassifier":
    case "neuralNetworkRegressor":
      return true;
    case "pipeline":
      return model.Type.value.models.some(hasEmptyNetwork);
    case "pipelineClassifier":
    case "pipelineRegressor":
      return (model.Type.value.pipeline?.models ?? []).some(hasEmptyNetwork);
    default:
      return false;
  }
}

/**
 * Checks every WeightParams of every layer: one storage at most, and a size that
 * matches the shape the layer declares (float32 and int8: one value each; float16:
 * two bytes each; n-bit: the packed length, with a scale and bias per channel or
 * a table of 2^n entries).
 *
 * @param model - the model
 * @throws {@link QuantizeError} `invalid-weights` naming the layer and field;
 *   `unsupported-model` for anything that is not a model (`assertModelShape`)
 */
export function validateWeights(model: Model): void {
  assertModelShape(model);
  forEachLayer(model, (layer, networkPath, index) => {
    const refs = layerWeights(layer);
    // Only weights and a deconvolution's groups are checked: a layer with neither (most
    // layers of a deep network) needs no path, and paths are most of this walk's cost.
    if (refs.length === 0 && !(layer.layer.case === "convolution" && layer.layer.value.isDeconvolution)) return;
    const path = layerPath(networkPath, index, layer);
    assertLayerShapes(layer, path);
    for (const ref of refs) {
      const where = `${path}/${ref.field}`;
      const storage = weightStorage(ref.weightParams, where);
      const count = ref.shape.reduce((a, b) => a * b, 1);
      const mismatch = (what: string): QuantizeError =>
        new QuantizeError("invalid-weights", `${what}, but the layer declares shape [${ref.shape.join(", ")}] (${count} values)`, { path: where });
      switch (storage.kind) {
        case "empty":
          break;
        case "float32":
        case "float16":
          if (weightCount(ref.weightParams) !== count) throw mismatch(`${weightCount(ref.weightParams)} ${storage.kind} values`);
          break;
        case "int8": {
          if (weightCount(ref.weightParams) !== count) throw mismatch(`${weightCount(ref.weightParams)} ${storage.kind} values`);
          // What every reader of int8 weights assumes (w = q * scale): one scale, no offset, 8 bits.
          const q = ref.weightParams.quantization;
          const linear = q?.QuantizationType.case === "linearQuantization" ? q.QuantizationType.value : undefined;
          if (q === undefined || linear === undefined || linear.scale.length !== 1 || linear.bias.length !== 0 || q.numberOfBits !== 8n) {
            throw new QuantizeError(
              "invalid-weights",
              `int8 weights (int8RawValue) need linear quantization with numberOfBits 8, exactly one scale and no bias; found numberOfBits ${q?.numberOfBits ?? "unset"}, ${linear?.scale.length ?? 0} scales and ${linear?.bias.length ?? 0} biases`,
              { path: where },
            );
          }
          break;
        }
        case "linear":
        case "lut": {
          const bytes = ref.weightParams.rawValue.length;
          if (bytes !== packedByteLength(count, storage.nbits)) throw mismatch(`${bytes} bytes of ${storage.nbits}-bit indices`);
          const q = ref.weightParams.quantization?.QuantizationType;
          if (q?.case === "lookupTableQuantization" && q.value.floatValue.length !== 2 ** storage.nbits) {
            throw new QuantizeError(
              "invalid-weights",
              `a ${storage.nbits}-bit lookup table needs ${2 ** storage.nbits} entries, found ${q.value.floatValue.length}`,
              { path: where },
            );
          }
          if (q?.case === "linearQuantization") {
            // As the readers split it (channelLayout): a dimension of 0 leaves no channel to scale.
            if (count === 0) {
              throw new QuantizeError(
                "invalid-weights",
                `linearly quantized weights of shape [${ref.shape.join(", ")}] hold no values, so no channel to scale: store an empty tensor as float32 (no values), not as ${storage.nbits}-bit indices`,
                { path: where },
              );
            }
            const channels = ref.shape.length === 1 ? 1 : (ref.shape[ref.axis] ?? 1);
            const { scale, bias } = q.value;
            if (!(scale.length === 1 || scale.length === channels) || bias.length !== scale.length) {
              throw new QuantizeError(
                "invalid-weights",
                `linear quantization has ${scale.length} scales and ${bias.length} biases; expected 1 or ${channels} of each`,
                { path: where },
              );
            }
          }
          break;
        }
      }
    }
  });
}

/**
 * Refuses a layer whose parameters make the shape of its weights impossible: a
 * dimension that is not a whole number, as a deconvolution's `outputChannels /
 * nGroups` when the output channels do not divide into the groups.
 *
 * @param layer - the layer
 * @param path - where, for the message
 * @throws {@link QuantizeError} `invalid-weights` naming the parameters
 */
function assertLayerShapes(layer: NeuralNetworkLayer, path: string): void {
  if (layer.layer.case === "convolution" && layer.layer.value.isDeconvolution) {
    const { outputChannels, nGroups } = layer.layer.value;
    if (nGroups === 0n || outputChannels % nGroups !== 0n) {
      throw new QuantizeError("invalid-weights", `deconvolution outputChannels (${outputChannels}) is not a multiple of nGroups (${nGroups})`, {
        path: `${path}/weights`,
      });
    }
  }
  for (const ref of layerWeights(layer)) {
    if (!ref.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new QuantizeError("invalid-weights", `the layer's parameters give an impossible shape for ${ref.field}`, { path: `${path}/${ref.field}` });
    }
  }
}

/**
 * Refuses values whose count is not what the declared shape holds.
 *
 * @param count - the values present
 * @param shape - the declared shape
 * @param path - where, for the message
 * @throws {@link QuantizeError} `invalid-weights`
 */
export function assertDeclaredCount(count: number, shape: readonly number[], path: string): void {
  const declared = shape.reduce((a, b) => a * b, 1);
  if (count !== declared) {
    throw new QuantizeError("invalid-weights", `${count} values, but the layer declares shape [${shape.join(", ")}] (${declared} values)`, { path });
  }
}

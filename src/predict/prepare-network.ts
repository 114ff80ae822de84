/**
 * A network's layers prepared once into a runner over a map of named blobs.
 *
 * @packageDocumentation
 */
import type { LayerKind, NeuralNetwork } from "../codec/model-types.js";
import { QuantizeError } from "../errors.js";
import type { BlobLayout, LayerContext, LayerImpl, LayerImpls, PreparedLayer, PreparedNetwork, Tensor } from "./layer-runner.js";

/**
 * Networks nested in branch and loop bodies deeper than this are refused: real
 * models nest a few levels, and the limit keeps a hostile model off the stack.
 */
export const MAX_NETWORK_NESTING = 32;

/**
 * Prepares every layer of a network, nested bodies included, in order.
 *
 * @param network - the network
 * @param layout - its blob layout
 * @param path - where it is, for errors: e.g. `model/neuralNetwork`
 * @param impls - the layer implementations by kind
 * @returns the runner: it reads each layer's inputs from the blob map and writes its outputs there
 * @throws {@link QuantizeError} `unsupported-layer` naming the layer and kind when
 *   a kind has no implementation or a layer refuses its options; `unsupported-model`
 *   for bodies nested deeper than {@link MAX_NETWORK_NESTING}
 */
export function prepareNetwork(network: Pick<NeuralNetwork, "layers">, layout: BlobLayout, path: string, impls: LayerImpls): PreparedNetwork {
  return prepareAt(network, layout, path, impls, 0);
}

interface Step {
  readonly run: PreparedLayer;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly path: string;
}

function prepareAt(network: Pick<NeuralNetwork, "layers">, layout: BlobLayout, path: string, impls: LayerImpls, depth: number): PreparedNetwork {
  if (depth > MAX_NETWORK_NESTING) {
    throw new QuantizeError("unsupported-model", `networks nested more than ${MAX_NETWORK_NESTING} deep`, { path });
  }
  const steps: Step[] = network.layers.map((layer, i) => {
    const layerPath = `${path}/layers[${i}] "${layer.name}"`;
    const kind = layer.layer.case;
    if (kind === undefined) throw new QuantizeError("unsupported-layer", "the layer has no kind set", { path: layerPath });
    const impl = Object.hasOwn(impls, kind) ? (impls[kind] as LayerImpl<LayerKind> | undefined) : undefined;
    if (impl === undefined) {
      throw new QuantizeError("unsupported-layer", `layer kind "${kind}" is not supported by the executor`, { path: layerPath });
    }
    const context: LayerContext = {
      layout,
      path: layerPath,
      prepareNetwork: (nested, nestedPath) => prepareAt(nested, layout, nestedPath, impls, depth + 1),
    };
    return { run: impl.prepare(layer.layer.value as never, layer, context), inputs: layer.input, outputs: layer.output, path: layerPath };
  });
  return {
    run: (blobs: Map<string, Tensor>): void => {
      for (const step of steps) {
        const inputs = step.inputs.map((name) => {
          const blob = blobs.get(name);
          if (blob === undefined) {
            throw new QuantizeError("unsupported-model", `input blob '${name}' is not a model input nor an output of an earlier layer`, { path: step.path });
          }
          return blob;
        });
        const outputs = step.run(inputs, blobs);
        if (outputs.length < step.outputs.length) {
          throw new QuantizeError("unsupported-layer", `the layer computed ${outputs.length} outputs for ${step.outputs.length} output names`, {
            path: step.path,
          });
        }
        step.outputs.forEach((name, i) => blobs.set(name, outputs[i] as Tensor));
      }
    },
  };
}

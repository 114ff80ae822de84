/**
 * The contract between the executor and the layer implementations: a blob is a
 * float32 tensor with a shape; a layer kind is prepared once (weights decoded to
 * float32, options checked) into a function from input blobs to output blobs.
 * Every layer kind the executor runs is one row of the table in layers/index.ts.
 *
 * @packageDocumentation
 */
import type { LayerKind, NeuralNetwork, NeuralNetworkLayer } from "../codec/model-types.js";
import type { LayerParams } from "../walker/layer-table.js";

/** A blob: float32 values in row-major order, with the tensor's shape. */
export interface Tensor {
  /** Dimensions, outermost first. `data.length` is their product. */
  readonly shape: readonly number[];
  /** The values, row-major. Layers never change an input's data: outputs are new tensors (or the input itself, unchanged). */
  readonly data: Float32Array;
}

/**
 * How the network lays out its blobs.
 *
 * - `rank5`: every blob is `[Seq, Batch, C, H, W]` (networks whose
 *   `arrayInputShapeMapping` is RANK5_ARRAY_MAPPING, the classic layers);
 *   sequence layers step along axis 0, the others treat Seq and Batch as batch.
 * - `exact`: blobs keep the rank they have (EXACT_ARRAY_MAPPING, the N-D layers);
 *   classic layers work on the trailing `[C, H, W]` axes and batch over the rest.
 */
export type BlobLayout = "rank5" | "exact";

/** What a layer sees of the network it runs in. */
export interface LayerContext {
  /** The network's blob layout. */
  readonly layout: BlobLayout;
  /** Where the layer is, for errors: e.g. `model/neuralNetwork/layers[3] "conv1"`. */
  readonly path: string;
  /**
   * Prepares a nested network (a branch or loop body) of this network, with the
   * same layout; only branch and loop layers need it.
   */
  readonly prepareNetwork: (network: NeuralNetwork, path: string) => PreparedNetwork;
}

/** A network ready to run over a set of named blobs. */
export interface PreparedNetwork {
  /** Runs every layer in order, reading and writing `blobs` (name -> tensor). */
  readonly run: (blobs: Map<string, Tensor>) => void;
}

/**
 * A prepared layer: its input blobs (in the order of `layer.input`) to its output
 * blobs (in the order of `layer.output`). `blobs` is the whole blob map of the
 * running network, for the layers that run nested networks over it.
 */
export type PreparedLayer = (inputs: readonly Tensor[], blobs: Map<string, Tensor>) => readonly Tensor[];

/** How one layer kind runs. */
export interface LayerImpl<K extends LayerKind> {
  /**
   * Decodes weights (any storage, through readWeights), resolves defaults and
   * refuses options it does not implement with `unsupported-layer` naming the
   * layer, the kind and the option, then returns the function that runs.
   */
  readonly prepare: (params: LayerParams<K>, layer: NeuralNetworkLayer, context: LayerContext) => PreparedLayer;
}

/** Implementations keyed by layer kind; kinds absent here are refused as `unsupported-layer`. */
export type LayerImpls = { readonly [K in LayerKind]?: LayerImpl<K> };

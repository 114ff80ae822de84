/**
 * The per-layer half of {@link compareModels}: every intermediate blob of the
 * quantized model against the original's blob of the same name, so the layer
 * that loses the accuracy shows (and can be skipped with a selector).
 *
 * Matching by name gives the right pairs through fusion too: a convolution that
 * absorbed the batchnorm after it writes the batchnorm's output blob, so it is
 * compared against the original's last blob of the fused group, and the
 * convolution's own output blob, gone from the quantized model, is reported as
 * removed.
 *
 * Each blob is also compared "alone": the quantized model's layer is run a
 * second time on the original's inputs, so its own error shows apart from the
 * error it was handed (a clean layer after a damaged one can amplify the
 * relative noise; run alone, it reads exact).
 *
 * @packageDocumentation
 */
import type { LayerKind, Model, NeuralNetwork } from "../codec/model-types.js";
import { nestedNetworks } from "../walker/networks.js";
import { addErrorSums, errorSums, NO_ERROR, ratioDb, type ErrorSums } from "./compare-metrics.js";
import type { LayerImpl, LayerImpls, PreparedLayer, Tensor } from "./layer-runner.js";
import { MAX_NETWORK_NESTING } from "./prepare-network.js";

/** A layer, as the executor names it in messages. */
export interface LayerRef {
  /** e.g. `model/neuralNetwork/layers[3] "conv1"`. */
  readonly path: string;
  /** The layer's name: what a selector sees. */
  readonly name: string;
  /** The layer kind, e.g. `convolution`. */
  readonly kind: string;
}

/** What every row says: which blob, and which layer writes it. */
interface LayerRowBase {
  /** The network the blob belongs to, e.g. `model/neuralNetwork` or `model/pipeline/models[1]/neuralNetwork`. */
  readonly network: string;
  /** The blob name. */
  readonly blob: string;
}

/** A blob both models computed, compared over every sample where both did. */
export interface ComparedLayer extends LayerRowBase {
  /** Both models computed the blob in the same shape. */
  readonly status: "compared";
  /** The quantized model's layer writing the blob; undefined for a network input. */
  readonly layer: LayerRef | undefined;
  /** The original's layer writing it (another one when `fused`). */
  readonly originalLayer: LayerRef | undefined;
  /**
   * Whether the two writers differ: the quantized layer absorbed the original's
   * writer (a batchnorm, scale or bias), and is compared against the output of
   * the whole fused group.
   */
  readonly fused: boolean;
  /** Samples in which both models computed the blob. */
  readonly samples: number;
  /** `10 log10(sum b^2 / sum (a-b)^2)` over those samples, no floor; +Infinity when equal. */
  readonly snrDb: number;
  /** The largest |a - b|. */
  readonly maxAbsError: number;
  /**
   * The SNR of the quantized layer run alone, on the original's inputs, against
   * the original's blob: the error the layer adds by itself (+Infinity for a
   * layer whose weights did not change). Undefined where the layer could not be
   * run alone: network inputs, branch and loop layers, layers inside loop
   * bodies, layers reading or writing a blob that is written more than once
   * (the original's blob as last written is not what the layer saw).
   */
  readonly aloneSnrDb: number | undefined;
  /**
   * The lowest {@link ComparedLayer.snrDb} among the layer's input blobs (what
   * the layer was given); undefined for network inputs or when no input was
   * compared. A layer whose output SNR falls well below it is where accuracy
   * is lost.
   */
  readonly inputSnrDb: number | undefined;
}

/** A blob only the original computed: its layer was fused into the next one, or removed. */
export interface RemovedLayer extends LayerRowBase {
  /** Only the original computed the blob. */
  readonly status: "removed";
  /** The original's layer writing it. */
  readonly originalLayer: LayerRef | undefined;
  /** When the quantized model has a fused layer of the same name: the blob it writes instead. */
  readonly fusedInto: string | undefined;
}

/** A blob both models computed in different shapes: not compared. */
export interface MismatchedLayer extends LayerRowBase {
  /** The two models computed the blob in different shapes. */
  readonly status: "shape-mismatch";
  /** The quantized model's layer writing the blob; undefined for a network input. */
  readonly layer: LayerRef | undefined;
  /** The blob's shape in the original model. */
  readonly originalShape: readonly number[];
  /** The blob's shape in the quantized model. */
  readonly quantizedShape: readonly number[];
}

/** One row of the per-layer comparison. */
export type LayerComparison = ComparedLayer | RemovedLayer | MismatchedLayer;

/** The blob traces of one prediction: network path -> blob name -> tensor. */
export type BlobTraces = ReadonlyMap<string, ReadonlyMap<string, Tensor>>;

/**
 * Accumulates per-blob errors over samples. For each sample: run the original
 * (with its blobs), call `beforeQuantized` with them, run the quantized model
 * prepared with `impls`, then `add` both traces.
 */
export interface LayerComparer {
  /** The layer implementations to prepare the quantized model with: they also run each layer alone. */
  readonly impls: LayerImpls;
  /** Gives the original's blobs of the sample the quantized model runs next. */
  readonly beforeQuantized: (original: BlobTraces) => void;
  /** Adds one sample's blobs of both models. */
  readonly add: (original: BlobTraces, quantized: BlobTraces) => void;
  /** The rows, networks in run order and blobs in layer order. */
  readonly rows: () => LayerComparison[];
}

/** Who writes a blob in one network. */
interface Writer {
  readonly layer: LayerRef;
  readonly inputs: readonly string[];
}

/** The static view of one network: blob order and writers. */
interface NetworkBlobs {
  /** Blob names in the order they are first written, the network's inputs first. */
  readonly order: string[];
  /** The last layer (in file order) writing each blob; network inputs have none. */
  readonly writers: Map<string, Writer>;
  /** How many times each blob is written: by the caller (a network input) and by layers. */
  readonly writes: Map<string, number>;
}

interface Accumulator {
  sums: ErrorSums;
  /** The layer run alone on the original's inputs, against the original's blob. */
  alone: ErrorSums;
  aloneSamples: number;
  samples: number;
  missing: number;
  mismatch: { readonly original: readonly number[]; readonly quantized: readonly number[] } | undefined;
}

/**
 * Starts a per-layer comparison of two versions of one model.
 *
 * @param original - the original model
 * @param quantized - the quantized one
 * @param impls - the layer implementations both are prepared with
 * @returns the accumulator
 */
export function layerComparer(original: Model, quantized: Model, impls: LayerImpls): LayerComparer {
  const accumulators = new Map<string, Map<string, Accumulator>>();
  const alone = aloneRunner(impls);
  const accumulator = (network: string, name: string): Accumulator => {
    let accs = accumulators.get(network);
    if (accs === undefined) accumulators.set(network, (accs = new Map()));
    let acc = accs.get(name);
    if (acc === undefined) {
      accs.set(name, (acc = { sums: NO_ERROR, alone: NO_ERROR, aloneSamples: 0, samples: 0, missing: 0, mismatch: undefined }));
    }
    return acc;
  };
  return {
    impls: alone.impls,
    beforeQuantized: (orig) => alone.start(orig),
    add: (orig, quant) => {
      const aloneOutputs = alone.finish();
      for (const [network, blobs] of orig) {
        const other = quant.get(network);
        const single = aloneOutputs.get(network);
        for (const [name, a] of blobs) {
          const acc = accumulator(network, name);
          const b = other?.get(name);
          if (b === undefined) acc.missing++;
          else if (!sameShape(a.shape, b.shape)) acc.mismatch ??= { original: a.shape, quantized: b.shape };
          else {
            acc.sums = addErrorSums(acc.sums, errorSums(a.data, b.data));
            acc.samples++;
          }
          const c = single?.get(name);
          if (c !== undefined && sameShape(a.shape, c.shape)) {
            acc.alone = addErrorSums(acc.alone, errorSums(a.data, c.data));
            acc.aloneSamples++;
          }
        }
      }
    },
    rows: () => buildRows(accumulators, networkBlobs(original), networkBlobs(quantized)),
  };
}

/** Layer kinds never run alone: they run networks over the whole blob map. */
const NOT_ALONE: ReadonlySet<string> = new Set(["branch", "loop"]);

interface AloneRunner {
  readonly impls: LayerImpls;
  readonly start: (original: BlobTraces) => void;
  /** What the layers computed alone during the run, by network then blob; stops until the next start. */
  readonly finish: () => Map<string, Map<string, Tensor>>;
}

/**
 * Wraps every layer implementation so that, while a run is on, each layer is
 * run a second time on the original model's blobs of its input names.
 */
function aloneRunner(impls: LayerImpls): AloneRunner {
  let original: BlobTraces | undefined;
  let outputs = new Map<string, Map<string, Tensor>>();
  const wrapped: Partial<Record<LayerKind, LayerImpl<LayerKind>>> = {};
  for (const [kind, impl] of Object.entries(impls) as [LayerKind, LayerImpl<LayerKind> | undefined][]) {
    if (impl === undefined) continue;
    wrapped[kind] = {
      prepare: (params, layer, context) => {
        const run = impl.prepare(params, layer, context);
        // Blobs of nested bodies live in the map of the network at the top: the path up to the first layer.
        const cut = context.path.indexOf("/layers[");
        const network = cut < 0 ? context.path : context.path.slice(0, cut);
        // Loop bodies run many times: the original's blobs (as last written) are not what each pass read.
        const inLoop = /\/(bodyNetwork|conditionNetwork)\//.test(context.path);
        if (NOT_ALONE.has(kind) || inLoop) return run;
        const twice: PreparedLayer = (inputs, blobs) => {
          const result = run(inputs, blobs);
          const given = original?.get(network);
          if (given !== undefined) runAlone(run, layer.input, layer.output, given, network);
          return result;
        };
        return twice;
      },
    };
  }
  const runAlone = (
    run: PreparedLayer,
    inputNames: readonly string[],
    outputNames: readonly string[],
    given: ReadonlyMap<string, Tensor>,
    network: string,
  ): void => {
    const inputs: Tensor[] = [];
    for (const name of inputNames) {
      const t = given.get(name);
      if (t === undefined) return;
      inputs.push(t);
    }
    let results: readonly Tensor[];
    try {
      results = run(inputs, new Map());
    } catch {
      // A side measurement: the real run already succeeded; a layer that refuses the original's blobs is just not measured alone.
      return;
    }
    let out = outputs.get(network);
    if (out === undefined) outputs.set(network, (out = new Map()));
    outputNames.forEach((name, i) => {
      const t = results[i];
      if (t !== undefined) (out as Map<string, Tensor>).set(name, t);
    });
  };
  return {
    impls: wrapped as LayerImpls,
    start: (trace) => {
      original = trace;
      outputs = new Map();
    },
    finish: () => {
      original = undefined;
      const done = outputs;
      outputs = new Map();
      return done;
    },
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function buildRows(
  accumulators: ReadonlyMap<string, ReadonlyMap<string, Accumulator>>,
  originalBlobs: ReadonlyMap<string, NetworkBlobs>,
  quantizedBlobs: ReadonlyMap<string, NetworkBlobs>,
): LayerComparison[] {
  // Networks in run order (the static walk's), then any other the traces hold.
  const networks = [...originalBlobs.keys(), ...[...accumulators.keys()].filter((n) => !originalBlobs.has(n))];
  const rows: LayerComparison[] = [];
  for (const network of networks) {
    const accs = accumulators.get(network);
    if (accs === undefined) continue;
    const orig = originalBlobs.get(network);
    const quant = quantizedBlobs.get(network);
    // Blobs in layer order; any the static walk did not foresee after them.
    const known = new Set(orig?.order ?? []);
    const order = [...(orig?.order ?? []).filter((b) => accs.has(b)), ...[...accs.keys()].filter((b) => !known.has(b))];
    const compared = new Map<string, number>();
    const networkRows: LayerComparison[] = [];
    for (const blob of order) {
      const acc = accs.get(blob) as Accumulator;
      const originalLayer = orig?.writers.get(blob)?.layer;
      const layer = quant?.writers.get(blob)?.layer;
      if (acc.mismatch !== undefined) {
        networkRows.push({ status: "shape-mismatch", network, blob, layer, originalShape: acc.mismatch.original, quantizedShape: acc.mismatch.quantized });
      } else if (acc.samples === 0) {
        networkRows.push({ status: "removed", network, blob, originalLayer, fusedInto: fusedInto(originalLayer, quant) });
      } else {
        const snrDb = ratioDb(acc.sums.signal, acc.sums.noise);
        compared.set(blob, snrDb);
        const once = (name: string): boolean => (orig?.writes.get(name) ?? 0) <= 1;
        const aloneValid = once(blob) && (quant?.writers.get(blob)?.inputs ?? []).every(once);
        networkRows.push({
          status: "compared",
          network,
          blob,
          layer,
          originalLayer,
          fused: layer !== undefined && originalLayer !== undefined && layer.name !== originalLayer.name,
          samples: acc.samples,
          snrDb,
          maxAbsError: acc.sums.maxAbsError,
          aloneSnrDb: acc.aloneSamples === 0 || !aloneValid ? undefined : ratioDb(acc.alone.signal, acc.alone.noise),
          inputSnrDb: undefined,
        });
      }
    }
    for (const row of networkRows) {
      if (row.status !== "compared") {
        rows.push(row);
        continue;
      }
      const inputs = quant?.writers.get(row.blob)?.inputs ?? [];
      let inputSnrDb: number | undefined;
      for (const name of inputs) {
        const snr = compared.get(name);
        if (name === row.blob || snr === undefined) continue;
        if (inputSnrDb === undefined || snr < inputSnrDb || Number.isNaN(snr)) inputSnrDb = snr;
      }
      rows.push({ ...row, inputSnrDb });
    }
  }
  return rows;
}

/** The blob a quantized layer of the same name writes, when the original's writer was fused into it. */
function fusedInto(originalLayer: LayerRef | undefined, quant: NetworkBlobs | undefined): string | undefined {
  if (originalLayer === undefined || quant === undefined) return undefined;
  for (const [blob, writer] of quant.writers) {
    if (writer.layer.name === originalLayer.name) return blob;
  }
  return undefined;
}

/**
 * The blobs of every network of a model, keyed by the paths the executor's
 * traces use: `model/<kind>` for a network, `<pipeline path>/pipeline/models[i]/<kind>`
 * inside pipelines. Branch and loop bodies write into their network's blobs.
 */
function networkBlobs(model: Model): Map<string, NetworkBlobs> {
  const out = new Map<string, NetworkBlobs>();
  const visitModel = (m: Model, path: string, depth: number): void => {
    if (depth > MAX_NETWORK_NESTING) return;
    const type = m.Type;
    switch (type.case) {
      case "neuralNetwork":
      case "neuralNetworkClassifier":
      case "neuralNetworkRegressor": {
        const networkPath = `${path}/${type.case}`;
        const blobs: NetworkBlobs = { order: [], writers: new Map(), writes: new Map() };
        const seen = new Set<string>();
        for (const f of m.description?.input ?? []) addBlob(blobs, seen, f.name);
        visitLayers(type.value, networkPath, blobs, seen, 0);
        out.set(networkPath, blobs);
        return;
      }
      case "pipeline":
        type.value.models.forEach((sub, i) => visitModel(sub, `${path}/pipeline/models[${i}]`, depth + 1));
        return;
      case "pipelineClassifier":
      case "pipelineRegressor":
        (type.value.pipeline?.models ?? []).forEach((sub, i) => visitModel(sub, `${path}/${type.case}/pipeline/models[${i}]`, depth + 1));
        return;
      default:
        return;
    }
  };
  visitModel(model, "model", 0);
  return out;
}

function addBlob(blobs: NetworkBlobs, seen: Set<string>, name: string): void {
  blobs.writes.set(name, (blobs.writes.get(name) ?? 0) + 1);
  if (seen.has(name)) return;
  seen.add(name);
  blobs.order.push(name);
}

function visitLayers(network: Pick<NeuralNetwork, "layers">, path: string, blobs: NetworkBlobs, seen: Set<string>, depth: number): void {
  if (depth > MAX_NETWORK_NESTING) return;
  network.layers.forEach((layer, i) => {
    const layerPath = `${path}/layers[${i}] "${layer.name}"`;
    for (const nested of nestedNetworks(layer)) visitLayers(nested.network, `${layerPath}/${nested.field}`, blobs, seen, depth + 1);
    const ref: LayerRef = { path: layerPath, name: layer.name, kind: layer.layer.case ?? "none" };
    for (const name of layer.output) {
      addBlob(blobs, seen, name);
      blobs.writers.set(name, { layer: ref, inputs: layer.input });
    }
  });
}

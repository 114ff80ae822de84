/**
 * What the recurrent layers share around their step functions: checking the
 * layer's wiring, reading the `[Seq, Batch, C, 1, 1]` input and the optional
 * initial states, gathering gate weights, and the matrix-vector product (the
 * kernels' float32 matrix product).
 *
 * @packageDocumentation
 */
import type { NeuralNetworkLayer } from "../../../codec/model-types.js";
import { QuantizeError } from "../../../errors.js";
import { runKernels } from "../../../kernels/index.js";
import type { Tensor } from "../../layer-runner.js";
import { tensor } from "../../tensor.js";

/** The sequence input of a recurrent layer, as steps of `batch` vectors. */
export interface SequenceInput {
  /** Number of time steps (axis 0). */
  readonly seq: number;
  /** Number of independent sequences (axis 1). */
  readonly batch: number;
  /** `[seq, batch, inputSize]` row-major, widened once so every product reads one array type. */
  readonly data: Float64Array;
}

/**
 * Refuses a layer whose input or output list does not fit its kind: the
 * sequence first, then at most `maxInputs - 1` initial states; at least one and
 * at most `maxOutputs` outputs.
 *
 * @param layer - the layer
 * @param kind - the layer kind, for errors
 * @param maxInputs - the sequence plus every state the kind reads
 * @param maxOutputs - the output plus every state the kind writes
 * @param path - the layer's path, for errors
 * @throws QuantizeError `unsupported-layer` when a list is empty or too long
 */
export function checkWiring(layer: NeuralNetworkLayer, kind: string, maxInputs: number, maxOutputs: number, path: string): void {
  const inputs = layer.input.length;
  const outputs = layer.output.length;
  if (inputs < 1 || inputs > maxInputs) {
    throw new QuantizeError("unsupported-layer", `${kind} takes 1 to ${maxInputs} inputs (the sequence, then initial states), not ${inputs}`, { path });
  }
  if (outputs < 1 || outputs > maxOutputs) {
    throw new QuantizeError("unsupported-layer", `${kind} gives 1 to ${maxOutputs} outputs (the output, then final states), not ${outputs}`, { path });
  }
}

/**
 * Reads the sequence input: a rank-5 blob `[Seq, Batch, inputSize, 1, 1]`.
 *
 * @param x - the first input blob
 * @param inputSize - the layer's inputVectorSize
 * @param kind - the layer kind, for errors
 * @param path - the layer's path, for errors
 * @returns its step count, batch size and values
 * @throws QuantizeError `invalid-input` when the blob is absent or not that shape
 */
export function sequenceInput(x: Tensor | undefined, inputSize: number, kind: string, path: string): SequenceInput {
  if (x === undefined) {
    throw new QuantizeError("invalid-input", `${kind}: the sequence input is missing`, { path });
  }
  const [seq = 0, batch = 0, c = 0, h = 0, w = 0] = x.shape;
  if (x.shape.length !== 5 || c * h * w !== inputSize) {
    throw new QuantizeError("invalid-input", `${kind}: the input has shape [${x.shape.join(", ")}]; expected [Seq, Batch, ${inputSize}, 1, 1]`, { path });
  }
  return { seq, batch, data: Float64Array.from(x.data) };
}

/**
 * Reads an optional initial state: zeros when the blob is absent, else `size`
 * values per sequence of the batch (or `size` values shared by the whole batch).
 *
 * @param state - the state blob, or undefined when the model does not give it
 * @param batch - the batch size of the sequence input
 * @param size - the state's vector size
 * @param what - which state, for errors: e.g. `c_in`
 * @param path - the layer's path, for errors
 * @returns a fresh `[batch, size]` buffer the caller may overwrite
 * @throws QuantizeError `invalid-input` for a blob of another size
 */
export function initialState(state: Tensor | undefined, batch: number, size: number, what: string, path: string): Float64Array {
  const out = new Float64Array(batch * size);
  if (state === undefined) return out;
  const n = state.data.length;
  if (n === batch * size) {
    out.set(state.data);
  } else if (n === size) {
    for (let b = 0; b < batch; b++) out.set(state.data, b * size);
  } else {
    throw new QuantizeError(
      "invalid-input",
      `${what} has shape [${state.shape.join(", ")}] (${n} values); expected ${size} values per sequence, batch ${batch}`,
      { path },
    );
  }
  return out;
}

/**
 * How errors name the state input at `index` of the layer's inputs.
 *
 * @param layer - the layer
 * @param index - the state's position in the layer's inputs (1 or more)
 * @returns e.g. `initial state "h_in"`
 */
export function stateName(layer: NeuralNetworkLayer, index: number): string {
  return `initial state "${layer.input[index] ?? ""}"`;
}

/**
 * A state (or final output) as a blob `[1, batch, size, 1, 1]`.
 *
 * @param state - `[batch, size]` values
 * @param batch - the batch size
 * @param size - the vector size
 * @returns a new tensor
 */
export function stateTensor(state: Float64Array, batch: number, size: number): Tensor {
  return tensor([1, batch, size, 1, 1], Float32Array.from(state));
}

/**
 * A weight field the layer must have (decodedWeights lists every field with its
 * declared shape, so an absent one means the layer's flags and fields disagree).
 *
 * @param weights - the layer's decoded weights
 * @param field - the field path, e.g. `weightParams.inputGateWeightMatrix`
 * @param path - the layer's path, for errors
 * @returns the values
 * @throws QuantizeError `invalid-weights` when the field is absent
 */
export function requiredWeight(weights: ReadonlyMap<string, Float32Array>, field: string, path: string): Float32Array {
  const values = weights.get(field);
  if (values === undefined) {
    throw new QuantizeError("invalid-weights", `${field} is missing`, { path: `${path}/${field}` });
  }
  return values;
}

/**
 * Stacks weight fields of the same shape into one row-major matrix, so that
 * one product computes several gates; an undefined part is zeros (an absent bias).
 *
 * @param parts - the fields, in gate order
 * @param partLength - the number of values of each
 * @returns the concatenation
 */
export function stacked(parts: readonly (Float32Array | undefined)[], partLength: number): Float32Array {
  const out = new Float32Array(parts.length * partLength);
  parts.forEach((part, k) => {
    if (part !== undefined) out.set(part, k * partLength);
  });
  return out;
}

/**
 * Matrices of at least this many values are multiplied by the kernels (2.5-3x
 * faster with SIMD from here on, measured); smaller ones in float64, where a call
 * into the module would not pay.
 */
const KERNEL_MATRIX = 16_384;
// The vector and the product of addMatVec, in float32, kept between calls (one per step).
let vector32 = new Float32Array(0);
let product32 = new Float32Array(0);

/**
 * `out[outOffset + r] += sum_c matrix[r * cols + c] * v[vOffset + c]` for every
 * row r of a row-major `[rows, cols]` matrix. Below {@link KERNEL_MATRIX} values
 * the sum is accumulated in float64; from there on it is the kernels' matrix
 * product (the vector rounded to float32, the terms added in the order of c in
 * float32, the same bits with either kernels), then added to the accumulator.
 *
 * @param out - accumulator
 * @param outOffset - where row 0's sum goes
 * @param matrix - the matrix
 * @param rows - its rows
 * @param cols - its columns
 * @param v - the vector
 * @param vOffset - where the vector starts in `v`
 */
export function addMatVec(out: Float64Array, outOffset: number, matrix: Float32Array, rows: number, cols: number, v: Float64Array, vOffset: number): void {
  if (rows * cols < KERNEL_MATRIX) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      const row = r * cols;
      for (let c = 0; c < cols; c++) sum += (matrix[row + c] as number) * (v[vOffset + c] as number);
      out[outOffset + r] = (out[outOffset + r] as number) + sum;
    }
    return;
  }
  if (vector32.length < cols) vector32 = new Float32Array(cols);
  if (product32.length < rows) product32 = new Float32Array(rows);
  const x = vector32;
  const y = product32;
  for (let c = 0; c < cols; c++) x[c] = v[vOffset + c] as number;
  runKernels().matmul({
    m: rows,
    n: 1,
    k: cols,
    a: matrix,
    aOffset: 0,
    aStride: cols,
    b: x,
    bOffset: 0,
    bStride: 1,
    c: y,
    cOffset: 0,
    cStride: 1,
    start: { along: "none" },
  });
  for (let r = 0; r < rows; r++) out[outOffset + r] = (out[outOffset + r] as number) + (y[r] as number);
}

/** Largest vector size accepted: a [4*O, O] LSTM recursion matrix must stay a sane typed array. */
const MAX_VECTOR_SIZE = 1 << 14;

/** The vector sizes of a recurrent layer, as numbers. */
export interface RecurrentSizes {
  /** inputVectorSize: the values of one step of the sequence. */
  readonly inputSize: number;
  /** outputVectorSize: the values of one output (and of each state). */
  readonly outputSize: number;
}

/**
 * The layer's vector sizes, both positive.
 *
 * @param params - the layer parameters
 * @param kind - the layer kind, for errors
 * @param path - the layer's path, for errors
 * @returns the sizes as numbers
 * @throws QuantizeError `unsupported-layer` when a size is 0 (or beyond what an array can hold)
 */
export function recurrentSizes(params: { readonly inputVectorSize: bigint; readonly outputVectorSize: bigint }, kind: string, path: string): RecurrentSizes {
  const check = (name: string, value: bigint): number => {
    if (value < 1n || value > BigInt(MAX_VECTOR_SIZE)) {
      throw new QuantizeError("unsupported-layer", `${kind} with ${name} ${value} is not supported (1 to ${MAX_VECTOR_SIZE})`, { path });
    }
    return Number(value);
  };
  return { inputSize: check("inputVectorSize", params.inputVectorSize), outputSize: check("outputVectorSize", params.outputVectorSize) };
}

/**
 * Refuses reverseInput with sequenceOutput on a unidirectional layer: the proto
 * does not say in which order such an output sequence is laid out.
 *
 * @param kind - the layer kind
 * @param reverseInput - the layer's flag
 * @param sequenceOutput - the layer's flag
 * @param path - the layer's path, for errors
 * @throws QuantizeError `unsupported-layer` when both are set
 */
export function refuseReverseSequence(kind: string, reverseInput: boolean, sequenceOutput: boolean, path: string): void {
  if (reverseInput && sequenceOutput) {
    throw new QuantizeError(
      "unsupported-layer",
      `${kind} with reverseInput and sequenceOutput is not supported: the order of the output sequence is not specified`,
      { path },
    );
  }
}

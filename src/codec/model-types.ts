/**
 * The model types of this library: the protobuf-es types generated from the Core ML
 * schema, except that every `WeightParams.floatValue` is a `Float32Array`.
 *
 * Why: the schema's `repeated float` becomes `number[]` in generated code, eight
 * bytes and a boxed read per weight, and a V8 array cannot even hold the largest
 * tensors the format allows. A packed `repeated float` is one length-delimited
 * record, so the codec hands it out as a typed array over the input bytes instead.
 *
 * @packageDocumentation
 */
import type { Message } from "@bufbuild/protobuf";
import type * as modelPb from "../gen/Model_pb.js";
import type * as nnPb from "../gen/NeuralNetwork_pb.js";

/**
 * One weight tensor, as the generated `WeightParams` but with `floatValue` as a
 * `Float32Array`. Exactly one storage is in use in a valid model: `floatValue`,
 * `float16Value` (little-endian halves), `rawValue` (n-bit indices, with
 * `quantization`) or `int8RawValue` (with a linear `quantization`).
 */
export type WeightParams = Omit<nnPb.WeightParams, "floatValue"> & {
  /** float32 weights in tensor order (row-major); empty when another storage is used. */
  floatValue: Float32Array;
};

/**
 * Maps a generated message type to the same type with typed-array weights,
 * recursively through messages, repeated fields and oneof cases.
 */
export type WithTypedWeights<T> = T extends nnPb.WeightParams
  ? WeightParams
  : T extends Message
    ? MessageWithTypedWeights<T>
    : T extends readonly (infer E)[]
      ? WithTypedWeights<E>[]
      : T extends { case: infer C; value: infer V }
        ? {
            /** The oneof's case: the name of the field that is set. */
            case: C;
            /** That field's value. */
            value: WithTypedWeights<V>;
          }
        : T;

/**
 * A generated message type with {@link WithTypedWeights} applied to each of its
 * fields. Named (rather than written inline in `WithTypedWeights`) so that
 * editors, compiler messages and the API reference show a nested message as
 * `MessageWithTypedWeights<ModelDescription>` instead of spelling out every field
 * below it.
 */
export type MessageWithTypedWeights<T extends Message> = { [K in keyof T]: WithTypedWeights<T[K]> };

/**
 * A Core ML model: the contents of an `.mlmodel` file, as {@link decodeModel}
 * returns it and every operation of this library takes and returns it.
 *
 * It is the {@link modelPb.Model | Model} message that protobuf-es generates from
 * Core ML's `Model.proto` (the link leads to its description in Apple's Core ML
 * Format Reference), with one change: every {@link WeightParams} holds its float32
 * weights in a `Float32Array` instead of a `number[]`. What the model is sits in
 * the oneof `Type`: a neural network is `{ case: "neuralNetwork", value }` (or
 * `neuralNetworkClassifier`, `neuralNetworkRegressor`), a pipeline holds further
 * models; `description` names its inputs and outputs, and `specificationVersion`
 * the version of the format the model needs. Nested messages appear as
 * {@link MessageWithTypedWeights} of their generated type, e.g.
 * `MessageWithTypedWeights<ModelDescription>`.
 *
 * The generated types, their schemas and enums are exported by
 * `coreml-quantize/schema`. To build a model by hand, create the message with
 * `create(ModelSchema, init)` from there and pass it through `toBinary` and
 * `decodeModel`, which gives the weights their `Float32Array`.
 *
 * @example
 * ```ts
 * import { decodeModel, quantizeWeights, type Model } from "coreml-quantize";
 *
 * const model: Model = decodeModel(bytes);
 * if (model.Type.case === "neuralNetwork") console.log(model.Type.value.layers.length, "layers");
 * const small = quantizeWeights(model, { nbits: 8 });
 * ```
 */
export type Model = WithTypedWeights<modelPb.Model>;
/** A pipeline: models run in sequence. */
export type Pipeline = WithTypedWeights<modelPb.Pipeline>;
/** A neural network (plain, classifier and regressor share its layer list). */
export type NeuralNetwork = WithTypedWeights<nnPb.NeuralNetwork>;
/** A neural-network classifier. */
export type NeuralNetworkClassifier = WithTypedWeights<nnPb.NeuralNetworkClassifier>;
/** A neural-network regressor. */
export type NeuralNetworkRegressor = WithTypedWeights<nnPb.NeuralNetworkRegressor>;
/** One layer of a neural network. */
export type NeuralNetworkLayer = WithTypedWeights<nnPb.NeuralNetworkLayer>;
/** The kind of a layer: the name of the case set in its `layer` oneof. */
export type LayerKind = NonNullable<NeuralNetworkLayer["layer"]["case"]>;
/** How a WeightParams' `rawValue` maps back to floats. */
export type QuantizationParams = nnPb.QuantizationParams;

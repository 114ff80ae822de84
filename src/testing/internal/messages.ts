/**
 * Building model messages for the arbitraries: protobuf-es `create` for every
 * message (so `$typeName` is set, as the codec needs), weights spread in after.
 *
 * @internal
 * @packageDocumentation
 */
import { create } from "@bufbuild/protobuf";
import type { WeightParams, WithTypedWeights } from "../../codec/model-types.js";
import { withFloat16, withFloat32 } from "../../codec/weight-storage.js";
import { WeightParamsSchema } from "../../gen/NeuralNetwork_pb.js";

/**
 * A message created without any WeightParams below it, typed as this library's
 * model types (which differ from the generated ones only in WeightParams).
 *
 * @param message - a message from `create`, holding no weights
 * @returns the same object
 */
export function typed<T>(message: T): WithTypedWeights<T> {
  return message as unknown as WithTypedWeights<T>;
}

/** A WeightParams with no storage. */
export function emptyWeightParams(): WeightParams {
  return { ...create(WeightParamsSchema), floatValue: new Float32Array(0) };
}

/** Float storages a generated layer may use. */
export type FloatStorage = "float32" | "float16";

/**
 * `values` stored as float32 or half precision, through the codec's builders.
 *
 * @param storage - which storage
 * @param values - the values (kept, not copied, for float32)
 * @returns a new WeightParams
 */
export function floatWeightParams(storage: FloatStorage, values: Float32Array): WeightParams {
  return storage === "float16" ? withFloat16(emptyWeightParams(), values) : withFloat32(emptyWeightParams(), values);
}

/** The product of a shape's dimensions. */
export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

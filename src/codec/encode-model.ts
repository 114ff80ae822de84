import { toBinary } from "@bufbuild/protobuf";
import { float32ToBytes } from "./float32-bytes.js";
import { mapWeightParams } from "./map-weight-params.js";
import type { Model } from "./model-types.js";
import { writeSchema } from "./wire-schema.js";

/**
 * Encodes a model as the bytes of an `.mlmodel` file. The inverse of
 * {@link decodeModel}: fields are written in field-number order with packed
 * repeated scalars, so a canonically encoded file round-trips byte for byte.
 *
 * @param model - the model; not modified
 * @returns the encoded bytes
 * @example
 * ```ts
 * await writeFile("out.mlmodel", encodeModel(model));
 * ```
 */
export function encodeModel(model: Model): Uint8Array {
  const wire = mapWeightParams(model, (weightParams) => ({
    ...weightParams,
    floatValue: float32ToBytes(weightParams["floatValue"] as Float32Array),
  }));
  return toBinary(writeSchema(), wire);
}

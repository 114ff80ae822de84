/**
 * The wire-level variant of the Core ML schema the codec reads with, derived on
 * first use from the generated descriptors, so proto/ stays the one source of
 * truth: `readSchema` leaves out `WeightParams.floatValue` (field 1), so protobuf-es
 * keeps its records as unknown fields, zero-copy views into the input. The codec
 * then assembles them into one `Float32Array`, whatever the encoding (packed,
 * packed split over several records, or one fixed32 record per value). Writing
 * needs no variant: the encoder writes WeightParams by hand.
 *
 * @packageDocumentation
 */
import { clone, createFileRegistry, type DescField, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt/google/protobuf/descriptor_pb.js";
import { file_Model, ModelSchema } from "../gen/Model_pb.js";
import { file_NeuralNetwork, WeightParamsSchema } from "../gen/NeuralNetwork_pb.js";

/** Fully qualified name of the message holding weight tensors. */
export const WEIGHT_PARAMS_TYPE = WeightParamsSchema.typeName;
/** Field number of `WeightParams.floatValue`, from the generated descriptor. */
export const FLOAT_VALUE_FIELD: number = WeightParamsSchema.field.floatValue.number;

let readVariant: DescMessage | undefined;

/**
 * Decoding variant: `WeightParams.floatValue` is read as unknown-field records.
 * Derived on first use and kept: it depends on nothing but the generated code.
 * Only NeuralNetwork.proto (where WeightParams lives) and Model.proto (its one
 * dependent) are rebuilt; every other file is reused as generated. Needed only to
 * decode bytes the codec may not change in place (see decode-model.ts).
 */
export function readSchema(): DescMessage {
  return (readVariant ??= deriveReadSchema());
}

function deriveReadSchema(): DescMessage {
  const generated = new Map<string, DescFile>();
  const collect = (file: DescFile): void => {
    if (generated.has(file.proto.name)) return;
    generated.set(file.proto.name, file);
    file.dependencies.forEach(collect);
  };
  collect(file_Model);
  const network = clone(FileDescriptorProtoSchema, file_NeuralNetwork.proto);
  for (const message of network.messageType) {
    if (`${network.package}.${message.name}` === WEIGHT_PARAMS_TYPE) {
      message.field = message.field.filter((f) => f.number !== FLOAT_VALUE_FIELD);
    }
  }
  const registry = createFileRegistry(file_Model.proto, (name) => (name === network.name ? network : generated.get(name)));
  const desc = registry.getMessage(ModelSchema.typeName);
  if (desc === undefined) throw new Error("coreml-quantize: Model missing from the derived registry");
  return desc;
}

/**
 * The message-typed fields of each message type through which a WeightParams can
 * be reached, so walks over a decoded model visit only those (and terminate on the
 * schema's recursion: a branch layer holds networks holding layers).
 */
export function weightPathFields(root: DescMessage): ReadonlyMap<string, readonly DescField[]> {
  const fieldsByType = new Map<string, DescField[]>();
  const messages = new Map<string, DescMessage>();
  const collect = (desc: DescMessage): void => {
    if (messages.has(desc.typeName)) return;
    messages.set(desc.typeName, desc);
    for (const field of desc.fields) {
      const child = messageOf(field);
      if (child !== undefined) collect(child);
    }
  };
  collect(root);
  // Fixed point: a type reaches WeightParams if it is one or a field of it reaches one.
  const reaches = new Set<string>([WEIGHT_PARAMS_TYPE]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const desc of messages.values()) {
      if (reaches.has(desc.typeName)) continue;
      if (desc.fields.some((f) => reaches.has(messageOf(f)?.typeName ?? ""))) {
        reaches.add(desc.typeName);
        changed = true;
      }
    }
  }
  for (const desc of messages.values()) {
    if (desc.typeName === WEIGHT_PARAMS_TYPE || !reaches.has(desc.typeName)) continue;
    fieldsByType.set(
      desc.typeName,
      desc.fields.filter((f) => reaches.has(messageOf(f)?.typeName ?? "")),
    );
  }
  return fieldsByType;
}

function messageOf(field: DescField): DescMessage | undefined {
  switch (field.fieldKind) {
    case "message":
      return field.message;
    case "list":
      return field.listKind === "message" ? field.message : undefined;
    case "map":
      return field.mapKind === "message" ? field.message : undefined;
    default:
      return undefined;
  }
}

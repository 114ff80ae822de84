import type { DescField } from "@bufbuild/protobuf";
import { ModelSchema } from "../gen/Model_pb.js";
import { WEIGHT_PARAMS_TYPE, weightPathFields } from "./wire-schema.js";

/** A message as plain data: what protobuf-es messages are at run time. */
type MessageObject = { readonly $typeName: string; [field: string]: unknown };
type OneofValue = { case: string | undefined; value?: unknown };

// The paths are the same in the generated schema and the decoder's variant.
let pathFieldsTable: ReadonlyMap<string, readonly DescField[]> | undefined;
const pathFields = (): ReadonlyMap<string, readonly DescField[]> => (pathFieldsTable ??= weightPathFields(ModelSchema));

/**
 * Applies `fn` to every WeightParams reachable from `root` (every network, layer
 * and nested model, known or not to the walker), copying on write: a message is
 * shallow-copied only when `fn` returned a new object somewhere below it, so
 * `root` itself is never changed unless `fn` mutates in place.
 *
 * @param root - a decoded message (a Model, usually)
 * @param fn - maps one WeightParams to itself (after mutating it) or a replacement
 * @returns `root`, or a copy of the path down to each replaced WeightParams
 */
export function mapWeightParams<T extends object>(root: T, fn: (weightParams: MessageObject) => MessageObject): T {
  return visit(root as unknown as MessageObject, fn) as unknown as T;
}

function visit(message: MessageObject, fn: (weightParams: MessageObject) => MessageObject): MessageObject {
  if (message.$typeName === WEIGHT_PARAMS_TYPE) return fn(message);
  const fields = pathFields().get(message.$typeName);
  if (fields === undefined) return message;
  let out = message;
  const set = (key: string, value: unknown): void => {
    if (out === message) out = { ...message };
    (out as Record<string, unknown>)[key] = value;
  };
  for (const field of fields) {
    if (field.oneof !== undefined) {
      const oneof = message[field.oneof.localName] as OneofValue | undefined;
      if (oneof?.case !== field.localName) continue;
      const value = visit(oneof.value as MessageObject, fn);
      if (value !== oneof.value) set(field.oneof.localName, { case: oneof.case, value });
    } else if (field.fieldKind === "list") {
      const list = message[field.localName] as MessageObject[];
      let copy: MessageObject[] | undefined;
      for (let i = 0; i < list.length; i++) {
        const item = list[i] as MessageObject;
        const value = visit(item, fn);
        if (value !== item) (copy ??= list.slice())[i] = value;
      }
      if (copy !== undefined) set(field.localName, copy);
    } else if (field.fieldKind === "map") {
      const map = message[field.localName] as Record<string, MessageObject>;
      let copy: Record<string, MessageObject> | undefined;
      for (const [key, item] of Object.entries(map)) {
        const value = visit(item, fn);
        if (value !== item) (copy ??= { ...map })[key] = value;
      }
      if (copy !== undefined) set(field.localName, copy);
    } else {
      const item = message[field.localName] as MessageObject | undefined;
      if (item === undefined) continue;
      const value = visit(item, fn);
      if (value !== item) set(field.localName, value);
    }
  }
  return out;
}

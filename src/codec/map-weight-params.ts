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

/** The fields of a message type that lead to weights: oneof cases by oneof and case name, and the others. */
interface VisitPlan {
  readonly oneofs: ReadonlyMap<string, ReadonlyMap<string, DescField>>;
  readonly plain: readonly DescField[];
}

const visitPlans = new Map<string, VisitPlan | null>();

/** The plan of a message type, or undefined when no weights are below it; built once per type. */
function planOf(typeName: string): VisitPlan | undefined {
  let plan = visitPlans.get(typeName);
  if (plan === undefined) {
    const fields = pathFields().get(typeName);
    const oneofs = new Map<string, Map<string, DescField>>();
    for (const field of fields ?? []) {
      if (field.oneof === undefined) continue;
      const cases = oneofs.get(field.oneof.localName) ?? new Map<string, DescField>();
      oneofs.set(field.oneof.localName, cases.set(field.localName, field));
    }
    plan = fields === undefined ? null : { oneofs, plain: fields.filter((f) => f.oneof === undefined) };
    visitPlans.set(typeName, plan);
  }
  return plan ?? undefined;
}

function visit(message: MessageObject, fn: (weightParams: MessageObject) => MessageObject): MessageObject {
  if (message.$typeName === WEIGHT_PARAMS_TYPE) return fn(message);
  const plan = planOf(message.$typeName);
  if (plan === undefined) return message;
  // The copy of `message`, made at the first change below it.
  let out: Record<string, unknown> | undefined;
  // A oneof's set case is looked up, not searched for among its (a layer's 170) fields.
  for (const [name, cases] of plan.oneofs) {
    const oneof = message[name] as OneofValue | undefined;
    if (oneof?.case === undefined || !cases.has(oneof.case)) continue;
    const value = visit(oneof.value as MessageObject, fn);
    if (value !== oneof.value) (out ??= { ...message })[name] = { case: oneof.case, value };
  }
  for (const field of plan.plain) {
    if (field.fieldKind === "list") {
      const list = message[field.localName] as MessageObject[];
      let copy: MessageObject[] | undefined;
      for (let i = 0; i < list.length; i++) {
        const item = list[i] as MessageObject;
        const value = visit(item, fn);
        if (value !== item) (copy ??= list.slice())[i] = value;
      }
      if (copy !== undefined) (out ??= { ...message })[field.localName] = copy;
    } else if (field.fieldKind === "map") {
      const map = message[field.localName] as Record<string, MessageObject>;
      let copy: Record<string, MessageObject> | undefined;
      for (const [key, item] of Object.entries(map)) {
        const value = visit(item, fn);
        if (value !== item) (copy ??= { ...map })[key] = value;
      }
      if (copy !== undefined) (out ??= { ...message })[field.localName] = copy;
    } else {
      const item = message[field.localName] as MessageObject | undefined;
      if (item === undefined) continue;
      const value = visit(item, fn);
      if (value !== item) (out ??= { ...message })[field.localName] = value;
    }
  }
  return (out as MessageObject | undefined) ?? message;
}

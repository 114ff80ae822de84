/**
 * assertModelShape: whether an object given as a model is one, checked against the
 * generated schema, so the walks after it never meet a field of the wrong type, a
 * cycle or hostile nesting.
 *
 * @packageDocumentation
 */
import { ScalarType, type DescField, type DescMessage, type DescOneof } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt/google/protobuf/descriptor_pb.js";
import { MAX_NESTING_DEPTH } from "./codec/decode-model.js";
import type { Model } from "./codec/model-types.js";
import { isShapeChecked, markShapeChecked } from "./codec/shape-checked.js";
import { describeThrown, describeValue } from "./describe-value.js";
import { QuantizeError } from "./errors.js";
import { ModelSchema } from "./gen/Model_pb.js";
import { NeuralNetworkLayerSchema, WeightParamsSchema } from "./gen/NeuralNetwork_pb.js";

/**
 * Refuses anything given as a model that is not one, as the generated schema
 * describes it: every field present that a decoded model always holds, each of
 * the right type (a bigint where the schema has a 64-bit integer, a Float32Array
 * for `WeightParams.floatValue`, a message object or nothing for a message field, a
 * oneof `{ case, value }` naming one of its fields), no message containing
 * itself, and no nesting deeper than `decodeModel` reads. Every model
 * `decodeModel` returns passes; this is for objects built or changed by hand. Run
 * by `assertHasNetwork` and `validateWeights`, so by every operation before it
 * reads the model.
 *
 * @param model - anything given as a model
 * @throws {@link QuantizeError} `unsupported-model` naming the field, the value
 *   found and its type, and where (`invalid-weights` inside a WeightParams)
 */
export function assertModelShape(model: unknown): asserts model is Model {
  if (isShapeChecked(model)) return;
  if (typeof model !== "object" || model === null || Array.isArray(model)) {
    throw new QuantizeError("unsupported-model", `expected a Core ML model object (as decodeModel returns), got ${describeValue(model)}`);
  }
  try {
    checkMessage(model as Fields, ModelSchema, ROOT, { onPath: new Set(), checked: new Map() });
    markShapeChecked(model);
  } catch (error) {
    if (error instanceof QuantizeError) throw error;
    // A getter or proxy trap on the object threw while we read it.
    throw new QuantizeError("unsupported-model", `reading the model threw: ${describeThrown(error)}`, { cause: error });
  }
}

/**
 * Where a message is: a step from its parent, spelled out only for a refusal (most
 * models are fine, and building every path up front would cost more than the check).
 */
interface Place {
  readonly parent: Place | undefined;
  /** The field or oneof case leading here ("" for a layer's kind: the layer names it). */
  readonly step: string;
  /** The index in a list field. */
  readonly index: number | undefined;
  /** For a layer: its name, shown in the path as the rest of the library does. */
  readonly layerName: unknown;
  /** Messages from the model down to this one, itself included. */
  readonly depth: number;
  /** Inside a WeightParams: refusals are `invalid-weights`. */
  readonly inWeights: boolean;
}

const ROOT: Place = { parent: undefined, step: "model", index: undefined, layerName: undefined, depth: 1, inWeights: false };

function pathOf(place: Place): string {
  const here = `${place.step === "" ? "" : `/${place.step}`}${place.index === undefined ? "" : `[${place.index}]`}${typeof place.layerName === "string" ? ` ${JSON.stringify(place.layerName)}` : ""}`;
  return place.parent === undefined ? place.step : `${pathOf(place.parent)}${here}`;
}

interface Walk {
  /** The messages from the root to the current one: meeting one again is a cycle. */
  readonly onPath: Set<object>;
  /** Messages checked already, with the depth they were met at: shared ones are checked once (no blow-up on a DAG). */
  readonly checked: Map<object, number>;
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === "object" && value !== null && !Array.isArray(value);

/** The class name in a typed array's internal slot (not fakeable by a lookalike object). */
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)?.get;

/** Whether `value` is a real Float32Array or Uint8Array (`type`), from this realm (fast) or another. */
function isTypedArray(value: unknown, type: Float32ArrayConstructor | Uint8ArrayConstructor): boolean {
  return value instanceof type ? ArrayBuffer.isView(value) : typedArrayName?.call(value) === type.name;
}

function refuse(place: Place, weights: boolean, message: string): never {
  throw new QuantizeError(place.inWeights || weights ? "invalid-weights" : "unsupported-model", message, { path: pathOf(place) });
}

function checkMessage(message: Fields, schema: DescMessage, place: Place, walk: Walk): void {
  if (place.depth > MAX_NESTING_DEPTH) {
    refuse(place, false, `the model nests deeper than ${MAX_NESTING_DEPTH} messages (decodeModel reads no deeper); does a ${schema.name} contain itself?`);
  }
  if (walk.onPath.has(message)) refuse(place, false, `this ${schema.name} contains itself (a cycle): a model is a tree`);
  const before = walk.checked.get(message);
  if (before !== undefined && before <= place.depth) return;
  walk.onPath.add(message);
  for (const member of schema.members) {
    if (member.kind === "oneof") checkOneof(message, member, schema, place, walk);
    else if (member.oneof === undefined) {
      const value = message[member.localName];
      if (value === undefined && !alwaysSet(member)) continue;
      checkValue(value, member, undefined, place, walk);
    }
  }
  walk.onPath.delete(message);
  walk.checked.set(message, place.depth);
}

function checkOneof(message: Fields, oneof: DescOneof, schema: DescMessage, place: Place, walk: Walk): void {
  const given = message[oneof.localName];
  const cases = (): string => oneof.fields.map((f) => f.localName).join(", ");
  if (!isObject(given)) {
    refuse(place, false, `${oneof.localName} must be { case, value } with case one of ${cases()} (or undefined), got ${describeValue(given)}`);
  }
  const kind = given.case;
  if (kind === undefined) return;
  const field = oneof.fields.find((f) => f.localName === kind);
  if (field === undefined) {
    refuse(place, false, `${oneof.localName} must be { case, value } with case one of ${cases()} (or undefined), got case ${describeValue(kind)}`);
  }
  checkValue(given.value, field, oneof, place, walk, schema.typeName === NeuralNetworkLayerSchema.typeName);
}

/**
 * Checks one field's value (`oneof`: the group it is a case of). A message value's
 * place is a step named after the field, or nothing for a layer's kind (`unnamed`).
 */
function checkValue(value: unknown, field: DescField, oneof: DescOneof | undefined, place: Place, walk: Walk, unnamed = false): void {
  const wrong = (what: string, expected: string, got: unknown): never =>
    refuse(place, field.message?.typeName === WeightParamsSchema.typeName, `${what} must be ${expected}, got ${describeValue(got)}`);
  const name = (): string => (oneof === undefined ? field.localName : `the value of ${oneof.localName} case "${field.localName}"`);
  switch (field.fieldKind) {
    case "scalar":
      if (!scalarRule(field.scalar, field.longAsString).accepts(value)) wrong(name(), scalarRule(field.scalar, field.longAsString).expected, value);
      return;
    case "enum":
      if (!Number.isInteger(value)) wrong(name(), `an integer (a ${field.enum.name} value)`, value);
      return;
    case "message":
      if (!isObject(value)) wrong(name(), `a ${field.message.name} message (an object)`, value);
      checkMessage(value as Fields, field.message, inner(place, field, unnamed ? "" : field.localName, undefined, undefined), walk);
      return;
    case "map":
      if (!isObject(value)) wrong(name(), "an object (a map)", value);
      for (const [key, entry] of Object.entries(value as Fields)) {
        if (field.mapKind === "message") {
          if (!isObject(entry)) wrong(`${name()}[${JSON.stringify(key)}]`, `a ${field.message.name} message (an object)`, entry);
          checkMessage(entry as Fields, field.message, inner(place, field, `${field.localName}[${JSON.stringify(key)}]`, undefined, undefined), walk);
        } else if (field.mapKind === "enum" ? !Number.isInteger(entry) : !SCALAR_RULES[field.scalar].accepts(entry)) {
          wrong(`${name()}[${JSON.stringify(key)}]`, field.mapKind === "enum" ? "an integer" : SCALAR_RULES[field.scalar].expected, entry);
        }
      }
      return;
    case "list": {
      if (isFloatValue(field)) {
        // The one typed-array field; an empty plain array is what create() leaves.
        if (!isTypedArray(value, Float32Array) && !(Array.isArray(value) && value.length === 0)) {
          wrong(name(), "a Float32Array (as decodeModel gives; wrap plain numbers in new Float32Array(…))", value);
        }
        return;
      }
      const element = (): string =>
        field.listKind === "message"
          ? `a ${field.message.name} message (an object)`
          : field.listKind === "enum"
            ? "an integer"
            : scalarRule(field.scalar, field.longAsString).expected;
      if (!Array.isArray(value)) wrong(name(), `an array (each entry ${element()})`, value);
      const list = value as unknown[];
      const layers = field.message?.typeName === NeuralNetworkLayerSchema.typeName;
      for (let i = 0; i < list.length; i++) {
        const entry = list[i];
        if (field.listKind === "message") {
          if (!isObject(entry)) wrong(`${name()}[${i}]`, element(), entry);
          checkMessage(entry as Fields, field.message, inner(place, field, field.localName, i, layers ? (entry as Fields).name : undefined), walk);
        } else if (field.listKind === "enum" ? !Number.isInteger(entry) : !scalarRule(field.scalar, field.longAsString).accepts(entry)) {
          wrong(`${name()}[${i}]`, element(), entry);
        }
      }
      return;
    }
  }
}

/** The place of a message one level below `place`, reached through `field`. */
function inner(place: Place, field: DescField, step: string, index: number | undefined, layerName: unknown): Place {
  return {
    parent: place,
    step,
    index,
    layerName,
    depth: place.depth + 1,
    inWeights: place.inWeights || field.message?.typeName === WeightParamsSchema.typeName,
  };
}

const isFloatValue = (field: DescField): boolean => field.parent.typeName === WeightParamsSchema.typeName && field.localName === "floatValue";

/** What a scalar field holds at run time, as protobuf-es represents it. */
interface ScalarRule {
  readonly expected: string;
  readonly accepts: (value: unknown) => boolean;
}

const isInteger = (value: unknown): boolean => Number.isInteger(value);
const isNumber = (value: unknown): boolean => typeof value === "number";
const INTEGER: ScalarRule = { expected: "an integer", accepts: isInteger };
const NATURAL: ScalarRule = { expected: "a non-negative integer", accepts: (v) => isInteger(v) && (v as number) >= 0 };
const BIGINT: ScalarRule = { expected: "a bigint", accepts: (v) => typeof v === "bigint" };
const NATURAL_BIGINT: ScalarRule = { expected: "a non-negative bigint", accepts: (v) => typeof v === "bigint" && v >= 0n };
/** A 64-bit field declared with `jstype = JS_STRING`. */
const LONG_AS_STRING: ScalarRule = { expected: "a string of digits", accepts: (v) => typeof v === "string" };

const SCALAR_RULES: { readonly [T in ScalarType]: ScalarRule } = {
  [ScalarType.DOUBLE]: { expected: "a number", accepts: isNumber },
  [ScalarType.FLOAT]: { expected: "a number", accepts: isNumber },
  [ScalarType.INT64]: BIGINT,
  [ScalarType.UINT64]: NATURAL_BIGINT,
  [ScalarType.INT32]: INTEGER,
  [ScalarType.FIXED64]: NATURAL_BIGINT,
  [ScalarType.FIXED32]: NATURAL,
  [ScalarType.BOOL]: { expected: "a boolean", accepts: (v) => typeof v === "boolean" },
  [ScalarType.STRING]: { expected: "a string", accepts: (v) => typeof v === "string" },
  [ScalarType.BYTES]: { expected: "a Uint8Array", accepts: (v) => isTypedArray(v, Uint8Array) },
  [ScalarType.UINT32]: NATURAL,
  [ScalarType.SFIXED32]: INTEGER,
  [ScalarType.SFIXED64]: BIGINT,
  [ScalarType.SINT32]: INTEGER,
  [ScalarType.SINT64]: BIGINT,
};

const scalarRule = (scalar: ScalarType, longAsString: boolean): ScalarRule => (longAsString ? LONG_AS_STRING : SCALAR_RULES[scalar]);

/**
 * Whether a message always holds this field, as create() and decoding leave it:
 * lists, maps and scalars without explicit presence do; message fields and
 * `optional` scalars may be absent.
 */
function alwaysSet(field: DescField): boolean {
  return field.fieldKind === "list" || field.fieldKind === "map" || (field.fieldKind !== "message" && field.presence === FeatureSet_FieldPresence.IMPLICIT);
}

/**
 * Quoting what a caller gave in an error message, whatever it is: building a
 * message must never throw (a BigInt, a Symbol, a cyclic object, an object whose
 * `toString` or getters throw, a revoked proxy).
 *
 * @packageDocumentation
 */

/** Longest string quoted in a message: enough to recognise the value, and the message stays one line. */
const MAX_QUOTED_CHARS = 60;
/** Array entries or object keys shown before "…": enough to recognise the value. */
const MAX_SHOWN_ENTRIES = 5;

/**
 * The name of a real typed array's class (from its internal slot, so a lookalike
 * object cannot fake it), or undefined for anything else.
 */
const typedArrayName: (value: unknown) => string | undefined = (() => {
  const getter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)?.get;
  return (value) => (getter === undefined ? undefined : (getter.call(value) as string | undefined));
})();

/**
 * A short description of any value for an error message: the value as code would
 * spell it, then its type in words, e.g. `"8" (a string)`, `8n (a bigint)`,
 * `[1, "a"] (an array)`, `{ skipLayerTypes } (an object)`, `a Set of 2`,
 * `undefined`. Objects are described by their shape, never by calling their
 * methods, so this never throws.
 *
 * @param value - anything
 * @returns one line, at most a few dozen characters plus the shown entries
 * @example
 * ```ts
 * `nbits must be 1..8, got ${describeValue("8")}` // nbits must be 1..8, got "8" (a string)
 * ```
 */
export function describeValue(value: unknown): string {
  try {
    return describe(value);
  } catch {
    // A proxy trap or a getter threw while we looked: say what we can without it.
    return `a value of type ${typeof value}`;
  }
}

/**
 * What a caller's function threw, for a message that wraps it: an Error's message,
 * anything else described by {@link describeValue}. Never throws.
 *
 * @param thrown - the value caught
 * @returns one line
 */
export function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) {
      const message: unknown = thrown.message;
      return typeof message === "string" ? message : describeValue(message);
    }
  } catch {
    // A proxy or a throwing `message` getter: fall through to the shape.
  }
  return describeValue(thrown);
}

function describe(value: unknown): string {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string":
      return `${spell(value)} (a string)`;
    case "number":
      return `${spell(value)} (a number)`;
    case "bigint":
      return `${spell(value)} (a bigint)`;
    case "boolean":
      return `${spell(value)} (a boolean)`;
    case "symbol":
      return `${spell(value)} (a symbol)`;
    case "function":
      return "a function";
    default:
      return describeObject(value as object | null);
  }
}

function describeObject(value: object | null): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `${spellEntries(value)} (an array)`;
  const typed = typedArrayName(value);
  if (typed !== undefined) return `a ${typed} of ${(value as ArrayLike<unknown>).length}`;
  if (value instanceof Set) return `a Set of ${value.size}`;
  if (value instanceof Map) return `a Map of ${value.size}`;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return `${spellKeys(value)} (an object)`;
  const name: unknown = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? `an instance of ${name}` : `${spellKeys(value)} (an object)`;
}

/** A value as code spells it, shallowly: nested objects and arrays are elided. */
function spell(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}…` : value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value.toString()}n`;
    case "symbol": {
      const description = value.description;
      return `Symbol(${description === undefined ? "" : description.slice(0, MAX_QUOTED_CHARS)})`;
    }
    case "function":
      return "function";
    case "object":
      return value === null ? "null" : Array.isArray(value) ? "[…]" : "{…}";
    default:
      return String(value); // undefined, boolean
  }
}

function spellEntries(list: readonly unknown[]): string {
  const shown = list.slice(0, MAX_SHOWN_ENTRIES).map(spell);
  const more = list.length - shown.length;
  return `[${shown.join(", ")}${more > 0 ? `, … ${more} more` : ""}]`;
}

function spellKeys(object: object): string {
  const keys = Object.keys(object);
  if (keys.length === 0) return "{}";
  const shown = keys.slice(0, MAX_SHOWN_ENTRIES).map((key) => (key.length <= MAX_QUOTED_CHARS && /^[A-Za-z_$][\w$]*$/.test(key) ? key : spell(key)));
  const more = keys.length - shown.length;
  return `{ ${shown.join(", ")}${more > 0 ? `, … ${more} more` : ""} }`;
}

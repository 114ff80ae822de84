/**
 * A JSON reader for coremltools config text that keeps what `JSON.parse` loses:
 * whether a number was written as an integer (`1`) or not (`1.0`, `1e-12`).
 * coremltools' config classes check Python types (`threshold=1` is refused, an
 * int where a float is required), and Python's `json` writes ints without a
 * point and floats with one, so the text says which the config holds.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../errors.js";

/** A JSON number written without fraction or exponent: an integer literal, Python's `int`. */
const INTEGER_LITERAL = /^-?(?:0|[1-9]\d*)$/;
/** A JSON number as RFC 8259 writes it. */
const NUMBER_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A JSON string's extent, escapes included; JSON.parse then checks its escapes and characters. */
const STRING_LITERAL = /"(?:[^"\\]|\\[\s\S])*"/y;
/** Nesting deeper than a config has, refused before the stack is. */
const MAX_DEPTH = 64;

/**
 * Parses the JSON text of a coremltools config (a `--config FILE.json`, or a
 * case of the golden set) as `JSON.parse` does, except that **integer literals
 * come back as `bigint`** (`1` is `1n`; `1.0`, `0.5` and `1e-12` are numbers).
 * The `*ConfigFromJson` readers take the result: they refuse an integer literal
 * where coremltools requires a float (`threshold`, `minimum_sparsity_percentile`,
 * `target_sparsity`), as coremltools refuses a Python int there, and read every
 * other bigint as the number it is.
 *
 * @param text - the JSON text
 * @returns the value: objects, arrays, strings, booleans, null, numbers and bigints
 * @throws {@link QuantizeError} `invalid-option` naming the line and column of a syntax error
 * @example
 * ```ts
 * const config = prunerConfigFromJson(parseConfigJson(text));
 * ```
 */
export function parseConfigJson(text: string): unknown {
  let at = 0;
  const fail = (what: string): QuantizeError => {
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    return new QuantizeError("invalid-option", `config JSON, line ${line} column ${column}: ${what}`);
  };
  const skipSpace = (): void => {
    while (at < text.length && " \t\n\r".includes(text[at] as string)) at++;
  };
  const consume = (char: string): void => {
    skipSpace();
    if (text[at] !== char) throw fail(`expected ${JSON.stringify(char)}, found ${at < text.length ? JSON.stringify(text[at]) : "the end"}`);
    at++;
  };
  const string = (): string => {
    STRING_LITERAL.lastIndex = at;
    const match = STRING_LITERAL.exec(text);
    if (match === null) throw fail("a malformed string");
    try {
      const parsed = JSON.parse(match[0]) as string;
      at += match[0].length;
      return parsed;
    } catch {
      throw fail("a malformed string");
    }
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) throw fail(`nested deeper than ${MAX_DEPTH}`);
    skipSpace();
    const char = text[at];
    if (char === "{") {
      at++;
      const object: Record<string, unknown> = {};
      skipSpace();
      if (text[at] === "}") {
        at++;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text[at] !== '"') throw fail("expected a field name");
        const key = string();
        consume(":");
        // Defined, not assigned: a key `__proto__` is a field, as JSON.parse makes it.
        Object.defineProperty(object, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        skipSpace();
        if (text[at] === ",") at++;
        else if (text[at] === "}") {
          at++;
          return object;
        } else throw fail('expected "," or "}"');
      }
    }
    if (char === "[") {
      at++;
      const array: unknown[] = [];
      skipSpace();
      if (text[at] === "]") {
        at++;
        return array;
      }
      for (;;) {
        array.push(value(depth + 1));
        skipSpace();
        if (text[at] === ",") at++;
        else if (text[at] === "]") {
          at++;
          return array;
        } else throw fail('expected "," or "]"');
      }
    }
    if (char === '"') return string();
    for (const [word, literal] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return literal;
      }
    }
    NUMBER_LITERAL.lastIndex = at;
    const match = NUMBER_LITERAL.exec(text);
    if (match === null) throw fail(at < text.length ? `unexpected ${JSON.stringify(char)}` : "unexpected end");
    at += match[0].length;
    return INTEGER_LITERAL.test(match[0]) ? BigInt(match[0]) : Number(match[0]);
  };
  const result = value(0);
  skipSpace();
  if (at < text.length) throw fail("text after the JSON value");
  return result;
}

/**
 * One field of a coremltools op config as the config readers take it: integer
 * literals ({@link parseConfigJson}'s bigints, also inside lists) as numbers, and
 * an integer literal refused where coremltools requires a float. Plain numbers
 * (from JavaScript callers, where `1` and `1.0` are one value) pass as they are.
 *
 * @param value - the field's value
 * @param floatOnly - whether coremltools takes only a Python float here (`attrs` `instance_of(float)`)
 * @param where - the op config and field, in messages (`global_config.threshold`)
 * @returns the value with numbers only
 * @throws {@link QuantizeError} `invalid-option` for an integer literal where a
 *   float is required, or one beyond 2^53
 */
export function configFieldValue(value: unknown, floatOnly: boolean, where: string): unknown {
  if (typeof value === "bigint") {
    if (floatOnly) throw new QuantizeError("invalid-option", `${where} ${value} is an integer; coremltools takes a float here: write ${value}.0`);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new QuantizeError("invalid-option", `${where} ${value} is beyond 2^53; use a smaller integer`);
    }
    return Number(value);
  }
  if (Array.isArray(value)) return value.map((item, i) => configFieldValue(item, floatOnly, `${where}[${i}]`));
  return value;
}

/**
 * Options objects read once, against a table of rules: each option is read exactly
 * once (a getter runs once, and a throwing one is reported, not propagated), checked,
 * and kept in a plain object the rest of the code reads. And the wrapper that
 * reports a caller's callback throwing.
 *
 * @packageDocumentation
 */
import { describeThrown, describeValue } from "./describe-value.js";
import { QuantizeError } from "./errors.js";

/** Longest string repeated in a hint's example (the message quotes it already). */
const SHORT_EXAMPLE_CHARS = 40;

/** What one option accepts. */
export interface OptionRule {
  /** The values accepted, in words, completing "option `name` must be …". */
  readonly expected: string;
  /** Whether `value` is accepted (asked about `undefined` only when `required`). */
  readonly accepts: (value: unknown) => boolean;
  /** The option must be given. @defaultValue false */
  readonly required?: boolean;
  /** For a refused value: how to fix a likely mistake, or undefined. @defaultValue none */
  readonly hint?: (value: unknown) => string | undefined;
}

/** One {@link OptionRule} per option of `T`. */
export type OptionRules<T> = { readonly [K in keyof T]-?: OptionRule };

/**
 * Reads the options a function was given, once, and checks each against its rule.
 * Keys without a rule are not read; options left `undefined` are left out (their
 * default applies).
 *
 * @param options - what the caller passed (anything)
 * @param rules - one rule per option
 * @param owner - the function or class, for messages (`quantizeWeights`)
 * @returns a plain object holding the accepted options
 * @throws {@link QuantizeError} `invalid-option` when `options` is not an object
 *   (`undefined` is fine when no option is required) or an option is refused,
 *   naming the option, the value and its type; `callback` when reading or checking
 *   an option ran the caller's code (a getter) and it threw
 */
export function readOptions<T extends object>(options: unknown, rules: OptionRules<T>, owner: string): T {
  const keys = Object.keys(rules) as (keyof T & string)[];
  const required = keys.filter((key) => rules[key].required === true);
  const given = options === undefined && required.length === 0 ? {} : options;
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    const needs = required.length === 0 ? "an object (or nothing)" : `an object with ${required.join(", ")}`;
    throw new QuantizeError("invalid-option", `the options of ${owner} must be ${needs}, got ${describeValue(options)}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const rule = rules[key];
    const value = runCallerCode(() => (given as Record<string, unknown>)[key], `reading option ${key} of ${owner}`);
    if (value === undefined && rule.required !== true) continue;
    if (!runCallerCode(() => rule.accepts(value), `checking option ${key} of ${owner}`)) {
      const hint = runCallerCode(() => rule.hint?.(value), `checking option ${key} of ${owner}`);
      throw new QuantizeError(
        "invalid-option",
        `${owner} option ${key} must be ${rule.expected}, got ${describeValue(value)}${hint === undefined ? "" : `; ${hint}`}`,
      );
    }
    out[key] = value;
  }
  return out as T;
}

/**
 * Runs code that may run the caller's (a getter, a proxy trap, a callback) and
 * reports a throw as a `callback` error wrapping it.
 *
 * @param run - the code
 * @param doing - what it does, for the message ("onProgress", "reading option nbits")
 * @param path - where in the model, when it concerns one place (or a function
 *   building it, called only if `run` throws)
 * @returns what `run` returns
 * @throws {@link QuantizeError} `callback`, with the caller's error as `cause`
 */
export function runCallerCode<R>(run: () => R, doing: string, path?: string | (() => string)): R {
  try {
    return run();
  } catch (cause) {
    const where = typeof path === "function" ? path() : path;
    throw new QuantizeError("callback", `${doing} threw: ${describeThrown(cause)}`, where === undefined ? { cause } : { path: where, cause });
  }
}

/**
 * `callback` wrapped so that a throw is reported as a `callback` error naming it and
 * where (see {@link runCallerCode}).
 *
 * @param callback - the caller's function, or undefined
 * @param name - its option name, for the message
 * @param pathOf - where the call concerns, from its argument
 * @returns the wrapped function, or undefined when `callback` is
 */
export function guardCallback<A>(
  callback: ((argument: A) => void) | undefined,
  name: string,
  pathOf: (argument: A) => string | undefined,
): ((argument: A) => void) | undefined {
  if (callback === undefined) return undefined;
  return (argument) => runCallerCode(() => callback(argument), name, pathOf(argument));
}

/** A function (for callback options). */
export const isFunction = (value: unknown): boolean => typeof value === "function";

/** `true` or `false`. */
export const isBoolean = (value: unknown): boolean => typeof value === "boolean";

/** A finite number at least 0. */
export const isNonNegativeNumber = (value: unknown): boolean => typeof value === "number" && Number.isFinite(value) && value >= 0;

/** An array whose every entry is a string. */
export const isStringArray = (value: unknown): boolean => Array.isArray(value) && value.every((entry) => typeof entry === "string");

/**
 * The hint for a list option given as one string or as a Set: write an array.
 *
 * @param value - the refused value
 * @returns the advice, or undefined for other values
 */
export function arrayHint(value: unknown): string | undefined {
  if (typeof value === "string") {
    const example = value.length <= SHORT_EXAMPLE_CHARS ? `[${JSON.stringify(value)}]` : '["…"]';
    return `a list is an array: write ${example} (a string is not split, nor matched by substring)`;
  }
  if (value instanceof Set) return "a list is an array: write [...set]";
  return undefined;
}

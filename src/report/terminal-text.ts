/**
 * Text from a model or a command line made safe to print on a terminal. Layer
 * names, blob names and file names are the model author's (or an attacker's)
 * strings: an ESC or CSI (U+009B) could drive the terminal, a newline could forge a
 * second line of output, a bidirectional override (U+202E) could make a name read
 * backwards. Each such character is shown as an escape instead.
 *
 * @packageDocumentation
 */

/**
 * The characters never printed as they are: C0 controls (newline and tab
 * included: a name must stay on its line and in its column), DEL and the C1
 * controls, the line and paragraph separators, and the bidirectional marks,
 * embeddings, overrides and isolates.
 */
const UNPRINTABLE = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069";

const UNPRINTABLE_PATTERN = new RegExp(`[${UNPRINTABLE}]`, "g");
// JSON.stringify escapes the C0 controls itself; these are the ones it leaves raw.
const UNPRINTABLE_IN_JSON_PATTERN = new RegExp(`[${UNPRINTABLE.replace("\\u0000-\\u001f", "")}]`, "g");

const hex = (c: string, digits: number): string => (c.codePointAt(0) ?? 0).toString(16).padStart(digits, "0");

/**
 * Replaces every character that could change what a terminal shows (C0 and C1
 * controls, DEL, line separators, bidirectional controls) with a visible escape: `\xHH` up to U+00FF, `\uHHHH` above.
 * The result is a single line.
 *
 * @param text - a name, path or message
 * @returns the text with those characters escaped; other text as it was
 * @example
 * ```ts
 * escapeForTerminal("conv\u001b[31m1\n"); // 'conv\\x1b[31m1\\x0a'
 * ```
 */
export function escapeForTerminal(text: string): string {
  return text.replace(UNPRINTABLE_PATTERN, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * JSON text with the characters that JSON.stringify leaves raw but a terminal
 * acts on (DEL, C1, separators, bidirectional controls) written as `\uHHHH`
 * escapes: the same JSON value, safe to print.
 *
 * @param json - the output of JSON.stringify
 * @returns the equivalent JSON text
 */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(UNPRINTABLE_IN_JSON_PATTERN, (c) => `\\u${hex(c, 4)}`);
}

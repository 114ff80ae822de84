/**
 * How many terminal columns text takes, and text shortened to a number of columns.
 * Layer names are the model author's: they may hold CJK characters (two columns
 * each), combining accents (none) or emoji, so counting UTF-16 code units would
 * misalign a table.
 *
 * @packageDocumentation
 */

/** Characters that take no column: combining marks, format characters (zero-width joiner, soft hyphen), variation selectors. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: one code point is tested at a time, so marks in the class stand alone.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u200b\ufe00-\ufe0f]$/u;

/**
 * Characters a terminal draws two columns wide: the East Asian wide and fullwidth
 * ranges (Hangul Jamo, CJK, Hangul syllables, fullwidth forms, …) and emoji shown as
 * pictures.
 */
const WIDE =
  /^[\u1100-\u115f\u231a\u231b\u2329\u232a\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}\p{Emoji_Presentation}]$/u;

/** The mark put where text is cut. */
export const ELLIPSIS = "…";

/**
 * The columns one character (code point) takes on a terminal: 0, 1 or 2.
 *
 * @param char - one code point
 * @returns its width
 */
export function charWidth(char: string): number {
  // ASCII, by far the most common, without a regular expression.
  const code = char.charCodeAt(0);
  if (code >= 0x20 && code < 0x7f) return 1;
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/**
 * The columns `text` takes on a terminal: wide characters count two, combining
 * marks none. Meant for text already escaped for the terminal (see
 * `escapeForTerminal`), which holds no control character.
 *
 * @param text - printable text
 * @returns its width in columns
 * @example
 * ```ts
 * displayWidth("conv"); // 4
 * displayWidth("卷积"); // 4
 * ```
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/**
 * `text` shortened to at most `width` columns by replacing its middle with `…`:
 * the start and the end stay, the end getting the extra column when the two cannot
 * be equal (it holds the layer's own name). A character is never split, a wide
 * character that does not fit is left out, and combining marks stay with their
 * base. Text that fits is returned as it is.
 *
 * @param text - printable text (escaped for the terminal)
 * @param width - the most columns the result may take; at least 1
 * @returns the text, or its start, `…` and its end
 * @example
 * ```ts
 * shortenMiddle("encoder/block_12/conv_3", 19); // "encoder/b…12/conv_3"
 * ```
 */
export function shortenMiddle(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 1) return width === 1 ? ELLIPSIS : "";
  const room = width - 1;
  const chars = [...text];
  const headRoom = Math.floor(room / 2);
  let headWidth = 0;
  let head = 0;
  // The head takes characters while they fit, and the zero-width marks after the last.
  while (head < chars.length && headWidth + charWidth(chars[head] as string) <= headRoom) headWidth += charWidth(chars[head++] as string);
  let tailWidth = 0;
  let tail = chars.length;
  const tailRoom = room - headWidth;
  while (tail > head && tailWidth + charWidth(chars[tail - 1] as string) <= tailRoom) tailWidth += charWidth(chars[--tail] as string);
  // A combining mark whose base was cut off goes with it.
  while (tail < chars.length && charWidth(chars[tail] as string) === 0) tail++;
  return `${chars.slice(0, head).join("")}${ELLIPSIS}${chars.slice(tail).join("")}`;
}

/**
 * `text` padded with spaces to `width` columns, on the right (`"left"` alignment)
 * or on the left (`"right"`). Text as wide or wider is returned as it is.
 *
 * @param text - printable text
 * @param width - the columns to fill
 * @param align - which side the text keeps
 * @returns the padded text
 */
export function padToWidth(text: string, width: number, align: "left" | "right"): string {
  const pad = " ".repeat(Math.max(0, width - displayWidth(text)));
  return align === "right" ? pad + text : text + pad;
}

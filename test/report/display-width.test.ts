/**
 * Terminal widths and middle shortening: ASCII, wide (CJK, emoji), zero-width
 * (combining marks, joiners), surrogate pairs never split; properties over random text.
 */
import * as fc from "fast-check";
import { charWidth, displayWidth, ELLIPSIS, padToWidth, shortenMiddle } from "../../src/report/display-width.js";
import { propertySeed } from "../support/property-seed.js";

const params = { seed: propertySeed(), numRuns: 500 };

describe("displayWidth", () => {
  test.each([
    ["", 0],
    ["conv_3", 6],
    ["卷积", 4],
    ["ｆｕｌｌ", 8],
    ["한글", 4],
    ["e\u0301", 1],
    ["a\u200db", 2],
    ["🙂", 2],
    ["𝒳", 1],
    ["…", 1],
    ["\\x1b[31m", 8],
  ])("%j is %i columns", (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  test("charWidth: 0, 1 or 2 for one code point", () => {
    expect([..."a卷\u0301🙂\ufe0f"].map(charWidth)).toEqual([1, 2, 0, 2, 0]);
  });
});

describe("shortenMiddle", () => {
  test("text that fits is returned as it is", () => {
    expect(shortenMiddle("conv_3", 6)).toBe("conv_3");
    expect(shortenMiddle("卷积", 4)).toBe("卷积");
  });

  test.each([
    ["encoder/block_12/conv_3", 19, "encoder/b…12/conv_3"],
    ["encoder/block_12/conv_3", 20, "encoder/b…_12/conv_3"],
    ["abcdef", 5, "ab…ef"],
    ["abcdef", 2, "…f"],
    ["abcdef", 1, "…"],
    ["abcdef", 0, ""],
  ])("%j in %i columns: %j (the end gets the odd column)", (text, width, expected) => {
    expect(shortenMiddle(text, width)).toBe(expected);
  });

  test("a wide character that does not fit is left out, never split; combining marks stay with their base", () => {
    expect(shortenMiddle("卷积神经网络", 6)).toBe("卷…络");
    expect(displayWidth(shortenMiddle("卷积神经网络", 6))).toBe(5);
    expect(shortenMiddle("🙂🙂🙂🙂", 5)).toBe("🙂…🙂");
    expect(shortenMiddle("ae\u0301e\u0301e\u0301z", 4)).toBe("a…e\u0301z");
    // A combining mark whose base is cut off goes with it.
    expect(shortenMiddle("ab卷\u0301", 3)).toBe("a…");
    expect(shortenMiddle("abcde\u0301", 3)).toBe("a…e\u0301");
  });

  test("property: at most `width` columns, the ellipsis once, the start and end of the text kept, deterministic", () => {
    const text = fc.array(fc.constantFrom("a", "Z", "/", "_", "3", "卷", "🙂", "e\u0301", "𝒳", "\u200d"), { maxLength: 60 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 70 }), (t, width) => {
        const short = shortenMiddle(t, width);
        expect(shortenMiddle(t, width)).toBe(short);
        expect(displayWidth(short)).toBeLessThanOrEqual(width);
        if (displayWidth(t) <= width) {
          expect(short).toBe(t);
          return;
        }
        const [head = "", tail = "", ...rest] = short.split(ELLIPSIS);
        expect(rest).toEqual([]);
        expect(t.startsWith(head) && t.endsWith(tail)).toBe(true);
        // No lone surrogate: every code point of the result is one of the text's.
        expect(short).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
        // Nothing is lost needlessly: within two columns of the width (one wide character may not fit).
        expect(displayWidth(short)).toBeGreaterThanOrEqual(width - 2);
      }),
      params,
    );
  });
});

describe("padToWidth", () => {
  test("pads by columns, on the side away from the alignment", () => {
    expect(padToWidth("卷积", 6, "left")).toBe("卷积  ");
    expect(padToWidth("ab", 4, "right")).toBe("  ab");
    expect(padToWidth("toolong", 3, "left")).toBe("toolong");
  });
});

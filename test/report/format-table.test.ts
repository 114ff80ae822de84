/**
 * Plain-text tables and byte counts for people.
 */
import * as fc from "fast-check";
import { displayWidth, shortenMiddle } from "../../src/report/display-width.js";
import { formatBytes, formatTable, TABLE_WIDTH, type Column } from "../../src/report/format-table.js";
import { propertySeed } from "../support/property-seed.js";

const params = { seed: propertySeed(), numRuns: 300 };

describe("formatTable", () => {
  test("pads columns to their widest cell, two spaces apart, numbers right-aligned", () => {
    const columns: Column[] = [{ header: "name" }, { header: "n", align: "right" }, { header: "note" }];
    const out = formatTable(columns, [
      ["a", "1", "x"],
      ["longer", "12345", ""],
    ]);
    expect(out.split("\n")).toEqual(["name        n  note", "a           1  x", "longer  12345"]);
  });

  test("a right-aligned header is padded on the left when its cells are wider", () => {
    const out = formatTable(
      [{ header: "k" }, { header: "bytes", align: "right" }],
      [
        ["x", "12.5 KB"],
        ["yy", "3 B"],
      ],
    );
    expect(out.split("\n")).toEqual(["k     bytes", "x   12.5 KB", "yy      3 B"]);
  });

  test("no trailing spaces when the last column is left-aligned and short", () => {
    const out = formatTable(
      [{ header: "a" }, { header: "long header" }],
      [
        ["1", "x"],
        ["22", ""],
      ],
    );
    for (const line of out.split("\n")) expect(line).toBe(line.trimEnd());
    expect(out.split("\n")).toEqual(["a   long header", "1   x", "22"]);
  });

  test("a header alone when there are no rows; missing cells are empty", () => {
    expect(formatTable([{ header: "x" }, { header: "y", align: "right" }], [])).toBe("x  y");
    expect(formatTable([{ header: "x" }, { header: "yy", align: "right" }], [["abc"]]).split("\n")).toEqual(["x    yy", "abc"]);
  });

  test("no trailing newline", () => {
    expect(formatTable([{ header: "h" }], [["v"]])).toBe("h\nv");
  });

  test("property: every cell sits in its column, lines carry no trailing spaces", () => {
    const cell = fc.stringMatching(/^[A-Za-z0-9.[\]",/-]{0,12}$/);
    const table = fc
      .array(fc.record({ header: fc.stringMatching(/^[a-z]{1,8}$/), right: fc.boolean() }), { minLength: 1, maxLength: 6 })
      .chain((cols) => fc.tuple(fc.constant(cols), fc.array(fc.array(cell, { minLength: cols.length, maxLength: cols.length }), { maxLength: 8 })));
    fc.assert(
      fc.property(table, ([cols, rows]) => {
        const columns: Column[] = cols.map((c) => (c.right ? { header: c.header, align: "right" } : { header: c.header }));
        const lines = formatTable(columns, rows).split("\n");
        expect(lines).toHaveLength(rows.length + 1);
        const widths = cols.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
        const all = [cols.map((c) => c.header), ...rows];
        lines.forEach((line, li) => {
          expect(line).toBe(line.trimEnd());
          let start = 0;
          cols.forEach((c, i) => {
            const text = all[li]?.[i] ?? "";
            const width = widths[i] ?? 0;
            const slot = line.slice(start, start + width).padEnd(width);
            expect(c.right ? slot.trimStart() : slot.trimEnd()).toBe(text);
            expect(slot).toBe(c.right ? text.padStart(width) : text.padEnd(width));
            if (i > 0) expect(line.slice(start - 2, start).padEnd(2)).toBe("  ");
            start += width + 2;
          });
          expect(line.length).toBeLessThanOrEqual(start - 2);
        });
      }),
      params,
    );
  });
});

describe("formatBytes", () => {
  test.each([
    [0, "0 B"],
    [1, "1 B"],
    [999, "999 B"],
    [1000, "1.0 KB"],
    [1049, "1.0 KB"],
    [1051, "1.1 KB"],
    [3400, "3.4 KB"],
    [999_000, "999.0 KB"],
    [999_949, "999.9 KB"],
    [1_000_000, "1.0 MB"],
    [61_200_000, "61.2 MB"],
    [999_000_000, "999.0 MB"],
    [1_000_000_000, "1.0 GB"],
    [1_500_000_000_000, "1500.0 GB"],
  ])("%d -> %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test("a value that rounds up to 1000 of a unit is shown in the next unit, not as 1000.0", () => {
    expect(formatBytes(999_950)).toBe("1.0 MB");
    expect(formatBytes(999_999)).toBe("1.0 MB");
    expect(formatBytes(999_950_000)).toBe("1.0 GB");
  });

  test("property: below 1000 the exact count in B; above, one decimal within half a step", () => {
    const units: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5e12 }), (bytes) => {
        const text = formatBytes(bytes);
        if (bytes < 1000) {
          expect(text).toBe(`${bytes} B`);
          return;
        }
        const match = /^(\d+\.\d) (KB|MB|GB)$/.exec(text);
        expect(match).not.toBeNull();
        const unit = units[match?.[2] ?? "B"] ?? 1;
        expect(Math.abs(Number(match?.[1]) * unit - bytes)).toBeLessThanOrEqual(0.05 * unit + 1e-6 * bytes);
      }),
      params,
    );
  });

  test("property: never decreases as the count grows", () => {
    const value = (text: string): number => {
      const [n = "0", u = "B"] = text.split(" ");
      return Number(n) * ({ B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[u] ?? Number.NaN);
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5e12 }), fc.integer({ min: 0, max: 5e12 }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(value(formatBytes(lo))).toBeLessThanOrEqual(value(formatBytes(hi)));
      }),
      params,
    );
  });
});

describe("formatTable: fitting a width", () => {
  const name = (n: number, tag: string): string => `${tag}/${"m".repeat(Math.max(0, n - tag.length - 2))}/${tag}`;

  test("a shortenable column loses the middle of its cells until the lines fit; the others stay whole", () => {
    const columns: Column[] = [{ header: "layer", shorten: shortenMiddle }, { header: "note" }, { header: "n", align: "right" }];
    const out = formatTable(
      columns,
      [
        [name(200, "a"), "kept whole", "1"],
        ["short", "x", "22"],
      ],
      { maxWidth: 40 },
    );
    const lines = out.split("\n");
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(40);
    // 24 (the floor) + 2 + 10 + 2 + 2 = 40.
    expect(lines).toEqual(["layer                     note         n", "a/mmmmmmmmm…mmmmmmmmmm/a  kept whole   1", "short                     x           22"]);
  });

  test("the default width is 100 columns; without a shortenable column nothing is cut", () => {
    const long = name(200, "z");
    const fitted = formatTable([{ header: "layer", shorten: shortenMiddle }, { header: "x" }], [[long, "1"]]).split("\n");
    expect(TABLE_WIDTH).toBe(100);
    expect(fitted.map(displayWidth)).toEqual([displayWidth(fitted[0] ?? ""), 100]);
    expect(formatTable([{ header: "layer" }, { header: "x" }], [[long, "1"]]).split("\n")[1]).toBe(`${long}  1`);
  });

  test("two shortenable columns: the wider gives first, then they take turns", () => {
    const columns: Column[] = [
      { header: "a", shorten: shortenMiddle },
      { header: "b", shorten: shortenMiddle },
    ];
    const [, row = ""] = formatTable(columns, [[name(90, "p"), name(40, "q")]], { maxWidth: 60 }).split("\n");
    const [a = "", b = ""] = row.split(/ {2,}/);
    expect(displayWidth(row)).toBe(60);
    expect([displayWidth(a), displayWidth(b)]).toEqual([29, 29]);
    expect([a.startsWith("p/") && a.endsWith("/p"), b.startsWith("q/") && b.endsWith("/q")]).toEqual([true, true]);
  });

  test("never below 24 columns to fit; when the others leave too little even then, names keep 40", () => {
    const wide = "w".repeat(90);
    const columns: Column[] = [{ header: "layer", shorten: shortenMiddle }, { header: "other" }];
    // 24 + 2 + 60 = 86 fits in 90: cut to make it fit.
    expect(displayWidth(formatTable(columns, [[name(100, "a"), "o".repeat(60)]], { maxWidth: 86 }).split("\n")[1] ?? "")).toBe(86);
    expect(displayWidth(formatTable(columns, [[name(100, "a"), "o".repeat(60)]], { maxWidth: 80 }).split("\n")[1] ?? "")).toBe(40 + 2 + 60);
    // A name of 30 in a table that cannot fit: left whole.
    expect(formatTable(columns, [[name(30, "a"), wide]], { maxWidth: 100 }).split("\n")[1]).toBe(`${name(30, "a")}  ${wide}`);
  });

  test("wide characters are padded by columns, so the columns line up", () => {
    const out = formatTable(
      [
        { header: "layer", shorten: shortenMiddle },
        { header: "n", align: "right" },
      ],
      [
        ["卷积", "1"],
        ["conv", "22"],
      ],
    ).split("\n");
    expect(out).toEqual(["layer   n", "卷积    1", "conv   22"]);
  });

  test("cells are escaped before they are measured and shortened", () => {
    const [, row = ""] = formatTable([{ header: "layer", shorten: shortenMiddle }, { header: "x" }], [[`${"a".repeat(30)}\u001b${"b".repeat(30)}`, "1"]], {
      maxWidth: 30,
    }).split("\n");
    expect(row).not.toContain("\u001b");
    expect(displayWidth(row)).toBeLessThanOrEqual(30);
  });

  test("property: with a shortenable first column and short others, every line fits the width", () => {
    const cell = fc.stringMatching(/^[A-Za-z0-9./_-]{0,12}$/);
    const nameCell = fc.array(fc.constantFrom("a", "/", "卷", "🙂", "e\u0301"), { maxLength: 150 }).map((p) => p.join(""));
    fc.assert(
      fc.property(fc.array(fc.tuple(nameCell, cell, cell), { maxLength: 6 }), fc.integer({ min: 60, max: 120 }), (rows, maxWidth) => {
        const columns: Column[] = [{ header: "layer", shorten: shortenMiddle }, { header: "b" }, { header: "c", align: "right" }];
        for (const line of formatTable(columns, rows, { maxWidth }).split("\n")) expect(displayWidth(line)).toBeLessThanOrEqual(maxWidth);
      }),
      params,
    );
  });
});

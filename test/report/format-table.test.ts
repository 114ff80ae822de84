/**
 * Plain-text tables and byte counts for people.
 */
import * as fc from "fast-check";
import { formatBytes, formatTable, type Column } from "../../src/report/format-table.js";

/** Pinned so a failure reproduces; change it only on purpose. */
const SEED = 20240611;
const params = { seed: SEED, numRuns: 300 };

describe("formatTable", () => {
  test("pads columns to their widest cell, two spaces apart, numbers right-aligned", () => {
    const columns: Column[] = [{ header: "name" }, { header: "n", align: "right" }, { header: "note" }];
    const out = formatTable(columns, [
      ["a", "1", "x"],
      ["longer", "12345", ""],
    ]);
    expect(out.split("\n")).toEqual([
      "name        n  note",
      "a           1  x",
      "longer  12345",
    ]);
  });

  test("a right-aligned header is padded on the left when its cells are wider", () => {
    const out = formatTable([{ header: "k" }, { header: "bytes", align: "right" }], [["x", "12.5 KB"], ["yy", "3 B"]]);
    expect(out.split("\n")).toEqual([
      "k     bytes",
      "x   12.5 KB",
      "yy      3 B",
    ]);
  });

  test("no trailing spaces when the last column is left-aligned and short", () => {
    const out = formatTable([{ header: "a" }, { header: "long header" }], [["1", "x"], ["22", ""]]);
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

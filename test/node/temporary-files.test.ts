import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveTemporaries, registerTemporary, removeTemporaries } from "../../src/node/temporary-files.js";

describe("removeTemporaries (what a signal handler runs)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "temporaries-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("removes registered files and staged folders with their contents, and forgets them", () => {
    const file = join(dir, "model.mlmodel.tmp");
    const folder = join(dir, ".small.mlpackage.tmp");
    writeFileSync(file, "x");
    mkdirSync(join(folder, "Data"), { recursive: true });
    writeFileSync(join(folder, "Data", "weight.bin"), "y");
    registerTemporary(file);
    registerTemporary(folder);
    removeTemporaries();
    expect([existsSync(file), existsSync(folder)]).toEqual([false, false]);
    expect(liveTemporaries()).toEqual([]);
  });

  test("ignores temporaries already gone", () => {
    registerTemporary(join(dir, "gone"));
    expect(() => removeTemporaries()).not.toThrow();
    expect(liveTemporaries()).toEqual([]);
  });
});

/**
 * scripts/check-docs.js, run on small sites in a temporary directory: it passes a
 * site within the limits and names each file over 300 KB and a site over 5 MB.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let site: string;
beforeEach(() => {
  site = mkdtempSync(join(tmpdir(), "check-docs-"));
});
afterEach(() => {
  rmSync(site, { recursive: true, force: true });
});

function page(path: string, bytes: number): void {
  mkdirSync(join(site, path, ".."), { recursive: true });
  writeFileSync(join(site, path), "x".repeat(bytes));
}

function checkDocs(): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join("scripts", "check-docs.js"), site], { encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test("a site within the limits passes, with its totals printed", () => {
  page("index.html", 1000);
  page(join("functions", "index.quantizeWeights.html"), 300_000);
  const { status, stdout, stderr } = checkDocs();
  expect(stderr).toBe("");
  expect(stdout).toContain("2 files, 301.0 KB");
  expect(stdout).toContain(join("functions", "index.quantizeWeights.html"));
  expect(status).toBe(0);
});

test("each file over 300 KB fails the check, one line each", () => {
  page("index.html", 1000);
  page(join("functions", "index.quantizeWeights.html"), 300_001);
  page(join("types", "index.Model.html"), 400_000);
  const { status, stderr } = checkDocs();
  expect(stderr.trim().split("\n")).toEqual([
    `${join(site, "types", "index.Model.html")}: 400.0 KB, over the 300.0 KB limit for one file`,
    `${join(site, "functions", "index.quantizeWeights.html")}: 300.0 KB, over the 300.0 KB limit for one file`,
  ]);
  expect(status).toBe(1);
});

test("a site over 5 MB fails the check even when every file is small", () => {
  for (let i = 0; i < 21; i += 1) page(join("functions", `f${i}.html`), 250_000);
  const { status, stderr } = checkDocs();
  expect(stderr.trim()).toBe(`${site}: 5.25 MB in all, over the 5.00 MB limit for the site`);
  expect(status).toBe(1);
});

test("a missing site fails the check", () => {
  rmSync(site, { recursive: true });
  const { status, stderr } = checkDocs();
  expect(stderr).toContain("run `npm run docs` first");
  expect(status).toBe(1);
});

/**
 * The main entry point runs in browsers: nothing it imports, directly or not,
 * may be a Node built-in. (The Node helpers live behind `coreml-quantize/node`.)
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

function importsOf(file: string): string[] {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/g)].map((m) => m[1] as string);
}

/** The entry points that run in browsers: the library, and the Web Worker's API and script. */
const BROWSER_ENTRIES = ["index.ts", "worker/index.ts", "worker/worker-script.ts", "mlprogram/index.ts"];

test("the browser entry points reach no node: module", () => {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith("node:") || ["fs", "path", "os", "worker_threads", "child_process", "zlib", "buffer"].includes(spec))
        offenders.push(`${file} imports ${spec}`);
      else if (spec.startsWith(".")) visit(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  };
  for (const entry of BROWSER_ENTRIES) visit(resolve(__dirname, "..", "src", entry));
  expect(seen.size).toBeGreaterThan(20);
  expect(offenders).toEqual([]);
});

test("the check can fail: the Node entry point does reach node: modules", () => {
  const nodeEntry = resolve(__dirname, "..", "src", "node", "model-files.ts");
  expect(importsOf(nodeEntry).some((s) => s.startsWith("node:"))).toBe(true);
});

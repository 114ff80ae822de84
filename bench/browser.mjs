// npm run bench -- --browser [--runs N] [--model NAME]: the page against the CLI on the same machine.
// Builds the benchmark models (bench/build-models.mjs) and the page (scripts/build-app.js, into a
// temporary folder, served on 127.0.0.1), then for each run quantizes the model at 8 bits
// (linear) with the CLI (a whole process, file in, file out, under /usr/bin/time) and in the page
// in Debian's Chromium driven by playwright-core (the page's own timer: from pressing Quantize,
// reading the chosen File, moving its bytes to the worker, quantizing, encoding, reporting, to the
// bytes back in the page). Prints the medians and the ratio page / CLI, and how long posting the
// model's bytes to the worker takes when the buffer is transferred (moved) and when it is copied.
// Needs dist/ (npm run bench builds it) and /usr/bin/chromium. Figures are for ratios within one
// run: the machines are shared and noisy.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { runs: { type: "string" }, model: { type: "string" } } });
const runs = values.runs === undefined ? 3 : Number(values.runs);
const name = values.model ?? "dense-63mb";

spawnSync(process.execPath, [join(root, "bench/build-models.mjs")], { stdio: "inherit" });
const input = join(root, "bench/models", `${name}.mlmodel`);
const inputMb = statSync(input).size / 1e6;
const work = mkdtempSync(join(tmpdir(), "coreml-quantize-bench-browser-"));
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Builds the page into `out` and serves it; resolves with the server and its URL. */
function serveApp(out) {
  const server = spawn(process.execPath, [join(root, "scripts/build-app.js"), "--out", out, "--serve", "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((done, fail) => {
    let text = "";
    server.stdout.on("data", (chunk) => {
      text += chunk.toString();
      const found = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
      if (found !== null) done({ server, url: found[1] });
    });
    server.once("exit", (code) => fail(new Error(`build-app.js exited with ${code}: ${text}`)));
  });
}

function cliSeconds() {
  const out = join(work, "cli.mlmodel");
  const run = spawnSync(
    "/usr/bin/time",
    ["-f", "%e", process.execPath, join(root, "dist/bin/coreml-quantize.js"), "quantize", input, "-o", out, "--nbits", "8"],
    {
      encoding: "utf8",
    },
  );
  if (run.status !== 0) throw new Error(`the CLI failed: ${run.stderr}`);
  rmSync(out, { force: true });
  return Number(run.stderr.trim().split("\n").pop());
}

async function pageSeconds(page) {
  await page.getByRole("button", { name: "Quantize", exact: true }).click();
  await page
    .locator("#progress-text")
    .filter({ hasText: /^done in / })
    .waitFor({ timeout: 600_000 });
  const text = await page.locator("#progress-text").textContent();
  return Number(/done in ([\d.]+) s/.exec(text ?? "")?.[1]);
}

/**
 * Posts the model's bytes to a worker running the page's worker script, once with the buffer in
 * the transfer list and once without (copied), as an `inspect` request; returns the milliseconds
 * postMessage took and whether the page's view was left empty (detached: moved, not copied).
 */
function postTimes(page, bytes) {
  return page.evaluate(async (size) => {
    const post = (transfer) => {
      const worker = new Worker("quantize-worker.js");
      const view = new Uint8Array(size);
      const started = performance.now();
      worker.postMessage({ type: "inspect", id: 1, name: "x.mlmodel", bytes: view }, transfer ? [view.buffer] : []);
      const ms = performance.now() - started;
      worker.terminate();
      return { ms, detached: view.byteLength === 0 };
    };
    // Once each first, so that neither pays for starting up.
    post(true);
    post(false);
    return { moved: post(true), copied: post(false) };
  }, bytes);
}

const { server, url } = await serveApp(join(work, "app"));
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.getByLabel(/Choose a .mlmodel file/).setInputFiles(input);
  await page
    .locator("#summary-head")
    .filter({ hasText: `${name}.mlmodel` })
    .waitFor({ timeout: 600_000 });
  await page.getByLabel("Bits per weight", { exact: true }).selectOption("8");
  await page.getByLabel("Mode", { exact: true }).selectOption("linear");
  const cli = [];
  const inPage = [];
  // Alternated, so that a burst of load on the shared machine hits both alike.
  for (let r = 0; r < runs; r++) {
    cli.push(cliSeconds());
    inPage.push(await pageSeconds(page));
  }
  const posting = await postTimes(page, statSync(input).size);
  const [c, p] = [median(cli), median(inPage)];
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; ${browser.version()}`,
  );
  console.log(`${name} (${inputMb.toFixed(1)} MB) --nbits 8, median of ${runs}:`);
  console.log(`  CLI (whole process)  ${c.toFixed(2)} s   runs: ${cli.join(", ")}`);
  console.log(`  page (Chromium)      ${p.toFixed(2)} s   runs: ${inPage.join(", ")}`);
  console.log(`  page / CLI           ${(p / c).toFixed(2)}x`);
  console.log(
    `  postMessage of ${inputMb.toFixed(1)} MB: transferred ${posting.moved.ms.toFixed(2)} ms (view left ${posting.moved.detached ? "detached" : "NOT detached"}), ` +
      `copied ${posting.copied.ms.toFixed(2)} ms (view left ${posting.copied.detached ? "detached" : "intact"})`,
  );
} finally {
  await browser.close();
  server.kill();
  rmSync(work, { recursive: true, force: true });
}

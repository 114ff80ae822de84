/**
 * The page of app/, end to end in Debian's Chromium driven by playwright-core:
 * built and served as `npm run app -- --serve` does, a golden model uploaded,
 * quantized in the worker and downloaded, the bytes compared with the library's.
 *
 * Skipped only where /usr/bin/chromium is missing and CI is unset: in CI
 * (.ci/run installs chromium) it runs, and fails if the browser is missing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";
import type { NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { inspectModel } from "../../src/inspect-model.js";
import { decodeMlPackage } from "../../src/mlprogram/ml-package.js";
import { isWeightInput } from "../../src/mlprogram/report-program.js";
import { inspectProgram } from "../../src/mlprogram/inspect-program.js";
import { encodeMlPackageZip, readZipArchive } from "../../src/mlprogram/zip-archive.js";
import { compareModels, type ModelComparison } from "../../src/predict/compare-models.js";
import { randomInputs } from "../../src/predict/random-inputs.js";
import { quantizeWeights } from "../../src/quantize/quantize-weights.js";
import { AdvancedQuantizedLayerSelector } from "../../src/selectors.js";
import { failureOf } from "../../src/worker/handle-worker-request.js";
import { sizeSnrChart } from "../../src/worker/size-snr-chart.js";
import { cli } from "../support/cli.js";
import { GOLDEN_MODELS_DIR } from "../support/golden.js";
import { fixtureModelFile } from "../predict/support.js";
import { FIXTURES as PACKAGE_FIXTURES, packageFiles, WEIGHT_BIN_PATH } from "../mlprogram/fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
/** As the machine notes advise: no background traffic, which this network refuses. */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ROOT = resolve(__dirname, "..", "..");
/** Screenshots to look at, kept after the run (.gitignored). */
const ARTIFACTS = join(ROOT, "test-artifacts");

const runs = existsSync(CHROMIUM) || process.env.CI !== undefined;
const describeInBrowser = runs ? describe : describe.skip;

jest.setTimeout(60_000);

describeInBrowser("the page, in Chromium", () => {
  let out: string;
  let server: ChildProcess | undefined;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requested: string[] = [];
  const workersClosed: string[] = [];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "app-"));
    const child = spawn(process.execPath, ["scripts/build-app.js", "--out", out, "--serve", "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    server = child;
    url = await new Promise<string>((done, fail) => {
      let text = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        const found = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
        if (found?.[1] !== undefined) done(found[1]);
      });
      child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
      child.once("exit", (code) => fail(new Error(`build-app.js exited with ${code} before serving: ${text}`)));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    context.on("request", (request) => requested.push(request.url()));
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("worker", (worker) => worker.on("close", () => workersClosed.push(worker.url())));
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill();
    rmSync(out, { recursive: true, force: true });
  });

  const golden = (file: string): Buffer => readFileSync(join(GOLDEN_MODELS_DIR, file));

  async function upload(name: string, buffer: Buffer): Promise<void> {
    await page.getByLabel(/Choose a .mlmodel file/).setInputFiles({ name, mimeType: "application/octet-stream", buffer });
  }

  /** Uploads a model and quantizes it to 8-bit linear with every convolution selected; waits for the compare section. */
  async function quantizeEveryConv8Bit(name: string, bytes: Buffer): Promise<void> {
    await upload(name, bytes);
    await page.locator("#summary-head").filter({ hasText: name }).waitFor();
    await page.getByLabel("Bits per weight", { exact: true }).selectOption("8");
    await page.getByLabel("Mode", { exact: true }).selectOption("linear");
    await page
      .locator("details")
      .filter({ hasText: "Layer selection" })
      .evaluate((d) => d.setAttribute("open", ""));
    await page.getByLabel("Minimum convolution kernel channels").fill("1");
    await page.getByLabel("Minimum convolution weight count").fill("1");
    await page.getByRole("button", { name: "Quantize", exact: true }).click();
    await page.locator("#compare").waitFor({ state: "visible" });
  }

  async function download(button: RegExp): Promise<Buffer> {
    const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]);
    const path = await file.path();
    return readFileSync(path);
  }

  test("8-bit linear: the summary, then the downloaded model is the library's bytes, and the report", async () => {
    await upload("cnn.mlmodel", golden("cnn.mlmodel"));
    await page.locator("#summary").waitFor({ state: "visible" });
    expect(await page.locator("#summary-totals").textContent()).toMatch(/^total: \d+ tensors/);
    await page.getByLabel("Bits per weight", { exact: true }).selectOption("8");
    await page.getByLabel("Mode", { exact: true }).selectOption("linear");
    // By keyboard.
    await page.getByRole("button", { name: "Quantize" }).focus();
    await page.keyboard.press("Enter");
    await page.locator("#result").waitFor({ state: "visible" });
    const bytes = await download(/Download the model/);
    const expected = encodeModel(quantizeWeights(decodeModel(golden("cnn.mlmodel")), { nbits: 8, mode: "linear" }));
    expect(bytes.equals(Buffer.from(expected))).toBe(true);
    const report = JSON.parse((await download(/JSON report/)).toString("utf8")) as { totals: { bytesAfter: number } };
    expect(report.totals.bytesAfter).toBeGreaterThan(0);
    expect(await page.locator("#result-totals").textContent()).toMatch(/^cnn\.linear8\.mlmodel: .*; kernels: WebAssembly SIMD$/);
  });

  test("under a policy that forbids WebAssembly, the worker falls back to the JavaScript kernels: the same bytes", async () => {
    // A context of its own without service workers: page.route does not see what a service worker answers.
    const strictContext = await browser.newContext({ serviceWorkers: "block" });
    const strict = await strictContext.newPage();
    strict.setDefaultTimeout(15_000);
    // The worker takes its policy from its own response: this one lacks 'wasm-unsafe-eval'.
    await strict.route("**/quantize-worker.js", async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": "default-src 'self'; script-src 'self'" } });
    });
    try {
      await strict.goto(url);
      await strict
        .getByLabel(/Choose a .mlmodel file/)
        .setInputFiles({ name: "cnn.mlmodel", mimeType: "application/octet-stream", buffer: golden("cnn.mlmodel") });
      await strict.locator("#summary").waitFor({ state: "visible" });
      await strict.getByLabel("Bits per weight", { exact: true }).selectOption("4");
      await strict.getByLabel("Mode", { exact: true }).selectOption("kmeans_lut");
      await strict.getByRole("button", { name: "Quantize" }).click();
      await strict.locator("#result").waitFor({ state: "visible" });
      expect(await strict.locator("#result-totals").textContent()).toMatch(/; kernels: JavaScript \(WebAssembly unavailable\)$/);
      const [file] = await Promise.all([strict.waitForEvent("download"), strict.getByRole("button", { name: /Download the model/ }).click()]);
      const bytes = readFileSync(await file.path());
      expect(bytes.equals(Buffer.from(encodeModel(quantizeWeights(decodeModel(golden("cnn.mlmodel")), { nbits: 4, mode: "kmeans_lut" }))))).toBe(true);
    } finally {
      await strictContext.close();
    }
  });

  test("4-bit k-means: the downloaded model is the library's bytes; screenshots of the result", async () => {
    await upload("fusion_edges.mlmodel", golden("fusion_edges.mlmodel"));
    await page.locator("#summary-head").filter({ hasText: "fusion_edges.mlmodel" }).waitFor();
    await page.getByLabel("Bits per weight", { exact: true }).selectOption("4");
    await page.getByLabel("Mode", { exact: true }).selectOption("kmeans_lut");
    await page.getByRole("button", { name: "Quantize" }).click();
    await page.locator("#result").waitFor({ state: "visible" });
    expect(await page.locator("#result-table tbody tr").count()).toBeGreaterThan(0);
    const bytes = await download(/fusion_edges\.kmeans_lut4\.mlmodel/);
    const expected = encodeModel(quantizeWeights(decodeModel(golden("fusion_edges.mlmodel")), { nbits: 4, mode: "kmeans_lut" }));
    expect(bytes.equals(Buffer.from(expected))).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#result").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "app-result.png"), fullPage: true });
    await page.setViewportSize({ width: 380, height: 800 });
    // Let the narrow layout paint before the picture.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await page.screenshot({ path: join(ARTIFACTS, "app-result-narrow.png"), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  test("the size/SNR chart: a point for every setting; choosing one (mouse, keyboard) sets the options; Quantize gives its model", async () => {
    await upload("cnn.mlmodel", golden("cnn.mlmodel"));
    await page.locator("#summary-head").filter({ hasText: "cnn.mlmodel" }).waitFor();
    await page.getByRole("button", { name: "Chart every mode and bit width" }).click();
    await page.locator("#chart-figure").waitFor({ state: "visible" });
    const expected = sizeSnrChart(decodeModel(golden("cnn.mlmodel"))).points.filter((p) => p.meanSnrDb !== null);
    expect(await page.locator(".size-snr-chart [role=button]").count()).toBe(expected.length);
    const point = page.getByRole("button", { name: /^kmeans_lut 4-bit: / });
    const kmeans4 = expected.find((p) => p.series === "kmeans_lut" && p.nbits === 4);
    expect(await point.getAttribute("aria-label")).toContain(`${kmeans4?.meanSnrDb?.toFixed(1)} dB mean SNR`);
    await point.click();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#chart-figure").screenshot({ path: join(ARTIFACTS, "app-chart.png") });
    expect(await page.getByLabel("Bits per weight", { exact: true }).inputValue()).toBe("4");
    expect(await page.getByLabel("Mode", { exact: true }).inputValue()).toBe("kmeans_lut");
    expect(await point.getAttribute("aria-pressed")).toBe("true");
    // By keyboard: the point before it on its line, 3 bits.
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("Enter");
    expect(await page.getByLabel("Bits per weight", { exact: true }).inputValue()).toBe("3");
    expect(await page.getByRole("status").filter({ hasText: "Options set to kmeans_lut 3-bit" }).count()).toBe(1);
    await page.getByRole("button", { name: "Quantize" }).click();
    await page.locator("#result-totals").filter({ hasText: "cnn.kmeans_lut3.mlmodel" }).waitFor();
    const bytes = await download(/cnn\.kmeans_lut3\.mlmodel/);
    expect(bytes.equals(Buffer.from(encodeModel(quantizeWeights(decodeModel(golden("cnn.mlmodel")), { nbits: 3, mode: "kmeans_lut" }))))).toBe(true);
  });

  test.each<[string, Buffer]>([
    ["not a model", Buffer.from("<html>not a model</html>")],
    ["a truncated file", golden("cnn.mlmodel").subarray(0, 5000)],
  ])("%s: the one-line message, in the page", async (what, buffer) => {
    let expected = "";
    try {
      decodeModel(new Uint8Array(buffer));
    } catch (error) {
      expected = failureOf(error).message;
    }
    expect(expected).not.toBe("");
    await upload(`${what}.mlmodel`, buffer);
    const alert = page.getByRole("alert");
    await alert.waitFor({ state: "visible" });
    expect(await alert.textContent()).toBe(expected);
    expect(await page.getByRole("button", { name: "Quantize" }).isDisabled()).toBe(true);
    expect(await page.locator("#result").isHidden()).toBe(true);
  });

  /** 16 tensors of 64K weights: about 0.3 s each at 8-bit k-means. */
  let slow: Buffer | undefined;
  const slowModel = (): Buffer => {
    slow ??= makeSlowModel();
    return slow;
  };
  const makeSlowModel = (): Buffer => {
    const layers = Array.from({ length: 16 }, (_, i) => ({
      name: `fc${i}`,
      input: [i === 0 ? "x" : `h${i}`],
      output: [`h${i + 1}`],
      layer: {
        case: "innerProduct" as const,
        value: { inputChannels: 256n, outputChannels: 256n, weights: { floatValue: Array.from({ length: 65536 }, (_, j) => Math.sin(j * 0.37 + i)) } },
      },
    }));
    return Buffer.from(toBinary(ModelSchema, create(ModelSchema, { specificationVersion: 4, Type: { case: "neuralNetwork", value: { layers } } })));
  };

  test("the progress bar moves; Cancel stops the worker; the next run gets a new one", async () => {
    const big = slowModel();
    await upload("big.mlmodel", big);
    await page.locator("#summary-head").filter({ hasText: "big.mlmodel" }).waitFor();
    await page.getByLabel("Bits per weight", { exact: true }).selectOption("8");
    await page.getByLabel("Mode", { exact: true }).selectOption("kmeans_lut");
    const closedBefore = workersClosed.length;
    await page.getByRole("button", { name: "Quantize" }).click();
    const progress = page.getByLabel("Progress", { exact: true });
    await page.waitForFunction(() => (document.getElementById("progress") as HTMLProgressElement).value > 0);
    const first = await progress.evaluate((p: HTMLProgressElement) => p.value);
    await page.waitForFunction((v) => (document.getElementById("progress") as HTMLProgressElement).value > v, first);
    expect(await progress.evaluate((p: HTMLProgressElement) => p.value)).toBeLessThan(1);
    // The page answers while the worker works.
    expect(await page.evaluate(() => 6 * 7)).toBe(42);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator("#progress-text").filter({ hasText: "cancelled" }).waitFor();
    // Playwright reports the terminated worker's close shortly after.
    for (let waited = 0; workersClosed.length === closedBefore && waited < 5000; waited += 50) await page.waitForTimeout(50);
    expect(workersClosed.length).toBe(closedBefore + 1);
    expect(await page.locator("#result").isHidden()).toBe(true);
    // A new worker takes the next job.
    await page.getByLabel("Mode", { exact: true }).selectOption("linear");
    await page.getByRole("button", { name: "Quantize" }).click();
    await page.locator("#result").waitFor({ state: "visible" });
    expect(await page.locator("#result-totals").textContent()).toContain("big.linear8.mlmodel");
  });

  test("the chart's progress moves and Stop ends its worker", async () => {
    await upload("slow-chart.mlmodel", slowModel());
    await page.locator("#summary-head").filter({ hasText: "slow-chart.mlmodel" }).waitFor();
    const closedBefore = workersClosed.length;
    await page.getByRole("button", { name: "Chart every mode and bit width" }).click();
    await page.waitForFunction(() => (document.getElementById("chart-progress") as HTMLProgressElement).value > 0);
    await page.getByRole("button", { name: "Stop the chart" }).click();
    await page.locator("#chart-progress-text").filter({ hasText: "stopped" }).waitFor();
    for (let waited = 0; workersClosed.length === closedBefore && waited < 5000; waited += 50) await page.waitForTimeout(50);
    expect(workersClosed.length).toBe(closedBefore + 1);
    expect(await page.locator("#chart-figure").isHidden()).toBe(true);
    expect(await page.getByRole("button", { name: "Chart every mode and bit width" }).isEnabled()).toBe(true);
  });

  test("choosing another file while a run goes on cancels the run; the new file is read and quantized", async () => {
    await upload("slow.mlmodel", slowModel());
    await page.locator("#summary-head").filter({ hasText: "slow.mlmodel" }).waitFor();
    await page.getByLabel("Bits per weight", { exact: true }).selectOption("8");
    await page.getByLabel("Mode", { exact: true }).selectOption("kmeans_lut");
    await page.getByRole("button", { name: "Quantize" }).click();
    await page.waitForFunction(() => (document.getElementById("progress") as HTMLProgressElement).value > 0);
    await upload("mlp.mlmodel", golden("mlp.mlmodel"));
    await page.locator("#summary-head").filter({ hasText: "mlp.mlmodel" }).waitFor();
    await page.getByRole("button", { name: "Quantize" }).click();
    await page.locator("#result-totals").filter({ hasText: "mlp.kmeans_lut8.mlmodel" }).waitFor();
    const bytes = await download(/mlp\.kmeans_lut8\.mlmodel/);
    expect(bytes.equals(Buffer.from(encodeModel(quantizeWeights(decodeModel(golden("mlp.mlmodel")), { nbits: 8, mode: "kmeans_lut" }))))).toBe(true);
  });

  test("compare: random inputs fill the tables; a layer checked stays float32 when quantized again; images compare", async () => {
    const name = "mobilenet_classifier.mlmodel";
    const bytes = readFileSync(fixtureModelFile("mobilenet_classifier"));
    const original = decodeModel(new Uint8Array(bytes));
    const selector = { minimumConvWeightCount: 1, minimumConvKernelChannels: 1 };
    await quantizeEveryConv8Bit(name, bytes);

    await page.getByLabel("How many").fill("3");
    await page.getByLabel("Seed").fill("4");
    await page.getByRole("button", { name: "Compare", exact: true }).click();
    await page.locator("#compare-result").waitFor({ state: "visible" });
    const quantized = quantizeWeights(original, { nbits: 8, selector: new AdvancedQuantizedLayerSelector(selector) });
    const expected = compareModels(original, quantized, randomInputs(original, 3, 4), { perLayer: true });
    expect(await page.locator("#compare-head").textContent()).toMatch(/on 3 samples$/);
    expect(await page.locator("#compare-outputs tbody tr td:first-child").allTextContents()).toEqual(expected.outputs.map((o) => o.name));
    expect(await page.locator("#compare-layers tbody tr td:nth-child(4)").allTextContents()).toEqual(expected.layers.map((l) => l.blob));
    await page.locator("#compare").screenshot({ path: join(ARTIFACTS, "app-compare.png") });

    await page.getByLabel("Leave layer fc unquantized").check();
    expect(await page.locator("#skip-status").textContent()).toBe("leaving as they are: fc");
    await page.getByRole("button", { name: /^Quantize again/ }).click();
    await page.locator("#compare").waitFor({ state: "visible" });
    const skipped = await download(/mobilenet_classifier\.linear8\.mlmodel/);
    const fc = inspectModel(decodeModel(new Uint8Array(skipped))).weights.filter((w) => w.layerPath.endsWith('"fc"'));
    expect(fc.map((w) => w.storage)).toEqual(["float32", "float32"]);
    class SkipFc extends AdvancedQuantizedLayerSelector {
      override doQuantize(layer: NeuralNetworkLayer, weightParam?: string): boolean {
        return layer.name !== "fc" && super.doQuantize(layer, weightParam);
      }
    }
    expect(skipped.equals(Buffer.from(encodeModel(quantizeWeights(original, { nbits: 8, selector: new SkipFc(selector) }))))).toBe(true);

    // Images of the input's size (32x32) are not resized: the pixels, hence the comparison, are the library's.
    const images = [1, 2].map((seed) => Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7 + seed * 101) % 256));
    await page
      .getByLabel(/Choose or drop images/)
      .setInputFiles(images.map((rgb, i) => ({ name: `sample${i}.bmp`, mimeType: "image/bmp", buffer: bmp(32, 32, rgb) })));
    await page.getByRole("button", { name: "Compare", exact: true }).click();
    await page.locator("#compare-head").filter({ hasText: "on 2 samples" }).waitFor();
    const fromImages = compareModels(
      original,
      decodeModel(new Uint8Array(skipped)),
      images.map((data) => ({ image: { width: 32, height: 32, data } })),
    );
    const agreement = fromImages.outputs.map((o) => (o.kind === "label" ? `${(o.agreement * 100).toFixed(2)}% top-1` : undefined))[0];
    expect(await page.locator("#compare-outputs tbody tr:first-child td:nth-child(3)").textContent()).toBe(agreement);
    const fcRow = fromImages.layers.find((l) => l.status === "compared" && l.layer?.name === "fc");
    const fcSnr = fcRow?.status === "compared" ? `${fcRow.snrDb.toFixed(1)} dB` : "?";
    expect(await page.locator("#compare-layers tbody tr").filter({ hasText: "logits" }).locator("td:nth-child(5)").textContent()).toBe(fcSnr);

    await page.getByLabel("Minimum convolution kernel channels").fill("");
    await page.getByLabel("Minimum convolution weight count").fill("");
  });

  test("compare: images of other sizes are resized as the CLI resizes them; the page's figures are `compare --json`'s", async () => {
    const name = "mobilenet_classifier.mlmodel";
    const bytes = readFileSync(fixtureModelFile("mobilenet_classifier"));
    await quantizeEveryConv8Bit(name, bytes);
    const quantized = await download(/mobilenet_classifier\.linear8\.mlmodel/);

    // The model takes 32x32: a 48x40 PNG and a 40x36 JPEG are shrunk, a 20x24
    // BMP enlarged (both sides resampled, by different scales); ramps with a
    // sharp edge, where resampling filters differ. The JPEG checks too that the
    // browser decodes it to sharp's pixels.
    const pattern = (width: number, height: number, shift: number): Uint8Array =>
      Uint8Array.from({ length: width * height * 3 }, (_, i) => {
        const p = Math.floor(i / 3);
        const [x, y, c] = [p % width, Math.floor(p / width), i % 3];
        return (x * (40 + c * 15) + y * (25 - c * 7) + (x > width / 3 ? 120 : 0) + shift) % 256;
      });
    const mod = await import("sharp");
    const sharp = (typeof mod === "function" ? mod : (mod as { default: typeof import("sharp")["default"] }).default) as typeof import("sharp")["default"];
    const png = await sharp(pattern(48, 40, 3), { raw: { width: 48, height: 40, channels: 3 } })
      .png()
      .toBuffer();
    const files = [
      { name: "a.png", mimeType: "image/png", buffer: png },
      { name: "b.bmp", mimeType: "image/bmp", buffer: bmp(20, 24, pattern(20, 24, 77)) },
      {
        name: "c.jpg",
        mimeType: "image/jpeg",
        buffer: await sharp(pattern(40, 36, 9), { raw: { width: 40, height: 36, channels: 3 } })
          .jpeg({ quality: 90 })
          .toBuffer(),
      },
    ];
    await page.getByLabel(/Choose or drop images/).setInputFiles(files);
    await page.getByRole("button", { name: "Compare", exact: true }).click();
    await page.locator("#compare-result").waitFor({ state: "visible" });
    await page.locator("#compare-head").filter({ hasText: "on 3 samples" }).waitFor();

    const dir = mkdtempSync(join(tmpdir(), "app-resize-"));
    try {
      mkdirSync(join(dir, "images"));
      for (const f of files) writeFileSync(join(dir, "images", f.name), f.buffer);
      writeFileSync(join(dir, "original.mlmodel"), bytes);
      writeFileSync(join(dir, "quantized.mlmodel"), quantized);
      const result = await cli([
        "compare",
        join(dir, "original.mlmodel"),
        join(dir, "quantized.mlmodel"),
        "--samples",
        join(dir, "images"),
        "--layers",
        "--json",
      ]);
      expect(result.stderr).toBe("");
      const comparison = JSON.parse(result.stdout) as ModelComparison;
      // The figures the page shows, from the CLI's numbers formatted as the page formats them.
      const db = (v: number | string): string => (v === "Infinity" ? "exact" : `${(v as number).toFixed(1)} dB`);
      const precise = (v: number): string => (v === 0 ? "0" : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2));
      const label = comparison.outputs.find((o) => o.kind === "label");
      expect(await page.locator("#compare-outputs tbody tr:first-child td:nth-child(3)").textContent()).toBe(
        label?.kind === "label" ? `${(label.agreement * 100).toFixed(2)}% top-1` : "?",
      );
      const rows = page.locator("#compare-layers tbody tr");
      expect(await rows.locator("td:nth-child(4)").allTextContents()).toEqual(comparison.layers.map((l) => l.blob));
      const compared = comparison.layers.flatMap((l, i) => (l.status === "compared" ? [{ i, l }] : []));
      expect(compared.length).toBeGreaterThan(3);
      for (const { i, l } of compared) {
        const cells = await rows.nth(i).locator("td").allTextContents();
        expect([l.blob, cells[4], cells[5], cells[6]]).toEqual([
          l.blob,
          db(l.snrDb),
          l.aloneSnrDb === undefined ? "" : db(l.aloneSnrDb),
          precise(l.maxAbsError),
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.getByLabel("Minimum convolution kernel channels").fill("");
    await page.getByLabel("Minimum convolution weight count").fill("");
  });

  test("an ML Program: its summary says so, and Quantize gives the CLI's message", async () => {
    const program = Buffer.from(toBinary(ModelSchema, create(ModelSchema, { specificationVersion: 7, Type: { case: "mlProgram", value: {} } })));
    await upload("program.mlmodel", program);
    await page.locator("#summary-head").filter({ hasText: "no neural network" }).waitFor();
    await page.getByRole("button", { name: "Quantize" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ state: "visible" });
    expect(await alert.textContent()).toMatch(/^this is an ML Program \(mlProgram\) model; this tool compresses neuralNetwork weights/);
  });

  describe("ML Program packages", () => {
    const INPUT = "models/mlp_fp32_ios16.mlpackage";
    /** The golden package zipped as zipping its folder gives. */
    const zipped = (relative: string): Buffer =>
      Buffer.from(encodeMlPackageZip(decodeMlPackage(packageFiles(relative)), { folder: relative.split("/").at(-1) as string }));
    /** The weight.bin of a downloaded (or written) zip of a package folder. */
    const weightBinOf = async (zip: Uint8Array): Promise<Buffer> => {
      const files = await readZipArchive(zip);
      const found = [...files].find(([path]) => path.endsWith(`/${WEIGHT_BIN_PATH}`));
      if (found === undefined) throw new Error(`no weight.bin in ${[...files.keys()].join(", ")}`);
      return Buffer.from(found[1]);
    };

    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "app-packages-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("a zipped .mlpackage: the program's table; .mlmodel-only controls disabled; 8-bit linear downloads the CLI's weight.bin", async () => {
      await upload("mlp_fp32_ios16.mlpackage.zip", zipped(INPUT));
      await page.locator("#package-summary").waitFor({ state: "visible" });
      expect(await page.locator("#summary").isHidden()).toBe(true);
      const weights = inspectProgram(decodeMlPackage(packageFiles(INPUT))).weights.filter(isWeightInput);
      expect(await page.locator("#package-summary-table tbody tr").count()).toBe(weights.length);
      expect(await page.locator("#package-summary-head").textContent()).toMatch(/^mlp_fp32_ios16\.mlpackage\.zip: ML Program, specification version 7;/);
      // What applies to .mlmodel files only is disabled, with the note saying so.
      expect(await page.getByLabel(/Half-precision overflow/).isDisabled()).toBe(true);
      expect(await page.getByLabel(/Fuse batchnorm/).isDisabled()).toBe(true);
      expect(await page.getByRole("button", { name: /Chart every mode/ }).isDisabled()).toBe(true);
      expect(await page.locator("#package-note").textContent()).toContain(".mlmodel files only");
      const bits = page.getByLabel("Bits per weight", { exact: true });
      await page.getByLabel("Mode", { exact: true }).selectOption("linear");
      expect(await bits.locator("option:not([disabled])").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(["8", "4"]);
      await page.getByLabel("Mode", { exact: true }).selectOption("kmeans_lut");
      expect(await bits.locator("option:not([disabled])").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual([
        "8",
        "6",
        "4",
        "3",
        "2",
        "1",
      ]);
      await page.getByLabel("Mode", { exact: true }).selectOption("linear");
      await bits.selectOption("8");
      // By keyboard.
      await page.getByRole("button", { name: "Quantize" }).focus();
      await page.keyboard.press("Enter");
      await page.locator("#result-package").waitFor({ state: "visible" });
      expect(await page.locator("#result-model").isHidden()).toBe(true);
      expect(await page.locator("#result-totals").textContent()).toMatch(/^mlp_fp32_ios16\.linear8\.mlpackage\.zip: linear_quantize_weights; /);
      expect(await page.locator("#package-result-table tbody tr").count()).toBeGreaterThan(0);
      const downloaded = await download(/Download the package/);
      const cliOut = join(dir, "cli.linear8.mlpackage.zip");
      const r = await cli(["quantize", join(PACKAGE_FIXTURES, INPUT), "-o", cliOut, "--nbits", "8", "--mode", "linear", "--quiet"]);
      expect(r.code).toBe(0);
      expect((await weightBinOf(downloaded)).equals(await weightBinOf(readFileSync(cliOut)))).toBe(true);
      const report = JSON.parse((await download(/JSON report/)).toString("utf8")) as { totals: { compressed: number } };
      expect(report.totals.compressed).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, "package-result.png"), fullPage: true });
    });

    test("a coremltools config: bits and mode give way to it; the download is the reference's expected weight.bin", async () => {
      const c = (
        JSON.parse(readFileSync(join(PACKAGE_FIXTURES, "cases.json"), "utf8")) as {
          cases: { id: string; function: string; joint_compression: boolean; config: unknown; input: string; expected: string }[];
        }
      ).cases.find((x) => x.id === "attn_fp32_ios16__pal_uniform_4b_exclude_embed");
      if (c === undefined) throw new Error("no case");
      await upload("attn.mlpackage.zip", zipped(c.input));
      await page.locator("#package-summary-head").filter({ hasText: "attn.mlpackage.zip" }).waitFor();
      await page.getByLabel(/coremltools config/).fill(JSON.stringify({ function: c.function, joint_compression: c.joint_compression, config: c.config }));
      expect(await page.getByLabel("Bits per weight", { exact: true }).isDisabled()).toBe(true);
      await page.getByRole("button", { name: "Quantize" }).click();
      await page.locator("#result-totals").filter({ hasText: "attn.palettize_weights.mlpackage.zip" }).waitFor();
      const downloaded = await download(/Download the package/);
      expect((await weightBinOf(downloaded)).equals(Buffer.from(packageFiles(c.expected).get(WEIGHT_BIN_PATH) as Uint8Array))).toBe(true);
      // A config that is not JSON: the one-line message, naming it.
      await page.getByLabel(/coremltools config/).fill("{nope");
      await page.getByRole("button", { name: "Quantize" }).click();
      const alert = page.getByRole("alert");
      await alert.filter({ hasText: "config is not JSON" }).waitFor();
      expect((await alert.textContent())?.includes("\n")).toBe(false);
      await page.getByLabel(/coremltools config/).fill("");
    });

    test("a bad zip: the one-line message", async () => {
      await upload("bad.zip", Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(40)]));
      const alert = page.getByRole("alert");
      await alert.filter({ hasText: "bad.zip: " }).waitFor();
      expect(await alert.textContent()).toMatch(/^bad\.zip: [^\n]+$/);
      expect(await page.getByRole("button", { name: "Quantize" }).isDisabled()).toBe(true);
    });
  });

  test("offline once loaded: with the network off and the server stopped, a reload shows the page, which still quantizes", async () => {
    // The service worker controls the page once it has copied the page's files.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await context.setOffline(true);
    // Playwright's offline mode does not reach a service worker's own fetches: stop the server too.
    const stopped = server;
    server = undefined;
    if (stopped !== undefined && stopped.exitCode === null) {
      const exited = new Promise((done) => stopped.once("exit", done));
      stopped.kill();
      await exited;
    }
    try {
      await page.reload();
      await page.getByRole("heading", { name: "coreml-quantize" }).waitFor();
      expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      await upload("cnn.mlmodel", golden("cnn.mlmodel"));
      await page.locator("#summary-head").filter({ hasText: "cnn.mlmodel" }).waitFor();
      await page.getByLabel("Bits per weight", { exact: true }).selectOption("8");
      await page.getByLabel("Mode", { exact: true }).selectOption("linear");
      await page.getByRole("button", { name: "Quantize" }).click();
      await page.locator("#result-totals").filter({ hasText: "cnn.linear8.mlmodel" }).waitFor();
    } finally {
      await context.setOffline(false);
    }
  });

  test("no request left 127.0.0.1", () => {
    const origin = new URL(url).origin;
    expect(requested.filter((r) => !r.startsWith(`${origin}/`) && !r.startsWith("blob:") && !r.startsWith("data:"))).toEqual([]);
    expect(requested).toEqual(expect.arrayContaining([`${origin}/`, `${origin}/main.js`, `${origin}/quantize-worker.js`]));
  });
});

/** A 24-bit bottom-up BMP of `rgb` (rows top first, R, G, B a pixel). */
function bmp(width: number, height: number, rgb: Uint8Array): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + stride * height);
  file.write("BM", 0, "latin1");
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      file[row + x * 3] = rgb[at + 2] as number;
      file[row + x * 3 + 1] = rgb[at + 1] as number;
      file[row + x * 3 + 2] = rgb[at] as number;
    }
  }
  return file;
}

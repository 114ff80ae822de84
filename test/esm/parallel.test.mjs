/**
 * quantizeWeightsParallel in-process, from dist/ as shipped (ES modules, so its
 * worker script is found by `import.meta.url`, as in an app): the same bytes as
 * quantizeWeights, progress, cancellation that leaves no worker behind, and the
 * `threads` option. Worker threads are counted by the async resources Node
 * creates for them.
 */
import { createHook } from "node:async_hooks";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeModel, encodeModel, isQuantizeError, quantizeWeights } from "../../dist/index.js";
import { quantizeWeightsParallel } from "../../dist/node/index.js";

const GOLDEN = new URL("../fixtures/golden/models/", import.meta.url);
const GOLDEN_NAMES = readdirSync(GOLDEN)
  .filter((name) => name.endsWith(".mlmodel"))
  .map((name) => name.slice(0, -".mlmodel".length))
  .sort();
const model = (name) => decodeModel(readFileSync(new URL(`${name}.mlmodel`, GOLDEN)));
const bytes = (m) => Buffer.from(encodeModel(m));

/** Worker threads started in this process, and those not ended yet: Node gives each a WORKER async resource. */
let startedWorkers = 0;
const liveWorkers = new Set();
const hook = createHook({
  init(id, type) {
    if (type !== "WORKER") return;
    startedWorkers++;
    liveWorkers.add(id);
  },
  destroy(id) {
    liveWorkers.delete(id);
  },
});
beforeAll(() => hook.enable());
afterAll(() => hook.disable());

/** Resolves once every worker has ended; a worker left running fails the test by its timeout. */
async function allWorkersEnded() {
  while (liveWorkers.size > 0) await sleep(10);
}

/** Runs `body`, then waits for every worker to end; returns its result and how many workers it started. */
async function countingStarts(body) {
  const before = startedWorkers;
  const result = await body();
  await allWorkersEnded();
  return { result, started: startedWorkers - before };
}

/** Several threads share two cores with the other test files: generous, as the CommonJS suites' slow tests are. */
const SLOW = 60_000;

describe("quantizeWeightsParallel from dist/ (ES modules, in-process)", () => {
  afterEach(allWorkersEnded);

  const OPTIONS = {
    "k-means 4 bits": { nbits: 4, mode: "kmeans_lut" },
    "linear 8 bits": { nbits: 8, mode: "linear" },
  };
  const outcome = (run) => {
    try {
      return run().then(
        (m) => ({ bytes: bytes(m) }),
        (error) => ({ code: isQuantizeError(error) ? error.code : String(error) }),
      );
    } catch (error) {
      return Promise.resolve({ code: isQuantizeError(error) ? error.code : String(error) });
    }
  };
  test.each(Object.keys(OPTIONS).flatMap((options) => GOLDEN_NAMES.map((name) => [options, name])))(
    "%s, %s: byte-identical to quantizeWeights (or refused alike)",
    async (options, name) => {
      const expected = await outcome(async () => quantizeWeights(model(name), OPTIONS[options]));
      expect(await outcome(() => quantizeWeightsParallel(model(name), { ...OPTIONS[options], threads: 2 }))).toEqual(expected);
    },
    SLOW,
  );

  test(
    "k-means goes to worker threads started from the script beside the module, with the same bytes",
    async () => {
      // No workerUrl: the default, `quantize-worker.js` next to dist/node/quantize-weights-parallel.js.
      const { result, started } = await countingStarts(() => quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", threads: 2 }));
      expect(bytes(result).equals(bytes(quantizeWeights(model("cnn"), { nbits: 4, mode: "kmeans_lut" })))).toBe(true);
      expect(started).toBe(Math.min(2, availableParallelism()));
    },
    SLOW,
  );

  test(
    "progress: one report per tensor, in order, and reports within the tensors under way",
    async () => {
      const reports = [];
      await quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", threads: 2, onProgress: (p) => reports.push(p) });
      const after = reports.filter((p) => p.fraction === undefined);
      const within = reports.filter((p) => p.fraction !== undefined);
      const total = after[0]?.total;
      expect(after.map((p) => p.done)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(total).toBeGreaterThan(1);
      expect(within.length).toBeGreaterThan(0);
      for (const p of within)
        expect({ fraction: p.fraction > 0 && p.fraction < 1, done: p.done < p.total, total: p.total }).toEqual({ fraction: true, done: true, total });
    },
    SLOW,
  );

  test(
    "half precision, auto and dequantization run on this thread and report progress as quantizeWeights does",
    async () => {
      const eightBit = quantizeWeights(model("cnn"), { nbits: 8 });
      for (const [name, input, options] of [
        ["half", model("cnn"), { nbits: 16 }],
        ["auto", model("cnn"), { nbits: "auto" }],
        ["dequantization", eightBit, { nbits: 8, mode: "dequantization" }],
      ]) {
        const expected = [];
        const same = bytes(quantizeWeights(input, { ...options, onProgress: (p) => expected.push(p) }));
        const got = [];
        const { result, started } = await countingStarts(() => quantizeWeightsParallel(input, { ...options, threads: 2, onProgress: (p) => got.push(p) }));
        expect({ name, started, reports: got, same: bytes(result).equals(same) }).toEqual({ name, started: 0, reports: expected, same: true });
        expect({ name, some: expected.length > 0 }).toEqual({ name, some: true });
      }
    },
    SLOW,
  );

  test(
    "threads: that many workers start (none for 1), never more than the cores or the tensors; refused values are invalid-option",
    async () => {
      let tensors = 0; // cnn's n-bit tensors, as quantizeWeights counts them
      quantizeWeights(model("cnn"), { nbits: 4, mode: "kmeans_lut", onProgress: (p) => (tensors = p.total) });
      const cores = availableParallelism();
      const expected = { 1: 0, 2: Math.min(2, cores), [Infinity]: Math.min(cores, tensors), default: Math.min(4, cores) };
      const got = {};
      for (const threads of [1, 2, Infinity, "default"]) {
        const { result, started } = await countingStarts(() =>
          quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", ...(threads === "default" ? {} : { threads }) }),
        );
        expect(bytes(result).equals(bytes(quantizeWeights(model("cnn"), { nbits: 4, mode: "kmeans_lut" })))).toBe(true);
        got[threads] = started;
      }
      // One thread is this one: the work is done here, no worker started.
      expect(got).toEqual(expected);
      for (const threads of [0, 1.5, Number.NaN, -1]) {
        const error = await quantizeWeightsParallel(model("cnn"), { nbits: 4, threads }).catch((e) => e);
        expect({ threads, code: isQuantizeError(error) ? error.code : error }).toEqual({ threads, code: "invalid-option" });
        expect(error.message).toContain("threads");
      }
    },
    SLOW,
  );

  test(
    "signal: aborted mid-run it rejects with an AbortError (or the reason given) and every worker ends",
    async () => {
      for (const reason of [undefined, new Error("stop now")]) {
        const controller = new AbortController();
        let reports = 0;
        const { result: error, started } = await countingStarts(() =>
          quantizeWeightsParallel(model("cnn"), {
            nbits: 4,
            mode: "kmeans_lut",
            threads: 2,
            signal: controller.signal,
            onProgress: () => {
              reports++;
              controller.abort(reason);
            },
          }).then(
            () => "resolved",
            (e) => e,
          ),
        );
        // countingStarts returned only once every worker had ended.
        expect({ started, reports, liveWorkers: liveWorkers.size }).toEqual({ started: Math.min(2, availableParallelism()), reports: 1, liveWorkers: 0 });
        if (reason === undefined) expect({ name: error.name, quantizeError: isQuantizeError(error) }).toEqual({ name: "AbortError", quantizeError: false });
        else expect(error).toBe(reason);
      }
    },
    SLOW,
  );

  test(
    "signal: already aborted, it rejects with the reason and starts no worker",
    async () => {
      const controller = new AbortController();
      controller.abort();
      const { result: error, started } = await countingStarts(() =>
        quantizeWeightsParallel(model("cnn"), { nbits: 4, mode: "kmeans_lut", threads: 2, signal: controller.signal }).then(
          () => "resolved",
          (e) => e,
        ),
      );
      expect({ name: error.name, started }).toEqual({ name: "AbortError", started: 0 });
    },
    SLOW,
  );

  test("signal, quantizeWeights from the same entry: already aborted it throws an AbortError; aborted after a tensor it stops there", () => {
    const thrown = (run) => {
      try {
        run();
      } catch (error) {
        return error.name;
      }
      return "returned";
    };
    let reports = 0;
    const between = new AbortController();
    expect({
      already: thrown(() => quantizeWeights(model("cnn"), { nbits: 8, signal: AbortSignal.abort() })),
      between: thrown(() =>
        quantizeWeights(model("cnn"), {
          nbits: 8,
          signal: between.signal,
          onProgress: () => {
            reports++;
            between.abort();
          },
        }),
      ),
      reports,
    }).toEqual({ already: "AbortError", between: "AbortError", reports: 1 });
  });
});

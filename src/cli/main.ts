#!/usr/bin/env node
/**
 * The `coreml-quantize` executable: the only module that touches `process`.
 *
 * @packageDocumentation
 */
// First: heap settings that must apply while the rest loads, and reading the
// input model, which proceeds on another thread while the rest loads.
import "./heap-settings.js";
import { prefetch } from "./prefetch.js";
import { readFileSync } from "node:fs";
import { quantizeWeightsParallel } from "../node/quantize-weights-parallel.js";
import { run } from "./run.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const argv = process.argv.slice(2);
const debug = argv.includes("--debug") || process.env["COREML_QUANTIZE_DEBUG"] === "1";

process.exitCode = await run(argv.filter((a) => a !== "--debug"), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  version,
  debug,
  stderrIsTty: process.stderr.isTTY === true,
  quantize: quantizeWeightsParallel,
  ...(prefetch === undefined ? {} : { prefetched: prefetch }),
});

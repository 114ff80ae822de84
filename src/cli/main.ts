#!/usr/bin/env node
/**
 * The `coreml-quantize` executable: the only module that touches `process`.
 *
 * @packageDocumentation
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { quantizeWeightsParallel } from "../node/quantize-weights-parallel.js";
import { run } from "./run.js";

// Keep V8's young generation at its starting size. The weights live outside the JS
// heap, so a bigger nursery buys little here, and its growth to 16 MB per semi-space
// was a tenth of the whole process's peak memory (measured on a 63 MB model). This
// flag is read each time the heap considers growing, so setting it now takes effect.
setFlagsFromString("--semi-space-growth-factor=1");

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
});

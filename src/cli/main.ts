#!/usr/bin/env node
/**
 * The `coreml-quantize` executable: the only module that touches `process`.
 *
 * @packageDocumentation
 */
// First: reading the input model, which proceeds on another thread while the rest loads.
import { prefetch } from "./prefetch.js";
import { readFileSync } from "node:fs";
import { isatty } from "node:tty";
import { ioFailure } from "../node/io-failure.js";
import { quantizeWeightsParallel } from "../node/quantize-weights-parallel.js";
import { onTemporaryRegistered, removeTemporaries } from "../node/temporary-files.js";
import { EXIT, run } from "./run.js";

/** The exit status of a program ended by SIGPIPE (128 + 13), as Unix tools end when their reader goes away. */
const EXIT_BROKEN_PIPE = 141;
/** Signals that end the process early: each removes the temporary files first. */
const ENDING_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

// Standard output closed by its reader (`| head -1`): stop quietly, as a Unix tool
// ended by SIGPIPE does (Node ignores SIGPIPE, so the write fails with EPIPE instead).
// Any other failure to write it (`> /dev/full`) is a one-line error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  removeTemporaries();
  if (error.code === "EPIPE") process.exit(EXIT_BROKEN_PIPE);
  process.stderr.write(`coreml-quantize: ${ioFailure("write", "standard output", error).message}\n`);
  process.exit(EXIT.failure);
});
// A failure to write stderr has nowhere to be reported.
process.stderr.on("error", () => undefined);

// The handlers are installed with the first temporary file, not before: a signal
// during the (possibly synchronous) computation then ends the process at once, as
// by default. Once installed they stay, so a signal that arrives while a file is
// being written is never lost. Each removes the temporaries, then ends the process
// by the same signal (its default action, restored once the handler is gone), so
// the parent sees the usual status 128 + signal number.
let cleanupInstalled = false;
onTemporaryRegistered(() => {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  for (const signal of ENDING_SIGNALS) {
    process.once(signal, () => {
      removeTemporaries();
      process.kill(process.pid, signal);
    });
  }
});
// Whatever ends the process, no temporary file outlives it (process.exit included).
process.on("exit", removeTemporaries);

/**
 * Writes a model's bytes to stdout, settling once the last chunk is handed to the
 * operating system. A failure also reaches the stdout "error" handler above
 * (EPIPE: exit 141), which ends the process first.
 */
function writeStdoutBytes(chunks: readonly Uint8Array[]): Promise<void> {
  return new Promise((resolve, reject) => {
    if (chunks.length === 0) {
      resolve();
      return;
    }
    chunks.forEach((chunk, i) => {
      const last = i === chunks.length - 1;
      process.stdout.write(chunk, last ? (error) => (error == null ? resolve() : reject(error)) : undefined);
    });
  });
}

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const argv = process.argv.slice(2);
const debug = argv.includes("--debug") || process.env.COREML_QUANTIZE_DEBUG === "1";

try {
  process.exitCode = await run(
    argv.filter((a) => a !== "--debug"),
    {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      version,
      debug,
      stderrIsTty: process.stderr.isTTY === true,
      quantize: quantizeWeightsParallel,
      ...(prefetch === undefined ? {} : { prefetched: prefetch }),
      // A getter, not process.stdin itself: touching it opens the stream, which only `-` should do.
      stdin: () => process.stdin,
      // isatty, not process.stdin.isTTY: the latter creates the stream.
      stdinIsTty: isatty(0),
      stdoutBytes: writeStdoutBytes,
      stdoutIsTty: process.stdout.isTTY === true,
    },
  );
} catch (error) {
  // run() reports every error it expects; this is the last line of defence against a stack trace.
  removeTemporaries();
  process.stderr.write(`coreml-quantize: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (debug && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  process.exitCode = EXIT.failure;
}

/**
 * Drives the CLI in-process: `run(argv, io)` with captured output.
 */
import { parseCommand, UsageError } from "../../src/cli/args.js";
import { EXIT, run, type CliIo } from "../../src/cli/run.js";

/** What one CLI run produced. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The version the captured io reports. */
export const TEST_VERSION = "0.0.0-test";

/**
 * Runs one command line with stdout and stderr captured.
 *
 * @param argv - the arguments after the program name
 * @param extra - io settings to override (debug, stderrIsTty, version, quantize)
 */
export async function cli(argv: readonly string[], extra: Partial<Omit<CliIo, "stdout" | "stderr">> = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    version: TEST_VERSION,
    ...extra,
  });
  return { code, stdout, stderr };
}

/** The UsageError parsing `argv` throws (the expectation fails if it parses). */
export function usageErrorOf(argv: readonly string[]): UsageError {
  let caught: unknown;
  try {
    parseCommand(argv);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UsageError);
  return caught as UsageError;
}

/**
 * Expects a refusal: exit 1, nothing on stdout, one line on stderr containing
 * every one of `parts`.
 */
export function expectOneLine(r: CliResult, ...parts: string[]): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: EXIT.failure, stdout: "" });
  expect(r.stderr).toMatch(/^coreml-quantize: \S[^\n]*\n$/);
  for (const p of parts) expect(r.stderr).toContain(p);
}

/** The line after a usage error's message: where to read the usage. */
export const USAGE_POINTER = /^Run 'coreml-quantize (?:[a-z0-9-]+ )?--help' for usage\.$/;

/** Expects a usage error: exit 2, nothing on stdout, `message` then the pointer to the help on stderr. */
export function expectUsage(r: CliResult, message: string): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: EXIT.usage, stdout: "" });
  const [first, pointer, ...rest] = r.stderr.split("\n");
  expect({ first, pointer, rest }).toEqual({ first: `coreml-quantize: ${message}`, pointer: expect.stringMatching(USAGE_POINTER), rest: [""] });
}

/**
 * Command-line parsing: argv -> a typed command, or a usage error.
 *
 * @packageDocumentation
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad command-line usage: the CLI prints the usage text and exits with 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The usage text. */
export const USAGE = `Usage:
  coreml-quantize inspect MODEL [--json]
  coreml-quantize --help | --version

Commands:
  inspect      list the networks, layers and weights of MODEL with their shapes,
               storage (float32, float16, n-bit linear, n-bit LUT, int8) and bytes

Options:
  --json       machine-readable output
  -h, --help   show this text
  -v, --version  show the version
`;

/** A parsed command line. */
export type Command =
  | { readonly command: "help" }
  | { readonly command: "version" }
  | { readonly command: "inspect"; readonly model: string; readonly json: boolean };

const options = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies ParseArgsConfig["options"];

/**
 * Parses the arguments after the program name.
 *
 * @param argv - e.g. `["inspect", "model.mlmodel", "--json"]`
 * @returns the command
 * @throws {@link UsageError} for unknown commands or options and missing operands
 */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { command: "help" };
  if (values.version === true) return { command: "version" };
  const [command, ...operands] = positionals;
  switch (command) {
    case "inspect": {
      const [model, ...extra] = operands;
      if (model === undefined) throw new UsageError("inspect needs a MODEL file");
      if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      return { command: "inspect", model, json: values.json === true };
    }
    case undefined:
      throw new UsageError("no command given");
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/**
 * Standard input and output through the real executable (`node
 * dist/bin/coreml-quantize.js`, built first when stale): a model piped in and out
 * is byte for byte the one `-o FILE` writes, the summary goes to stderr, and a
 * reader that goes away ends the program quietly with 141.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel } from "../../src/codec/encode-model.js";
import { buildModel } from "../walker/helpers.js";
import { ensureBuiltCli, MAIN, REPO } from "../robustness/helpers.js";

const EXAMPLE = join(REPO, "examples", "cnn.mlmodel");

let dir = "";
beforeAll(() => {
  console.log(ensureBuiltCli());
  dir = mkdtempSync(join(tmpdir(), "coreml-quantize-stdio-bin-"));
}, 200_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The executable with `input` on stdin; stdout as bytes. */
function runWithStdin(argv: readonly string[], input?: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...argv], {
    cwd: REPO,
    input: input ?? new Uint8Array(),
    timeout: 30_000,
    killSignal: "SIGKILL",
    maxBuffer: 64 << 20,
    env: { ...process.env, COREML_QUANTIZE_DEBUG: "" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

test("quantize - -o - --nbits 8 < cnn.mlmodel: the bytes -o FILE writes, the summary on stderr", () => {
  const file = join(dir, "q.mlmodel");
  const toFile = runWithStdin(["quantize", EXAMPLE, "-o", file, "--nbits", "8"]);
  expect(toFile.status).toBe(0);
  const piped = runWithStdin(["quantize", "-", "-o", "-", "--nbits", "8"], readFileSync(EXAMPLE));
  expect(piped.status).toBe(0);
  expect(new Uint8Array(piped.stdout)).toEqual(new Uint8Array(readFileSync(file)));
  expect(piped.stderr).toBe(toFile.stdout.toString().replace(`wrote ${file}:`, "wrote standard output:"));
  // -q: the model alone.
  const quiet = runWithStdin(["quantize", "-", "-o", "-", "--nbits", "8", "-q"], readFileSync(EXAMPLE));
  expect({ status: quiet.status, stderr: quiet.stderr, same: quiet.stdout.equals(piped.stdout) }).toEqual({ status: 0, stderr: "", same: true });
});

test("--report - with -o -: exit 2, one line and the pointer, nothing on stdout", () => {
  const r = runWithStdin(["quantize", "-", "-o", "-", "--nbits", "8", "--report", "-"], readFileSync(EXAMPLE));
  expect({ status: r.status, stdout: r.stdout.length }).toEqual({ status: 2, stdout: 0 });
  expect(r.stderr.split("\n")).toEqual([
    "coreml-quantize: -o - and --report - would both write to standard output; name a file for one of them",
    "Run 'coreml-quantize quantize --help' for usage.",
    "",
  ]);
});

test("a failure writes nothing on stdout; an empty stdin is one line", () => {
  const notModel = runWithStdin(["quantize", "-", "-o", "-", "--nbits", "8"], new TextEncoder().encode("hello"));
  expect({ status: notModel.status, stdout: notModel.stdout.length }).toEqual({ status: 1, stdout: 0 });
  expect(notModel.stderr).toMatch(/^coreml-quantize: [^\n]+\n$/);
  const empty = runWithStdin(["inspect", "-"]);
  expect({ status: empty.status, stderr: empty.stderr }).toEqual({
    status: 1,
    stderr: "coreml-quantize: standard input is empty (0 bytes), not a Core ML model\n",
  });
});

test("the reader of -o - going away: exit 141, nothing on stderr", () => {
  // 4 MB of weights: more than a pipe holds, so the writer meets the closed pipe.
  const big = join(dir, "big.mlmodel");
  writeFileSync(
    big,
    encodeModel(
      buildModel({
        specificationVersion: 4,
        Type: {
          case: "neuralNetwork",
          value: {
            layers: [
              {
                name: "fc",
                layer: {
                  case: "innerProduct",
                  value: { inputChannels: 1024n, outputChannels: 1024n, weights: { floatValue: Array.from({ length: 1 << 20 }, (_, i) => Math.sin(i)) } },
                },
              },
            ],
          },
        },
      }),
    ),
  );
  const r = spawnSync("bash", ["-c", `"${process.execPath}" "${MAIN}" quantize "${big}" -o - --nbits 16 | head -c 100 > /dev/null; echo "\${PIPESTATUS[0]}"`], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 30_000,
  });
  expect({ status: r.stdout.trim(), stderr: r.stderr }).toEqual({ status: "141", stderr: "" });
});

/**
 * Each list the library keeps (modes, the modes auto and the CLI use, layer kinds,
 * float16 overflow policies) is derived from one table: these tie the derived
 * lists to their table, so a list copied by hand again fails here.
 */
import { AUTO_MODES } from "../src/quantize/auto-bits.js";
import { CLI_MODES, USAGE } from "../src/cli/args.js";
import { QuantizeError } from "../src/errors.js";
import { acceptsNbits, TENSOR_MODES, TENSOR_QUANTIZERS } from "../src/quantize/quantize-tensor.js";
import { QUANTIZABLE_LAYER_TYPES, QuantizedLayerSelector } from "../src/selectors.js";
import { FLOAT16_OVERFLOWS } from "../src/quantize/tensor-plans.js";
import { LAYER_WEIGHTS, NESTED_NETWORKS } from "../src/walker/layer-table.js";
import { expectQuantizeError } from "./support/expect-quantize-error.js";
import { quantizeWeights } from "../src/quantize/quantize-weights.js";
import type { Model } from "../src/codec/model-types.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

test("QUANTIZABLE_LAYER_TYPES are the layer table's quantized kinds, the kinds holding networks, and depthwiseConv", () => {
  const quantized = Object.entries(LAYER_WEIGHTS)
    .filter(([, row]) => row.quantized)
    .map(([kind]) => kind);
  expect([...QUANTIZABLE_LAYER_TYPES].sort()).toEqual([...quantized, ...Object.keys(NESTED_NETWORKS), "depthwiseConv"].sort());
  // Kinds the table lists but the reference leaves alone are not selected.
  for (const [kind, row] of Object.entries(LAYER_WEIGHTS)) {
    if (row.quantized) continue;
    expect(QUANTIZABLE_LAYER_TYPES).not.toContain(kind);
    expect(new QuantizedLayerSelector().doQuantize({ layer: { case: kind } } as never)).toBe(false);
  }
});

test("the modes auto and the CLI may use are the mode table's standalone rows, in its order", () => {
  expect(TENSOR_MODES).toEqual(Object.keys(TENSOR_QUANTIZERS));
  const standalone = TENSOR_MODES.filter((mode) => TENSOR_QUANTIZERS[mode].standalone);
  expect(AUTO_MODES).toEqual(standalone);
  expect(CLI_MODES).toEqual(standalone);
  expect(AUTO_MODES).not.toContain("custom_lut");
  // The synopsis lists them from the same table.
  expect(USAGE).toContain(`--mode ${CLI_MODES.join("|")}`);
  expect(USAGE).toContain(`--fp16-overflow ${FLOAT16_OVERFLOWS.join("|")}`);
});

test("every mode has its docs page, linked from the table of docs/modes/README.md", () => {
  const modesDir = join(__dirname, "..", "docs", "modes");
  const index = readFileSync(join(modesDir, "README.md"), "utf8");
  for (const mode of TENSOR_MODES) {
    const page = `${mode.replace(/_/g, "-")}.md`;
    expect(existsSync(join(modesDir, page))).toBe(true);
    expect(index).toContain(`[${mode}](${page})`);
  }
});

test("a mode of one width is refused at every other, with the width the table gives", () => {
  expect(acceptsNbits("linear_symmetric", 8)).toBe(true);
  expect(acceptsNbits("linear_symmetric", 4)).toBe(false);
  expect(acceptsNbits("linear", 3)).toBe(true);
  const model = { specificationVersion: 1 } as Model;
  for (const nbits of [4, 16]) {
    expectQuantizeError(
      () => quantizeWeights(model, { nbits, mode: "linear_symmetric" }),
      "invalid-option",
      `linear_symmetric quantization needs nbits 8, got ${nbits}`,
    );
  }
});

test("an unknown mode is refused with the table's modes listed", () => {
  const error = expectQuantizeError(() => quantizeWeights({} as Model, { nbits: 4, mode: "nearest" as never }), "invalid-option", "unknown quantization mode");
  expect(error).toBeInstanceOf(QuantizeError);
  expect(error.message).toContain(`valid: ${[...TENSOR_MODES, "dequantization"].join(", ")}`);
});

/**
 * parseConfigJson: JSON as JSON.parse reads it, integer literals told apart from
 * floats; and the config readers refusing an integer where coremltools takes only
 * a float.
 */
import fc from "fast-check";
import { isQuantizeError } from "../../src/errors.js";
import { configFieldValue, parseConfigJson } from "../../src/mlprogram/config-json.js";
import { linearQuantizerConfigFromJson } from "../../src/mlprogram/compression-config.js";
import { palettizerConfigFromJson } from "../../src/mlprogram/palettize-config.js";
import { prunerConfigFromJson } from "../../src/mlprogram/prune-config.js";

/** The value with every bigint as the number it is: what JSON.parse gives for the same text. */
function asNumbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(asNumbers);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, asNumbers(v)]));
  return value;
}

describe("parseConfigJson", () => {
  it("reads integer literals as bigints, every other number as a number", () => {
    expect(parseConfigJson('{"a": 1, "b": 1.0, "c": -0.5, "d": 1e-12, "e": [2, 4], "f": -3, "g": 2E3}')).toEqual({
      a: 1n,
      b: 1,
      c: -0.5,
      d: 1e-12,
      e: [2n, 4n],
      f: -3n,
      g: 2000,
    });
  });

  it("reads any JSON text as JSON.parse does, integers aside", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(asNumbers(parseConfigJson(text))).toEqual(JSON.parse(text));
      }),
    );
  });

  it("keeps a __proto__ field a field, as JSON.parse does", () => {
    const parsed = parseConfigJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(["__proto__"]);
  });

  it.each([
    ["{", /line 1 column 2: expected a field name/],
    ['{"a": 01}', /expected "," or "}"/],
    ['{"a": 1,}', /expected a field name/],
    ["[1 2]", /expected "," or "]"/],
    ['"\\x"', /malformed string/],
    ["1 2", /text after the JSON value/],
    ["\n  nul", /line 2 column 3: unexpected "n"/],
    ["", /unexpected end/],
    ["[".repeat(100), /nested deeper than 64/],
  ])("refuses %j with the place of the error", (text, message) => {
    let thrown: unknown;
    try {
      parseConfigJson(text);
    } catch (error) {
      thrown = error;
    }
    expect(isQuantizeError(thrown, "invalid-option")).toBe(true);
    expect(String(thrown)).toMatch(message);
  });
});

describe("the config readers on parsed config text", () => {
  const threshold = (value: string) => `{"global_config": {"config_type": "OpThresholdPrunerConfig", "threshold": ${value}}}`;

  it("refuse an integer literal where coremltools takes only a float", () => {
    expect(() => prunerConfigFromJson(parseConfigJson(threshold("1")))).toThrow(/threshold 1 is an integer; coremltools takes a float here: write 1\.0/);
    expect(() =>
      prunerConfigFromJson(parseConfigJson('{"global_config": {"config_type": "OpThresholdPrunerConfig", "minimum_sparsity_percentile": 0}}')),
    ).toThrow(/minimum_sparsity_percentile 0 is an integer/);
    expect(() => prunerConfigFromJson(parseConfigJson('{"op_name_configs": {"w": {"config_type": "OpMagnitudePrunerConfig", "target_sparsity": 1}}}'))).toThrow(
      /op_name_configs\.w: target_sparsity 1 is an integer/,
    );
  });

  it("take the same value written as a float, and plain numbers from JavaScript", () => {
    const fromText = prunerConfigFromJson(parseConfigJson(threshold("1.0")));
    expect(fromText.global).toEqual(prunerConfigFromJson(JSON.parse(threshold("1"))).global);
    expect(fromText.global).toMatchObject({ kind: "threshold", threshold: 1 });
  });

  it("read integer literals of integer fields as numbers, lists included", () => {
    const palettize = palettizerConfigFromJson(
      parseConfigJson('{"global_config": {"config_type": "OpPalettizerConfig", "nbits": 4, "group_size": 8, "weight_threshold": 100}}'),
    );
    expect(palettize.global).toMatchObject({ nbits: 4, groupSize: 8, weightThreshold: 100 });
    const linear = linearQuantizerConfigFromJson(
      parseConfigJson('{"global_config": {"config_type": "OpLinearQuantizerConfig", "granularity": "per_block", "block_size": [1, 16]}}'),
    );
    expect(linear.global).toMatchObject({ blockSize: [1, 16] });
    const prune = prunerConfigFromJson(parseConfigJson('{"global_config": {"config_type": "OpMagnitudePrunerConfig", "n_m_ratio": [2, 4], "dim": 0}}'));
    expect(prune.global).toMatchObject({ nMRatio: [2, 4], dim: 0 });
  });

  it("refuse an integer literal beyond 2^53", () => {
    expect(() => configFieldValue(2n ** 60n, false, "global_config: weight_threshold")).toThrow(/beyond 2\^53/);
    expect(configFieldValue([1n, 2.5, "x"], false, "f")).toEqual([1, 2.5, "x"]);
  });
});

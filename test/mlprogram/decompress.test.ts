/**
 * Every `decompress_weights` golden case (see golden-cases.ts), and the pass's own
 * behaviour.
 */
import { decompressWeights } from "../../src/mlprogram/decompress.js";
import { decodeMlPackage, encodeMlPackage } from "../../src/mlprogram/index.js";
import { packageFiles } from "./fixtures.js";
import { describeGoldenCases, type GoldenCase, goldenCases } from "./golden-cases.js";

describeGoldenCases({
  name: "decompressWeights",
  function: "decompress_weights",
  caseCount: 16,
  // decompress_weights takes no config.
  configFromJson: () => null,
  compress: (pkg) => ({ ...decompressWeights(pkg), skipped: [] }),
  // It skips nothing and refuses nothing.
  skipWarning: /^$.^/,
  callErrors: [],
  knownFailing: {},
});

describe("decompressWeights", () => {
  it("leaves its input untouched", () => {
    const [c] = goldenCases("decompress_weights");
    const input = decodeMlPackage(packageFiles((c as GoldenCase).input));
    const before = encodeMlPackage(input);
    decompressWeights(input);
    const after = encodeMlPackage(input);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, bytes] of before) expect(Buffer.from(after.get(path) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it("refuses a model that is not an ML Program", () => {
    const [c] = goldenCases("decompress_weights");
    const input = decodeMlPackage(packageFiles((c as GoldenCase).input));
    const notProgram = { ...input, model: { ...input.model, Type: { case: undefined, value: undefined } } } as typeof input;
    expect(() => decompressWeights(notProgram)).toThrow(/not an ML Program/);
  });
});

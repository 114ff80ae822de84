/**
 * The threshold pruner on a float16 weight: the threshold (a float64) meets the
 * weight's type as numpy casts it, in one rounding to float16 (MLPROGRAM.md
 * section 11, `fl_D(threshold)`), not through float32.
 */
import { decodeFloat16, encodeFloat16 } from "../../src/codec/float16.js";
import { blockValues } from "../../src/mlprogram/evaluate-constexpr.js";
import { blobsByOffset, decodeMlPackage, packageProgram } from "../../src/mlprogram/index.js";
import { pruneWeights } from "../../src/mlprogram/prune.js";
import { packageFiles } from "./fixtures.js";

const MODEL = "models/mlp_fp16_ios18.mlpackage";
const WEIGHT = "fc1_weight_0_to_fp16";

/** The value of a half bit pattern. */
function halfValue(bits: number): number {
  return decodeFloat16(new Uint8Array(Uint16Array.of(bits).buffer))[0] as number;
}

/** The bit pattern of a number that is a half. */
function halfBits(value: number): number {
  return new Uint16Array(encodeFloat16(Float32Array.of(value)).buffer)[0] as number;
}

/** The next float64 above a positive number. */
function nextUp(x: number): number {
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = (bits[0] as bigint) + 1n;
  return new Float64Array(bits.buffer)[0] as number;
}

test("a float64 threshold just above the midpoint below a weight's magnitude rounds up to it (float32 would make a tie, then round down)", () => {
  // Arrange: a magnitude of the weight whose half has an odd last bit, so that a tie rounds away from it.
  const pkg = decodeMlPackage(packageFiles(MODEL));
  const blobs = pkg.weights === undefined ? new Map() : blobsByOffset(pkg.weights);
  const operations = Object.values(packageProgram(pkg).functions).flatMap((fn) => Object.values(fn.blockSpecializations).flatMap((block) => block.operations));
  const values = blockValues(operations, blobs)(WEIGHT)?.values;
  if (values === undefined) throw new Error(`${WEIGHT}: not a const`);
  const magnitudes = Array.from(values, Math.abs).sort((a, b) => a - b);
  const chosen = magnitudes.slice(magnitudes.length >>> 1).find((m) => (halfBits(m) & 1) === 1 && halfBits(m) > 0x0400);
  if (chosen === undefined) throw new Error("no magnitude with an odd last bit");
  const below = halfValue(halfBits(chosen) - 1);
  const midpoint = (below + chosen) / 2;
  const threshold = nextUp(midpoint);
  expect(Math.fround(threshold)).toBe(midpoint);
  // The sparsity a threshold of exactly `chosen` gives, above the one of `below`.
  const sparsity = magnitudes.filter((m) => m <= chosen).length / magnitudes.length;
  expect(magnitudes.filter((m) => m <= below).length / magnitudes.length).toBeLessThan(sparsity);

  // Act: asking for exactly that sparsity, which only the threshold rounded to `chosen` reaches.
  const result = pruneWeights(pkg, { global: { kind: "threshold", threshold, minimumSparsityPercentile: sparsity } });

  // Assert
  expect(result.skipped.map((weight) => weight.name)).not.toContain(WEIGHT);
});

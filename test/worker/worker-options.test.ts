import { quantizedFileName } from "../../src/worker/quantized-file-name.js";
import { toQuantizeOptions, type WorkerQuantizeOptions } from "../../src/worker/worker-options.js";

describe("toQuantizeOptions builds the QuantizeOptions variant of each posted variant", () => {
  test.each<[string, WorkerQuantizeOptions, object]>([
    ["half precision", { nbits: 16, float16Overflow: "clamp" }, { nbits: 16, fuse: true, float16Overflow: "clamp" }],
    ["half precision, an n-bit mode ignored as the CLI ignores --mode", { nbits: 16, mode: "kmeans" }, { nbits: 16, fuse: true }],
    ["n-bit, linear by default", { nbits: 4 }, { nbits: 4, fuse: true, mode: "linear" }],
    ["n-bit in a mode, not fused", { nbits: 3, mode: "kmeans_lut", fuse: false }, { nbits: 3, fuse: false, mode: "kmeans_lut" }],
    ["auto", { nbits: "auto", targetSnrDb: 30, modes: ["kmeans_lut"] }, { nbits: "auto", fuse: true, targetSnrDb: 30, modes: ["kmeans_lut"] }],
  ])("%s", (_, posted, expected) => {
    expect(toQuantizeOptions(posted)).toEqual(expected);
  });
});

test("the variants are checked by the compiler (npm run typecheck)", () => {
  const refused: WorkerQuantizeOptions[] = [
    // @ts-expect-error a lookup-table function cannot be posted: no custom_lut variant
    { nbits: 4, mode: "custom_lut" },
    // @ts-expect-error a worker quantizes: no dequantization
    { nbits: 8, mode: "dequantization" },
    // @ts-expect-error "auto" tries its `modes`; it has no `mode`
    { nbits: "auto", mode: "kmeans" },
    // @ts-expect-error float16Overflow belongs to half precision
    { nbits: "auto", float16Overflow: "clamp" },
    // @ts-expect-error targetSnrDb belongs to "auto"
    { nbits: 16, targetSnrDb: 30 },
  ];
  expect(refused).toHaveLength(5);
});

test.each<[WorkerQuantizeOptions, string]>([
  [{ nbits: 16 }, "cnn.float16.mlmodel"],
  [{ nbits: "auto" }, "cnn.auto40db.mlmodel"],
  [{ nbits: 4, mode: "kmeans" }, "cnn.kmeans_lut4.mlmodel"],
  [{ nbits: 8 }, "cnn.linear8.mlmodel"],
])("quantizedFileName(%j)", (options, name) => {
  expect(quantizedFileName("cnn.mlmodel", options)).toBe(name);
});

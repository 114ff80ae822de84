/**
 * formatProgramSummary on hand-made summaries: what the fixtures do not have
 * (several functions, nested blocks, a program without weights).
 */
import type { ProgramSummary } from "../../src/mlprogram/inspect-program.js";
import type { ProgramConstant, WeightInput } from "../../src/mlprogram/walk-program.js";
import { formatProgramSummary } from "../../src/report/format-program-summary.js";

const totals = { constants: 0, values: 0, bytes: 0 };

function summary(functions: ProgramSummary["functions"], constants: ProgramConstant[], weights: WeightInput[]): ProgramSummary {
  return { specificationVersion: 9, functions, constants, weights, blobs: 1, totals: { ...totals, inline: totals, blob: totals, byDataType: {} } };
}

function location(fn: string, path: string, opType: string, opName: string) {
  return { function: fn, opset: "CoreML8", path, opType, opName };
}

function constant(fn: string, path: string, offset: number, byteLength: number): ProgramConstant {
  return {
    ...location(fn, path, "const", "w"),
    param: "val",
    via: "attribute",
    output: "w",
    shape: [4],
    dataType: "float16",
    count: 4,
    storage: { kind: "blob", offset, blobDataType: "float16", byteLength },
    consumers: [],
  };
}

function weight(fn: string, path: string, opName: string, source: string): WeightInput {
  return { ...location(fn, path, "linear", opName), input: "weight", index: 0, producer: "w", chain: [], sources: [source], shape: [4], dataType: "float16" };
}

test("two functions: each row keeps its function and opset; a nested op shows the op holding its block", () => {
  const w = 'main/CoreML8/operations[0] "w"';
  const text = formatProgramSummary(
    "m.mlpackage",
    summary(
      [
        { name: "main", opsets: ["CoreML8"], operations: 3 },
        { name: "other", opsets: ["CoreML8"], operations: 1 },
      ],
      [constant("main", w, 64, 8)],
      [
        weight("main", 'main/CoreML8/operations[2] "cond_0"/blocks[1]/operations[0] "fc"', "fc", w),
        weight("other", 'other/CoreML8/operations[0] "fc2"', "fc2", w),
      ],
    ),
  );
  expect(text).toContain('\nmain/CoreML8/"cond_0"/blocks[1]/"fc".weight  linear  [4]    float16  @64        8 B\n');
  expect(text).toContain('\nother/CoreML8/"fc2".weight                   linear  [4]    float16  @64        8 B\n');
  expect(text).toContain("  function main (CoreML8): 3 operations\n  function other (CoreML8): 1 operation\n");
});

test("a program without weights says so; scalar and integer inputs are only counted", () => {
  const text = formatProgramSummary(
    "m.mlpackage",
    summary(
      [{ name: "main", opsets: ["CoreML8"], operations: 1 }],
      [],
      [{ ...weight("main", 'main/CoreML8/operations[1] "cat"', "cat", ""), input: "axis", shape: [], dataType: "int32", sources: [] }],
    ),
  );
  expect(text).toContain("  no weights\n1 other constant input (axes, shapes, flags, scalars) not listed; --json has every one\n");
});

/**
 * The constexpr evaluator against the reference's own figures: for every output
 * of the golden set, each weight's squared error against the input, both
 * decompressed here, is the `sse` the generator recorded with numpy.
 */
import { blockValues, constantTensor, evaluateConstexpr } from "../../src/mlprogram/evaluate-constexpr.js";
import { blobsByOffset, decodeMlPackage, type MlPackage } from "../../src/mlprogram/index.js";
import { inlineValue, opNameOf } from "../../src/mlprogram/program-values.js";
import { DataType, type Operation } from "../../src/gen/MIL_pb.js";
import { casesFile, packageFiles } from "./fixtures.js";

interface SseCase {
  readonly id: string;
  readonly input: string;
  readonly expected?: string;
  readonly weights?: readonly { readonly input: string; readonly sse: number }[];
}

/** The value an op input (`<op>.<param>[i]`) reads, decompressed. */
function inputValues(pkg: MlPackage, input: string): Float64Array | undefined {
  const [, opName, param, index] = /^(.+)\.([^.[\]]+)(?:\[(\d+)\])?$/.exec(input) ?? [];
  if (pkg.model.Type.case !== "mlProgram") return undefined;
  const blobs = pkg.weights === undefined ? new Map() : blobsByOffset(pkg.weights);
  for (const fn of Object.values(pkg.model.Type.value.functions)) {
    for (const block of Object.values(fn.blockSpecializations)) {
      const op = block.operations.find((o) => opNameOf(o as Operation) === opName);
      const binding = op?.inputs[param as string]?.arguments[Number(index ?? 0)]?.binding;
      if (binding?.case === "name") return blockValues(block.operations as Operation[], blobs)(binding.value)?.values;
    }
  }
  return undefined;
}

/** The inputs, decoded once each: many cases share one. */
const inputs = new Map<string, MlPackage>();
function inputPackage(path: string): MlPackage {
  const pkg = inputs.get(path) ?? decodeMlPackage(packageFiles(path));
  inputs.set(path, pkg);
  return pkg;
}

const cases = (casesFile().cases as unknown as SseCase[]).filter((c) => c.expected !== undefined && (c.weights ?? []).length > 0);

describe("evaluateConstexpr", () => {
  it.each(cases.map((c) => [c.id, c] as const))("%s: every weight's squared error is the recorded one", (_id, c) => {
    const input = inputPackage(c.input);
    const output = decodeMlPackage(packageFiles(c.expected as string));
    for (const weight of c.weights ?? []) {
      const before = inputValues(input, weight.input);
      const after = inputValues(output, weight.input);
      expect(before?.length).toBe(after?.length);
      let sse = 0;
      for (let i = 0; i < (before?.length ?? 0); i++) sse += ((before?.[i] as number) - (after?.[i] as number)) ** 2;
      // numpy sums pairwise, here left to right: equal to a relative 1e-9.
      expect(Math.abs(sse - weight.sse)).toBeLessThanOrEqual(weight.sse * 1e-9);
    }
  });

  it("refuses an op type it does not know, naming it", () => {
    const op = {
      type: "constexpr_cast",
      attributes: { name: inlineValue(DataType.STRING, [], ["c"]) },
      inputs: {},
      outputs: [],
      blocks: [],
    } as unknown as Operation;
    expect(() => evaluateConstexpr(op, () => undefined)).toThrow(/constexpr_cast "c": not a constexpr op/);
  });

  it("reads inline sub-byte and 32-bit values", () => {
    expect(Array.from(constantTensor(inlineValue(DataType.UINT2, [5], [0, 3, 2, 1, 3]), new Map(), "v").values)).toEqual([0, 3, 2, 1, 3]);
    expect(Array.from(constantTensor(inlineValue(DataType.INT32, [2], [-7, 9]), new Map(), "v").values)).toEqual([-7, 9]);
    expect(Array.from(constantTensor(inlineValue(DataType.FLOAT16, [2], [0.5, -2]), new Map(), "v").values)).toEqual([0.5, -2]);
  });
});

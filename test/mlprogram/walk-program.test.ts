import { clone, create } from "@bufbuild/protobuf";
import { isQuantizeError, type ErrorCode } from "../../src/errors.js";
import { DataType, OperationSchema, ProgramSchema, type Operation, type Program, type Value } from "../../src/gen/MIL_pb.js";
import { BLOB_DATA_TYPES, blobByteLength, blobPaddingBits } from "../../src/mlprogram/blob-data-types.js";
import { decodeMlPackage, packageProgram, type MlPackage } from "../../src/mlprogram/ml-package.js";
import { MAX_BLOCK_NESTING, walkProgram } from "../../src/mlprogram/walk-program.js";
import { casesFile, fixturePackages, independentBlobs, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

const cases = casesFile();
const load = (relative: string): MlPackage => decodeMlPackage(packageFiles(relative));

describe("the constants of each input model are those cases.json lists", () => {
  test.each(cases.models.map((m) => [m.id, m] as const))("%s", (_id, model) => {
    const pkg = load(model.path);
    const { constants } = walkProgram(packageProgram(pkg), pkg.weights);
    // cases.json lists the float constants of rank >= 1 (the weights and biases) with their consumers.
    const listed = Object.fromEntries(
      constants
        .filter((c) => c.opType === "const" && c.dataType.startsWith("float") && c.shape.length > 0)
        .map((c) => [c.opName, { shape: c.shape, dtype: c.dataType, consumers: [...new Set(c.consumers.map((u) => u.opName))] }]),
    );
    expect(listed).toEqual(model.consts);
  });
});

describe("the weight inputs of each expected package are those its case lists", () => {
  const withWeights = cases.cases.filter((c) => c.expected !== undefined && c.weights !== undefined);
  test.each(withWeights.map((c) => [c.id, c] as const))("%s", (_id, testCase) => {
    const pkg = load(testCase.expected as string);
    const { weights } = walkProgram(packageProgram(pkg), pkg.weights);
    const named = new Map(weights.map((w) => [isTupleInput(w.input) ? `${w.opName}.${w.input}[${w.index}]` : `${w.opName}.${w.input}`, w] as const));
    expect(named.size).toBe(weights.length);
    for (const record of testCase.weights ?? []) {
      const found = named.get(record.input);
      expect(found === undefined ? record.input : { producer: found.producer, ops: found.chain, shape: found.shape }).toEqual({
        producer: record.producer,
        ops: record.ops,
        shape: record.shape,
      });
    }
    // And the other way: every float weight input of rank > 1 is among the records.
    const recorded = new Set((testCase.weights ?? []).map((r) => r.input));
    const missing = [...named]
      .filter(([, w]) => w.dataType.startsWith("float") && w.shape.length > 1)
      .map(([name]) => name)
      .filter((n) => !recorded.has(n));
    expect(missing).toEqual([]);
  });
});

/** Inputs that take a tuple of values: cases.json names them with an index even for the first. */
function isTupleInput(input: string): boolean {
  return input === "values";
}

describe("blob references match an independent reading of weight.bin", () => {
  test.each(fixturePackages())("%s", (relative) => {
    const files = packageFiles(relative);
    const pkg = decodeMlPackage(files);
    const { constants } = walkProgram(packageProgram(pkg), pkg.weights);
    const blobs = independentBlobs(files.get(WEIGHT_BIN_PATH) as Uint8Array);
    const referenced = new Map<number, { code: number; size: number }>();
    for (const c of constants) {
      if (c.storage.kind === "blob") referenced.set(c.storage.offset, { code: BLOB_DATA_TYPES[c.storage.blobDataType].code, size: c.storage.byteLength });
      if (c.storage.kind !== "blob") continue;
      // The reference's rule (MLPROGRAM.md 2.1): blobs hold values of at least 10 elements.
      expect(c.count).toBeGreaterThanOrEqual(10);
      // Sizes and padding (MLPROGRAM.md 3) follow from the element count the program declares.
      const blob = pkg.weights?.blobs.find((b) => b.offset === (c.storage as { offset: number }).offset);
      expect([blob?.data.length, blob?.paddingBits]).toEqual([
        blobByteLength(c.storage.blobDataType, c.count),
        blobPaddingBits(c.storage.blobDataType, c.count),
      ]);
    }
    // Every blob is referenced, with its type and size.
    expect([...referenced].sort((a, b) => a[0] - b[0])).toEqual(blobs.map((b) => [b.offset, { code: b.code, size: b.size }]));
  });
});

describe("what the walk reports for a compressed package", () => {
  test("iOS16 palettization: the LUT op's attributes are constants in weight.bin, fed to the op that holds them", () => {
    const pkg = load("expected/mlp_fp32_ios16__pal_uniform_4b.mlpackage");
    const { constants, weights } = walkProgram(packageProgram(pkg), pkg.weights);
    const params = constants.filter((c) => c.opName === "fc1_weight_0_palettized");
    expect(params.map((c) => [c.param, c.via, c.dataType, c.shape, c.storage.kind]).sort()).toEqual([
      ["indices", "attribute", "uint8", [5120], "blob"],
      ["lut", "attribute", "float32", [16], "blob"],
      ["shape", "attribute", "uint32", [2], "inline"],
    ]);
    expect(params.every((c) => c.consumers.length === 1 && c.consumers[0]?.opName === "fc1_weight_0_palettized" && c.consumers[0].input === c.param)).toBe(
      true,
    );
    expect(weights.find((w) => w.opName === "fc1" && w.input === "weight")).toMatchObject({
      opType: "linear",
      producer: "fc1_weight_0_palettized",
      chain: ["constexpr_lut_to_dense"],
      shape: [128, 80],
      dataType: "float32",
      path: 'main/CoreML6/operations[2] "fc1"',
    });
  });

  test("iOS18 joint compression: value-bound inputs, a chain of three constexpr ops, a shared table read twice", () => {
    const pkg = load("expected/attn_fp32_ios18__joint_prune50_pal4_then_lq_int8.mlpackage");
    const { constants, weights } = walkProgram(packageProgram(pkg), pkg.weights);
    const mask = constants.find((c) => c.opType === "constexpr_lut_to_sparse" && c.param === "indices_mask");
    expect(mask).toMatchObject({ via: "input", dataType: "uint1", shape: [96, 64], storage: { kind: "blob", blobDataType: "uint1", byteLength: 768 } });
    const embed = weights.filter((w) => w.producer === "embed_x_0_sparsified");
    expect(embed.map((w) => `${w.opName}.${w.input}`)).toEqual(["embed.x", "lm_head.y"]);
  });
});

/** A one-function program of the given ops, for the refusals. */
function programOf(ops: Operation[]): Program {
  return create(ProgramSchema, {
    version: 1n,
    functions: { main: { opset: "CoreML8", blockSpecializations: { CoreML8: { operations: ops, outputs: [] } } } },
  });
}

function tensorType(dataType: DataType, shape: number[]) {
  return {
    type: {
      case: "tensorType" as const,
      value: {
        dataType,
        rank: BigInt(shape.length),
        dimensions: shape.map((size) => ({ dimension: { case: "constant" as const, value: { size: BigInt(size) } } })),
      },
    },
  };
}

function nameAttribute(name: string): Value {
  return {
    type: tensorType(DataType.STRING, []),
    value: { case: "immediateValue", value: { value: { case: "tensor", value: { value: { case: "strings", value: { values: [name] } } } } } },
  } as unknown as Value;
}

function constOp(name: string, val: Partial<Value>): Operation {
  return create(OperationSchema, {
    type: "const",
    attributes: { name: nameAttribute(name), val: val as Value },
    outputs: [{ name, type: val.type }],
  });
}

function blobValue(dataType: DataType, shape: number[], offset: bigint, fileName = "@model_path/weights/weight.bin"): Partial<Value> {
  return { type: tensorType(dataType, shape), value: { case: "blobFileValue", value: { fileName, offset } } } as unknown as Partial<Value>;
}

describe("nested blocks", () => {
  test("a const inside a nested block, read by an op there, is found with its path", () => {
    const inner = constOp("w", {
      type: tensorType(DataType.FLOAT32, [2]),
      value: { case: "immediateValue", value: { value: { case: "tensor", value: { value: { case: "floats", value: { values: [1, 2] } } } } } },
    } as never);
    const reader = create(OperationSchema, {
      type: "add",
      attributes: { name: nameAttribute("sum") },
      inputs: { x: { arguments: [{ binding: { case: "name", value: "w" } }] } },
      outputs: [{ name: "sum", type: tensorType(DataType.FLOAT32, [2]) }],
    });
    const cond = create(OperationSchema, {
      type: "cond",
      attributes: { name: nameAttribute("branch") },
      blocks: [
        { operations: [], outputs: [] },
        { operations: [inner, reader], outputs: ["sum"] },
      ],
      outputs: [{ name: "branch", type: tensorType(DataType.FLOAT32, [2]) }],
    });
    const { constants, weights } = walkProgram(programOf([cond]), undefined);
    expect(constants).toHaveLength(1);
    expect(constants[0]).toMatchObject({
      path: 'main/CoreML8/operations[0] "branch"/blocks[1]/operations[0] "w"',
      output: "w",
      shape: [2],
      count: 2,
      storage: { kind: "inline", field: "floats", byteLength: 8 },
    });
    expect(constants[0]?.consumers.map((c) => `${c.opName}.${c.input}`)).toEqual(["sum.x"]);
    expect(weights.map((w) => `${w.opName}.${w.input}`)).toEqual(["sum.x"]);
  });
});

describe("refusals name the op and the value", () => {
  const pkg = load("models/mlp_fp32_ios18.mlpackage");
  const program = packageProgram(pkg);
  /** The program with fc1's weight const changed. */
  const withWeightConst = (change: (val: Value) => void): Program => {
    const copy = clone(ProgramSchema, program);
    const block = copy.functions.main?.blockSpecializations.CoreML8;
    const op = block?.operations.find((o) => o.outputs[0]?.name === "fc1_weight_0");
    change(op?.attributes.val as Value);
    return copy;
  };
  const blobOf = (val: Value) => (val.value.case === "blobFileValue" ? val.value.value : undefined) as { offset: bigint; fileName: string };
  const dims = (val: Value) =>
    (val.type?.type.case === "tensorType" ? val.type.type.value : undefined) as {
      dataType: DataType;
      dimensions: { dimension: { value: { size: bigint } } }[];
    };
  const cases: [string, () => Program, MlPackage["weights"], ErrorCode, RegExp][] = [
    [
      "a misaligned offset",
      () =>
        withWeightConst((v) => {
          blobOf(v).offset += 8n;
        }),
      pkg.weights,
      "invalid-weights",
      /"fc1_weight_0" attribute val: blob offset 72 is not a multiple of 64/,
    ],
    [
      "an offset past the end",
      () =>
        withWeightConst((v) => {
          blobOf(v).offset = 1n << 40n;
        }),
      pkg.weights,
      "invalid-weights",
      /no blob record at offset 1099511627776/,
    ],
    [
      "an offset inside another blob",
      () =>
        withWeightConst((v) => {
          blobOf(v).offset += 128n;
        }),
      pkg.weights,
      "invalid-weights",
      /no blob record at offset 192/,
    ],
    [
      "a type other than the blob's",
      () =>
        withWeightConst((v) => {
          dims(v).dataType = DataType.FLOAT16;
        }),
      pkg.weights,
      "invalid-weights",
      /the value is float16 but the blob at offset 64 holds float32/,
    ],
    [
      "a shape other than the blob's",
      () =>
        withWeightConst((v) => {
          (dims(v).dimensions[0] as { dimension: { value: { size: bigint } } }).dimension.value.size = 64n;
        }),
      pkg.weights,
      "invalid-weights",
      /shape \[64, 80\] has 5120 elements but the blob at offset 64 holds 10240/,
    ],
    [
      "another file than weight.bin",
      () =>
        withWeightConst((v) => {
          blobOf(v).fileName = "@model_path/weights/other.bin";
        }),
      pkg.weights,
      "unsupported-model",
      /refers to "@model_path\/weights\/other\.bin"/,
    ],
    ["a blob reference without weight.bin", () => program, undefined, "unsupported-model", /refers to weight\.bin, which the package lacks/],
  ];
  test.each(cases)("%s", (_name, make, weights, code, message) => {
    let error: unknown;
    try {
      walkProgram(make(), weights);
    } catch (caught) {
      error = caught;
    }
    expect(isQuantizeError(error, code)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test("an inline value whose element count does not fit its shape", () => {
    const bad = constOp("w", {
      type: tensorType(DataType.FLOAT32, [3]),
      value: { case: "immediateValue", value: { value: { case: "tensor", value: { value: { case: "floats", value: { values: [1, 2] } } } } } },
    } as never);
    expect(() => walkProgram(programOf([bad]), undefined)).toThrow(/"w" attribute val: shape \[3\] has 3 elements, the value holds 2 floats/);
    const packed = constOp("m", {
      type: tensorType(DataType.UINT4, [5]),
      value: { case: "immediateValue", value: { value: { case: "tensor", value: { value: { case: "bytes", value: { values: new Uint8Array(2) } } } } } },
    } as never);
    expect(() => walkProgram(programOf([packed]), undefined)).toThrow(/5 uint4 elements take 3 bytes, the value holds 2/);
  });

  test("a blob reference in a hand-built program is checked like a decoded one", () => {
    const op = constOp("w", blobValue(DataType.FLOAT32, [16], 64n));
    expect(() => walkProgram(programOf([op]), { blobs: [] })).toThrow(/no blob record at offset 64/);
  });
});

test("blocks nested beyond MAX_BLOCK_NESTING are refused, not a stack overflow", () => {
  let op = create(OperationSchema, { type: "identity", attributes: { name: nameAttribute("leaf") } });
  for (let i = 0; i <= MAX_BLOCK_NESTING + 1; i++) {
    op = create(OperationSchema, { type: "cond", attributes: { name: nameAttribute(`c${i}`) }, blocks: [{ operations: [op], outputs: [] }] });
  }
  expect(() => walkProgram(programOf([op]), undefined)).toThrow(
    expect.objectContaining({ code: "unsupported-model", message: expect.stringMatching(/nested more than 100 deep/) }),
  );
});

/**
 * Issue 11's hostile corpus against the library itself (no CLI in front): whatever
 * a caller passes, as options or as a model, the library throws only a
 * QuantizeError with a code, a message naming what was given (with its type) and
 * what is expected, and the layer path where there is one. Building the message
 * never throws. One test per root cause.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseTensorStorage } from "../../src/quantize/auto-bits.js";
import { packIndices, unpackIndices } from "../../src/codec/bit-pack.js";
import { decodeModel } from "../../src/codec/decode-model.js";
import { decodeFloat16 } from "../../src/codec/float16.js";
import type { Model, NeuralNetworkLayer, WeightParams } from "../../src/codec/model-types.js";
import { weightStorage, withInt8 } from "../../src/codec/weight-storage.js";
import { describeValue } from "../../src/describe-value.js";
import { isQuantizeError, type ErrorCode } from "../../src/errors.js";
import { readParallelOptions, resolveThreadCount } from "../../src/node/parallel-options.js";
import {
  activateInt8Int8MatrixMultiplications,
  dequantizeWeights,
  quantizeWeights,
  type QuantizeOptions,
  type TensorDecision,
} from "../../src/quantize/quantize-weights.js";
import { AdvancedQuantizedLayerSelector, MatrixMultiplyLayerSelector, QuantizedLayerSelector } from "../../src/selectors.js";
import { assertHasNetwork, validateWeights } from "../../src/validate-model.js";
import { allLayers } from "../../src/walker/networks.js";
import {
  concat,
  ensureBuiltCli,
  F,
  fcModel,
  floatValueRecords,
  innerProductLayer,
  lengthDelimited,
  nestedBranches,
  networkModel,
  REPO,
  runInProcess,
  sixteen,
  varintField,
} from "./helpers.js";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** What `act` threw, or undefined. */
function thrownBy(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * A QuantizeError of `code` whose message contains every fragment. Compared as one
 * object, so a failure shows what was thrown instead.
 */
function expectRefusal(error: unknown, code: ErrorCode, ...fragments: readonly string[]): void {
  const message = error instanceof Error ? error.message : `nothing thrown, or not an Error: ${describeValue(error)}`;
  expect({ quantizeError: isQuantizeError(error), code: isQuantizeError(error) ? error.code : undefined, message }).toEqual({
    quantizeError: true,
    code,
    message: expect.stringContaining(fragments[0] ?? "") as string,
  });
  for (const fragment of fragments) expect(message).toContain(fragment);
}

/** A 4x4 innerProduct "fc" with a 4-value bias, decoded afresh each time. */
const fc = (): Model => decodeModel(fcModel(floatValueRecords(sixteen())));

/** The first layer of the top-level network of `model`. */
function firstLayer(model: Model): NeuralNetworkLayer {
  const [location] = allLayers(model);
  if (location === undefined) throw new Error("no layer");
  return location.layer;
}

/** `model` (a neuralNetwork) with its first layer's innerProduct parameters changed by `edit`. */
function withInnerProduct(model: Model, edit: (params: Record<string, unknown>) => Record<string, unknown>): Model {
  if (model.Type.case !== "neuralNetwork") throw new Error("not a neuralNetwork");
  const [layer, ...rest] = model.Type.value.layers as [NeuralNetworkLayer, ...NeuralNetworkLayer[]];
  if (layer.layer.case !== "innerProduct") throw new Error("not an innerProduct");
  const value = edit(layer.layer.value as unknown as Record<string, unknown>);
  const changed = { ...layer, layer: { case: "innerProduct", value } } as unknown as NeuralNetworkLayer;
  return { ...model, Type: { case: "neuralNetwork", value: { ...model.Type.value, layers: [changed, ...rest] } } };
}

/** `model` with its first layer's weights replaced. */
const withWeights = (model: Model, weights: unknown): Model => withInnerProduct(model, (p) => ({ ...p, weights }));

const FC_WEIGHTS = 'layers[0] "fc"/weights';
const FLT_MAX = 3.4028234663852886e38;

// ---------------------------------------------------------------------------
// describeValue: quoting never throws
// ---------------------------------------------------------------------------

describe("describeValue quotes anything, with its type, without throwing", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const trap = (): never => {
    throw new Error("trap");
  };
  test.each([
    ["a string", "8", '"8" (a string)'],
    ["a number", 8, "8 (a number)"],
    ["NaN", NaN, "NaN (a number)"],
    ["-0", -0, "-0 (a number)"],
    ["a bigint", 8n, "8n (a bigint)"],
    ["a symbol", Symbol("eight"), "Symbol(eight) (a symbol)"],
    ["undefined", undefined, "undefined"],
    ["null", null, "null"],
    ["an empty object", {}, "{} (an object)"],
    ["an object whose toString throws", { toString: trap, valueOf: trap }, "{ toString, valueOf } (an object)"],
    ["a cyclic object", cyclic, "{ a, self } (an object)"],
    ["an array", [1, "a", 2n, [3], {}], '[1, "a", 2n, […], {…}] (an array)'],
    ["a Set", new Set(["linear", "kmeans_lut"]), "a Set of 2"],
    ["a typed array", new Float32Array(3), "a Float32Array of 3"],
    ["a class instance", new QuantizedLayerSelector(), "an instance of QuantizedLayerSelector"],
    ["a revoked proxy", revoked.proxy, "a value of type object"],
    ["a proxy whose traps throw", new Proxy({}, { ownKeys: trap, getPrototypeOf: trap, get: trap }), "a value of type object"],
    ["a long string", "x".repeat(500), `"${"x".repeat(60)}…" (a string)`],
  ])("%s", (_name, value, expected) => {
    // Act
    const described = describeValue(value);

    // Assert
    expect(described).toBe(expected);
  });
});

// ---------------------------------------------------------------------------
// Options of quantizeWeights, dequantizeWeights, activateInt8Int8MatrixMultiplications
// ---------------------------------------------------------------------------

describe("options that are not an options object", () => {
  test.each([
    ["undefined", undefined, "undefined"],
    ["null", null, "null"],
    ["a number", 8, "8 (a number)"],
    ["an array", [8], "[8] (an array)"],
  ])("quantizeWeights(model, %s)", (_name, options, described) => {
    // Arrange
    const model = fc();

    // Act
    const error = thrownBy(() => quantizeWeights(model, options as unknown as QuantizeOptions));

    // Assert
    expectRefusal(error, "invalid-option", "options of quantizeWeights must be an object with nbits", `got ${described}`);
  });

  test("dequantizeWeights(model, null)", () => {
    const model = fc();
    const error = thrownBy(() => dequantizeWeights(model, null as unknown as object));
    expectRefusal(error, "invalid-option", "options of dequantizeWeights must be an object", "got null");
  });

  test('activateInt8Int8MatrixMultiplications(model, "fast")', () => {
    const model = fc();
    const error = thrownBy(() => activateInt8Int8MatrixMultiplications(model, "fast" as unknown as object));
    expectRefusal(error, "invalid-option", "options of activateInt8Int8MatrixMultiplications must be an object", 'got "fast" (a string)');
  });
});

describe("options of the wrong type name the option, the value and its type", () => {
  const symbol = Symbol("eight");
  const throwingToString = {
    toString: (): string => {
      throw new Error("no");
    },
  };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  test.each([
    ['nbits "8"', { nbits: "8" }, "nbits", 'got "8" (a string)'],
    ["nbits 8n", { nbits: 8n }, "nbits", "got 8n (a bigint)"],
    ["nbits Symbol", { nbits: symbol }, "nbits", "got Symbol(eight) (a symbol)"],
    ["nbits a cyclic object", { nbits: cyclic }, "nbits", "got { self } (an object)"],
    ["nbits missing", {}, "nbits", "got undefined"],
    ["mode {}", { nbits: 8, mode: {} }, "mode", "got {} (an object)"],
    ["mode whose toString throws", { nbits: 8, mode: throwingToString }, "mode", "got { toString } (an object)"],
    ["mode 8n", { nbits: 8, mode: 8n }, "mode", "got 8n (a bigint)"],
    ["float16Overflow Symbol", { nbits: 16, float16Overflow: symbol }, "float16Overflow", "got Symbol(eight) (a symbol)"],
    ['targetSnrDb "40"', { nbits: "auto", targetSnrDb: "40" }, "targetSnrDb", 'got "40" (a string)'],
    ["targetSnrDb 40n", { nbits: "auto", targetSnrDb: 40n }, "targetSnrDb", "got 40n (a bigint)"],
    ['fuse "no"', { nbits: 8, fuse: "no" }, "fuse", 'got "no" (a string)'],
    ["onProgress 5", { nbits: 8, onProgress: 5 }, "onProgress", "got 5 (a number)"],
    ["onTensor {}", { nbits: 8, onTensor: {} }, "onTensor", "got {} (an object)"],
    ['lutFunction "even"', { nbits: 4, mode: "custom_lut", lutFunction: "even" }, "lutFunction", 'got "even" (a string)'],
    ["selector null", { nbits: 8, selector: null }, "selector", "got null"],
    ["selector {}", { nbits: 8, selector: {} }, "selector", "got {} (an object)"],
  ])("%s", (_name, options, option, got) => {
    // Arrange
    const model = fc();

    // Act
    const error = thrownBy(() => quantizeWeights(model, options as unknown as QuantizeOptions));

    // Assert
    expectRefusal(error, "invalid-option", `option ${option} must be`, got);
  });

  test("an unknown mode string keeps its message, with its type", () => {
    const error = thrownBy(() => quantizeWeights(fc(), { nbits: 8, mode: "cubic" as "linear" }));
    expectRefusal(error, "invalid-option", 'unknown quantization mode "cubic" (a string)', "linear_symmetric");
  });
});

describe("modes must be an array of known modes", () => {
  test.each([
    ["a string", "linear", 'got "linear" (a string)', 'write ["linear"]'],
    ["a Set", new Set(["linear", "kmeans_lut"]), "got a Set of 2", "[...set]"],
    ["an array with an unknown mode", ["linear", "cubic"], 'got ["linear", "cubic"] (an array)', ""],
    ["an array with a non-string", ["linear", 4n], 'got ["linear", 4n] (an array)', ""],
  ])("modes as %s", (_name, modes, got, hint) => {
    // Arrange
    const model = fc();

    // Act
    const error = thrownBy(() => quantizeWeights(model, { nbits: "auto", modes: modes as unknown as ["linear"] }));

    // Assert
    expectRefusal(error, "invalid-option", "option modes must be a non-empty array of modes among linear, linear_symmetric, linear_lut, kmeans_lut", got, hint);
  });
});

describe("selector options where a selector belongs", () => {
  test.each([
    ["AdvancedQuantizedLayerSelector", { skipLayerTypes: ["bias"] }],
    ["MatrixMultiplyLayerSelector", { includeLayersWithNames: ["fc"] }],
  ])("are refused, saying to wrap them in new %s(…)", (className, options) => {
    // Arrange
    const model = fc();

    // Act
    const error = thrownBy(() => quantizeWeights(model, { nbits: 8, selector: options as never }));

    // Assert
    expectRefusal(error, "invalid-option", "option selector must be a layer selector", `wrap them in new ${className}({ … })`);
  });
});

describe("the caller's code throwing is wrapped as a callback error, with the cause", () => {
  test("a getter on the options object", () => {
    // Arrange
    const boom = new Error("getter boom");
    const options = {
      get nbits(): number {
        throw boom;
      },
    };

    // Act
    const error = thrownBy(() => quantizeWeights(fc(), options));

    // Assert
    expectRefusal(error, "callback", "reading option nbits of quantizeWeights threw: getter boom");
    expect((error as Error).cause).toBe(boom);
  });

  test("a selector whose doQuantize throws", () => {
    // Arrange
    const boom = new Error("selector boom");
    class Throwing extends QuantizedLayerSelector {
      override doQuantize(): boolean {
        throw boom;
      }
    }

    // Act
    const error = thrownBy(() => quantizeWeights(fc(), { nbits: 8, selector: new Throwing() }));

    // Assert
    expectRefusal(error, "callback", 'layers[0] "fc"', "the selector's doQuantize threw: selector boom");
    expect((error as Error).cause).toBe(boom);
  });

  test("a selector that throws a non-Error (a symbol)", () => {
    const selector = {
      doQuantize: (): boolean => {
        throw Symbol("odd");
      },
    };
    const error = thrownBy(() => dequantizeWeights(fc(), { selector }));
    expectRefusal(error, "callback", "doQuantize threw: Symbol(odd) (a symbol)");
  });

  test("a selector's doQuantize getter that throws", () => {
    const selector = {
      get doQuantize(): () => boolean {
        throw new Error("no method");
      },
    };
    const error = thrownBy(() => quantizeWeights(fc(), { nbits: 8, selector }));
    expectRefusal(error, "callback", "checking option selector of quantizeWeights threw: no method");
  });

  test("onProgress", () => {
    // Arrange
    const boom = new Error("progress boom");

    // Act
    const error = thrownBy(() =>
      quantizeWeights(fc(), {
        nbits: 8,
        onProgress: () => {
          throw boom;
        },
      }),
    );

    // Assert
    expectRefusal(error, "callback", FC_WEIGHTS, "onProgress threw: progress boom");
    expect((error as Error).cause).toBe(boom);
  });

  test("onTensor", () => {
    // Arrange
    const boom = new Error("tensor boom");

    // Act
    const error = thrownBy(() =>
      quantizeWeights(fc(), {
        nbits: 16,
        onTensor: (_d: TensorDecision) => {
          throw boom;
        },
      }),
    );

    // Assert
    expectRefusal(error, "callback", FC_WEIGHTS, "onTensor threw: tensor boom");
    expect((error as Error).cause).toBe(boom);
  });

  test("onProgress of activateInt8Int8MatrixMultiplications", () => {
    const error = thrownBy(() =>
      activateInt8Int8MatrixMultiplications(fc(), {
        onProgress: () => {
          throw new Error("int8 boom");
        },
      }),
    );
    expectRefusal(error, "callback", FC_WEIGHTS, "onProgress threw: int8 boom");
  });
});

// ---------------------------------------------------------------------------
// quantizeWeightsParallel's options (the worker code itself runs in the binary)
// ---------------------------------------------------------------------------

describe("quantizeWeightsParallel's options", () => {
  test("threads: Infinity is one worker per core, not one per tensor", () => {
    // Act
    const { threads } = readParallelOptions({ nbits: 4, mode: "kmeans_lut", threads: Infinity }, 3);

    // Assert
    expect(threads).toBe(3);
  });

  test("the thread count never exceeds the cores, and defaults to at most 4", () => {
    expect([
      resolveThreadCount(Infinity, 2),
      resolveThreadCount(64, 8),
      resolveThreadCount(undefined, 16),
      resolveThreadCount(undefined, 2),
      resolveThreadCount(3, 0),
    ]).toEqual([2, 8, 4, 2, 1]);
  });

  test.each([
    ["NaN", NaN],
    ["negative", -2],
    ["not an integer", 1.5],
    ["zero", 0],
    ["a string", "4"],
    ["a bigint", 4n],
  ])("threads %s is refused", (_name, threads) => {
    // Act
    const error = thrownBy(() => readParallelOptions({ nbits: 8, threads }, 4));

    // Assert
    expectRefusal(error, "invalid-option", "quantizeWeightsParallel option threads must be a positive integer", `got ${describeValue(threads)}`);
  });

  test('options null, and nbits "8", are refused as quantizeWeights refuses them', () => {
    expectRefusal(
      thrownBy(() => readParallelOptions(null, 4)),
      "invalid-option",
      "got null",
    );
    expectRefusal(
      thrownBy(() => readParallelOptions({ nbits: "8" }, 4)),
      "invalid-option",
      'option nbits must be 16 (half precision), 1..8 or "auto", got "8" (a string)',
    );
  });

  test("a throwing getter, and a throwing onProgress", () => {
    expectRefusal(
      thrownBy(() =>
        readParallelOptions(
          {
            nbits: 8,
            get threads(): number {
              throw new Error("t");
            },
          },
          4,
        ),
      ),
      "callback",
      "reading option threads",
    );
    const { onProgress } = readParallelOptions(
      {
        nbits: 8,
        onProgress: () => {
          throw new Error("p");
        },
      },
      4,
    );
    expectRefusal(
      thrownBy(() => onProgress?.({ path: "model/x", done: 1, total: 1 })),
      "callback",
      "model/x",
      "onProgress threw: p",
    );
  });
});

// ---------------------------------------------------------------------------
// Malformed model objects
// ---------------------------------------------------------------------------

describe("objects that are not a model are refused at the entry, naming the field and what it holds", () => {
  const network = (value: unknown): unknown => ({ ...fc(), Type: { case: "neuralNetwork", value } });
  const layerWith = (layer: unknown): unknown => {
    const model = fc();
    if (model.Type.case !== "neuralNetwork") throw new Error("unreachable");
    const [first] = model.Type.value.layers;
    return { ...model, Type: { case: "neuralNetwork", value: { ...model.Type.value, layers: [{ ...first, layer }] } } };
  };
  const rows: [string, () => unknown, ErrorCode, string[]][] = [
    ["null", () => null, "unsupported-model", ["expected a Core ML model object", "got null"]],
    ["undefined", () => undefined, "unsupported-model", ["got undefined"]],
    ["a string", () => "model.mlmodel", "unsupported-model", ['got "model.mlmodel" (a string)']],
    ["{}", () => ({}), "unsupported-model", ["model: specificationVersion must be an integer, got undefined"]],
    ["no Type", () => ({ specificationVersion: 4, isUpdatable: false }), "unsupported-model", ["Type must be { case, value }", "got undefined"]],
    ["Type null", () => ({ ...fc(), Type: null }), "unsupported-model", ["Type must be { case, value }", "got null"]],
    ["an unknown Type case", () => ({ ...fc(), Type: { case: "bogus", value: {} } }), "unsupported-model", ['got case "bogus" (a string)']],
    [
      "Type neuralNetwork without a value",
      () => ({ ...fc(), Type: { case: "neuralNetwork" } }),
      "unsupported-model",
      ['model: the value of Type case "neuralNetwork" must be a NeuralNetwork message (an object), got undefined'],
    ],
    [
      "layers null",
      () => network({ ...(fc().Type.value as object), layers: null }),
      "unsupported-model",
      ["model/neuralNetwork: layers must be an array", "got null"],
    ],
    [
      "a layer that is null",
      () => network({ ...(fc().Type.value as object), layers: [null] }),
      "unsupported-model",
      ["layers[0] must be a NeuralNetworkLayer message (an object), got null"],
    ],
    ["a layer oneof that is null", () => layerWith(null), "unsupported-model", ['layers[0] "fc": layer must be { case, value }', "got null"]],
    [
      "a layer oneof without a value",
      () => layerWith({ case: "innerProduct" }),
      "unsupported-model",
      ['layers[0] "fc": the value of layer case "innerProduct" must be a InnerProductLayerParams message (an object), got undefined'],
    ],
    [
      "a layer oneof with an unknown case",
      () => layerWith({ case: "dense", value: {} }),
      "unsupported-model",
      ['layers[0] "fc": layer must be', 'got case "dense" (a string)'],
    ],
    ["a layer oneof whose case is a number", () => layerWith({ case: 7, value: {} }), "unsupported-model", ["got case 7 (a number)"]],
    [
      "a channel count that is a Symbol",
      () => withInnerProduct(fc(), (p) => ({ ...p, inputChannels: Symbol("four") })),
      "unsupported-model",
      ['layers[0] "fc": inputChannels must be a non-negative bigint, got Symbol(four) (a symbol)'],
    ],
    [
      "a layer name that is a bigint",
      () => {
        const model = fc();
        if (model.Type.case !== "neuralNetwork") throw new Error("unreachable");
        return network({ ...model.Type.value, layers: [{ ...model.Type.value.layers[0], name: 1n }] });
      },
      "unsupported-model",
      ["layers[0]: name must be a string, got 1n (a bigint)"],
    ],
    ["weights {}", () => withWeights(fc(), {}), "invalid-weights", [`${FC_WEIGHTS}: floatValue must be a Float32Array`, "got undefined"]],
    ["weights 5", () => withWeights(fc(), 5), "invalid-weights", ['layers[0] "fc": weights must be a WeightParams message (an object), got 5 (a number)']],
    [
      "floatValue a plain array of numbers",
      () => withWeights(fc(), { ...(firstLayer(fc()).layer.value as { weights: WeightParams }).weights, floatValue: [1, 2] }),
      "invalid-weights",
      [`${FC_WEIGHTS}: floatValue must be a Float32Array`, "got [1, 2] (an array)"],
    ],
  ];
  test.each(rows)("%s", (_name, make, code, fragments) => {
    // Arrange
    const model = make() as Model;

    // Act
    const errors = [
      thrownBy(() => quantizeWeights(model, { nbits: 8 })),
      thrownBy(() => dequantizeWeights(model)),
      thrownBy(() => activateInt8Int8MatrixMultiplications(model)),
      thrownBy(() => validateWeights(model)),
      thrownBy(() => assertHasNetwork(model)),
    ];

    // Assert
    for (const error of errors) expectRefusal(error, code, ...fragments);
  });
});

describe("a model that contains itself is refused, not walked until the stack overflows", () => {
  /** A branch layer whose ifBranch (and elseBranch) network holds the branch layer itself. */
  function cyclicBranch(both: boolean): Model {
    const model = decodeModel(nestedBranches(1));
    const branch = firstLayer(model);
    if (branch.layer.case !== "branch" || branch.layer.value.ifBranch === undefined) throw new Error("no branch");
    branch.layer.value.ifBranch.layers = [branch];
    if (both) branch.layer.value.elseBranch = branch.layer.value.ifBranch;
    // A new root object, as a caller builds one by hand: decodeModel's own results
    // are trusted to have the schema's shape (see src/codec/shape-checked.ts).
    return { ...model };
  }

  test.each([
    ["ifBranch", false],
    ["ifBranch and elseBranch", true],
  ])("a branch whose %s holds the branch", (_name, both) => {
    // Arrange
    const model = cyclicBranch(both);

    // Act
    const errors = [thrownBy(() => quantizeWeights(model, { nbits: 8 })), thrownBy(() => dequantizeWeights(model)), thrownBy(() => validateWeights(model))];

    // Assert
    for (const error of errors) expectRefusal(error, "unsupported-model", "contains itself (a cycle)", "ifBranch");
  });

  test("a decoded model changed in place to contain itself: refused by the walk's depth limit, in one short line", () => {
    // Arrange: the decoder's result, trusted without a second shape check, then changed by hand
    const model = decodeModel(nestedBranches(1));
    const branch = firstLayer(model);
    if (branch.layer.case !== "branch" || branch.layer.value.ifBranch === undefined) throw new Error("no branch");
    branch.layer.value.ifBranch.layers = [branch];

    // Act
    const errors = [thrownBy(() => quantizeWeights(model, { nbits: 8 })), thrownBy(() => dequantizeWeights(model)), thrownBy(() => validateWeights(model))];

    // Assert
    for (const error of errors) {
      expectRefusal(error, "unsupported-model", "does a network contain itself?");
      expect((error as Error).message.length).toBeLessThan(400);
    }
  });

  test("the walker's own depth limit (allLayers on an unchecked model)", () => {
    const error = thrownBy(() => allLayers(cyclicBranch(true)));
    expectRefusal(error, "unsupported-model", "nest more than 100 deep", "ifBranch");
  });

  test("a pipeline that holds itself", () => {
    // Arrange
    const pipeline = { ...fc(), Type: { case: "pipeline", value: { $typeName: "CoreML.Specification.Pipeline", models: [] as unknown[], names: [] } } };
    pipeline.Type.value.models.push(pipeline);

    // Act
    const error = thrownBy(() => quantizeWeights(pipeline as unknown as Model, { nbits: 8 }));

    // Assert
    expectRefusal(error, "unsupported-model", "model/pipeline/models[0]", "contains itself (a cycle)");
  });

  test("the deepest nesting decodeModel reads is accepted", () => {
    // Arrange: the deepest nestedBranches that decodes
    let depth = 40;
    while (thrownBy(() => decodeModel(nestedBranches(depth))) !== undefined) depth--;
    const model = decodeModel(nestedBranches(depth));

    // Act
    const error = thrownBy(() => quantizeWeights(model, { nbits: 8 }));

    // Assert
    expect({ depth, error }).toEqual({ depth: expect.any(Number) as number, error: undefined });
    expect(thrownBy(() => decodeModel(nestedBranches(depth + 1)))).toBeDefined();
  });
});

// ---------------------------------------------------------------------------
// Validation of weights
// ---------------------------------------------------------------------------

describe("int8 weights need numberOfBits 8, exactly one scale and no bias", () => {
  /** fc's weights as int8, with the quantization parameters edited. */
  function int8Model(edit: (q: { numberOfBits: bigint; scale: number[]; bias: number[] }) => void): Model {
    const model = fc();
    const weights = (firstLayer(model).layer.value as { weights: WeightParams }).weights;
    const int8 = withInt8(
      weights,
      Int8Array.from({ length: 16 }, (_, i) => i - 8),
      0.01,
    );
    const q = int8.quantization;
    if (q?.QuantizationType.case !== "linearQuantization") throw new Error("unreachable");
    const params = { numberOfBits: q.numberOfBits, scale: [...q.QuantizationType.value.scale], bias: [...q.QuantizationType.value.bias] };
    edit(params);
    return withWeights(model, {
      ...int8,
      quantization: {
        ...q,
        numberOfBits: params.numberOfBits,
        QuantizationType: { case: "linearQuantization", value: { ...q.QuantizationType.value, scale: params.scale, bias: params.bias } },
      },
    });
  }

  test("as withInt8 writes them, they are accepted", () => {
    expect(thrownBy(() => validateWeights(int8Model(() => undefined)))).toBeUndefined();
  });

  test.each([
    [
      "no scale",
      (q: { scale: number[] }) => {
        q.scale = [];
      },
      "0 scales",
    ],
    [
      "two scales",
      (q: { scale: number[] }) => {
        q.scale = [0.01, 0.02];
      },
      "2 scales",
    ],
    [
      "a bias",
      (q: { bias: number[] }) => {
        q.bias = [0.5];
      },
      "1 biases",
    ],
    [
      "numberOfBits 0",
      (q: { numberOfBits: bigint }) => {
        q.numberOfBits = 0n;
      },
      "numberOfBits 0",
    ],
    [
      "numberOfBits 4",
      (q: { numberOfBits: bigint }) => {
        q.numberOfBits = 4n;
      },
      "numberOfBits 4",
    ],
  ])("%s is refused", (_name, edit, found) => {
    // Arrange
    const model = int8Model(edit as (q: { numberOfBits: bigint; scale: number[]; bias: number[] }) => void);

    // Act
    const errors = [thrownBy(() => validateWeights(model)), thrownBy(() => dequantizeWeights(model)), thrownBy(() => quantizeWeights(model, { nbits: 8 }))];

    // Assert
    for (const error of errors) expectRefusal(error, "invalid-weights", FC_WEIGHTS, "numberOfBits 8, exactly one scale and no bias", found);
  });
});

describe("a zero-sized linearly quantized tensor is refused up front", () => {
  /** An innerProduct 0x5 whose weights are 4-bit linear with 0 scales (one padding byte). */
  const zeroByFive = (): Uint8Array =>
    networkModel([
      innerProductLayer(
        "fc",
        { inputChannels: 5, outputChannels: 0 },
        concat(
          lengthDelimited(F.weights.rawValue, Uint8Array.of(0)),
          lengthDelimited(F.weights.quantization, varintField(1, 4), lengthDelimited(101, new Uint8Array(0))),
        ),
      ),
    ]);

  test("by the library", () => {
    // Arrange
    const model = decodeModel(zeroByFive());

    // Act
    const errors = [thrownBy(() => validateWeights(model)), thrownBy(() => quantizeWeights(model, { nbits: 8 })), thrownBy(() => dequantizeWeights(model))];

    // Assert
    for (const error of errors) expectRefusal(error, "invalid-weights", FC_WEIGHTS, "shape [0, 5] hold no values");
  });

  test("by the CLI, before writing anything", async () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), "coreml-quantize-hostile-"));
    try {
      const input = join(dir, "zero.mlmodel");
      writeFileSync(input, zeroByFive());
      const output = join(dir, "out.mlmodel");

      // Act
      const result = await runInProcess(["quantize", input, "-o", output, "--nbits", "8"]);

      // Assert
      expect({ code: result.code, written: existsSync(output) }).toEqual({ code: 1, written: false });
      expect(result.stderr).toContain(FC_WEIGHTS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------
// nbits "auto"
// ---------------------------------------------------------------------------

describe("nbits auto on values at the edge of float32", () => {
  test("chooseTensorStorage on ±FLT_MAX picks a storage that works instead of throwing", () => {
    // Arrange: 1-bit linear would need a step of 6.8e38, beyond float32
    const values = Float32Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? FLT_MAX : -FLT_MAX) * ((i % 3) / 2));

    // Act
    let choice: ReturnType<typeof chooseTensorStorage> | undefined;
    const error = thrownBy(() => {
      choice = chooseTensorStorage(values, { shape: [8, 8], axis: 0, path: "t" }, 40, ["linear", "kmeans_lut"]);
    });

    // Assert
    expect(error).toBeUndefined();
    expect(choice?.snrDb).toBeGreaterThanOrEqual(40);
  });

  test("linear alone on [FLT_MAX, -FLT_MAX, …]: the widths that fit compete", () => {
    const values = Float32Array.from({ length: 256 }, (_, i) => [FLT_MAX, -FLT_MAX, 0, 1][i % 4] as number);
    const choice = chooseTensorStorage(values, { shape: [256], axis: 0, path: "t" }, 40, ["linear"]);
    expect(choice.storage === "n-bit" ? choice.nbits : choice.storage).not.toBe(1);
    expect(choice.snrDb).toBeGreaterThanOrEqual(40);
  });

  test("quantizeWeights nbits auto on a layer holding ±FLT_MAX", () => {
    // Arrange
    const model = decodeModel(fcModel(floatValueRecords(sixteen().map((v, i) => (i < 2 ? ([FLT_MAX, -FLT_MAX][i] as number) : v)))));
    const decisions: TensorDecision[] = [];

    // Act
    let out: Model | undefined;
    const error = thrownBy(() => {
      out = quantizeWeights(model, { nbits: "auto", targetSnrDb: 40, onTensor: (d) => decisions.push(d) });
    });

    // Assert
    expect(error).toBeUndefined();
    expect(decisions.find((d) => d.path.endsWith(FC_WEIGHTS))?.snrDb).toBeGreaterThanOrEqual(40);
    expect(out === undefined ? "none" : weightStorage((firstLayer(out).layer.value as { weights: WeightParams }).weights).kind).toBeDefined();
  });

  test.each([
    ["NaN", NaN],
    ["a string", "40"],
  ])("chooseTensorStorage with a target of %s is refused", (_name, target) => {
    const error = thrownBy(() => chooseTensorStorage(new Float32Array([1, 2, 3, 4]), { shape: [4], axis: 0, path: "t" }, target as number, ["linear"]));
    expectRefusal(error, "invalid-option", "targetSnrDb must be a number of dB", `got ${describeValue(target)}`);
  });

  test("chooseTensorStorage with modes as a string is refused", () => {
    const error = thrownBy(() =>
      chooseTensorStorage(new Float32Array([1, 2, 3, 4]), { shape: [4], axis: 0, path: "t" }, 40, "linear" as unknown as ["linear"]),
    );
    expectRefusal(error, "invalid-option", "modes must be a non-empty array", 'got "linear" (a string)');
  });
});

// ---------------------------------------------------------------------------
// Codec functions called directly
// ---------------------------------------------------------------------------

describe("bit packing refuses what it cannot represent", () => {
  test.each([1, 2, 3, 4, 5, 6, 7])("packIndices at %i bits: an index that does not fit, named by position and value", (nbits) => {
    // Arrange: fits everywhere but at position 9 (in the whole-byte part for 1, 2 and 4 bits)
    const indices = new Uint8Array(24);
    indices[9] = 2 ** nbits;

    // Act
    const error = thrownBy(() => packIndices(indices, nbits));

    // Assert
    expectRefusal(error, "invalid-option", `index ${2 ** nbits} at position 9 does not fit in ${nbits} bits`);
  });

  test("packIndices at 1 bit catches an index of 2 in every position of a byte", () => {
    const caughtAt = Array.from({ length: 8 }, (_, at) => {
      const indices = new Uint8Array(8);
      indices[at] = 2;
      return isQuantizeError(
        thrownBy(() => packIndices(indices, 1)),
        "invalid-option",
      );
    });
    expect(caughtAt).toEqual(Array(8).fill(true));
  });

  test.each([
    ["9", 9],
    ["0", 0],
    ["2.5", 2.5],
    ["NaN", NaN],
    ['"4"', "4"],
  ])("unpackIndices with nbits %s", (_name, nbits) => {
    const error = thrownBy(() => unpackIndices(new Uint8Array(4), nbits as number, 2));
    expectRefusal(error, "invalid-option", "unpackIndices: nbits must be an integer from 1 to 8", `got ${describeValue(nbits)}`);
  });

  test("packIndices with nbits 9", () => {
    const error = thrownBy(() => packIndices(new Uint8Array(4), 9));
    expectRefusal(error, "invalid-option", "packIndices: nbits must be an integer from 1 to 8", "got 9 (a number)");
  });

  test("decodeFloat16 of an odd number of bytes", () => {
    const error = thrownBy(() => decodeFloat16(new Uint8Array(5)));
    expectRefusal(error, "invalid-weights", "5 bytes is an odd length");
  });
});

// ---------------------------------------------------------------------------
// Selector options
// ---------------------------------------------------------------------------

describe("selector options", () => {
  test("includeLayersWithNames as a string is refused (it matched by substring)", () => {
    // Act
    const error = thrownBy(() => new MatrixMultiplyLayerSelector({ includeLayersWithNames: "fc1" as unknown as string[] }));

    // Assert
    expectRefusal(
      error,
      "invalid-option",
      "MatrixMultiplyLayerSelector option includeLayersWithNames must be an array of strings",
      'got "fc1" (a string)',
      'write ["fc1"]',
    );
  });

  test("includeLayersWithNames matches names exactly", () => {
    // Arrange
    const selector = new MatrixMultiplyLayerSelector({ includeLayersWithNames: ["fc1"] });
    const layer = firstLayer(fc()); // named "fc", a substring of "fc1"

    // Act
    const selected = selector.doQuantize(layer);

    // Assert
    expect(selected).toBe(false);
  });

  test.each([
    [
      'skipLayerTypes "bias"',
      () => new AdvancedQuantizedLayerSelector({ skipLayerTypes: "bias" as unknown as string[] }),
      "skipLayerTypes must be an array of strings",
      'got "bias" (a string)',
    ],
    [
      "skipLayerTypes a Set",
      () => new AdvancedQuantizedLayerSelector({ skipLayerTypes: new Set(["bias"]) as unknown as string[] }),
      "skipLayerTypes must be an array of strings",
      "got a Set of 1",
    ],
    [
      'minimumConvWeightCount "4"',
      () => new AdvancedQuantizedLayerSelector({ minimumConvWeightCount: "4" as unknown as number }),
      "minimumConvWeightCount must be a non-negative number",
      'got "4" (a string)',
    ],
    [
      "minimumWeightCount 4n",
      () => new MatrixMultiplyLayerSelector({ minimumWeightCount: 4n as unknown as number }),
      "minimumWeightCount must be a non-negative number",
      "got 4n (a bigint)",
    ],
    [
      "maximumInputChannels Symbol",
      () => new MatrixMultiplyLayerSelector({ maximumInputChannels: Symbol("x") as unknown as number }),
      "maximumInputChannels must be a non-negative number",
      "got Symbol(x) (a symbol)",
    ],
    ["options null", () => new MatrixMultiplyLayerSelector(null as unknown as object), "options of MatrixMultiplyLayerSelector must be an object", "got null"],
  ])("%s is refused", (_name, make, expected, got) => {
    const error = thrownBy(make);
    expectRefusal(error, "invalid-option", expected, got);
  });

  test("a throwing getter on selector options", () => {
    const error = thrownBy(
      () =>
        new AdvancedQuantizedLayerSelector({
          get skipLayerTypes(): string[] {
            throw new Error("skip boom");
          },
        }),
    );
    expectRefusal(error, "callback", "reading option skipLayerTypes of AdvancedQuantizedLayerSelector threw: skip boom");
  });
});

// ---------------------------------------------------------------------------
// quantizeWeightsParallel itself, built (ts-jest cannot load its worker code)
// ---------------------------------------------------------------------------

describe("quantizeWeightsParallel, from dist", () => {
  beforeAll(() => {
    ensureBuiltCli();
  }, 200_000);

  test("refuses null options, threads NaN, and reports a throwing onProgress from the worker path as a rejection", () => {
    // Arrange: k-means over several tensors with threads: Infinity takes the worker path
    // (A file, not --eval: worker threads inherit the flags, and --input-type stops them.)
    const dir = mkdtempSync(join(tmpdir(), "coreml-quantize-parallel-options-"));
    const file = join(dir, "run.mjs");
    writeFileSync(
      file,
      `
      import { readFileSync } from "node:fs";
      import { decodeModel } from ${JSON.stringify(join(REPO, "dist", "index.js"))};
      import { quantizeWeightsParallel } from ${JSON.stringify(join(REPO, "dist", "node", "index.js"))};
      const model = decodeModel(readFileSync(${JSON.stringify(join(REPO, "examples", "cnn.mlmodel"))}));
      const outcome = async (options) => {
        try { await quantizeWeightsParallel(model, options); return "resolved"; }
        catch (e) { return e.name + " " + e.code + ": " + e.message; }
      };
      console.log(JSON.stringify([
        await outcome(null),
        await outcome({ nbits: 8, threads: NaN }),
        await outcome({ nbits: 4, mode: "kmeans_lut", threads: Infinity, onProgress: () => { throw new Error("progress boom"); } }),
        await outcome({ nbits: 4, mode: "kmeans_lut", threads: Infinity }),
      ]));`,
    );

    // Act
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    const [nullOptions, nanThreads, throwingProgress, infinite] = JSON.parse(run.stdout) as string[];
    expect(nullOptions).toMatch(/^QuantizeError invalid-option: .*options of quantizeWeightsParallel must be an object with nbits, got null/);
    expect(nanThreads).toMatch(/^QuantizeError invalid-option: .*option threads must be a positive integer.*got NaN \(a number\)/);
    expect(throwingProgress).toMatch(/^QuantizeError callback: .*onProgress threw: progress boom/);
    expect(infinite).toBe("resolved");
  }, 150_000);
});

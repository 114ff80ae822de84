/**
 * Where the networks are: in the model itself, inside the three pipeline kinds
 * (recursively), and inside branch and loop layers; and mapNetworkModels' copying.
 */
import type { Model, NeuralNetworkLayer } from "../../src/codec/model-types.js";
import { allLayers, isNetworkModel, layerPath, mapNetworkModels, nestedNetworks, pipelineModels, withNestedNetwork } from "../../src/walker/networks.js";
import { buildLayer, buildModel, floats, snapshot, walkLayers } from "./helpers.js";
import { goldenInputs, loadGolden } from "../support/golden.js";

/** The network models `mapNetworkModels` visits: [path, model kind]. */
function networkModels(model: Model): [string, string | undefined][] {
  const seen: [string, string | undefined][] = [];
  mapNetworkModels(model, (sub, path) => {
    seen.push([path, sub.Type.case]);
    return sub;
  });
  return seen;
}

/** The distinct networks holding layers, in file order, from allLayers. */
const networkPathsOf = (model: Model): string[] => [...new Set(allLayers(model).map((l) => l.networkPath))];

const fc = (name: string, n = 2): NeuralNetworkLayer =>
  buildLayer({
    name,
    layer: { case: "innerProduct", value: { inputChannels: BigInt(n), outputChannels: BigInt(n), hasBias: false, weights: floats(n * n) } },
  });
const fcInit = (name: string) => ({
  name,
  layer: { case: "innerProduct" as const, value: { inputChannels: 2n, outputChannels: 2n, hasBias: false, weights: floats(4) } },
});
const glm = { case: "glmRegressor" as const, value: { offset: [0.5], weights: [{ value: [1, 2] }] } };

/** A model that is a copy of `model` with another spec version: a visible replacement. */
const bumped = (model: Model): Model => ({ ...model, specificationVersion: model.specificationVersion + 100 });

describe("networks in the golden models", () => {
  test.each([
    ["cnn", [["model", "neuralNetwork"]]],
    ["classifier", [["model", "neuralNetworkClassifier"]]],
    ["regressor", [["model", "neuralNetworkRegressor"]]],
    [
      "pipeline",
      [
        ["model/pipeline.models[0]", "neuralNetwork"],
        ["model/pipeline.models[1]", "neuralNetwork"],
      ],
    ],
    [
      "pipeline_classifier",
      [
        ["model/pipelineClassifier.pipeline.models[0]", "neuralNetwork"],
        ["model/pipelineClassifier.pipeline.models[1]", "neuralNetworkClassifier"],
      ],
    ],
    ["real_updatable_drawing_pipeline_nn_knn", [["model/pipelineClassifier.pipeline.models[0]", "neuralNetwork"]]],
    ["control_flow", [["model", "neuralNetwork"]]],
  ] as const)("%s", (name, expected) => {
    expect(networkModels(loadGolden(name))).toEqual(expected);
  });

  test("the drawing classifier's k-NN stage is not a network and is not visited", () => {
    const model = loadGolden("real_updatable_drawing_pipeline_nn_knn");
    const inner = pipelineModels(model);
    expect(inner?.path).toBe("pipelineClassifier.pipeline.models");
    expect(inner?.models.map((m) => m.Type.case)).toEqual(["neuralNetwork", "kNearestNeighborsClassifier"]);
    expect(inner?.models.map((m) => isNetworkModel(m))).toEqual([true, false]);
  });

  test("layer paths in pipelines name the pipeline field and the model index", () => {
    expect(allLayers(loadGolden("pipeline")).map((l) => l.path)).toEqual([
      'model/pipeline.models[0]/neuralNetwork/layers[0] "stage0_fc"',
      'model/pipeline.models[1]/neuralNetwork/layers[0] "stage1_fc"',
    ]);
    expect(allLayers(loadGolden("pipeline_classifier")).map((l) => l.path)).toEqual([
      'model/pipelineClassifier.pipeline.models[0]/neuralNetwork/layers[0] "pre_fc"',
      'model/pipelineClassifier.pipeline.models[1]/neuralNetworkClassifier/layers[0] "cls_fc"',
    ]);
  });

  test("control_flow: branch and loop bodies, nested ones too, with their paths", () => {
    const model = loadGolden("control_flow");
    expect(networkPathsOf(model)).toEqual([
      "model/neuralNetwork",
      'model/neuralNetwork/layers[2] "branch"/ifBranch',
      'model/neuralNetwork/layers[2] "branch"/elseBranch',
      'model/neuralNetwork/layers[3] "loop"/bodyNetwork',
      'model/neuralNetwork/layers[3] "loop"/bodyNetwork/layers[1] "nested_branch"/ifBranch',
    ]);
    expect(allLayers(model).map((l) => l.path)).toEqual([
      'model/neuralNetwork/layers[0] "const"',
      'model/neuralNetwork/layers[1] "constnd"',
      'model/neuralNetwork/layers[2] "branch"',
      'model/neuralNetwork/layers[2] "branch"/ifBranch/layers[0] "if_fc"',
      'model/neuralNetwork/layers[2] "branch"/elseBranch/layers[0] "else_fc"',
      'model/neuralNetwork/layers[3] "loop"',
      'model/neuralNetwork/layers[3] "loop"/bodyNetwork/layers[0] "body_fc"',
      'model/neuralNetwork/layers[3] "loop"/bodyNetwork/layers[1] "nested_branch"',
      'model/neuralNetwork/layers[3] "loop"/bodyNetwork/layers[1] "nested_branch"/ifBranch/layers[0] "nested_fc"',
    ]);
  });

  test("control_flow: nestedNetworks lists the set bodies of branch and loop layers only", () => {
    const top = loadGolden("control_flow");
    if (top.Type.case !== "neuralNetwork") throw new Error("not a network");
    const [constant, , branch, loop] = top.Type.value.layers;
    if (constant === undefined || branch === undefined || loop === undefined) throw new Error("layers missing");
    if (branch.layer.case !== "branch" || loop.layer.case !== "loop") throw new Error("kinds changed");
    expect(nestedNetworks(constant)).toEqual([]);
    expect(nestedNetworks(branch)).toEqual([
      { field: "ifBranch", network: branch.layer.value.ifBranch },
      { field: "elseBranch", network: branch.layer.value.elseBranch },
    ]);
    expect(loop.layer.value.conditionNetwork).toBeUndefined();
    expect(nestedNetworks(loop)).toEqual([{ field: "bodyNetwork", network: loop.layer.value.bodyNetwork }]);
    expect(nestedNetworks(loop)[0]?.network).toBe(loop.layer.value.bodyNetwork);
  });

  test.each(goldenInputs())("%s: allLayers matches an independent walk (paths, network paths, layer objects)", (name) => {
    const model = loadGolden(name);
    const found = allLayers(model);
    const expected = walkLayers(model);
    expect(found.map((l) => [l.path, l.networkPath])).toEqual(expected.map((l) => [l.path, l.networkPath]));
    found.forEach((l, i) => expect(l.layer).toBe(expected[i]?.layer));
    expect(found.length).toBeGreaterThan(0);
  });
});

describe("networks in built models", () => {
  test("pipelineRegressor, and pipelines inside pipelines", () => {
    const model = buildModel({
      specificationVersion: 4,
      Type: {
        case: "pipelineRegressor",
        value: {
          pipeline: {
            models: [
              { Type: glm },
              {
                Type: {
                  case: "pipeline",
                  value: {
                    models: [
                      { Type: { case: "neuralNetworkRegressor", value: { layers: [fcInit("deep")] } } },
                      {
                        Type: {
                          case: "pipelineClassifier",
                          value: { pipeline: { models: [{ Type: { case: "neuralNetworkClassifier", value: { layers: [fcInit("deeper")] } } }] } },
                        },
                      },
                    ],
                  },
                },
              },
            ],
          },
        },
      },
    });
    expect(networkModels(model)).toEqual([
      ["model/pipelineRegressor.pipeline.models[1]/pipeline.models[0]", "neuralNetworkRegressor"],
      ["model/pipelineRegressor.pipeline.models[1]/pipeline.models[1]/pipelineClassifier.pipeline.models[0]", "neuralNetworkClassifier"],
    ]);
    expect(allLayers(model).map((l) => l.path)).toEqual([
      'model/pipelineRegressor.pipeline.models[1]/pipeline.models[0]/neuralNetworkRegressor/layers[0] "deep"',
      'model/pipelineRegressor.pipeline.models[1]/pipeline.models[1]/pipelineClassifier.pipeline.models[0]/neuralNetworkClassifier/layers[0] "deeper"',
    ]);
    expect(allLayers(model).map((l) => l.path)).toEqual(walkLayers(model).map((l) => l.path));
  });

  test("a loop with both a condition network and a body lists both, condition first", () => {
    const loop = buildLayer({
      name: "loop",
      layer: { case: "loop", value: { conditionNetwork: { layers: [fcInit("cond")] }, bodyNetwork: { layers: [fcInit("body")] } } },
    });
    expect(nestedNetworks(loop).map((n) => [n.field, n.network.layers.map((l) => l.name)])).toEqual([
      ["conditionNetwork", ["cond"]],
      ["bodyNetwork", ["body"]],
    ]);
  });

  test("a branch with only an ifBranch lists only it", () => {
    const branch = buildLayer({ name: "b", layer: { case: "branch", value: { ifBranch: { layers: [fcInit("x")] } } } });
    expect(nestedNetworks(branch).map((n) => n.field)).toEqual(["ifBranch"]);
  });

  test("withNestedNetwork returns a copy holding the new body; the layer is unchanged", () => {
    const branch = buildLayer({ name: "b", layer: { case: "branch", value: { ifBranch: { layers: [fcInit("x")] }, elseBranch: { layers: [fcInit("y")] } } } });
    if (branch.layer.case !== "branch") throw new Error("not a branch");
    const before = snapshot(branch);
    const oldIf = branch.layer.value.ifBranch;
    const oldElse = branch.layer.value.elseBranch;
    if (oldIf === undefined) throw new Error("no ifBranch");
    const replacement = { ...oldIf, layers: [fc("z")] };
    const out = withNestedNetwork(branch, "ifBranch", replacement);
    if (out.layer.case !== "branch") throw new Error("kind changed");
    expect(out).not.toBe(branch);
    expect(out.layer.value.ifBranch).toBe(replacement);
    expect(out.layer.value.elseBranch).toBe(oldElse);
    expect(branch.layer.value.ifBranch).toBe(oldIf);
    expect(branch).toEqual(before);
  });

  test("layerPath: network path, index and JSON-quoted name", () => {
    expect(layerPath("model/neuralNetwork", 3, fc('a "quoted"/name'))).toBe('model/neuralNetwork/layers[3] "a \\"quoted\\"/name"');
  });
});

describe("models with no network", () => {
  const noNetwork: [string, Model][] = [
    ["a GLM regressor", buildModel({ specificationVersion: 1, Type: glm })],
    ["an empty model", buildModel({})],
    ["a pipeline of a GLM regressor", buildModel({ Type: { case: "pipeline", value: { models: [{ Type: glm }] } } })],
    ["an empty pipeline", buildModel({ Type: { case: "pipeline", value: {} } })],
    ["a pipelineClassifier without its pipeline", buildModel({ Type: { case: "pipelineClassifier", value: {} } })],
    ["a pipelineRegressor with an empty pipeline", buildModel({ Type: { case: "pipelineRegressor", value: { pipeline: {} } } })],
  ];

  test.each(noNetwork)("%s yields no networks and no layers", (_, model) => {
    const fn = jest.fn((m: Model) => m);
    const before = snapshot(model);
    expect(mapNetworkModels(model, fn)).toBe(model);
    expect(fn).not.toHaveBeenCalled();
    expect(allLayers(model)).toEqual([]);
    expect(isNetworkModel(model)).toBe(false);
    expect(model).toEqual(before);
  });

  test("pipelineModels is undefined for a model that is not a pipeline", () => {
    expect(pipelineModels(buildModel({ Type: glm }))).toBeUndefined();
    expect(pipelineModels(buildModel({}))).toBeUndefined();
    expect(pipelineModels(loadGolden("cnn"))).toBeUndefined();
    expect(pipelineModels(buildModel({ Type: { case: "pipelineClassifier", value: {} } }))).toEqual({
      models: [],
      path: "pipelineClassifier.pipeline.models",
    });
  });

  test("isNetworkModel is true for the three network kinds only", () => {
    expect(["cnn", "classifier", "regressor", "pipeline", "pipeline_classifier"].map((n) => isNetworkModel(loadGolden(n)))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe("mapNetworkModels", () => {
  test.each(goldenInputs())("%s: fn returning its argument gives back the same object", (name) => {
    const model = loadGolden(name);
    const calls: string[] = [];
    const out = mapNetworkModels(model, (sub, path) => {
      calls.push(path);
      return sub;
    });
    expect(out).toBe(model);
    expect(calls.length).toBeGreaterThan(0);
  });

  test.each(goldenInputs())("%s: replacing every network never mutates the input", (name) => {
    const model = loadGolden(name);
    const before = snapshot(model);
    const out = mapNetworkModels(model, bumped);
    expect(out).not.toBe(model);
    expect(model).toEqual(before);
    // The replacements are in the output.
    expect(networkModels(out).length).toBe(networkModels(model).length);
  });

  test("a top-level network: the result is fn's result", () => {
    const model = loadGolden("cnn");
    const replacement = bumped(model);
    expect(mapNetworkModels(model, () => replacement)).toBe(replacement);
  });

  test("pipeline: only the containers above the replaced model are copied", () => {
    const model = loadGolden("pipeline");
    if (model.Type.case !== "pipeline") throw new Error("not a pipeline");
    const before = snapshot(model);
    const pipeline = model.Type.value;
    const [first, second] = pipeline.models;
    let replacement: Model | undefined;
    const out = mapNetworkModels(model, (sub, path) => {
      if (path !== "model/pipeline.models[1]") return sub;
      replacement = bumped(sub);
      return replacement;
    });
    if (out.Type.case !== "pipeline") throw new Error("kind changed");
    expect(out).not.toBe(model);
    expect(out.Type.value).not.toBe(pipeline);
    expect(out.Type.value.models).not.toBe(pipeline.models);
    expect(out.Type.value.models[0]).toBe(first);
    expect(out.Type.value.models[1]).toBe(replacement);
    expect(out.Type.value.names).toBe(pipeline.names);
    expect(out.description).toBe(model.description);
    expect(out.specificationVersion).toBe(model.specificationVersion);
    expect(pipeline.models[1]).toBe(second);
    expect(model).toEqual(before);
  });

  test("pipelineClassifier: the pipeline is copied, the k-NN stage and the rest are shared", () => {
    const model = loadGolden("real_updatable_drawing_pipeline_nn_knn");
    if (model.Type.case !== "pipelineClassifier") throw new Error("not a pipelineClassifier");
    const before = snapshot(model);
    const value = model.Type.value;
    const inner = value.pipeline;
    if (inner === undefined) throw new Error("no pipeline");
    const [network, knn] = inner.models;
    const out = mapNetworkModels(model, bumped);
    if (out.Type.case !== "pipelineClassifier") throw new Error("kind changed");
    expect(out.Type.value).not.toBe(value);
    expect(out.Type.value.pipeline).not.toBe(inner);
    expect(out.Type.value.pipeline?.models).not.toBe(inner.models);
    expect(out.Type.value.pipeline?.models[0]).not.toBe(network);
    expect(out.Type.value.pipeline?.models[0]?.specificationVersion).toBe((network?.specificationVersion ?? 0) + 100);
    expect(out.Type.value.pipeline?.models[1]).toBe(knn);
    expect(out.description).toBe(model.description);
    expect(model).toEqual(before);
  });

  test("nested pipelines: a sibling sub-pipeline without replacements is shared", () => {
    const model = buildModel({
      Type: {
        case: "pipeline",
        value: {
          models: [
            { Type: { case: "pipeline", value: { models: [{ Type: glm }, { Type: { case: "neuralNetwork", value: { layers: [fcInit("a")] } } }] } } },
            { Type: { case: "pipeline", value: { models: [{ Type: { case: "neuralNetwork", value: { layers: [fcInit("b")] } } }] } } },
          ],
        },
      },
    });
    if (model.Type.case !== "pipeline") throw new Error("not a pipeline");
    const before = snapshot(model);
    const [left, right] = model.Type.value.models;
    if (left?.Type.case !== "pipeline") throw new Error("not a pipeline");
    const [leftGlm] = left.Type.value.models;
    const out = mapNetworkModels(model, (sub, path) => (path === "model/pipeline.models[0]/pipeline.models[1]" ? bumped(sub) : sub));
    if (out.Type.case !== "pipeline") throw new Error("kind changed");
    const [outLeft, outRight] = out.Type.value.models;
    expect(outRight).toBe(right);
    expect(outLeft).not.toBe(left);
    if (outLeft?.Type.case !== "pipeline") throw new Error("kind changed");
    expect(outLeft.Type.value.models[0]).toBe(leftGlm);
    expect(outLeft.Type.value.models[1]?.specificationVersion).toBe(100);
    expect(model).toEqual(before);
  });

  test("paths passed to fn start at the given path", () => {
    const seen: string[] = [];
    mapNetworkModels(
      loadGolden("pipeline"),
      (sub, path) => {
        seen.push(path);
        return sub;
      },
      "root",
    );
    expect(seen).toEqual(["root/pipeline.models[0]", "root/pipeline.models[1]"]);
  });
});

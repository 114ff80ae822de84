/**
 * The package's ES module entry points as built (dist/index.js, dist/node/index.js)
 * load, and an error thrown through either is a QuantizeError that
 * `isQuantizeError` (of either entry's module graph, which is one) recognises.
 */
import { readFileSync } from "node:fs";
import * as main from "../../dist/index.js";
import * as node from "../../dist/node/index.js";

const cnn = () => main.decodeModel(readFileSync(new URL("../fixtures/golden/models/cnn.mlmodel", import.meta.url)));

test("the main entry loads; its own error is a QuantizeError with a code", () => {
  expect(typeof main.quantizeWeights).toBe("function");
  let error;
  try {
    main.quantizeWeights(cnn(), { nbits: 9 });
  } catch (e) {
    error = e;
  }
  expect({
    is: main.isQuantizeError(error),
    invalidOption: main.isQuantizeError(error, "invalid-option"),
    instance: error instanceof main.QuantizeError,
  }).toEqual({
    is: true,
    invalidOption: true,
    instance: true,
  });
});

test("the node entry loads; its errors (a rejected promise, a thrown read) are QuantizeErrors of the main entry too", async () => {
  expect(typeof node.quantizeWeightsParallel).toBe("function");
  const rejected = await node.quantizeWeightsParallel(cnn(), { nbits: 4, threads: 0 }).catch((e) => e);
  let thrown;
  try {
    node.readModelFile(new URL("../fixtures/no-such-model.mlmodel", import.meta.url).pathname);
  } catch (e) {
    thrown = e;
  }
  for (const error of [rejected, thrown]) {
    expect({ is: main.isQuantizeError(error), instance: error instanceof main.QuantizeError, name: error.name }).toEqual({
      is: true,
      instance: true,
      name: "QuantizeError",
    });
  }
  expect(main.isQuantizeError(rejected, "invalid-option")).toBe(true);
  expect(main.isQuantizeError(new Error("not ours"))).toBe(false);
});

import { isQuantizeError, QuantizeError } from "../src/errors.js";

const BRAND: unique symbol = Symbol.for("coreml-quantize.QuantizeError") as never;

/** An error made by another copy of the module (the CommonJS build beside the ES one). */
class ForeignQuantizeError extends Error {
  readonly [BRAND] = true;
  constructor(readonly code: string) {
    super("from the other build");
  }
}

describe("isQuantizeError", () => {
  test("recognises this module's errors, and their codes", () => {
    const error = new QuantizeError("invalid-option", "bad");
    expect(isQuantizeError(error)).toBe(true);
    expect(isQuantizeError(error, "invalid-option")).toBe(true);
    expect(isQuantizeError(error, "invalid-weights")).toBe(false);
  });

  test("recognises an error of the package's other build (ES module vs CommonJS), and its code", () => {
    expect(isQuantizeError(new ForeignQuantizeError("invalid-option"))).toBe(true);
    expect(isQuantizeError(new ForeignQuantizeError("invalid-option"), "invalid-option")).toBe(true);
    expect(isQuantizeError(new ForeignQuantizeError("invalid-option"), "callback")).toBe(false);
  });

  test("recognises an error of a second copy of the module, which instanceof does not", () => {
    let copy: typeof import("../src/errors.js") | undefined;
    jest.isolateModules(() => {
      copy = jest.requireActual<typeof import("../src/errors.js")>("../src/errors.js");
    });
    if (copy === undefined) throw new Error("the module was not loaded again");
    const error = new copy.QuantizeError("models-differ", "from the copy");
    expect(copy.QuantizeError).not.toBe(QuantizeError);
    expect(error instanceof QuantizeError).toBe(false);
    expect(isQuantizeError(error, "models-differ")).toBe(true);
    expect(copy.isQuantizeError(new QuantizeError("io", "from this one"), "io")).toBe(true);
  });

  test("refuses look-alikes that are not branded errors", () => {
    expect(isQuantizeError(Object.assign(new Error("x"), { code: "invalid-option", name: "QuantizeError" }))).toBe(false);
    expect(isQuantizeError({ [Symbol.for("coreml-quantize.QuantizeError")]: true, code: "invalid-option" })).toBe(false);
    expect(isQuantizeError(undefined)).toBe(false);
  });
});

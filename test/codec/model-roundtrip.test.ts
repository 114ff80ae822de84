import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { decodeModel } from "../../src/codec/decode-model.js";
import { encodeModel } from "../../src/codec/encode-model.js";

// src/index.ts did not exist when this was written; the codec modules are imported
// directly.

const GOLDEN = join(__dirname, "..", "fixtures", "golden");
const DIRECTORIES = ["models", "expected"] as const;

const files = DIRECTORIES.flatMap((directory) =>
  readdirSync(join(GOLDEN, directory))
    .filter((name) => name.endsWith(".mlmodel"))
    .sort()
    .map((name) => ({ label: `${directory}/${name}`, path: join(GOLDEN, directory, name) })),
);

/** A copy of `bytes` at `offset` inside a larger buffer, so the view is unaligned. */
function unalignedCopy(bytes: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(new ArrayBuffer(offset + bytes.length + 5));
  backing.fill(0xa5);
  const view = backing.subarray(offset, offset + bytes.length);
  view.set(bytes);
  return view;
}

/** A copy of `bytes` in a fresh ArrayBuffer of exactly its length. */
function arrayBufferCopy(bytes: Uint8Array): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected);
}

test("the golden directories hold models", () => {
  for (const directory of DIRECTORIES) {
    expect(files.filter((f) => f.label.startsWith(`${directory}/`)).length).toBeGreaterThan(0);
  }
});

describe.each(files)("$label", ({ path }) => {
  const file = readFileSync(path);

  test("decode then encode gives the file's bytes", () => {
    // Act
    const model = decodeModel(file);
    const encoded = encodeModel(model);

    // Assert
    expect(model.Type.case).toBeDefined();
    expect(encoded.length).toBe(file.length);
    expect(sameBytes(encoded, file)).toBe(true);
  });

  // decode(encode(model)) equal to the model follows from the test above (the same
  // bytes decode to the same model; encode-purity.test.ts shows encode leaves its
  // argument alone), so it is not tested again. The views below are compared through
  // their encodings: a deep toEqual of three decoded copies of 600 models cost about
  // 30 s of the suite and says nothing the bytes do not.
  test("a Buffer, an unaligned Uint8Array view and an ArrayBuffer decode to models that encode to the file's bytes", () => {
    // Act
    const views = [unalignedCopy(file, 3), unalignedCopy(file, 1), arrayBufferCopy(file)];

    // Assert
    for (const view of views) expect(sameBytes(encodeModel(decodeModel(view)), file)).toBe(true);
  });
});

describe("input from another JavaScript realm (iframe, worker, node:vm)", () => {
  // `decodeModel` accepts `Uint8Array | ArrayBuffer`. An ArrayBuffer made in another
  // realm fails `instanceof ArrayBuffer` in this one, yet is still an ArrayBuffer.
  const file = readFileSync(join(GOLDEN, "models", "mlp.mlmodel"));

  test("an ArrayBuffer from another realm decodes to the same model", () => {
    // Arrange
    const foreign = runInNewContext(`new ArrayBuffer(${file.length})`) as ArrayBuffer;
    new Uint8Array(foreign).set(file);

    // Act
    const model = decodeModel(foreign);

    // Assert
    expect(model).toEqual(decodeModel(file));
  });

  test("a Uint8Array from another realm decodes to the same model", () => {
    // Arrange
    const foreign = runInNewContext(`new Uint8Array(${file.length})`) as Uint8Array;
    foreign.set(file);

    // Act
    const model = decodeModel(foreign);

    // Assert
    expect(model).toEqual(decodeModel(file));
  });
});

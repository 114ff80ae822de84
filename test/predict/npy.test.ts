import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { isQuantizeError } from "../../src/errors.js";
import { encodeNpy, parseNpy, type NpyArray } from "../../src/predict/npy.js";
import { propertySeed } from "../support/property-seed.js";

// Files are assembled here byte by byte from the format description (magic,
// version, little-endian header length, a Python dict literal, data), not with
// the writer under test.

function npyFile(header: string, data: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  const head = new TextEncoder().encode(header);
  const pre = version === 1 ? 10 : 12;
  const out = new Uint8Array(pre + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, head.length, true);
  else view.setUint32(8, head.length, true);
  out.set(head, pre);
  out.set(data, pre + head.length);
  return out;
}

function le(kind: "f4" | "f8" | "i4" | "i8", values: readonly number[]): Uint8Array {
  const size = kind.endsWith("4") ? 4 : 8;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (kind === "f4") view.setFloat32(i * size, v, true);
    else if (kind === "f8") view.setFloat64(i * size, v, true);
    else if (kind === "i4") view.setInt32(i * size, v, true);
    else view.setBigInt64(i * size, BigInt(v), true);
  });
  return out;
}

const refuses = (bytes: Uint8Array, pattern: RegExp): void => {
  let caught: unknown;
  try {
    parseNpy(bytes);
  } catch (error) {
    caught = error;
  }
  expect(isQuantizeError(caught, "invalid-input")).toBe(true);
  expect((caught as Error).message).toMatch(pattern);
};

describe("parseNpy", () => {
  test("float32 matrix, version 1.0", () => {
    const a = parseNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }      \n", le("f4", [1, 2, 3, 4, 5, -6.5])));
    expect(a.dtype).toBe("float32");
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([1, 2, 3, 4, 5, -6.5]);
  });

  test("version 2.0 and 3.0 headers (uint32 length), float64 and int32", () => {
    const a = parseNpy(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", le("f8", [0.1, 1e300, -2]), 2));
    expect(a.dtype).toBe("float64");
    expect(Array.from(a.data as Float64Array)).toEqual([0.1, 1e300, -2]);
    const b = parseNpy(npyFile('{"descr": "<i4", "fortran_order": False, "shape": (1, 2)}\n', le("i4", [-7, 2147483647]), 3));
    expect(b.dtype).toBe("int32");
    expect(b.shape).toEqual([1, 2]);
    expect(Array.from(b.data as Int32Array)).toEqual([-7, 2147483647]);
  });

  test("int64 scalar (shape ())", () => {
    const a = parseNpy(npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n", le("i8", [-40])));
    expect(a.dtype).toBe("int64");
    expect(a.shape).toEqual([]);
    expect(Array.from(a.data as BigInt64Array)).toEqual([-40n]);
  });

  test("uint8 and bool, keys in any order, empty arrays", () => {
    const a = parseNpy(npyFile("{'shape': (2, 2), 'fortran_order': False, 'descr': '|u1'}\n", new Uint8Array([0, 255, 3, 4])));
    expect(a.dtype).toBe("uint8");
    expect(Array.from(a.data as Uint8Array)).toEqual([0, 255, 3, 4]);
    const b = parseNpy(npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", new Uint8Array([1, 0, 1])));
    expect(b.dtype).toBe("bool");
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1]);
    const c = parseNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }\n", new Uint8Array(0)));
    expect(c.shape).toEqual([0, 4]);
    expect(c.data.length).toBe(0);
  });

  test("the data is a copy, aligned even when the input is not", () => {
    const file = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", le("f4", [1.5, 2.5]));
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const a = parseNpy(shifted.subarray(1));
    shifted.fill(0);
    expect(Array.from(a.data as Float32Array)).toEqual([1.5, 2.5]);
  });

  test("refusals name the problem", () => {
    refuses(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /magic/);
    refuses(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", le("f4", [1, 2])), /fortran_order/);
    refuses(npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array(8)), /big-endian/);
    refuses(npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array(16)), /'<c8' is not supported/);
    refuses(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", le("f4", [1, 2])), /needs 12 data bytes, the file has 8/);
    refuses(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", new Uint8Array(0)), /bad dimension/);
    refuses(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), \n", le("f4", [1, 2])), /header/);
    refuses(npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", le("f4", [1, 2])), /descr/);
    const bad = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", le("f4", [1, 2]));
    bad[6] = 4;
    refuses(bad, /version 4\.0/);
    const long = npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", le("f4", [1, 2]));
    new DataView(long.buffer).setUint16(8, 60000, true);
    refuses(long, /runs past the end/);
  });

  test("reads the fixture files numpy wrote", () => {
    const root = join(__dirname, "../fixtures/predict");
    const x = parseNpy(readFileSync(join(root, "inputs/mobilenet_classifier/0/image.npy")));
    expect(x.dtype).toBe("uint8");
    expect(x.shape).toEqual([32, 32, 3]);
    const label = parseNpy(readFileSync(join(root, "expected/int64_classifier/0/classLabel.npy")));
    expect(label.dtype).toBe("int64");
    expect(label.shape).toEqual([]);
  });
});

describe("encodeNpy", () => {
  test("writes an aligned version 1.0 header numpy can read", () => {
    const bytes = encodeNpy({ dtype: "float32", shape: [3], data: new Float32Array([1, 2, 3]) });
    const headerLength = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
  });

  test("round trip: parseNpy(encodeNpy(a)) equals a for every dtype", () => {
    const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
    const arrays: fc.Arbitrary<NpyArray> = shapeArb.chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc.oneof(
        fc.float32Array({ minLength: n, maxLength: n, noNaN: true }).map((d): NpyArray => ({ dtype: "float32", shape, data: d })),
        fc.float64Array({ minLength: n, maxLength: n, noNaN: true }).map((d): NpyArray => ({ dtype: "float64", shape, data: d })),
        fc.bigInt64Array({ minLength: n, maxLength: n }).map((d): NpyArray => ({ dtype: "int64", shape, data: d })),
        fc.int32Array({ minLength: n, maxLength: n }).map((d): NpyArray => ({ dtype: "int32", shape, data: d })),
        fc.uint8Array({ minLength: n, maxLength: n }).map((d): NpyArray => ({ dtype: "uint8", shape, data: d })),
      );
    });
    fc.assert(
      fc.property(arrays, (a) => {
        const b = parseNpy(encodeNpy(a));
        expect(b.dtype).toBe(a.dtype);
        expect(b.shape).toEqual(a.shape);
        expect(Array.from(b.data as ArrayLike<number | bigint>)).toEqual(Array.from(a.data as ArrayLike<number | bigint>));
      }),
      { seed: propertySeed(), numRuns: 200 },
    );
  });

  test("refuses data that does not match the shape", () => {
    expect(() => encodeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) })).toThrow(/3 values for shape \(2, 2\)/);
  });
});

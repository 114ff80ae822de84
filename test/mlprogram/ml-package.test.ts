import { equals, fromBinary } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isQuantizeError, type ErrorCode } from "../../src/errors.js";
import { ModelSchema } from "../../src/gen/Model_pb.js";
import { decodeMlPackage, encodeMlPackage, packageProgram, type PackageFiles } from "../../src/mlprogram/ml-package.js";
import { fixturePackages, MODEL_PATH, packageFiles, WEIGHT_BIN_PATH } from "./fixtures.js";

describe("every fixture package round-trips losslessly", () => {
  test.each(fixturePackages())("%s", (pkg) => {
    const files = packageFiles(pkg);
    const decoded = decodeMlPackage(files);
    expect(Object.keys(packageProgram(decoded).functions)).toEqual(["main"]);
    const out = encodeMlPackage(decoded);
    expect([...out.keys()].sort()).toEqual([...files.keys()].sort());
    // The program: equal after parsing, by protobuf-es's own decoder and comparison.
    const original = fromBinary(ModelSchema, files.get(MODEL_PATH) as Uint8Array);
    expect(equals(ModelSchema, fromBinary(ModelSchema, out.get(MODEL_PATH) as Uint8Array), original)).toBe(true);
    // weight.bin and the manifest: byte for byte (the program is too, as it happens).
    expect(Buffer.from(out.get(WEIGHT_BIN_PATH) as Uint8Array).equals(files.get(WEIGHT_BIN_PATH) as Uint8Array)).toBe(true);
    expect(Buffer.from(out.get("Manifest.json") as Uint8Array).equals(files.get("Manifest.json") as Uint8Array)).toBe(true);
    expect(Buffer.from(out.get(MODEL_PATH) as Uint8Array).equals(files.get(MODEL_PATH) as Uint8Array)).toBe(true);
  });
});

describe("packages the decoder refuses", () => {
  const base = (): Map<string, Uint8Array> => packageFiles("models/mlp_fp32_ios18.mlpackage");
  const manifestOf = (files: PackageFiles): Record<string, unknown> => JSON.parse(new TextDecoder().decode(files.get("Manifest.json")));
  // biome-ignore lint/suspicious/noExplicitAny: the tests reach into the manifest's JSON freely to break it.
  const withManifest = (change: (manifest: Record<string, any>) => void): Map<string, Uint8Array> => {
    const files = base();
    const manifest = manifestOf(files);
    change(manifest);
    files.set("Manifest.json", new TextEncoder().encode(JSON.stringify(manifest)));
    return files;
  };
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const rootItem = (manifest: Record<string, any>): Record<string, string> => manifest.itemInfoEntries[manifest.rootModelIdentifier];
  const cases: [string, () => PackageFiles, ErrorCode, RegExp][] = [
    [
      "no manifest",
      () => {
        const f = base();
        f.delete("Manifest.json");
        return f;
      },
      "unsupported-model",
      /no Manifest\.json/,
    ],
    [
      "a manifest that is not JSON",
      () => {
        const f = base();
        f.set("Manifest.json", new TextEncoder().encode("{"));
        return f;
      },
      "unsupported-model",
      /not valid JSON/,
    ],
    [
      "a manifest that is an array",
      () => {
        const f = base();
        f.set("Manifest.json", new TextEncoder().encode("[]"));
        return f;
      },
      "unsupported-model",
      /not a JSON object/,
    ],
    [
      "a root identifier not among the items",
      () =>
        withManifest((m) => {
          m.rootModelIdentifier = "nope";
        }),
      "unsupported-model",
      /"nope" is not among itemInfoEntries/,
    ],
    [
      "a root identifier naming an inherited property",
      () =>
        withManifest((m) => {
          m.rootModelIdentifier = "toString";
        }),
      "unsupported-model",
      /"toString" is not among/,
    ],
    [
      "an item without a path",
      () =>
        withManifest((m) => {
          delete rootItem(m).path;
        }),
      "unsupported-model",
      /lacks one of author/,
    ],
    [
      "a model path leaving the package",
      () =>
        withManifest((m) => {
          rootItem(m).path = "../../etc/passwd";
        }),
      "unsupported-model",
      /does not name a file inside/,
    ],
    [
      "a model file missing",
      () => {
        const f = base();
        f.delete(MODEL_PATH);
        return f;
      },
      "unsupported-model",
      /which the package lacks/,
    ],
    [
      "a model that is not protobuf",
      () => {
        const f = base();
        f.set(MODEL_PATH, new Uint8Array([0xff, 0xff, 0xff]));
        return f;
      },
      "invalid-protobuf",
      /^Data\/com\.apple\.CoreML\/model\.mlmodel: /,
    ],
    [
      "a neural network instead of a program",
      () => {
        const f = base();
        f.set(MODEL_PATH, new Uint8Array(readFileSync(join(__dirname, "..", "fixtures", "golden", "models", "conv_only.mlmodel"))));
        return f;
      },
      "unsupported-model",
      /holds a neuralNetwork model, not an ML Program/,
    ],
    [
      "a truncated weight.bin",
      () => {
        const f = base();
        f.set(WEIGHT_BIN_PATH, (f.get(WEIGHT_BIN_PATH) as Uint8Array).subarray(0, 100));
        return f;
      },
      "invalid-weights",
      /^Data\/com\.apple\.CoreML\/weights\/weight\.bin: .*truncated/,
    ],
  ];
  test.each(cases)("%s", (_name, make, code, message) => {
    let error: unknown;
    try {
      decodeMlPackage(make());
    } catch (caught) {
      error = caught;
    }
    expect(isQuantizeError(error, code)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test("other files are kept as they are; no weight.bin decodes as no weights", () => {
    const files = base();
    files.set("Data/com.apple.CoreML/notes.txt", new Uint8Array([1, 2, 3]));
    const pkg = decodeMlPackage(files);
    expect([...pkg.otherFiles.keys()]).toEqual(["Data/com.apple.CoreML/notes.txt"]);
    expect([...(encodeMlPackage(pkg).get("Data/com.apple.CoreML/notes.txt") as Uint8Array)]).toEqual([1, 2, 3]);
    files.delete(WEIGHT_BIN_PATH);
    const bare = decodeMlPackage(files);
    expect(bare.weights).toBeUndefined();
    expect(encodeMlPackage(bare).has(WEIGHT_BIN_PATH)).toBe(false);
  });

  test("the encoder refuses blobs whose offsets are not where they would be written", () => {
    const pkg = decodeMlPackage(base());
    const blobs = (pkg.weights?.blobs ?? []).map((blob, i) => (i === 1 ? { ...blob, offset: blob.offset + 64 } : blob));
    expect(() => encodeMlPackage({ ...pkg, weights: { blobs } })).toThrow(/blob 1 says offset \d+ but is written at \d+/);
  });
});

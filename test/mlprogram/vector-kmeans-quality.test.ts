/**
 * vectorKmeans on the golden set's vector palettization weights (`cluster_dim > 1`,
 * where the reference runs scikit-learn): its squared error, with the centres cast to
 * the weight's float type as a LUT holds them, must not be above the reference's
 * (README "What match means", quality rule 2).
 */
import { DataType, type Operation, type Program } from "../../src/gen/MIL_pb.js";
import { floatRounding } from "../../src/mlprogram/blockwise-linear.js";
import { blobsByOffset, decodeMlPackage, type MlPackage, packageProgram, walkProgram } from "../../src/mlprogram/index.js";
import { constElements } from "../../src/mlprogram/program-values.js";
import { vectorKmeans } from "../../src/quantizer/vector-kmeans.js";
import { casesFile, packageFiles } from "./fixtures.js";

interface VectorCase {
  readonly id: string;
  readonly input: string;
  readonly expected: string;
  readonly config: { readonly global_config: { readonly mode: string; readonly nbits: number; readonly cluster_dim: number } };
  readonly weights: readonly {
    readonly input: string;
    readonly const: string;
    readonly shape: readonly number[];
    readonly producer: string;
    readonly match: string;
    readonly sse: number;
  }[];
}

/** The quality records of the cases palettizing vectors with k-means, one per consumer input (a const read twice is recorded twice, alike). */
function vectorRecords() {
  const cases = (casesFile().cases as unknown as VectorCase[]).filter(
    (c) => c.config?.global_config?.mode === "kmeans" && c.config.global_config.cluster_dim > 1 && c.weights !== undefined,
  );
  return cases.flatMap((c) =>
    c.weights
      .filter((w) => w.match === "quality")
      .map((w) => ({
        ...w,
        caseId: c.id,
        model: c.input,
        expected: c.expected,
        nbits: c.config.global_config.nbits,
        vector: c.config.global_config.cluster_dim,
      })),
  );
}

function constOp(program: Program, name: string): Operation {
  for (const fn of Object.values(program.functions)) {
    for (const block of Object.values(fn.blockSpecializations)) {
      const op = block.operations.find((o) => o.type === "const" && o.outputs[0]?.name === name);
      if (op !== undefined) return op;
    }
  }
  throw new Error(`no const ${name}`);
}

/** The grouping axis, read from the reference's output: the axis its indices divide by the vector size. */
function groupingAxis(expected: string, producer: string, shape: readonly number[], vector: number): number {
  const pkg = cachedPackage(expected);
  const indices = walkProgram(packageProgram(pkg), pkg.weights).constants.find((c) => c.opName === producer && c.param === "indices");
  if (indices === undefined) throw new Error(`${expected}: no indices for ${producer}`);
  const axes = shape.flatMap((size, k) => (indices.shape[k] === size / vector && size !== indices.shape[k] ? [k] : []));
  if (axes.length !== 1) throw new Error(`${expected}: ${producer} indices ${indices.shape.join("x")} for a ${shape.join("x")} weight`);
  return axes[0] as number;
}

/** Section 10's vectors of one group holding the whole axis: vector `(j, rest)` = `x[jV..jV+V-1, rest]`, by `j` then `rest` row-major. */
function vectorsAlong(values: Float64Array, shape: readonly number[], axis: number, vector: number): Float64Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const length = shape[axis] as number;
  const out = new Float64Array(values.length);
  let p = 0;
  for (let j = 0; j < length / vector; j++) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        for (let t = 0; t < vector; t++) out[p++] = values[(o * length + j * vector + t) * inner + i] as number;
      }
    }
  }
  return out;
}

const records = vectorRecords();

test("the golden set has the 30 vector k-means weight records the README counts", () => {
  expect(records).toHaveLength(30);
});

const packages = new Map<string, MlPackage>();
function cachedPackage(path: string): MlPackage {
  let pkg = packages.get(path);
  if (pkg === undefined) {
    pkg = decodeMlPackage(packageFiles(path));
    packages.set(path, pkg);
  }
  return pkg;
}

type VectorRecord = (typeof records)[number];

/** Our squared error on a record's weight, computed once per case and const (a const read by two ops has two records). */
const errors = new Map<string, number>();
function ourSquaredError(record: VectorRecord): number {
  const key = `${record.caseId}/${record.const}`;
  const known = errors.get(key);
  if (known !== undefined) return known;
  const pkg = cachedPackage(record.model);
  const program = packageProgram(pkg);
  const blobs = pkg.weights === undefined ? new Map() : blobsByOffset(pkg.weights);
  const op = constOp(program, record.const);
  const values = constElements(op, blobs);
  if (values === undefined) throw new Error(`${record.const}: not a float const`);
  const float = op.attributes.val?.type?.type.case === "tensorType" && op.attributes.val.type.type.value.dataType === DataType.FLOAT16 ? "float16" : "float32";
  const axis = groupingAxis(record.expected, record.producer, record.shape, record.vector);
  const points = vectorsAlong(values, record.shape, axis, record.vector);
  const count = points.length / record.vector;
  const { centroids, labels } = vectorKmeans(points, record.vector, Math.min(count, 2 ** record.nbits));
  const lut = centroids.map(floatRounding(float));
  let sse = 0;
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < record.vector; t++)
      sse += ((points[i * record.vector + t] as number) - (lut[(labels[i] as number) * record.vector + t] as number)) ** 2;
  }
  errors.set(key, sse);
  return sse;
}

test.each(records.map((r) => [`${r.caseId} ${r.input} (${r.const})`, r] as const))("%s: squared error not above the reference's", (_title, record) => {
  const sse = ourSquaredError(record);
  if (process.env.VECTOR_KMEANS_REPORT !== undefined)
    process.stdout.write(`${record.caseId} ${record.const} ours ${sse} reference ${record.sse} ratio ${sse / record.sse}\n`);
  expect(sse).toBeLessThanOrEqual(record.sse * (1 + 1e-6));
});

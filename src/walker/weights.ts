/**
 * The weights of one layer, located through the layer table.
 *
 * @packageDocumentation
 */
import type { NeuralNetworkLayer, WeightParams } from "../codec/model-types.js";
import { layerWeightsOf, type PathStep } from "./layer-table.js";

/** One step of a located weight: a field, a list index, or a oneof case. */
export type WeightStep =
  | string
  | number
  | {
      /** The oneof's name. */
      readonly oneof: string;
      /** The case set in it. */
      readonly case: string;
    };

/** A WeightParams of a layer, with what the layer declares about it. */
export interface WeightRef {
  /** Field path inside the layer's parameters, e.g. `bias` or `weightParams[1].inputGateWeightMatrix`. */
  readonly field: string;
  /** The concrete steps from the layer's parameters, for `withLayerWeight`. */
  readonly steps: readonly WeightStep[];
  /** The weights. */
  readonly weightParams: WeightParams;
  /**
   * The tensor shape the layer declares. Fields whose layer declares none (custom
   * layers, PReLU) get `[count]`.
   */
  readonly shape: readonly number[];
  /** Axis of the output channels in `shape`. */
  readonly axis: 0 | 1;
  /** Set when the selector is asked about this field on its own (`doQuantize(layer, "bias")`). */
  readonly selectorParam: "bias" | undefined;
  /** Whether quantizeWeights changes this field (the reference does). */
  readonly quantized: boolean;
}

type Node = Record<string, unknown>;

/**
 * Every WeightParams a layer holds, in table order. Fields whose presence flag is
 * off (`hasBias: false`) or that are unset are left out.
 *
 * @param layer - a layer of a network
 * @returns its weights; empty for layer kinds without any
 */
export function layerWeights(layer: NeuralNetworkLayer): WeightRef[] {
  const table = layerWeightsOf(layer.layer.case);
  if (table === undefined) return [];
  const params = layer.layer.value as unknown;
  const refs: WeightRef[] = [];
  for (const spec of table.fields) {
    // Most fields are absent at their first step (another case of an activation's
    // oneof, a bias not set): those cost a look, not a walk (this runs several times
    // per layer, on every layer).
    if (!present(params, spec.path[0]) || (spec.when !== undefined && !spec.when(params))) continue;
    const found: [WeightStep[], WeightParams][] = [];
    resolve(params, spec.path, [], found);
    for (const [steps, weightParams] of found) {
      const declared = spec.shape(params);
      refs.push({
        field: formatSteps(steps),
        steps,
        weightParams,
        shape: declared.length === 0 ? [weightCount(weightParams)] : declared,
        axis: spec.axis?.(params) ?? 0,
        selectorParam: spec.selectorParam,
        quantized: table.quantized,
      });
    }
  }
  if (refs.every((ref) => setOf(ref) === 0)) return refs;
  // Repeated weight sets (a biDirectionalLSTM's two directions) one whole set at a time.
  return refs
    .map((ref, order) => ({ ref, order }))
    .sort((a, b) => setOf(a.ref) - setOf(b.ref) || a.order - b.order)
    .map((x) => x.ref);
}

/** The index of the repeated weight set a weight is in (0 when not in one). */
const setOf = (ref: WeightRef): number => (ref.steps.find((s) => typeof s === "number") as number | undefined) ?? 0;

/**
 * A copy of `layer` with the WeightParams at `steps` replaced; `layer` is unchanged.
 *
 * @param layer - the layer
 * @param steps - where, from {@link WeightRef.steps}
 * @param weightParams - the new weights
 * @returns the new layer
 */
export function withLayerWeight(layer: NeuralNetworkLayer, steps: readonly WeightStep[], weightParams: WeightParams): NeuralNetworkLayer {
  const value = replaceAt(layer.layer.value, steps, 0, weightParams);
  return { ...layer, layer: { ...layer.layer, value } as NeuralNetworkLayer["layer"] };
}

/** Values in a WeightParams, whatever its storage (without decoding it). */
export function weightCount(weightParams: WeightParams): number {
  return weightParams.floatValue.length || weightParams.float16Value.length >>> 1 || weightParams.int8RawValue.length;
}

/** Whether `node` has something at `step` (a first step towards weights). */
function present(node: unknown, step: PathStep | undefined): boolean {
  if (node === undefined || node === null) return false;
  if (step === undefined || step === "*") return true;
  if (typeof step !== "string") return ((node as Node)[step.oneof] as { case?: string } | undefined)?.case === step.case;
  const value = (node as Node)[step];
  return value !== undefined && value !== null;
}

/** Appends to `found` each WeightParams at the end of `path` from `node`, with its steps (`at` is the way so far). */
function resolve(node: unknown, path: readonly PathStep[], at: WeightStep[], found: [WeightStep[], WeightParams][]): void {
  if (node === undefined || node === null) return;
  const step = path[at.length];
  if (step === undefined) {
    found.push([at.slice(), node as WeightParams]);
    return;
  }
  if (typeof step !== "string") {
    const oneof = (node as Node)[step.oneof] as { case?: string; value?: unknown } | undefined;
    if (oneof?.case !== step.case) return;
    at.push(step);
    resolve(oneof.value, path, at, found);
  } else if (step === "*") {
    const list = node as unknown[];
    for (let i = 0; i < list.length; i++) {
      at.push(i);
      resolve(list[i], path, at, found);
      at.pop();
    }
    return;
  } else {
    at.push(step);
    resolve((node as Node)[step], path, at, found);
  }
  at.pop();
}

function replaceAt(node: unknown, steps: readonly WeightStep[], i: number, leaf: WeightParams): unknown {
  if (i === steps.length) return leaf;
  const step = steps[i] as WeightStep;
  if (typeof step === "number") {
    const list = (node as unknown[]).slice();
    list[step] = replaceAt(list[step], steps, i + 1, leaf);
    return list;
  }
  const record = node as Node;
  if (typeof step === "string") return { ...record, [step]: replaceAt(record[step], steps, i + 1, leaf) };
  const oneof = record[step.oneof] as { case: string; value: unknown };
  return { ...record, [step.oneof]: { case: oneof.case, value: replaceAt(oneof.value, steps, i + 1, leaf) } };
}

function formatSteps(steps: readonly WeightStep[]): string {
  let out = "";
  for (const step of steps) {
    if (typeof step === "number") out += `[${step}]`;
    else out += (out === "" ? "" : ".") + (typeof step === "string" ? step : step.case);
  }
  return out;
}

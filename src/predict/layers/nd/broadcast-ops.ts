/**
 * Elementwise layers over two broadcast operands: the `*Broadcastable`
 * arithmetic, the comparisons (two inputs, or one input against `alpha`) and
 * the logical operations (0 is false, anything else true; results are 1 or 0).
 *
 * @packageDocumentation
 */
import type { LayerKind } from "../../../codec/model-types.js";
import type { LayerImpl, LayerImpls, Tensor } from "../../layer-runner.js";
import { broadcastBinary } from "../broadcast.js";
import { checkCount } from "../layer-errors.js";

type Op = (x: number, y: number) => number;

/** A layer of exactly two broadcast inputs. */
function twoInputs<K extends LayerKind>(kind: K, op: Op): LayerImpl<K> {
  return {
    prepare: (_params, layer, context) => {
      checkCount(context, kind, layer.input, 2);
      return ([a, b]) => [broadcastBinary(context, kind, a as Tensor, b as Tensor, op)];
    },
  };
}

/** A comparison: two broadcast inputs, or one input against the layer's `alpha`. */
function comparison<K extends "greaterThan" | "lessThan" | "greaterEqual" | "lessEqual" | "equal" | "notEqual">(kind: K, op: Op): LayerImpl<K> {
  return {
    prepare: (params, layer, context) => {
      checkCount(context, kind, layer.input, 1, 2);
      const alpha: Tensor = { shape: [1], data: Float32Array.of(params.alpha) };
      return (inputs) => [broadcastBinary(context, kind, inputs[0] as Tensor, inputs[1] ?? alpha, op)];
    },
  };
}

const truth = (x: number): boolean => x !== 0;

/** The broadcastable arithmetic, comparison and logical layer kinds. */
export const BROADCAST_OP_LAYERS: LayerImpls = {
  addBroadcastable: twoInputs("addBroadcastable", (x, y) => x + y),
  subtractBroadcastable: twoInputs("subtractBroadcastable", (x, y) => x - y),
  multiplyBroadcastable: twoInputs("multiplyBroadcastable", (x, y) => x * y),
  divideBroadcastable: twoInputs("divideBroadcastable", (x, y) => x / y),
  maxBroadcastable: twoInputs("maxBroadcastable", (x, y) => (x >= y || Number.isNaN(x) ? x : y)),
  minBroadcastable: twoInputs("minBroadcastable", (x, y) => (x <= y || Number.isNaN(x) ? x : y)),
  powBroadcastable: twoInputs("powBroadcastable", (x, y) => x ** y),
  floorDivBroadcastable: twoInputs("floorDivBroadcastable", (x, y) => Math.floor(x / y)),
  greaterThan: comparison("greaterThan", (x, y) => (x > y ? 1 : 0)),
  lessThan: comparison("lessThan", (x, y) => (x < y ? 1 : 0)),
  greaterEqual: comparison("greaterEqual", (x, y) => (x >= y ? 1 : 0)),
  lessEqual: comparison("lessEqual", (x, y) => (x <= y ? 1 : 0)),
  equal: comparison("equal", (x, y) => (x === y ? 1 : 0)),
  notEqual: comparison("notEqual", (x, y) => (x !== y ? 1 : 0)),
  logicalAnd: twoInputs("logicalAnd", (x, y) => (truth(x) && truth(y) ? 1 : 0)),
  logicalOr: twoInputs("logicalOr", (x, y) => (truth(x) || truth(y) ? 1 : 0)),
  logicalXor: twoInputs("logicalXor", (x, y) => (truth(x) !== truth(y) ? 1 : 0)),
  logicalNot: {
    prepare: (_params, layer, context) => {
      checkCount(context, "logicalNot", layer.input, 1);
      return ([x]) => {
        const src = (x as Tensor).data;
        const out = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) out[i] = src[i] === 0 ? 1 : 0;
        return [{ shape: [...(x as Tensor).shape], data: out }];
      };
    },
  },
};

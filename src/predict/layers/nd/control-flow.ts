/**
 * Control flow: branch (if / else over the same blobs), loop (for, while, or
 * both, with loopBreak / loopContinue in its body). Nested networks are prepared
 * once, with the layer, and run over the enclosing network's blob map, so the
 * blobs they write are visible after them.
 *
 * @packageDocumentation
 */
import { QuantizeError } from "../../../errors.js";
import type { LayerImpls, PreparedNetwork, Tensor } from "../../layer-runner.js";
import { inputShapeError, checkCount, invalidParameter } from "../layer-errors.js";

/** A condition is true when its magnitude is above this (BranchLayerParams; the loop's "close to 0"). */
const CONDITION_EPSILON = 1e-6;

/**
 * Loops without any bound (a condition network, no maxLoopIterations, no input)
 * stop with an error after this many iterations rather than hang the caller.
 */
export const MAX_UNBOUNDED_LOOP_ITERATIONS = 10_000_000;

/** Thrown by loopBreak / loopContinue, caught by the innermost loop running. */
class LoopSignal extends QuantizeError {
  constructor(
    readonly signal: "break" | "continue",
    path: string,
  ) {
    super("unsupported-model", `${signal === "break" ? "loopBreak" : "loopContinue"} ran outside a loop body`, { path });
  }
}

function isTrue(t: Tensor | undefined): boolean {
  const v = t?.data[0];
  return v !== undefined && Math.abs(v) > CONDITION_EPSILON;
}

/** The control-flow layer kinds. */
export const CONTROL_FLOW_LAYERS: LayerImpls = {
  branch: {
    prepare: (params, layer, context) => {
      checkCount(context, "branch", layer.input, 1);
      if (params.ifBranch === undefined) throw invalidParameter(context, "branch has no ifBranch");
      const ifBranch = context.prepareNetwork(params.ifBranch, `${context.path}/ifBranch`);
      const elseBranch = params.elseBranch === undefined ? undefined : context.prepareNetwork(params.elseBranch, `${context.path}/elseBranch`);
      return ([condition], blobs) => {
        if ((condition as Tensor).data.length !== 1) {
          throw inputShapeError(context, `branch: the condition has ${(condition as Tensor).data.length} values, not 1`);
        }
        if (isTrue(condition)) ifBranch.run(blobs);
        else elseBranch?.run(blobs);
        return [];
      };
    },
  },

  loop: {
    prepare: (params, layer, context) => {
      checkCount(context, "loop", layer.input, 0, 1);
      if (params.bodyNetwork === undefined) throw invalidParameter(context, "loop has no bodyNetwork");
      const hasCondition = params.conditionNetwork !== undefined;
      if (hasCondition !== (params.conditionVar !== "")) {
        throw invalidParameter(context, "loop: conditionNetwork and conditionVar must be given together");
      }
      const body = context.prepareNetwork(params.bodyNetwork, `${context.path}/bodyNetwork`);
      const conditionNetwork: PreparedNetwork | undefined =
        params.conditionNetwork === undefined ? undefined : context.prepareNetwork(params.conditionNetwork, `${context.path}/conditionNetwork`);
      const fixedMax = Number(params.maxLoopIterations);
      return (inputs, blobs) => {
        const maxInput = inputs[0];
        // An input overrides maxLoopIterations; a while loop with neither is unbounded.
        let max = maxInput !== undefined ? Math.floor(maxInput.data[0] ?? 0) : fixedMax;
        let unbounded = false;
        if (conditionNetwork !== undefined && maxInput === undefined && fixedMax === 0) {
          max = MAX_UNBOUNDED_LOOP_ITERATIONS;
          unbounded = true;
        }
        const condition = (): boolean => {
          if (conditionNetwork === undefined) return true;
          conditionNetwork.run(blobs);
          const value = blobs.get(params.conditionVar);
          if (value === undefined) throw invalidParameter(context, `loop: the condition network does not compute '${params.conditionVar}'`);
          return isTrue(value);
        };
        // The condition runs before the first body run and after every one (LoopLayerParams).
        let i = 0;
        let go = condition();
        while (go && i < max) {
          try {
            body.run(blobs);
          } catch (error) {
            if (!(error instanceof LoopSignal)) throw error;
            if (error.signal === "break") return [];
          }
          i++;
          go = condition();
        }
        if (unbounded && go) {
          throw new QuantizeError("unsupported-model", `loop: still running after ${MAX_UNBOUNDED_LOOP_ITERATIONS} iterations`, { path: context.path });
        }
        return [];
      };
    },
  },

  loopBreak: {
    prepare: (_params, _layer, context) => () => {
      throw new LoopSignal("break", context.path);
    },
  },

  loopContinue: {
    prepare: (_params, _layer, context) => () => {
      throw new LoopSignal("continue", context.path);
    },
  },
};

/**
 * A weight report with each tensor's decision attached, as the CLI's `--report`
 * file and the worker's report hold it.
 *
 * @packageDocumentation
 */
import type { TensorDecision } from "../quantize/tensor-plans.js";
import type { WeightReport } from "./weight-report.js";

/**
 * `report` with each tensor's decision (from quantizeWeights' `onTensor`) set as
 * its `decision` field; tensors without one are left as they are.
 *
 * @param report - weightReport of the input against the output
 * @param decisions - the decisions by tensor path (`<layerPath>/<field>`)
 * @returns a new report; `report` itself when there are no decisions
 */
export function withDecisions(report: WeightReport, decisions: ReadonlyMap<string, TensorDecision>): WeightReport {
  if (decisions.size === 0) return report;
  return {
    ...report,
    tensors: report.tensors.map((t) => {
      const decision = decisions.get(`${t.layerPath}/${t.field}`);
      // Object.assign, not `{ ...t, decision }`: see withStorage in codec/weight-storage.ts.
      return decision === undefined ? t : Object.assign({}, t, { decision });
    }),
  };
}

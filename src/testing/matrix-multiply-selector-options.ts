/**
 * The matrixMultiplySelectorOptions arbitrary: options MatrixMultiplyLayerSelector accepts.
 *
 * @packageDocumentation
 */
import * as fc from "fast-check";
import type { MatrixMultiplySelectorOptions } from "../selectors.js";
import { MAX_SIZE_CONSTRAINT, integerIn } from "./internal/validate.js";
import type { network } from "./network.js";

/** Constraints of {@link matrixMultiplySelectorOptions}. */
export interface MatrixMultiplySelectorOptionsConstraints {
  /** Largest channel bound (minimum or maximum, input or output). @defaultValue 8 */
  readonly maxChannels?: number;
  /**
   * Names `includeLayersWithNames` picks from (a subset, possibly empty). The
   * default matches the first layers of {@link network}'s default naming.
   * @defaultValue ["layer0", "layer1", "layer2", "layer3"]
   */
  readonly layerNames?: readonly string[];
}

/**
 * Options `new MatrixMultiplyLayerSelector(options)` accepts: non-negative integer
 * bounds (a maximum may be below a minimum: that selects nothing) and a subset of
 * `layerNames`, each field sometimes left out.
 *
 * @param constraints - bounds and names
 * @returns an arbitrary of options
 * @throws RangeError (when called) for constraints out of range
 * @example
 * ```ts
 * fc.assert(fc.property(matrixMultiplySelectorOptions(), model(), (options, m) => {
 *   const out = activateInt8Int8MatrixMultiplications(m, { selector: new MatrixMultiplyLayerSelector(options) });
 *   return out.specificationVersion >= 5 || !isNetworkModel(m);
 * }));
 * ```
 */
export function matrixMultiplySelectorOptions(constraints: MatrixMultiplySelectorOptionsConstraints = {}): fc.Arbitrary<MatrixMultiplySelectorOptions> {
  const name = "matrixMultiplySelectorOptions";
  const maxChannels = integerIn(name, "maxChannels", constraints.maxChannels ?? 8, 0, MAX_SIZE_CONSTRAINT);
  const layerNames = constraints.layerNames ?? ["layer0", "layer1", "layer2", "layer3"];
  if (!Array.isArray(layerNames) || layerNames.some((n) => typeof n !== "string")) {
    throw new TypeError(`${name}: layerNames must be an array of strings`);
  }
  const bound = fc.integer({ min: 0, max: maxChannels });
  return fc.record(
    {
      minimumWeightCount: fc.integer({ min: 0, max: maxChannels * maxChannels }),
      minimumInputChannels: bound,
      minimumOutputChannels: bound,
      maximumInputChannels: bound,
      maximumOutputChannels: bound,
      includeLayersWithNames: fc.subarray([...layerNames]),
    },
    { requiredKeys: [] },
  );
}

/**
 * The advancedSelectorOptions arbitrary: options AdvancedQuantizedLayerSelector accepts.
 *
 * @packageDocumentation
 */
import * as fc from "fast-check";
import { QUANTIZABLE_LAYER_TYPES, type AdvancedSelectorOptions } from "../selectors.js";
import { MAX_SIZE_CONSTRAINT, integerIn } from "./internal/validate.js";

/** Constraints of {@link advancedSelectorOptions}. */
export interface AdvancedSelectorOptionsConstraints {
  /** Largest `minimumConvKernelChannels`. @defaultValue 8 */
  readonly maxKernelChannels?: number;
  /** Largest `minimumConvWeightCount`. @defaultValue 8192 */
  readonly maxWeightCount?: number;
}

/**
 * Options `new AdvancedQuantizedLayerSelector(options)` accepts: any subset of
 * {@link QUANTIZABLE_LAYER_TYPES} to skip and non-negative integer minimums, each
 * field sometimes left out (so the defaults are exercised too).
 *
 * @param constraints - bounds of the minimums
 * @returns an arbitrary of options
 * @throws RangeError (when called) for constraints out of range
 * @example
 * ```ts
 * fc.assert(fc.property(advancedSelectorOptions(), network(), (options, net) => {
 *   const selector = new AdvancedQuantizedLayerSelector(options);
 *   return net.layers.every((l) => !selector.doQuantize(l) || new QuantizedLayerSelector().doQuantize(l));
 * }));
 * ```
 */
export function advancedSelectorOptions(constraints: AdvancedSelectorOptionsConstraints = {}): fc.Arbitrary<AdvancedSelectorOptions> {
  const name = "advancedSelectorOptions";
  const maxKernelChannels = integerIn(name, "maxKernelChannels", constraints.maxKernelChannels ?? 8, 0, MAX_SIZE_CONSTRAINT);
  const maxWeightCount = integerIn(name, "maxWeightCount", constraints.maxWeightCount ?? 8192, 0, MAX_SIZE_CONSTRAINT);
  return fc.record(
    {
      skipLayerTypes: fc.subarray([...QUANTIZABLE_LAYER_TYPES]),
      minimumConvKernelChannels: fc.integer({ min: 0, max: maxKernelChannels }),
      minimumConvWeightCount: fc.integer({ min: 0, max: maxWeightCount }),
    },
    { requiredKeys: [] },
  );
}

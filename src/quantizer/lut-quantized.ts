/**
 * The result type of every lookup-table quantizer.
 *
 * @packageDocumentation
 */

/** A tensor quantized as `w ≈ lut[q]`, one table for the whole tensor. */
export interface LutQuantized {
  /** One index per value, in tensor order, each below `2^nbits`. */
  readonly indices: Uint8Array;
  /** The table, `2^nbits` float32 entries as stored in the model. */
  readonly lut: Float32Array;
}

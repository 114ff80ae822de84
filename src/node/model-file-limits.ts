/**
 * What any model file must satisfy before the decoder sees it, in a module of its
 * own: the CLI's read-ahead imports it before the rest of the program loads.
 *
 * @packageDocumentation
 */

/**
 * The largest model file read, in bytes: 2 GiB - 1. A `.mlmodel` file is one
 * protobuf message, and protobuf limits a message to 2 GiB (coremltools and Core ML
 * cannot read a larger one), so anything bigger is refused from its size, before
 * a byte of it is read.
 */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * Whether a file starting with this byte cannot be a model whatever follows: a
 * one-byte key below 8 has field number 0, which no protobuf message has. Readers
 * stop there (`/dev/zero` is endless, and 2 GiB of zeros take seconds to read) and
 * hand the first bytes to the decoder, which refuses them.
 *
 * @param firstByte - the file's first byte
 * @returns true when the file is certainly not a model
 */
export function cannotStartModel(firstByte: number): boolean {
  return firstByte < 8;
}

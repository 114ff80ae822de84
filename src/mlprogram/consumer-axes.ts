/**
 * The channel axes of a weight as the op reading it sees them (coremltools'
 * `select_input_output_channel_axis`, MLPROGRAM.md section 8): the rule the
 * quantization and palettization passes share.
 *
 * @packageDocumentation
 */
import type { Operation } from "../gen/MIL_pb.js";
import { boolParameter, type ConstConsumer } from "./compression-pass.js";

/**
 * [output axis, input axis] of a weight as one consumer reads it, possibly negative
 * (counted from the end): `conv_transpose` weights are `[C_in, C_out, ...]`; a
 * `matmul` operand's axes follow its `transpose_x`/`transpose_y`; every other
 * consumer reads `[C_out, C_in, ...]`.
 *
 * @param consumer - the op and the input it reads the weight through
 * @param producers - the block's ops by output name (for a `transpose_*` bound to a const)
 * @returns the output and input channel axes
 */
export function consumerChannelAxes({ op, input }: ConstConsumer, producers: ReadonlyMap<string, Operation>): readonly [number, number] {
  if (op.type === "conv_transpose") return [1, 0];
  if (op.type === "matmul" && input === "y") return boolParameter(op, "transpose_y", producers) ? [-2, -1] : [-1, -2];
  if (op.type === "matmul" && input === "x") return boolParameter(op, "transpose_x", producers) ? [-1, -2] : [-2, -1];
  return [0, 1];
}

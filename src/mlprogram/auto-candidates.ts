/**
 * The storages `chooseProgramConfig` tries for a weight: per index width, the op
 * configs of each mode, and which of them only iOS18 programs take.
 *
 * @packageDocumentation
 */
import type { LinearOpConfigJson, PalettizerOpConfigJson, ProgramAutoMode } from "./auto-config.js";

/** A storage one weight may get: an op config of one of the passes. */
export interface AutoCandidate {
  /** Index bits: candidates of fewer bits are always smaller (for weights above the 2048-element threshold). */
  readonly bits: number;
  /** Whether only an iOS18 program takes it (the passes refuse it on iOS16/17: 3-bit LUTs, 4-bit and per-block linear). */
  readonly iOS18Only: boolean;
  /** A lookup table of `2^bits` entries: the k-means bound applies. */
  readonly lut: boolean;
  /** The pass and its op config. */
  readonly op: { readonly pass: "palettize"; readonly config: PalettizerOpConfigJson } | { readonly pass: "linear"; readonly config: LinearOpConfigJson };
}

/** The index widths tried, fewest first. */
export const AUTO_WIDTHS = [1, 2, 3, 4, 6, 8] as const;
/** The LUT widths `constexpr_lut_to_dense` of iOS16/17 lacks. */
const IOS18_ONLY_LUT_BITS: ReadonlySet<number> = new Set([3]);
/** The linear forms of each width: per channel, and for 4 bits per block of 32 (coremltools' default block size); 4-bit is iOS18 only. */
const LINEAR_FORMS: Readonly<Record<number, readonly Omit<LinearOpConfigJson, "config_type" | "mode">[]>> = {
  4: [
    { dtype: "int4", granularity: "per_channel" },
    { dtype: "int4", granularity: "per_block", block_size: 32 },
  ],
  8: [{ dtype: "int8", granularity: "per_channel" }],
};

/** The candidates of each mode at a width. */
const MODE_CANDIDATES: Readonly<Record<ProgramAutoMode, (bits: number) => readonly AutoCandidate[]>> = {
  kmeans_lut: (bits) => [lutCandidate("kmeans", bits)],
  linear_lut: (bits) => [lutCandidate("uniform", bits)],
  linear: (bits) => linearCandidates("linear", bits),
  linear_symmetric: (bits) => linearCandidates("linear_symmetric", bits),
};

function lutCandidate(mode: PalettizerOpConfigJson["mode"], bits: number): AutoCandidate {
  const config: PalettizerOpConfigJson = { config_type: "OpPalettizerConfig", mode, nbits: bits, granularity: "per_tensor" };
  return { bits, iOS18Only: IOS18_ONLY_LUT_BITS.has(bits), lut: true, op: { pass: "palettize", config } };
}

function linearCandidates(mode: LinearOpConfigJson["mode"], bits: number): AutoCandidate[] {
  return (LINEAR_FORMS[bits] ?? []).map((form) => ({
    bits,
    iOS18Only: bits < 8 || form.granularity === "per_block",
    lut: false,
    op: { pass: "linear", config: { config_type: "OpLinearQuantizerConfig", mode, ...form } },
  }));
}

/**
 * The candidates of the modes at one width, in the modes' order.
 *
 * @param modes - the modes asked for
 * @param bits - the width
 * @returns the candidates (none for a width a mode lacks, such as linear at 1 bit)
 */
export function autoCandidates(modes: readonly ProgramAutoMode[], bits: number): AutoCandidate[] {
  return modes.flatMap((mode) => MODE_CANDIDATES[mode](bits));
}

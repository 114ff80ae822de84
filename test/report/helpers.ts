/**
 * Shared by the report tests: the error measures computed
 * the straightforward way (plain arrays, written from the definitions, not from
 * src/report).
 */

/** The measures of one tensor, +/-Infinity where the definition gives it. */
export interface Straightforward {
  readonly snrDb: number;
  readonly psnrDb: number;
  readonly maxAbsError: number;
  readonly cosine: number;
}

/**
 * SNR = 10 log10(sum x^2 / sum n^2), PSNR = 10 log10(max x^2 / mean n^2),
 * n = y - x; max |n|; cosine = x.y / (|x| |y|). Finite values only.
 */
export function straightforward(original: ArrayLike<number>, reconstructed: ArrayLike<number>): Straightforward {
  const xs = Array.from(original);
  const ys = Array.from(reconstructed);
  if (xs.length !== ys.length) throw new Error("length mismatch");
  const noise = ys.map((y, i) => y - (xs[i] as number));
  const sumSq = (a: number[]): number => a.reduce((s, v) => s + v * v, 0);
  const signal = sumSq(xs);
  const noisePower = sumSq(noise);
  const peak = xs.reduce((m, v) => Math.max(m, v * v), 0);
  const dot = xs.reduce((s, x, i) => s + x * (ys[i] as number), 0);
  const energy = sumSq(ys);
  return {
    snrDb: 10 * Math.log10(signal / noisePower),
    psnrDb: 10 * Math.log10(peak / (noisePower / xs.length)),
    maxAbsError: noise.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
    cosine: signal === 0 && energy === 0 ? 1 : signal === 0 || energy === 0 ? 0 : dot / Math.sqrt(signal * energy),
  };
}

/** A report's dB value (`null` for infinite) against a straightforward one, within 0.01 dB. */
export function expectDb(actual: number | null, expected: number): void {
  if (Number.isFinite(expected)) {
    expect(actual).not.toBeNull();
    expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(0.01);
  } else {
    expect(actual).toBeNull();
  }
}

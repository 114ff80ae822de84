/**
 * A one-line progress bar on a terminal's stderr, for work that lasts: tensors
 * quantized, samples run.
 *
 * @packageDocumentation
 */

/** How far the work is. */
export interface ProgressCount {
  /** Items done so far. */
  readonly done: number;
  /** Items in all (may grow as the work finds more). */
  readonly total: number;
}

/** Where the bar is drawn. */
export interface ProgressOutput {
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal: the bar is drawn only then. @defaultValue false */
  readonly stderrIsTty?: boolean;
}

/** A bar: feed it counts, then end it. */
export interface ProgressBar {
  /** Draws the count; undefined when no bar is drawn (stderr is not a terminal). */
  readonly onProgress: ((p: ProgressCount) => void) | undefined;
  /** Ends the bar's line, if one was drawn, so what follows starts a line of its own. */
  readonly finish: () => void;
}

/** Work shorter than this draws no bar: it would only flicker. */
const QUIET_MS = 500;
/** Characters of the bar between its brackets. */
const WIDTH = 30;

/**
 * A progress bar on stderr, drawn only when stderr is a terminal and only once the
 * work has lasted {@link QUIET_MS} ms: `[#####     ] 5/10 tensors`.
 *
 * @param io - stderr and whether it is a terminal
 * @param unit - what is counted, e.g. `tensors` or `samples`
 * @returns the bar
 */
export function progressBar(io: ProgressOutput, unit: string): ProgressBar {
  if (io.stderrIsTty !== true) return { onProgress: undefined, finish: () => undefined };
  const started = Date.now();
  let drawn = false;
  return {
    onProgress: (p) => {
      if (!drawn && Date.now() - started < QUIET_MS) return;
      const filled = Math.round((Math.min(p.done, p.total) / Math.max(1, p.total)) * WIDTH);
      io.stderr(`\r[${"#".repeat(filled)}${" ".repeat(WIDTH - filled)}] ${p.done}/${p.total} ${unit}`);
      drawn = true;
    },
    finish: () => {
      if (drawn) io.stderr("\n");
    },
  };
}

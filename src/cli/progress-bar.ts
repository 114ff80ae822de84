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
  /** The part of the item under way that is done, in (0, 1), when it reports that. */
  readonly fraction?: number;
}

/** Where the bar is drawn. */
export interface ProgressOutput {
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal: the bar is drawn only then. @defaultValue false */
  readonly stderrIsTty?: boolean;
  /** The clock, in milliseconds (tests inject one). @defaultValue `Date.now` */
  readonly now?: () => number;
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
/** No time left is shown before this much has passed: earlier rates are mostly start-up. */
const ETA_AFTER_MS = 2000;
/** Nor before this part of the work is done: a rate from less is a guess. */
const ETA_AFTER_PART = 0.02;

/**
 * A progress bar on stderr, drawn only when stderr is a terminal and only once the
 * work has lasted {@link QUIET_MS} ms: `[#####     ] 5/10 tensors, 12 s left`. It
 * moves within an item that reports its `fraction`; the time left is the time so
 * far scaled by the part left over the part done, shown once both are enough to
 * mean something ({@link ETA_AFTER_MS}, {@link ETA_AFTER_PART}).
 *
 * @param io - stderr, whether it is a terminal, and the clock
 * @param unit - what is counted, e.g. `tensors` or `samples`
 * @returns the bar
 */
export function progressBar(io: ProgressOutput, unit: string): ProgressBar {
  if (io.stderrIsTty !== true) return { onProgress: undefined, finish: () => undefined };
  const now = io.now ?? ((): number => Date.now());
  const started = now();
  let drawn = false;
  let last = "";
  return {
    onProgress: (p) => {
      const elapsed = now() - started;
      if (!drawn && elapsed < QUIET_MS) return;
      const total = Math.max(1, p.total);
      const part = Math.min(1, (Math.min(p.done, p.total) + (p.fraction ?? 0)) / total);
      const filled = Math.round(part * WIDTH);
      const left = elapsed >= ETA_AFTER_MS && part >= ETA_AFTER_PART && part < 1 ? `, ${formatDuration((elapsed * (1 - part)) / part)} left` : "";
      const text = `[${"#".repeat(filled)}${" ".repeat(WIDTH - filled)}] ${p.done}/${p.total} ${unit}${left}`;
      if (text === last) return;
      // Spaces over what a longer previous line left behind.
      io.stderr(`\r${text}${" ".repeat(Math.max(0, last.length - text.length))}`);
      last = text;
      drawn = true;
    },
    finish: () => {
      if (drawn) io.stderr("\n");
    },
  };
}

/** `12 s`, `3 min 5 s`, `2 h 10 min`: whole units, the two largest. */
export function formatDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The temporary files this process has open right now, so that whoever owns the
 * process (the CLI's main.ts) can remove them when a signal ends it early. The file
 * writers register each temporary before creating it and unregister it once it is
 * renamed or removed. Nothing here touches `process`: the registry is a set, and
 * the signal handling is the caller's.
 *
 * @packageDocumentation
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";

const live = new Set<string>();
const listeners = new Set<() => void>();

/**
 * Records a temporary file about to be created; listeners are told.
 *
 * @param path - the temporary file
 */
export function registerTemporary(path: string): void {
  live.add(resolve(path));
  for (const listener of listeners) listener();
}

/**
 * Forgets a temporary file (renamed into place, or removed).
 *
 * @param path - the temporary file, as registered
 */
export function unregisterTemporary(path: string): void {
  live.delete(resolve(path));
}

/**
 * Removes every registered temporary file or folder (an `.mlpackage` is staged
 * as a folder), synchronously (it runs in signal handlers and just before
 * exiting), ignoring those already gone.
 */
export function removeTemporaries(): void {
  for (const path of live) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Nothing more can be done on the way out.
    }
  }
  live.clear();
}

/**
 * The temporary files registered now.
 *
 * @returns their absolute paths
 */
export function liveTemporaries(): string[] {
  return [...live];
}

/**
 * Calls `listener` each time a temporary file is registered (main.ts installs its
 * signal handlers on the first, so until then a signal ends the process at once).
 *
 * @param listener - called after the registration
 * @returns a function that removes the listener
 */
export function onTemporaryRegistered(listener: () => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

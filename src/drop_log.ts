/**
 * Logs queue drops without flooding: the first drop after a quiet spell is
 * logged at once, later ones are summed and logged at most every interval.
 * The exact total lives in the queue (`dropped`), this only decides when to
 * say it.
 *
 * @module
 */

import type { LogFields, Logger } from "./log.ts";

/** Counts drops and logs them at a bounded rate. */
export interface DropLog {
  /** Records `n` dropped events (0 is ignored). */
  record(n: number): void;
  /** Logs whatever was recorded and not yet logged. */
  flush(): void;
}

/** Options for {@link createDropLog}. */
export interface DropLogOptions {
  log: Logger;
  /** The sentence of a drop line for `n` drops. */
  message: (n: number) => string;
  /** Fields added to each line (e.g. the total so far). */
  fields: () => LogFields;
  /** At most one line per interval; default 5000 ms. */
  intervalMs?: number;
  /** Monotonic ms; default `performance.now`. */
  now?: () => number;
}

/**
 * Creates a {@link DropLog}. Call `flush()` on a timer (every interval) and
 * at shutdown so that no recorded drop goes unlogged.
 *
 * @example
 * ```ts
 * import { createDropLog } from "./drop_log.ts";
 * const lines: string[] = [];
 * const log = { debug() {}, info() {}, error() {}, warn: (m: string) => lines.push(m) };
 * const drops = createDropLog({ log, message: (n) => `dropped ${n}`, fields: () => ({}) });
 * drops.record(1);
 * drops.record(1);
 * drops.flush();
 * console.assert(lines.join() === "dropped 1,dropped 1");
 * ```
 */
export function createDropLog(options: DropLogOptions): DropLog {
  const intervalMs = options.intervalMs ?? 5_000;
  const now = options.now ?? (() => performance.now());
  let unreported = 0;
  let lastLogAt = -Infinity;
  const flush = () => {
    if (unreported === 0) return;
    options.log.warn(options.message(unreported), options.fields());
    unreported = 0;
    lastLogAt = now();
  };
  return {
    record(n) {
      if (n <= 0) return;
      unreported += n;
      if (now() - lastLogAt >= intervalMs) flush();
    },
    flush,
  };
}

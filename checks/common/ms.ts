/**
 * One rounding for every duration a module reports in `details`.
 *
 * @module
 */

/** Milliseconds to two decimals (10 µs): finer is noise on a shared machine. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Milliseconds since `startedAt` (a `performance.now()` reading), rounded. */
export function msSince(startedAt: number): number {
  return roundMs(performance.now() - startedAt);
}

/**
 * What every section of the benchmark gets: a temp dir of this run (removed
 * at the end) and a progress line writer (stderr).
 *
 * @module
 */

/** Passed to each section. */
export interface SectionContext {
  /** A temp dir of this run; a section may put anything there. */
  dir: string;
  progress(line: string): void;
}

/** `9.9 µs` per item from a total in ms. */
export function perItemUs(totalMs: number, items: number): string {
  return `${((1000 * totalMs) / items).toFixed(1)} µs`;
}

/** `1.5 KB` per item from a total in KiB. */
export function perItemKb(totalKiB: number, items: number): string {
  return `${((totalKiB * 1024) / items / 1000).toFixed(1)} KB`;
}

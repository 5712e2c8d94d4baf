/**
 * "Did you mean …?": the closest known word to a misspelt one.
 *
 * @module
 */

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase(), y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[y.length];
}

/**
 * The known word closest to `word`, when it is close enough to be a typo
 * (at most a third of its length, and at least 2, edits away); ties go to
 * the first in `known`.
 *
 * @example
 * ```ts
 * import { closest } from "./suggest.ts";
 * console.assert(closest("hots", ["host", "port"]) === "host");
 * console.assert(closest("zzzz", ["host", "port"]) === undefined);
 * ```
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(word, candidate);
    if (d < bestDistance && d <= limit) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean host?)`, or "" when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const hint = closest(word, known);
  return hint === undefined ? "" : ` (did you mean ${hint}?)`;
}

/**
 * Reconnect delays: capped exponential backoff with jitter, as a pure function.
 *
 * @module
 */

/** Options for {@link backoffDelay}; every field has a documented default. */
export interface BackoffOptions {
  /** Delay before the first retry; default 1000 ms. */
  baseMs?: number;
  /** Upper bound of any delay; default 30,000 ms. */
  maxMs?: number;
  /** Share of the delay that is randomised, 0–1; default 0.2 (±10 %). */
  jitter?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry):
 * `min(max, base · 2^attempt)`, spread by ±jitter/2 and never above `max`.
 * `random` is a number in [0, 1).
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * console.assert(backoffDelay(0, () => 0.5) === 1000);
 * console.assert(backoffDelay(10, () => 0.5) === 30000);
 * ```
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  options: BackoffOptions = {},
): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 30_000;
  const jitter = options.jitter ?? 0.2;
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`attempt must be >= 0, got ${attempt}`);
  }
  const raw = Math.min(max, base * 2 ** Math.min(attempt, 30));
  const spread = raw * jitter * (random() - 0.5);
  return Math.round(Math.min(max, Math.max(0, raw + spread)));
}

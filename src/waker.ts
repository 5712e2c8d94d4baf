/**
 * A wake-up signal for the transport's tasks: the sender waits on it for new
 * events, server messages or a stop, and `flush()` for the queue to shrink.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/**
 * Wakes every task waiting on it; a wait also ends at its timeout. Waiters
 * re-check their own condition after waking, so a wake-up for someone else
 * costs one check.
 *
 * @example
 * ```ts
 * import { realClock } from "./clock.ts";
 * import { Waker } from "./waker.ts";
 * const waker = new Waker(realClock);
 * const waiting = waker.wait(60_000);
 * waker.wake();
 * await waiting; // at once, not after a minute
 * ```
 */
export class Waker {
  readonly #waiters = new Set<() => void>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Ends every wait now in progress. */
  wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /** Resolves at the next {@link wake}, or after `timeoutMs` on the clock. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, Math.max(0, timeoutMs));
      this.#waiters.add(done);
    });
  }
}

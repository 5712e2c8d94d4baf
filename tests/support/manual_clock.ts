/**
 * A {@link Clock} the test drives by hand: time stands still until
 * {@link ManualClock.advance} moves it, and timers fire in order of their due
 * time (ties in the order they were set), each followed by a flush so async
 * code reacting to a timer runs before the next one fires.
 *
 * @example
 * ```ts
 * import { flush, ManualClock } from "./manual_clock.ts";
 * const clock = new ManualClock();
 * const fired: number[] = [];
 * clock.setTimeout(() => fired.push(clock.now()), 50);
 * await clock.advance(100);
 * console.assert(fired[0] === 50 && clock.now() === 100 && clock.pending() === 0);
 * let settled = false;
 * Promise.resolve().then(() => settled = true);
 * await flush(); // lets promise reactions run without moving the clock
 * console.assert(settled);
 * ```
 *
 * @module
 */

import type { Clock, TimerId } from "../../src/clock.ts";

interface Timer {
  at: number;
  /** Set order, so timers due at the same moment fire first-set-first. */
  order: number;
  fn: () => void;
}

/** Lets every pending promise reaction run: a real macrotask turn drains the microtask queue. */
export async function flush(turns = 3): Promise<void> {
  // Several turns, in case settled code itself waits for a macrotask.
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** A clock whose time only moves when the test says so. */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  /** @param startMs the initial reading of {@link now}; default 0. */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#nextId++;
    // Like the real timers: a negative or non-numeric delay means "as soon as possible".
    const delayMs = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { at: this.#now + delayMs, order: id, fn });
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as number);
  }

  /** Timers armed and not yet fired or cleared. */
  pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer due up to the new time one
   * by one at its own due time, including timers that fired timers set inside
   * the window. Flushes before the first and after every firing.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance needs ms >= 0, got ${ms}`);
    const until = this.#now + ms;
    await flush();
    for (let next = this.#due(until); next; next = this.#due(until)) {
      const [id, timer] = next;
      this.#timers.delete(id);
      this.#now = timer.at;
      timer.fn();
      await flush();
    }
    this.#now = until;
  }

  /** The earliest timer due at or before `until`. */
  #due(until: number): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.#timers) {
      const t = entry[1];
      if (t.at > until) continue;
      if (!best || t.at < best[1].at || (t.at === best[1].at && t.order < best[1].order)) {
        best = entry;
      }
    }
    return best;
  }
}

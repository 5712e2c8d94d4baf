/**
 * Many timers on one: every interval tick and every run deadline of the
 * scheduler is an entry in a min-heap, and only the earliest one holds a
 * real timer of the {@link Clock}. With 10,000 targets that is one armed
 * timer instead of 10,000 (and no timer object per run).
 *
 * @module
 */

import type { Clock, TimerId } from "./clock.ts";

/** A scheduled callback; pass it to {@link TimerHeap.cancel}. */
export interface TimerEntry {
  readonly at: number;
  /** Its position in the heap, -1 once it fired or was cancelled. */
  index: number;
  readonly order: number;
  readonly fn: () => void;
}

/**
 * Timers due at a time on the clock's scale, in due order (ties in the order
 * they were added). Callbacks run one after another from one clock timer;
 * one that throws does not stop the others (the error is passed to `onError`).
 *
 * @example
 * ```ts
 * import { TimerHeap } from "./timer_heap.ts";
 * import { realClock } from "./clock.ts";
 * const timers = new TimerHeap(realClock);
 * const entry = timers.add(realClock.now() + 1000, () => console.log("late"));
 * timers.cancel(entry);
 * console.assert(timers.size === 0);
 * ```
 */
export class TimerHeap {
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #heap: TimerEntry[] = [];
  #order = 0;
  #timer: TimerId | undefined;
  #armedFor: TimerEntry | undefined;

  constructor(clock: Clock, onError: (error: unknown) => void = () => {}) {
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `fn` at `at` (a time on the clock's scale; a past time means "as soon as possible"). */
  add(at: number, fn: () => void): TimerEntry {
    const entry: TimerEntry = { at, fn, order: this.#order++, index: this.#heap.length };
    this.#heap.push(entry);
    this.#up(entry.index);
    this.#arm();
    return entry;
  }

  /** Removes an entry that has not fired yet; a fired or cancelled one is ignored. */
  cancel(entry: TimerEntry | undefined): void {
    if (!entry || entry.index < 0) return;
    const i = entry.index;
    const last = this.#heap.pop()!;
    entry.index = -1;
    if (last !== entry) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    this.#arm();
  }

  /** Removes every entry and the clock timer. */
  clear(): void {
    for (const entry of this.#heap) entry.index = -1;
    this.#heap.length = 0;
    this.#arm();
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = undefined;
    const now = this.#clock.now();
    while (this.#heap.length > 0 && this.#heap[0].at <= now) {
      const entry = this.#heap[0];
      this.cancel(entry);
      try {
        entry.fn();
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#arm();
  };

  /** Keeps one clock timer, for the earliest entry. */
  #arm(): void {
    const first = this.#heap[0];
    if (first === this.#armedFor) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = first;
    if (first) {
      this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, first.at - this.#clock.now()));
    }
  }

  #less(a: TimerEntry, b: TimerEntry): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    [heap[i], heap[j]] = [heap[j], heap[i]];
    heap[i].index = i;
    heap[j].index = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(this.#heap[i], this.#heap[parent])) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < n && this.#less(this.#heap[left], this.#heap[best])) best = left;
      if (right < n && this.#less(this.#heap[right], this.#heap[best])) best = right;
      if (best === i) return;
      this.#swap(i, best);
      i = best;
    }
  }
}

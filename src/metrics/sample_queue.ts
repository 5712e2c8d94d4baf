/**
 * The remote-write queue: batches of samples (one batch per check run or per
 * interval of the agent's own series) waiting to be pushed, bounded by the
 * number of samples, with the event queue's overflow policies and an exact
 * drop count. A push takes batches from the front ({@link SampleQueue.begin})
 * and either removes them ({@link SampleQueue.commit}: accepted or rejected
 * for good) or leaves them for the next try ({@link SampleQueue.abort}).
 *
 * @module
 */

import type { OverflowPolicy } from "../queue.ts";
import type { Label } from "./registry.ts";

/** One sample: its series' sorted label set (shared between samples), value and time. */
export interface RemoteSample {
  labels: readonly Label[];
  value: number;
  /** Unix milliseconds: when the run that produced it ended. */
  timestampMs: number;
}

/**
 * A FIFO of sample batches holding at most `max` samples.
 *
 * @example
 * ```ts
 * import { SampleQueue } from "./sample_queue.ts";
 * const q = new SampleQueue(2, "drop-oldest");
 * const s = { labels: [["__name__", "x"]] as const, value: 1, timestampMs: 0 };
 * q.push([s, s]);
 * console.assert(q.push([s]) === 2 && q.size === 1 && q.dropped === 2);
 * ```
 */
export class SampleQueue {
  #batches: RemoteSample[][] = [];
  #head = 0;
  #size = 0;
  #dropped = 0;
  /** Batches at the front that a push is sending; never dropped while it does. */
  #inFlight = 0;
  readonly max: number;
  readonly policy: OverflowPolicy;

  constructor(max: number, policy: OverflowPolicy) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`queue size must be a whole number >= 1, got ${max}`);
    }
    this.max = max;
    this.policy = policy;
  }

  /** Samples queued (in flight included). */
  get size(): number {
    return this.#size;
  }

  /** Samples dropped since the queue was made (overflow and {@link drop}). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Adds a batch; returns how many samples this dropped. `drop-oldest` drops
   * whole batches from the front (never one in flight) until the new one
   * fits, and drops the new one when that is not enough; `drop-newest`
   * drops the new batch when it does not fit.
   */
  push(batch: RemoteSample[]): number {
    if (batch.length === 0) return 0;
    let dropped = 0;
    if (this.policy === "drop-oldest") {
      while (this.#size + batch.length > this.max && this.#count() > this.#inFlight) {
        const index = this.#head + this.#inFlight;
        const [old] = this.#batches.splice(index, 1);
        this.#size -= old.length;
        dropped += old.length;
      }
    }
    if (this.#size + batch.length > this.max) {
      dropped += batch.length;
    } else {
      this.#batches.push(batch);
      this.#size += batch.length;
    }
    this.#dropped += dropped;
    return dropped;
  }

  /**
   * Marks batches from the front as in flight, at least one and then as many
   * as fit in `limit` samples, and returns them (none when a push is already
   * in flight or the queue is empty).
   */
  begin(limit: number): RemoteSample[][] {
    if (this.#inFlight > 0) return [];
    let samples = 0;
    const end = this.#batches.length;
    let i = this.#head;
    while (i < end && (i === this.#head || samples + this.#batches[i].length <= limit)) {
      samples += this.#batches[i].length;
      i += 1;
    }
    this.#inFlight = i - this.#head;
    return this.#batches.slice(this.#head, i);
  }

  /** The batches in flight are done with (the receiver took them, or refused them for good). */
  commit(): void {
    for (let i = 0; i < this.#inFlight; i++) {
      this.#size -= this.#batches[this.#head].length;
      this.#head += 1;
    }
    this.#inFlight = 0;
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The push failed: the batches in flight stay at the front for the next try. */
  abort(): void {
    this.#inFlight = 0;
  }

  /** Counts `n` samples as dropped that left the queue without being delivered (a refused push). */
  drop(n: number): void {
    this.#dropped += n;
  }

  #count(): number {
    return this.#batches.length - this.#head;
  }
}

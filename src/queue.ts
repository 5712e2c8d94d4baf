/**
 * The bounded outgoing queue. Items stay in it until the transport confirms
 * them; a full queue drops by policy and reports exactly how many it dropped.
 *
 * @module
 */

export type OverflowPolicy = "drop-oldest" | "drop-newest";
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ["drop-oldest", "drop-newest"];

/** One queued event: its sequence number and its serialized JSON. */
export interface QueueItem {
  seq: number;
  data: string;
}

/**
 * A FIFO of at most `max` items ordered by `seq`. The transport takes items
 * with {@link unsent} (without removing them), marks them with
 * {@link markSent} once written to the socket, and removes them with
 * {@link confirmSent} once they are confirmed; when the connection is lost,
 * {@link resetSent} makes every queued item unsent again, so a failed send
 * loses nothing.
 *
 * @example
 * ```ts
 * import { EventQueue } from "./queue.ts";
 * const q = new EventQueue(2, "drop-oldest");
 * q.push({ seq: 1, data: "a" });
 * q.push({ seq: 2, data: "b" });
 * console.assert(q.push({ seq: 3, data: "c" }) === 1 && q.dropped === 1);
 * ```
 */
export class EventQueue {
  #items: QueueItem[] = [];
  #head = 0;
  #dropped = 0;
  /**
   * Items with seq ≤ this were sent on the current connection and await
   * confirmation (0 when nothing is in flight). `drop-oldest` never drops such
   * an item: the receiver may already hold it, and dropping it would count a
   * drop that the receiver never sees as a gap.
   */
  #sentThrough = 0;
  readonly max: number;
  readonly policy: OverflowPolicy;

  constructor(max: number, policy: OverflowPolicy) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`queue size must be a whole number >= 1, got ${max}`);
    }
    if (!OVERFLOW_POLICIES.includes(policy)) {
      throw new TypeError(
        `overflow policy must be one of ${OVERFLOW_POLICIES.join(", ")}, got ${policy}`,
      );
    }
    this.max = max;
    this.policy = policy;
  }

  /** Items in the queue. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Items dropped since the queue was made. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Adds an item; returns how many items this push dropped (0 or 1).
   * `drop-oldest` drops the oldest item not yet sent; when every queued item
   * is in flight it drops the new one instead.
   */
  push(item: QueueItem): number {
    if (this.size < this.max) {
      this.#items.push(item);
      return 0;
    }
    this.#dropped += 1;
    if (this.policy === "drop-newest") return 1;
    const oldestUnsent = this.#indexAfter(this.#sentThrough);
    if (oldestUnsent >= this.#items.length) return 1;
    if (oldestUnsent === this.#head) this.#head += 1;
    else this.#items.splice(oldestUnsent, 1);
    this.#items.push(item);
    this.#compact();
    return 1;
  }

  /** Items sent on the current connection and not yet confirmed. */
  get inFlight(): number {
    return this.countThrough(this.#sentThrough);
  }

  /** Up to `limit` items not sent yet, oldest first (nothing is removed). */
  unsent(limit: number): QueueItem[] {
    return this.after(this.#sentThrough, limit);
  }

  /** Marks every item with seq ≤ `seq` as sent: in flight, awaiting confirmation. */
  markSent(seq: number): void {
    this.#sentThrough = Math.max(this.#sentThrough, seq);
  }

  /** The connection is gone: every queued item counts as unsent again and is sent again. */
  resetSent(): void {
    this.#sentThrough = 0;
  }

  /**
   * Removes the sent items with seq ≤ `seq`; returns how many. Never beyond
   * what was marked sent: a confused receiver must not make the agent forget
   * events it never got.
   */
  confirmSent(seq: number): number {
    return this.removeThrough(Math.min(seq, this.#sentThrough));
  }

  /** Up to `limit` items whose seq is greater than `seq`, oldest first. */
  after(seq: number, limit: number): QueueItem[] {
    const start = this.#indexAfter(seq);
    return this.#items.slice(start, Math.min(this.#items.length, start + limit));
  }

  /** Index of the first item with seq > `seq` (binary search: items are in seq order). */
  #indexAfter(seq: number): number {
    let lo = this.#head;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#items[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** How many queued items have seq ≤ `seq` (sent but not yet confirmed, for the transport). */
  countThrough(seq: number): number {
    return this.#indexAfter(seq) - this.#head;
  }

  /** Removes every item with seq ≤ `seq`; returns how many were removed. */
  removeThrough(seq: number): number {
    const before = this.#head;
    while (this.#head < this.#items.length && this.#items[this.#head].seq <= seq) this.#head += 1;
    const removed = this.#head - before;
    this.#compact();
    return removed;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

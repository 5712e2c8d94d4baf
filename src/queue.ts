/**
 * The bounded outgoing queue. Items stay in it until the transport confirms
 * them; a full queue drops by policy and reports exactly how many it dropped;
 * with a spool every item is also on disk until it is confirmed or dropped.
 *
 * Items are ordered by a position (`pos`) the queue gives them, not by their
 * `seq`: after a restart the spool's events of an earlier run (with their own
 * `seq` from 1) go first, then the new run's. An acknowledgement names an
 * event by its run and seq (or id); {@link inFlightPos} turns that into a
 * position.
 *
 * @module
 */

import type { Spool, SpooledEvent } from "./spool/spool.ts";

export type OverflowPolicy = "drop-oldest" | "drop-newest";
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ["drop-oldest", "drop-newest"];

/** What is queued: an event's identity and its serialized JSON. */
export interface QueueInput {
  seq: number;
  run: string;
  id: string;
  data: string;
  /** Wall-clock ms of the event's creation; default now. */
  createdAt?: number;
}

/** One queued event. */
export interface QueueItem extends Required<QueueInput> {
  /** Its place in the queue's order, kept across restarts by the spool. */
  pos: number;
  /** Times it was written to a socket (a resend when above 0). */
  sends: number;
}

/** Options beyond the bound and the policy. */
export interface QueueOptions {
  /** Keeps every item on disk too (see src/spool/spool.ts). */
  spool?: Spool;
  /** Bound of the items' bytes (the spool's cap); default none. */
  maxBytes?: number;
  /** Items older than this (ms) are dropped instead of sent; 0 = never. */
  maxAgeMs?: number;
  /** Wall clock; default `Date.now`. */
  now?: () => number;
}

/** Counters for heartbeats and metrics. */
export interface QueueStats {
  size: number;
  inFlight: number;
  bytes: number;
  droppedOverflow: number;
  droppedAge: number;
}

/**
 * A FIFO of at most `max` items (and `maxBytes` bytes). The transport takes
 * items with {@link unsent} (without removing them), marks them with
 * {@link markSent} once written to the socket, and removes them with
 * {@link confirmSent} once they are confirmed; when the connection is lost,
 * {@link resetSent} makes every queued item unsent again, so a failed send
 * loses nothing.
 *
 * @example
 * ```ts
 * import { EventQueue } from "./queue.ts";
 * const q = new EventQueue(2, "drop-oldest");
 * const event = (seq: number) => ({ seq, run: "r", id: `e${seq}`, data: "{}" });
 * q.push(event(1));
 * q.push(event(2));
 * console.assert(q.push(event(3)) === 1 && q.dropped === 1);
 * ```
 */
export class EventQueue {
  #items: QueueItem[] = [];
  #head = 0;
  #nextPos = 1;
  #bytes = 0;
  #droppedOverflow = 0;
  #droppedAge = 0;
  /**
   * Items with pos ≤ this were sent on the current connection and await
   * confirmation (0 when nothing is in flight). `drop-oldest` never drops such
   * an item: the receiver may already hold it, and dropping it would count a
   * drop that the receiver never sees as a gap.
   */
  #sentThrough = 0;
  readonly max: number;
  readonly policy: OverflowPolicy;
  readonly #o: Required<Omit<QueueOptions, "spool">> & Pick<QueueOptions, "spool">;

  constructor(max: number, policy: OverflowPolicy, options: QueueOptions = {}) {
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
    this.#o = { maxBytes: Infinity, maxAgeMs: 0, now: Date.now, ...options };
  }

  /** Items in the queue. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Items dropped since the queue was made (overflow and age). */
  get dropped(): number {
    return this.#droppedOverflow + this.#droppedAge;
  }

  /** The counters of heartbeats and metrics. */
  stats(): QueueStats {
    return {
      size: this.size,
      inFlight: this.inFlight,
      bytes: this.#bytes,
      droppedOverflow: this.#droppedOverflow,
      droppedAge: this.#droppedAge,
    };
  }

  /**
   * Puts back what the spool kept from an earlier process, in order, before
   * anything new; past the bounds the overflow policy applies (counted).
   * Returns how many were dropped.
   */
  restore(events: SpooledEvent[]): number {
    let dropped = 0;
    for (const event of events) {
      const identity = identityOf(event.data);
      const item: QueueItem = {
        ...identity,
        data: event.data,
        createdAt: event.createdAt,
        pos: event.pos,
        // It may have reached the receiver before the restart: sending it is a resend.
        sends: 1,
      };
      this.#nextPos = Math.max(this.#nextPos, event.pos + 1);
      dropped += this.#add(item, false);
    }
    return dropped;
  }

  /**
   * Adds an item; returns how many items this push dropped. `drop-oldest`
   * drops the oldest items not yet sent (as many as make room); when every
   * queued item is in flight it drops the new one instead.
   */
  push(input: QueueInput): number {
    const item: QueueItem = { createdAt: this.#o.now(), ...input, pos: this.#nextPos++, sends: 0 };
    return this.#add(item, true);
  }

  #add(item: QueueItem, spool: boolean): number {
    const size = item.data.length;
    let dropped = 0;
    while (this.size >= this.max || (this.size > 0 && this.#bytes + size > this.#o.maxBytes)) {
      if (this.policy === "drop-newest" || !this.#dropOldestUnsent()) {
        this.#droppedOverflow += 1;
        if (!spool) this.#o.spool?.drop(item.pos); // it is on disk: resolve it there too
        return dropped + 1;
      }
      dropped += 1;
    }
    if (spool) {
      this.#o.spool?.append({ pos: item.pos, createdAt: item.createdAt, data: item.data });
    }
    this.#items.push(item);
    this.#bytes += size;
    this.#compact();
    return dropped;
  }

  /** Drops the oldest item not in flight; false when all are in flight. */
  #dropOldestUnsent(): boolean {
    const index = this.#indexAfter(this.#sentThrough);
    if (index >= this.#items.length) return false;
    this.#removeAt(index);
    this.#droppedOverflow += 1;
    return true;
  }

  #removeAt(index: number): void {
    const [item] = index === this.#head
      ? [this.#items[this.#head++]]
      : this.#items.splice(index, 1);
    this.#bytes -= item.data.length;
    this.#o.spool?.drop(item.pos);
  }

  /** Items sent on the current connection and not yet confirmed. */
  get inFlight(): number {
    return this.#indexAfter(this.#sentThrough) - this.#head;
  }

  /**
   * Up to `limit` items not sent yet, oldest first (nothing is removed).
   * Items older than the maximum age are dropped (counted) instead.
   */
  unsent(limit: number): QueueItem[] {
    this.#expire();
    const start = this.#indexAfter(this.#sentThrough);
    return this.#items.slice(start, Math.min(this.#items.length, start + limit));
  }

  /** Drops the unsent items past `QUEUE_MAX_AGE_SECONDS`; returns how many. */
  #expire(): number {
    if (this.#o.maxAgeMs <= 0) return 0;
    const oldest = this.#o.now() - this.#o.maxAgeMs;
    let expired = 0;
    for (let i = this.#indexAfter(this.#sentThrough); i < this.#items.length;) {
      if (this.#items[i].createdAt >= oldest) {
        i++;
        continue;
      }
      this.#removeAt(i);
      this.#droppedAge += 1;
      expired += 1;
      i = Math.max(i, this.#head);
    }
    this.#compact();
    return expired;
  }

  /** Drops what is past the maximum age now (also while nothing is sent); returns how many. */
  expire(): number {
    return this.#expire();
  }

  /** Marks every item with pos ≤ `pos` as sent: in flight, awaiting confirmation. */
  markSent(pos: number): void {
    this.#sentThrough = Math.max(this.#sentThrough, pos);
  }

  /** The connection is gone: every queued item counts as unsent again and is sent again. */
  resetSent(): void {
    this.#sentThrough = 0;
  }

  /**
   * The position through which an acknowledgement confirms the in-flight
   * items: by `id` exactly; else the latest sent item of `run` (an ack
   * without run: of the run of the latest sent item) whose seq is at most
   * the ack's — so a server may ack every frame or only now and then, as
   * acks are cumulative. Undefined when it names nothing in flight.
   */
  inFlightPos(ack: { id?: string; run?: string; seq?: number }): number | undefined {
    const end = this.#indexAfter(this.#sentThrough);
    if (end <= this.#head) return undefined;
    if (ack.id !== undefined) {
      for (let i = end - 1; i >= this.#head; i--) {
        if (this.#items[i].id === ack.id) return this.#items[i].pos;
      }
      return undefined;
    }
    if (ack.seq === undefined) return undefined;
    const run = ack.run ?? this.#items[end - 1].run;
    for (let i = end - 1; i >= this.#head; i--) {
      const item = this.#items[i];
      if (item.run === run && item.seq <= ack.seq) return item.pos;
    }
    return undefined;
  }

  /**
   * Removes the sent items with pos ≤ `pos`; returns how many. Never beyond
   * what was marked sent: a confused receiver must not make the agent forget
   * events it never got.
   */
  confirmSent(pos: number): number {
    const through = Math.min(pos, this.#sentThrough);
    const before = this.#head;
    while (this.#head < this.#items.length && this.#items[this.#head].pos <= through) {
      this.#bytes -= this.#items[this.#head].data.length;
      this.#head += 1;
    }
    const removed = this.#head - before;
    if (removed > 0) this.#o.spool?.confirm(this.#items[this.#head - 1].pos);
    this.#compact();
    return removed;
  }

  /** Every item still waiting, oldest first (to rewrite the spool or hand the queue over). */
  waiting(): SpooledEvent[] {
    return this.#items.slice(this.#head).map(({ pos, createdAt, data }) => ({
      pos,
      createdAt,
      data,
    }));
  }

  /** Index of the first item with pos > `pos` (binary search: items are in pos order). */
  #indexAfter(pos: number): number {
    let lo = this.#head;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#items[mid].pos <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** The run, seq and id of an event's JSON (what acks name it by). */
function identityOf(data: string): { seq: number; run: string; id: string } {
  try {
    const value = JSON.parse(data);
    return {
      seq: Number.isSafeInteger(value?.seq) ? value.seq : 0,
      run: typeof value?.run === "string" ? value.run : "",
      id: typeof value?.id === "string" ? value.id : "",
    };
  } catch {
    return { seq: 0, run: "", id: "" };
  }
}

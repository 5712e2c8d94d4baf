/**
 * Which events a WebSocket has written out, worked out from its
 * `bufferedAmount`, and whether that buffer still drains. A server that does
 * not acknowledge gives the agent nothing better to go by.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Follows one connection's byte stream: every sent event ends at an offset;
 * `bufferedAmount` (UTF-8 bytes not yet handed to the OS, counted as Deno
 * counts them) says how far the socket has got.
 *
 * @example
 * ```ts
 * import { WriteTracker } from "./write_tracker.ts";
 * const writes = new WriteTracker(0);
 * writes.sent(1, "abc");
 * writes.sent(2, "défg"); // 5 bytes in UTF-8
 * console.assert(writes.update(5, 10) === 1); // 3 of 8 bytes written: event 1 is out
 * console.assert(writes.update(0, 20) === 2 && writes.pending === 0);
 * ```
 */
export class WriteTracker {
  /** Offsets where the sent, not yet written events end, oldest first. */
  readonly #ends: Array<{ seq: number; end: number }> = [];
  #sentBytes = 0;
  #writtenBytes = 0;
  #lastDrainAt: number;

  /** @param nowMs the time sending starts, on the caller's clock. */
  constructor(nowMs: number) {
    this.#lastDrainAt = nowMs;
  }

  /** Events sent and not yet seen written. */
  get pending(): number {
    return this.#ends.length;
  }

  /** Records that event `seq` with this payload was passed to `socket.send()`. */
  sent(seq: number, data: string): void {
    this.#sentBytes += encoder.encode(data).byteLength;
    this.#ends.push({ seq, end: this.#sentBytes });
  }

  /**
   * Takes a reading of `bufferedAmount` at `nowMs`; returns the highest seq
   * written out completely since the last reading, or 0 when none.
   */
  update(bufferedAmount: number, nowMs: number): number {
    const written = this.#sentBytes - bufferedAmount;
    if (bufferedAmount === 0 || written > this.#writtenBytes) this.#lastDrainAt = nowMs;
    this.#writtenBytes = Math.max(this.#writtenBytes, written);
    let seq = 0;
    while (this.#ends.length > 0 && this.#ends[0].end <= this.#writtenBytes) {
      seq = this.#ends.shift()!.seq;
    }
    return seq;
  }

  /** How long the buffer has held bytes without any of them going out (0 while it drains or is empty). */
  stalledMs(bufferedAmount: number, nowMs: number): number {
    return bufferedAmount > 0 ? nowMs - this.#lastDrainAt : 0;
  }
}

/**
 * One connection's life in the transport: wait for the server's `hello`, send
 * queued events within the in-flight window, turn acks (or, without acks,
 * writes) into confirmations, notice a dead server, and close cleanly.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { parseServerMessage } from "./protocol.ts";
import type { EventQueue, QueueItem } from "./queue.ts";
import type { EarlyEvents } from "./transport_connect.ts";
import type { Waker } from "./waker.ts";
import { WriteTracker } from "./write_tracker.ts";

/** What the transport delivered, over every session. */
export interface DeliveryCounts {
  /** Removed from the queue, acknowledged by the server. */
  acked: number;
  /** Removed from the queue, only written to a server that does not acknowledge. */
  written: number;
  /** Events written to a socket, resends included. */
  sent: number;
  /** Of those, events sent again (sent on an earlier connection, not confirmed there). */
  resent: number;
  /** Wall-clock ms of the last event written, or undefined. */
  lastSentAt: number | undefined;
}

/** What a {@link Session} needs from its transport. */
export interface SessionOptions {
  /** An open socket; the session owns it from now on and closes it. */
  socket: WebSocket;
  /** What the socket received before the session took it over. */
  early: EarlyEvents;
  queue: EventQueue;
  clock: Clock;
  log: Logger;
  /** Woken by the transport for new events and for a stop; the session wakes it on progress. */
  waker: Waker;
  /** Aborted when the transport stops: the session ends and closes with 1000. */
  stop: AbortSignal;
  ackTimeoutMs: number;
  helloWaitMs: number;
  maxInFlight: number;
  maxBufferedBytes: number;
  /** Counts every confirmation of this session (owned by the transport, across sessions). */
  delivery: DeliveryCounts;
  /** Told the ack mode once it is known (after the hello wait, or at a late first hello). */
  onAckMode: (acks: boolean) => void;
}

/** Events sent in one go before the sender yields, so the socket can write them. */
const BATCH = 100;
/** How long to wait for the closing handshake before giving up on it. */
const CLOSE_WAIT_MS = 1_000;

/** One connection; {@link run} it once. */
export class Session {
  readonly #o: SessionOptions;
  #open = true;
  #acks = false;
  #helloSeen = false;
  #helloWaitOver = false;
  #repeatedHelloLogged = false;
  /** Whether any event was confirmed on this connection. */
  #delivered = false;
  /** Last time an event was acknowledged (or sending started with nothing in flight). */
  #lastProgressAt: number;
  /** What of this connection's stream the socket has written out. */
  readonly #writes: WriteTracker;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.#lastProgressAt = options.clock.now();
    this.#writes = new WriteTracker(options.clock.now());
  }

  /**
   * Sends while the socket lives; resolves once it is closed, telling whether
   * any event was confirmed on it. Unconfirmed events are left unsent in the
   * queue for the next connection.
   */
  async run(): Promise<boolean> {
    this.#listen();
    try {
      await this.#awaitHello();
      while (this.#live()) {
        this.#noteWrites();
        if (this.#stalled()) break;
        const batch = this.#nextBatch();
        if (batch.length === 0) {
          await this.#o.waker.wait(this.#idleWaitMs());
          continue;
        }
        if (!this.#send(batch)) break;
        await this.#yield();
      }
    } finally {
      this.#o.queue.resetSent();
      await this.#close();
    }
    return this.#delivered;
  }

  #live(): boolean {
    return this.#open && !this.#o.stop.aborted;
  }

  /** Takes the socket's events over, first those that came before the session. */
  #listen(): void {
    const { socket, log, waker, early } = this.#o;
    socket.onmessage = (e) => {
      if (typeof e.data === "string") this.#onMessage(e.data);
      waker.wake();
    };
    socket.onerror = (e) =>
      log.warn("monitoring connection error", { error: (e as ErrorEvent).message });
    socket.onclose = (e) => this.#onClose(e);
    early.messages.splice(0).forEach((m) => this.#onMessage(m));
    if (early.close) this.#onClose(early.close);
  }

  #onClose(e: { code: number; reason: string }): void {
    this.#open = false;
    if (!this.#o.stop.aborted) {
      this.#o.log.warn("monitoring connection closed", {
        code: e.code,
        reason: e.reason || undefined,
      });
    }
    this.#o.waker.wake();
  }

  /** The one place server messages are interpreted. */
  #onMessage(text: string): void {
    const message = parseServerMessage(text);
    if (message?.type === "hello") this.#onHello(message.acks);
    else if (message?.type === "ack") {
      const pos = this.#o.queue.inFlightPos(message);
      if (pos !== undefined) this.#confirm(pos, "acked");
    }
  }

  /**
   * Only the first hello of a connection counts. A later one must not switch
   * the ack mode mid-stream: from acks to none it would make the agent forget
   * events that were written but never acknowledged.
   */
  #onHello(acks: boolean): void {
    if (!this.#helloSeen) {
      this.#helloSeen = true;
      this.#acks = acks;
      if (this.#helloWaitOver) this.#o.onAckMode(acks); // late, but the first
      return;
    }
    if (this.#repeatedHelloLogged) return;
    this.#repeatedHelloLogged = true;
    this.#o.log.warn("monitoring server sent hello again; ignored for this connection", {
      acks: this.#acks,
      ignored_acks: acks,
    });
  }

  /** Removes confirmed events from the queue (never beyond what this connection sent). */
  #confirm(pos: number, how: "acked" | "written"): void {
    const removed = this.#o.queue.confirmSent(pos);
    if (removed === 0) return;
    this.#o.delivery[how] += removed;
    this.#delivered = true;
    this.#lastProgressAt = this.#o.clock.now();
    this.#o.waker.wake(); // flush() waits for the queue to shrink
  }

  /** A server that supports acks says so at once; give it a moment before sending. */
  async #awaitHello(): Promise<void> {
    const { clock, waker, helloWaitMs } = this.#o;
    const until = clock.now() + helloWaitMs;
    while (this.#live() && !this.#helloSeen && clock.now() < until) {
      await waker.wait(until - clock.now());
    }
    this.#helloWaitOver = true;
    this.#o.log.debug("monitoring session", { acks: this.#acks });
    this.#o.onAckMode(this.#acks);
  }

  /**
   * Follows what the socket wrote out. Without acks, an event is confirmed
   * once every byte of it left the socket's buffer: that is all such a server
   * lets the agent know, and the OS may still hold it unread.
   */
  #noteWrites(): void {
    const { socket, clock } = this.#o;
    const pos = this.#writes.update(socket.bufferedAmount, clock.now());
    if (pos > 0 && !this.#acks) this.#confirm(pos, "written");
  }

  /**
   * A dead server: with acks, events outstanding and none acknowledged for
   * the ack timeout; without, a send buffer that has not drained at all for
   * that long (the server stopped reading). Whatever was not confirmed stays
   * queued and goes out again on the next connection.
   */
  #stalled(): boolean {
    const { queue, clock, log, socket, ackTimeoutMs } = this.#o;
    if (!this.#acks) {
      const stalledMs = this.#writes.stalledMs(socket.bufferedAmount, clock.now());
      if (stalledMs <= ackTimeoutMs) return false;
      log.warn(
        "monitoring stopped reading (the socket's send buffer does not drain); reconnecting",
        {
          waited_ms: Math.round(stalledMs),
          buffered_bytes: socket.bufferedAmount,
          unwritten: queue.inFlight,
        },
      );
      return true;
    }
    const waitedMs = clock.now() - this.#lastProgressAt;
    if (queue.inFlight === 0 || waitedMs <= ackTimeoutMs) return false;
    log.warn("monitoring stopped confirming events; reconnecting", {
      waited_ms: Math.round(waitedMs),
      outstanding: queue.size,
    });
    return true;
  }

  /** What fits into the in-flight window and the socket's buffer cap. */
  #nextBatch(): QueueItem[] {
    const { queue, socket, maxBufferedBytes, maxInFlight } = this.#o;
    if (socket.bufferedAmount >= maxBufferedBytes) return [];
    const room = maxInFlight - queue.inFlight;
    return room > 0 ? queue.unsent(Math.min(BATCH, room)) : [];
  }

  /** Until an ack, new events, or (without acks) the buffer draining: polled, as no event tells. */
  #idleWaitMs(): number {
    const { socket, clock, queue } = this.#o;
    if (!this.#acks && socket.bufferedAmount > 0) {
      // Often while it drains; a buffer that stands still needs only an eye on the ack timeout.
      return this.#writes.stalledMs(socket.bufferedAmount, clock.now()) < 100 ? 5 : 100;
    }
    return queue.inFlight > 0 ? 250 : 1_000;
  }

  /** Writes a batch; false when the socket failed. */
  #send(batch: QueueItem[]): boolean {
    const { queue, socket, clock, log } = this.#o;
    if (queue.inFlight === 0) this.#lastProgressAt = clock.now();
    try {
      const { delivery } = this.#o;
      for (const item of batch) {
        socket.send(item.data);
        queue.markSent(item.pos);
        this.#writes.sent(item.pos, item.data);
        delivery.sent += 1;
        if (item.sends > 0) delivery.resent += 1;
        item.sends += 1;
      }
      delivery.lastSentAt = Date.now();
      return true;
    } catch (error) {
      log.warn("send failed; events stay queued", { error });
      return false;
    }
  }

  /** Nothing is written until this task gives the event loop a turn. */
  #yield(): Promise<void> {
    return new Promise((resolve) => this.#o.clock.setTimeout(resolve, 0));
  }

  /**
   * Closes with 1000 when the transport stops, else 4000 (reconnecting), and
   * waits (briefly) for the closing handshake. WebSocket.close() only queues
   * the close frame, and main.ts exits the process right after
   * Transport.close(): returning earlier loses the frame, and the server
   * sees an abnormal close instead of 1000.
   */
  async #close(): Promise<void> {
    const { socket, clock, stop } = this.#o;
    socket.onmessage = socket.onerror = null;
    if (socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => {
        const id = clock.setTimeout(resolve, CLOSE_WAIT_MS);
        socket.onclose = () => {
          clock.clearTimeout(id);
          resolve();
        };
      });
      if (socket.readyState === WebSocket.OPEN) {
        try {
          socket.close(
            stop.aborted ? 1000 : 4000,
            stop.aborted ? "agent stopping" : "reconnecting",
          );
        } catch { /* closing anyway */ }
      }
      await closed;
    }
    socket.onclose = null;
  }
}

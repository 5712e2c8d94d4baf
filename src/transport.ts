/**
 * Delivery over Deno's native WebSocket: one sender task drains the queue,
 * reconnects with capped exponential backoff, and removes an event from the
 * queue only once it is confirmed — acknowledged by a server that promised
 * acks, or else written out of the socket's buffer. Events are opaque JSON
 * here: the transport knows their sequence number and nothing else.
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { parseServerMessage } from "./protocol.ts";
import type { EventQueue } from "./queue.ts";

/** Opens a WebSocket; injectable so tests can count or refuse connections. */
export type SocketFactory = (url: string, headers: Record<string, string>) => WebSocket;

/** Options for {@link Transport}; defaults are documented on each field. */
export interface TransportOptions {
  url: URL;
  /** Sent as `Authorization: Bearer …` on the upgrade. */
  token?: string;
  queue: EventQueue;
  clock: Clock;
  /** A number in [0, 1); default `Math.random`. */
  random?: () => number;
  log: Logger;
  /** A connect attempt still pending after this is abandoned; default 10 s. */
  connectTimeoutMs?: number;
  /** Outstanding events without an ack (or a buffer that does not drain) for this long mean a dead server; default 15 s. */
  ackTimeoutMs?: number;
  /** How long to wait for the server's `hello` after the upgrade; default 1 s. */
  helloWaitMs?: number;
  /** Events sent but not yet confirmed, at most; default 1000. */
  maxInFlight?: number;
  /** Stop sending while the socket buffers more than this; default 1 MiB. */
  maxBufferedBytes?: number;
  /** Backoff bounds; default 1 s doubling to 30 s. */
  backoff?: { baseMs: number; maxMs: number };
  socketFactory?: SocketFactory;
}

/** Wakes a waiting task; a wait also ends at its timeout. */
class Waker {
  #wake: (() => void) | undefined;
  constructor(private readonly clock: Clock) {}
  wake(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const id = this.clock.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, Math.max(0, timeoutMs));
      this.#wake = () => {
        this.clock.clearTimeout(id);
        resolve();
      };
    });
  }
}

const defaultFactory: SocketFactory = (url, headers) =>
  // Deno's WebSocket takes headers as a second-argument option (not in the DOM type).
  new WebSocket(url, { headers } as unknown as string[]);

/**
 * The sender. Call {@link start} once, {@link notify} whenever an event was
 * queued, and {@link flush} then {@link close} to stop.
 */
export class Transport {
  readonly #o:
    & Required<Omit<TransportOptions, "token" | "backoff">>
    & Pick<TransportOptions, "token">;
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #waker: Waker;
  #closing = false;
  #socket: WebSocket | undefined;
  #connected = false;
  #loop: Promise<void> | undefined;
  #connections = 0;

  constructor(options: TransportOptions) {
    this.#o = {
      random: Math.random,
      connectTimeoutMs: 10_000,
      ackTimeoutMs: 15_000,
      helloWaitMs: 1_000,
      maxInFlight: 1_000,
      maxBufferedBytes: 1 << 20,
      socketFactory: defaultFactory,
      ...options,
    };
    this.#backoff = options.backoff ?? { baseMs: 1_000, maxMs: 30_000 };
    this.#waker = new Waker(options.clock);
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Successful connections so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Starts the sender task; it connects at once. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Tells the sender that events were queued. */
  notify(): void {
    this.#waker.wake();
  }

  /** Resolves true once the queue is empty, or false when `timeoutMs` passes first. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.#o.clock.now() + timeoutMs;
    // Polling is enough here: flushing happens once, at shutdown.
    while (this.#o.queue.size > 0) {
      const left = deadline - this.#o.clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, Math.min(left, 20)));
    }
    return true;
  }

  /** Stops the sender and closes the socket cleanly (code 1000). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#waker.wake();
    const socket = this.#socket;
    if (socket && socket.readyState <= WebSocket.OPEN) {
      try {
        socket.close(1000, "agent stopping");
      } catch { /* already failing */ }
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#closing) {
      const socket = await this.#connect();
      // Backoff starts over only after a session that delivered something, so a
      // server that accepts and drops every connection is not hammered.
      if (socket && await this.#session(socket)) attempt = 0;
      if (this.#closing) break;
      const delay = backoffDelay(attempt, this.#o.random, { ...this.#backoff });
      attempt += 1;
      this.#o.log.info("reconnecting to monitoring", { in_ms: delay, queued: this.#o.queue.size });
      await this.#waitUnlessClosing(delay);
    }
  }

  /** Sleeps, but returns early when the transport is closing. */
  async #waitUnlessClosing(ms: number): Promise<void> {
    const until = this.#o.clock.now() + ms;
    while (!this.#closing && this.#o.clock.now() < until) {
      await this.#waker.wait(until - this.#o.clock.now());
    }
  }

  /** One connect attempt bounded by the connect timeout; undefined on failure. */
  #connect(): Promise<WebSocket | undefined> {
    const { url, token, log, clock } = this.#o;
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    let socket: WebSocket;
    try {
      socket = this.#o.socketFactory(url.href, headers);
    } catch (error) {
      log.warn("cannot connect to monitoring", { url: url.href, error });
      return Promise.resolve(undefined);
    }
    this.#socket = socket;
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean, why?: string) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        socket.onopen = socket.onerror = socket.onclose = null;
        if (ok) {
          this.#connections += 1;
          log.info("connected to monitoring", { url: url.href, queued: this.#o.queue.size });
          resolve(socket);
          return;
        }
        if (!this.#closing) {
          log.warn("cannot connect to monitoring; events stay queued", {
            url: url.href,
            error: why,
          });
        }
        try {
          socket.close();
        } catch { /* the attempt is being abandoned anyway */ }
        resolve(undefined);
      };
      const timer = clock.setTimeout(
        () => finish(false, `no answer within ${this.#o.connectTimeoutMs} ms`),
        this.#o.connectTimeoutMs,
      );
      socket.onopen = () => finish(true);
      socket.onerror = (e) => finish(false, (e as ErrorEvent).message || "connection failed");
      socket.onclose = (e) => finish(false, `closed during the handshake (code ${e.code})`);
      // close() wakes this attempt too.
      if (this.#closing) finish(false, "agent stopping");
    });
  }

  /**
   * Sends while the socket lives; returns when it is gone or deemed dead,
   * telling whether any event was confirmed on it.
   */
  async #session(socket: WebSocket): Promise<boolean> {
    const { queue, log, clock } = this.#o;
    let open = true;
    let acks = false;
    let helloSeen = false;
    let sentSeq = 0; // highest seq written in this session
    let delivered = false;
    let lastProgressAt = clock.now();
    const confirmThrough = (seq: number) => {
      if (queue.removeThrough(seq) > 0) {
        delivered = true;
        lastProgressAt = clock.now();
      }
    };
    this.#connected = true;
    queue.sentThrough = 0;
    socket.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      const message = parseServerMessage(e.data);
      if (message?.type === "hello") {
        helloSeen = true;
        acks = message.acks;
      } else if (message?.type === "ack") {
        // Never beyond what this connection sent: a confused server must not make us forget events.
        confirmThrough(Math.min(message.seq, sentSeq));
      }
      this.#waker.wake();
    };
    socket.onerror = (e) =>
      log.warn("monitoring connection error", { error: (e as ErrorEvent).message });
    socket.onclose = (e) => {
      open = false;
      if (!this.#closing) {
        log.warn("monitoring connection closed", { code: e.code, reason: e.reason || undefined });
      }
      this.#waker.wake();
    };

    const helloUntil = clock.now() + this.#o.helloWaitMs;
    while (open && !helloSeen && !this.#closing && clock.now() < helloUntil) {
      await this.#waker.wait(helloUntil - clock.now());
    }
    log.debug("monitoring session", { acks });

    while (open && !this.#closing) {
      // Without acks, an event is confirmed once the socket has written it out.
      if (!acks && sentSeq > 0 && socket.bufferedAmount === 0) confirmThrough(sentSeq);
      const inFlight = queue.countThrough(sentSeq);
      if (inFlight > 0 && clock.now() - lastProgressAt > this.#o.ackTimeoutMs) {
        log.warn("monitoring stopped confirming events; reconnecting", {
          waited_ms: Math.round(clock.now() - lastProgressAt),
          outstanding: queue.size,
        });
        break;
      }
      const room = socket.bufferedAmount < this.#o.maxBufferedBytes
        ? this.#o.maxInFlight - inFlight
        : 0;
      const batch = room > 0 ? queue.after(sentSeq, Math.min(100, room)) : [];
      if (batch.length === 0) {
        // Wait for an ack, new events, or (without acks) the buffer to drain.
        await this.#waker.wait(!acks && socket.bufferedAmount > 0 ? 5 : inFlight > 0 ? 250 : 1_000);
        continue;
      }
      if (inFlight === 0) lastProgressAt = clock.now();
      try {
        for (const item of batch) {
          socket.send(item.data);
          sentSeq = item.seq;
        }
        queue.sentThrough = sentSeq;
      } catch (error) {
        log.warn("send failed; events stay queued", { error });
        break;
      }
      // Nothing is written until this task yields.
      await new Promise((r) => setTimeout(r, 0));
    }
    this.#connected = false;
    // Whatever was not confirmed is unsent again: it goes out again on the next connection.
    queue.sentThrough = 0;
    socket.onmessage = socket.onerror = null;
    // close() may have started the closing handshake already (CLOSING): wait for
    // its end too. WebSocket.close() only queues the close frame, and main.ts
    // exits the process right after Transport.close(): returning earlier loses
    // the frame and the server sees an abnormal close instead of 1000.
    if (socket.readyState !== WebSocket.CLOSED) {
      // Wait (briefly) for the closing handshake so the server sees a clean close.
      const closed = new Promise<void>((resolve) => {
        const id = clock.setTimeout(resolve, 1_000);
        socket.onclose = () => {
          clock.clearTimeout(id);
          resolve();
        };
      });
      if (socket.readyState === WebSocket.OPEN) {
        try {
          socket.close(
            this.#closing ? 1000 : 4000,
            this.#closing ? "agent stopping" : "reconnecting",
          );
        } catch { /* closing anyway */ }
      }
      await closed;
    }
    socket.onclose = null;
    return delivered;
  }
}

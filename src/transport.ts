/**
 * Delivery over Deno's native WebSocket: one sender task drains the queue,
 * reconnects with capped exponential backoff, and removes an event from the
 * queue only once it is confirmed — acknowledged by a server that promised
 * acks, or else written out of the socket's buffer. Events are opaque JSON
 * here: the transport knows their sequence number and nothing else.
 *
 * One connection's life is a {@link Session} (transport_session.ts); one
 * connect attempt is {@link connectOnce} (transport_connect.ts).
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { EventQueue } from "./queue.ts";
import {
  connectOnce,
  defaultSocketFactory,
  type EarlyEvents,
  type SocketFactory,
} from "./transport_connect.ts";
import { type DeliveryCounts, Session } from "./transport_session.ts";
import { Waker } from "./waker.ts";

export type { SocketFactory } from "./transport_connect.ts";
export type { DeliveryCounts } from "./transport_session.ts";

/** Options for {@link Transport}; defaults are documented on each field. */
export interface TransportOptions {
  url: URL;
  /** Sent as `Authorization: Bearer …` on the upgrade. */
  token?: string;
  queue: EventQueue;
  /** Every wait and timeout of the transport runs on this clock. */
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
  readonly #stop = new AbortController();
  #connected = false;
  #loop: Promise<void> | undefined;
  #connections = 0;
  /** Why the last attempt's upgrade was refused for authentication, if it was; said once per change. */
  #authRefusal: string | undefined;
  /** Whether the last server said it acknowledges; a server without acks is warned about once per change. */
  #lastAckMode: boolean | undefined;
  readonly #delivery: DeliveryCounts = { acked: 0, written: 0 };

  constructor(options: TransportOptions) {
    this.#o = {
      random: Math.random,
      connectTimeoutMs: 10_000,
      ackTimeoutMs: 15_000,
      helloWaitMs: 1_000,
      maxInFlight: 1_000,
      maxBufferedBytes: 1 << 20,
      socketFactory: defaultSocketFactory,
      ...options,
    };
    this.#backoff = options.backoff ?? { baseMs: 1_000, maxMs: 30_000 };
    this.#waker = new Waker(options.clock);
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Events that left the queue so far: `acked` were acknowledged by the
   * server, `written` only written to a server that does not acknowledge
   * (their delivery is unconfirmed).
   */
  get delivery(): DeliveryCounts {
    return { ...this.#delivery };
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
    const { clock, queue } = this.#o;
    const deadline = clock.now() + timeoutMs;
    // The session wakes the waker whenever it confirms events.
    while (queue.size > 0) {
      const left = deadline - clock.now();
      if (left <= 0) return false;
      await this.#waker.wait(left);
    }
    return true;
  }

  /** Stops the sender and closes the socket cleanly (code 1000), waiting for the closing handshake. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#waker.wake();
    await this.#loop;
  }

  get #stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stopping) {
      const opened = await this.#connect();
      // Backoff starts over only after a session that delivered something, so a
      // server that accepts and drops every connection is not hammered.
      if (opened && await this.#session(opened.socket, opened.early)) attempt = 0;
      if (this.#stopping) break;
      const delay = backoffDelay(attempt, this.#o.random, { ...this.#backoff });
      attempt += 1;
      this.#o.log.info("reconnecting to monitoring", { in_ms: delay, queued: this.#o.queue.size });
      await this.#waitUnlessStopping(delay);
    }
  }

  /** Sleeps, but returns early when the transport stops. */
  async #waitUnlessStopping(ms: number): Promise<void> {
    const { clock } = this.#o;
    const until = clock.now() + ms;
    while (!this.#stopping && clock.now() < until) {
      await this.#waker.wait(until - clock.now());
    }
  }

  /** One connect attempt, logged; undefined on failure. */
  async #connect(): Promise<{ socket: WebSocket; early: EarlyEvents } | undefined> {
    const { url, log, queue } = this.#o;
    const result = await connectOnce({
      url,
      token: this.#o.token,
      socketFactory: this.#o.socketFactory,
      clock: this.#o.clock,
      timeoutMs: this.#o.connectTimeoutMs,
      signal: this.#stop.signal,
    });
    const refusal = result.ok ? undefined : this.#refusalOf(result.status);
    const repeated = refusal !== undefined && refusal === this.#authRefusal;
    this.#authRefusal = refusal;
    if (result.ok) {
      this.#connections += 1;
      log.info("connected to monitoring", { url: url.href, queued: queue.size });
      return result;
    }
    if (this.#stopping) return undefined;
    const fields = { url: url.href, status: result.status, queued: queue.size };
    if (repeated) log.debug("monitoring still refuses the upgrade; retrying", fields);
    else if (refusal) log.warn(refusal, fields);
    else {
      log.warn("cannot connect to monitoring; events stay queued", {
        url: url.href,
        error: result.error,
      });
    }
    return undefined;
  }

  #onAckMode(acks: boolean): void {
    if (!acks && this.#lastAckMode !== false) {
      this.#o.log.warn(
        "the monitoring server does not acknowledge events (no hello with acks): delivery is unconfirmed; an event counts as delivered once written to the socket, and what the server did not read before it stopped is lost",
        { url: this.#o.url.href },
      );
    }
    this.#lastAckMode = acks;
  }

  /** The warning for an upgrade refused with 401 or 403, else undefined. */
  #refusalOf(status: number | undefined): string | undefined {
    if (status !== 401 && status !== 403) return undefined;
    return this.#o.token
      ? `the monitoring server refused MONITORING_TOKEN (HTTP ${status}); events stay queued, retrying with backoff`
      : `the monitoring server requires a token (HTTP ${status}) and MONITORING_TOKEN is not set; events stay queued, retrying with backoff`;
  }

  /** Runs one session on an open socket; true when it confirmed any event. */
  async #session(socket: WebSocket, early: EarlyEvents): Promise<boolean> {
    const o = this.#o;
    this.#connected = true;
    try {
      return await new Session({
        socket,
        early,
        queue: o.queue,
        clock: o.clock,
        log: o.log,
        waker: this.#waker,
        stop: this.#stop.signal,
        ackTimeoutMs: o.ackTimeoutMs,
        helloWaitMs: o.helloWaitMs,
        maxInFlight: o.maxInFlight,
        maxBufferedBytes: o.maxBufferedBytes,
        delivery: this.#delivery,
        onAckMode: (acks) => this.#onAckMode(acks),
      }).run();
    } finally {
      this.#connected = false;
    }
  }
}

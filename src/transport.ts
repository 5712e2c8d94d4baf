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

/** The first retry after a session ended. */
export const AFTER_SESSION_MS = 100;
/** Retries while the server's port refuses connections, early in an outage. */
export const FAST_RETRY_MS = 250;
/** How long into an outage the fast retries go on before the exponential backoff takes over. */
export const FAST_RETRY_WINDOW_MS = 60_000;

/** `ms` spread by ±20 %. */
function jittered(ms: number, random: () => number): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

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
  /**
   * The quick retries (see {@link Transport}'s `#run`): after a session ended
   * (default {@link AFTER_SESSION_MS}), and while the port refuses TCP
   * connections early in an outage (every {@link FAST_RETRY_MS} for the first
   * {@link FAST_RETRY_WINDOW_MS}; a window of 0 turns them off).
   */
  retry?: { afterSessionMs: number; fastMs: number; fastWindowMs: number };
  socketFactory?: SocketFactory;
}

/**
 * The sender. Call {@link start} once, {@link notify} whenever an event was
 * queued, and {@link flush} then {@link close} to stop.
 */
export class Transport {
  readonly #o:
    & Required<Omit<TransportOptions, "token" | "backoff" | "retry">>
    & Pick<TransportOptions, "token">;
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #retry: { afterSessionMs: number; fastMs: number; fastWindowMs: number };
  readonly #waker: Waker;
  readonly #stop = new AbortController();
  #connected = false;
  #loop: Promise<void> | undefined;
  #connections = 0;
  /** Why the last attempt's upgrade was refused for authentication, if it was; said once per change. */
  #authRefusal: string | undefined;
  /** Whether the last server said it acknowledges; a server without acks is warned about once per change. */
  #lastAckMode: boolean | undefined;
  readonly #delivery: DeliveryCounts = {
    acked: 0,
    written: 0,
    sent: 0,
    resent: 0,
    lastSentAt: undefined,
  };
  /** How the last connect attempt failed: at the TCP level (cheap to retry), or otherwise. */
  #lastFailure: "tcp" | "other" | undefined;

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
    this.#retry = options.retry ?? {
      afterSessionMs: AFTER_SESSION_MS,
      fastMs: FAST_RETRY_MS,
      fastWindowMs: FAST_RETRY_WINDOW_MS,
    };
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

  /**
   * Connects, runs sessions and reconnects. The delay before the next attempt:
   * a short one after a session ended (the server restarted, or the network
   * blinked), and — while the server's port refuses TCP connections (it is
   * restarting) — a quick, cheap retry every {@link FAST_RETRY_MS} for the
   * first {@link FAST_RETRY_WINDOW_MS} of the outage, so events flow again
   * within a fraction of a second of the server's return. Anything else (a
   * timeout, a refused upgrade, a server that stays down) backs off
   * exponentially up to the cap.
   */
  async #run(): Promise<void> {
    let attempt = 0;
    let outageSince: number | undefined;
    while (!this.#stopping) {
      const opened = await this.#connect();
      const { clock, random } = this.#o;
      let delay: number;
      if (opened) {
        // Backoff starts over only after a session that delivered something, so a
        // server that accepts and drops every connection is not hammered.
        const delivered = await this.#session(opened.socket, opened.early);
        outageSince = clock.now();
        if (delivered) attempt = 0;
        delay = delivered
          ? jittered(this.#retry.afterSessionMs, random)
          : backoffDelay(attempt++, random, { ...this.#backoff });
      } else {
        outageSince ??= clock.now();
        const fast = this.#lastFailure === "tcp" &&
          clock.now() - outageSince < this.#retry.fastWindowMs;
        delay = fast ? jittered(this.#retry.fastMs, random) : backoffDelay(attempt++, random, {
          ...this.#backoff,
        });
      }
      if (this.#stopping) break;
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
    this.#lastFailure = result.ok
      ? undefined
      : /tcp connect error|connection refused/i.test(result.error)
      ? "tcp"
      : "other";
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

/**
 * The one TCP connection of a run, owned by the check rather than the driver,
 * so that every phase can be stopped: the TCP connect, the server greeting,
 * TLS and login, each query, and the close. Whatever stops the run (the
 * check's signal, the connect timeout, bytes that are not MySQL) records one
 * verdict and destroys the sockets at once.
 *
 * A MySQL server speaks first. When nothing arrives within the connect
 * timeout, the link sends one short line (`QUIT\r\n`) and waits briefly: an
 * HTTP server (or SMTP, FTP, …) answers it and is named as `protocol`; a
 * silent peer stays a `timeout`. The line is only sent to a connection that
 * is given up anyway.
 *
 * @module
 */

import net from "node:net";
import type { MysqlFailure, Phase } from "./errors.ts";
import { type GreetingVerdict, inspectGreeting, previewBytes } from "./greeting.ts";

/** Sent to a peer that stays silent past the connect timeout, to learn what it is. */
export const PROBE_LINE = "QUIT\r\n";
/** How long to wait for an answer to {@link PROBE_LINE}. */
export const PROBE_WAIT_MS = 500;
/** How long a polite close (COM_QUIT, then the server hangs up) may take before the socket is destroyed. */
export const CLOSE_WAIT_MS = 1_000;

/** Settings the link needs from the check's configuration. */
export interface LinkOptions {
  host: string;
  port: number;
  target: string;
  connectTimeoutMs: number;
}

/** Anything with a `destroy()`: the driver's current stream (a TLS socket after STARTTLS). */
interface Destroyable {
  destroy(): void;
}

/** Thrown by {@link Link.guard} once the run was stopped; carries the verdict. */
export class LinkStopped extends Error {
  constructor(readonly failure: MysqlFailure) {
    super(failure.message);
    this.name = "LinkStopped";
  }
}

const GREETING_BYTES_KEPT = 64;

function noop() {}

/** One run's connection. Create, hand {@link socket} to the driver, {@link dispose} in `finally`. */
export class Link {
  /** The raw TCP socket; give it to mysql2 as `stream`. */
  readonly socket: net.Socket;
  /** Tells the scheduler each new phase, so a timeout at the deadline names it. */
  onPhase: (phase: Phase) => void = () => {};
  #phase: Phase = "connect";
  /** How far the run got; names the phase in messages. */
  get phase(): Phase {
    return this.#phase;
  }
  set phase(phase: Phase) {
    this.#phase = phase;
    this.onPhase(phase);
  }
  /** The query in flight, for messages and details. */
  query?: string;

  readonly #options: LinkOptions;
  readonly #signal: AbortSignal;
  readonly #stopped: Promise<never>;
  readonly #closed: Promise<void>;
  #rejectStopped: (error: LinkStopped) => void = noop;
  #failure?: MysqlFailure;
  #greeting: GreetingVerdict = "incomplete";
  #received = new Uint8Array(0);
  #probing = false;
  #connectTimer?: ReturnType<typeof setTimeout>;
  #probeTimer?: ReturnType<typeof setTimeout>;
  #driverStream?: () => Destroyable | undefined;
  #socketClosed = false;

  constructor(options: LinkOptions, signal: AbortSignal) {
    this.#options = options;
    this.#signal = signal;
    this.#stopped = new Promise<never>((_, reject) => {
      this.#rejectStopped = reject;
    });
    this.#stopped.catch(noop); // nobody may be racing it when it fires
    this.socket = net.connect({ host: options.host, port: options.port });
    this.socket.setNoDelay(true);
    this.#closed = new Promise<void>((resolve) => {
      this.socket.once("close", () => {
        this.#socketClosed = true;
        resolve();
      });
    });
    // The driver has its own listeners; these come first and keep errors from going unhandled.
    this.socket.on("error", noop);
    this.socket.on("data", this.#onData);
    this.socket.once("connect", () => {
      if (this.phase === "connect") this.phase = "greeting";
    });
    if (signal.aborted) {
      this.#onAbort();
    } else {
      signal.addEventListener("abort", this.#onAbort, { once: true });
      this.#connectTimer = setTimeout(this.#onConnectTimeout, options.connectTimeoutMs);
    }
  }

  /** The verdict, once the link stopped the run. */
  get failure(): MysqlFailure | undefined {
    return this.#failure;
  }

  /** True once the server sent a MySQL greeting (or error packet). */
  get greeted(): boolean {
    return this.#greeting === "mysql";
  }

  /** Races `work` against the link stopping; a stop rejects with {@link LinkStopped}. */
  guard<T>(work: Promise<T>): Promise<T> {
    work.catch(noop); // a late rejection after a stop is expected, not unhandled
    return Promise.race([work, this.#stopped]);
  }

  /**
   * Tells the link how to reach the driver's current socket, which is a TLS
   * socket on top of {@link socket} once mysql2 has switched to TLS; a stop
   * destroys both.
   */
  attachDriver(stream: () => Destroyable | undefined): void {
    this.#driverStream = stream;
  }

  /** Login done: the connect timeout no longer applies. */
  loggedIn(): void {
    clearTimeout(this.#connectTimer);
    this.phase = "query";
  }

  /** Stops the run with a verdict (the first one wins) and destroys the connection. */
  stop(failure: MysqlFailure): void {
    if (this.#failure) return;
    this.#failure = failure;
    this.#destroy();
    this.#rejectStopped(new LinkStopped(failure));
  }

  /**
   * Ends the run: stops timers, destroys what is still open and waits until
   * the socket is closed (at most {@link CLOSE_WAIT_MS}). Always call it.
   */
  async dispose(): Promise<void> {
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#destroy();
    if (this.#socketClosed) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Waits (at most {@link CLOSE_WAIT_MS}) for the server to hang up after COM_QUIT. */
  async closedByServer(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await this.guard(Promise.race([
      this.#closed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ])).finally(() => clearTimeout(timer));
  }

  #destroy(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#probeTimer);
    this.socket.off("data", this.#onData);
    try {
      this.#driverStream?.()?.destroy();
    } catch { /* already gone */ }
    this.socket.destroy();
  }

  #seconds(): string {
    return `${this.#options.connectTimeoutMs / 1000} s (MYSQL_CONNECT_TIMEOUT_SECONDS)`;
  }

  #onAbort = (): void => {
    const { target } = this.#options;
    const during: Record<Phase, string> = {
      connect: `while connecting to ${target}`,
      greeting: `waiting for the MySQL greeting from ${target}`,
      login: `during TLS / login at ${target}`,
      query: `during query ${this.query ?? ""} on ${target}`.replace("  ", " "),
      close: `while closing the connection to ${target}`,
    };
    this.stop({
      reason: "timeout",
      message: `timed out ${during[this.phase]}`,
      details: { phase: this.phase, ...(this.query ? { query: this.query } : {}) },
    });
  };

  #onConnectTimeout = (): void => {
    const { target } = this.#options;
    if (this.phase === "connect") {
      this.stop({
        reason: "timeout",
        message: `TCP connection to ${target} not established within ${this.#seconds()}`,
        details: { phase: "connect" },
      });
    } else if (this.phase === "greeting" && this.#received.length === 0) {
      // Given up as MySQL anyway: ask once what is listening.
      this.#probing = true;
      this.socket.write(PROBE_LINE, noop);
      this.#probeTimer = setTimeout(() => {
        this.stop({
          reason: "timeout",
          message:
            `${target} accepted the connection but sent no MySQL greeting within ${this.#seconds()}`,
          details: { phase: "greeting" },
        });
      }, PROBE_WAIT_MS);
    } else if (this.phase === "greeting") {
      this.#notMysql();
    } else {
      this.stop({
        reason: "timeout",
        message: `TLS / login at ${target} did not complete within ${this.#seconds()}`,
        details: { phase: this.phase },
      });
    }
  };

  #onData = (chunk: Uint8Array): void => {
    if (this.#received.length < GREETING_BYTES_KEPT) {
      const joined = new Uint8Array(this.#received.length + chunk.length);
      joined.set(this.#received);
      joined.set(chunk, this.#received.length);
      this.#received = joined.subarray(0, GREETING_BYTES_KEPT);
    }
    this.#greeting = inspectGreeting(this.#received);
    if (this.#greeting === "incomplete") return;
    this.socket.off("data", this.#onData);
    if (this.#greeting === "other") {
      this.#notMysql();
    } else if (this.#probing) {
      this.stop({
        reason: "timeout",
        message: `${this.#options.target} sent its MySQL greeting only after ${this.#seconds()}`,
        details: { phase: "greeting" },
      });
    } else {
      this.phase = "login";
    }
  };

  #notMysql(): void {
    const answer = previewBytes(this.#received);
    const how = this.#probing ? "stayed silent, then answered a probe line with" : "sent";
    this.stop({
      reason: "protocol",
      message: `${this.#options.target} is not a MySQL server: it ${how} "${answer}"`,
      details: { phase: "greeting", answer },
    });
  }
}

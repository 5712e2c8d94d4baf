/**
 * The one TCP connection of a run, owned by the check rather than the driver,
 * so that every phase can be stopped: the TCP connect, the server greeting
 * (`handshake`), TLS and login (`auth`), each query, and the close. Whatever
 * stops the run (the check's signal, the connect timeout, bytes that are not
 * MySQL) records one verdict and destroys the sockets at once.
 *
 * A MySQL server speaks first. When nothing arrives within the connect
 * timeout, the link sends one short line (`QUIT\r\n`) and waits briefly: an
 * HTTP server (or SMTP, FTP, …) answers it and is named as `protocol`; a
 * silent peer stays a `timeout`. The line is only sent to a connection that
 * is given up anyway.
 *
 * @module
 */

import type net from "node:net";
import { Failure } from "../../src/check.ts";
import { previewBytes } from "../common/bytes.ts";
import { abortError } from "../common/deadline.ts";
import { connectFailure } from "../common/dial.ts";
import { dialNode } from "../common/dial_node.ts";
import type { MysqlPhase } from "./errors.ts";
import { GreetingBytes } from "./greeting.ts";

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

function noop() {}

/**
 * One run's connection. Create, {@link connect}, hand the socket to the
 * driver, {@link dispose} in `finally`.
 */
export class Link {
  /** Tells the scheduler each new phase, so a timeout at the deadline names it. */
  onPhase: (phase: MysqlPhase) => void = () => {};
  #phase: MysqlPhase = "connect";
  /** How far the run got; names the phase in messages. */
  get phase(): MysqlPhase {
    return this.#phase;
  }
  set phase(phase: MysqlPhase) {
    this.#phase = phase;
    this.onPhase(phase);
  }
  /** The query in flight, for messages and details. */
  query?: string;

  readonly #options: LinkOptions;
  readonly #signal: AbortSignal;
  /** Aborted when the link stops: ends a connect still under way. */
  readonly #dialing = new AbortController();
  readonly #stopped: Promise<never>;
  #rejectStopped: (error: Failure) => void = noop;
  #socket?: net.Socket;
  #closed: Promise<void> = Promise.resolve();
  #socketClosed = true;
  #failure?: Failure;
  readonly #greeting = new GreetingBytes();
  #probing = false;
  #connectTimer?: ReturnType<typeof setTimeout>;
  #probeTimer?: ReturnType<typeof setTimeout>;
  #driverStream?: () => Destroyable | undefined;

  constructor(options: LinkOptions, signal: AbortSignal) {
    this.#options = options;
    this.#signal = signal;
    this.#stopped = new Promise<never>((_, reject) => {
      this.#rejectStopped = reject;
    });
    this.#stopped.catch(noop); // nobody may be racing it when it fires
    if (signal.aborted) {
      this.#onAbort();
    } else {
      signal.addEventListener("abort", this.#onAbort, { once: true });
      this.#connectTimer = setTimeout(this.#onConnectTimeout, options.connectTimeoutMs);
    }
  }

  /** The verdict, once the link stopped the run. */
  get failure(): Failure | undefined {
    return this.#failure;
  }

  /** True once the server sent a MySQL greeting (or error packet). */
  get greeted(): boolean {
    return this.#greeting.verdict === "mysql";
  }

  /**
   * Opens the TCP connection (the shared connect phase: refused, dns,
   * permission are named by `dialNode`) and resolves with the socket to give
   * mysql2 as `stream`. The link watches the first bytes on it from now on.
   */
  async connect(): Promise<net.Socket> {
    const { host, port, target } = this.#options;
    const socket = await this.guard(
      dialNode({ host, port, address: target, signal: this.#dialing.signal }),
    );
    if (this.#failure) { // stopped while the connect completed
      socket.destroy();
      throw this.#failure;
    }
    this.#socket = socket;
    this.#socketClosed = socket.closed;
    this.#closed = new Promise<void>((resolve) => {
      socket.once("close", () => {
        this.#socketClosed = true;
        resolve();
      });
    });
    // Paused until now, so no byte was missed; the driver adds its own listener next.
    socket.on("data", this.#onData);
    this.phase = "handshake";
    return socket;
  }

  /** Races `work` against the link stopping; a stop rejects with the link's {@link Failure}. */
  guard<T>(work: Promise<T>): Promise<T> {
    work.catch(noop); // a late rejection after a stop is expected, not unhandled
    return Promise.race([work, this.#stopped]);
  }

  /**
   * Tells the link how to reach the driver's current socket, which is a TLS
   * socket on top of the TCP one once mysql2 has switched to TLS; a stop
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
  stop(failure: Failure): void {
    if (this.#failure) return;
    this.#failure = failure;
    this.#rejectStopped(failure); // before the destroy, whose errors would race it
    this.#destroy();
  }

  /**
   * Ends the run: stops timers, destroys what is still open and waits until
   * the socket is closed (at most {@link CLOSE_WAIT_MS}). Always call it.
   */
  async dispose(): Promise<void> {
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#destroy();
    if (this.#socketClosed) return;
    await this.#closedWithin(CLOSE_WAIT_MS);
  }

  /** Waits (at most {@link CLOSE_WAIT_MS}) for the server to hang up after COM_QUIT. */
  async closedByServer(): Promise<void> {
    await this.guard(this.#closedWithin(CLOSE_WAIT_MS));
  }

  async #closedWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  #destroy(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#probeTimer);
    this.#dialing.abort();
    this.#socket?.off("data", this.#onData);
    try {
      this.#driverStream?.()?.destroy();
    } catch { /* already gone */ }
    this.#socket?.destroy();
  }

  #seconds(): string {
    return `${this.#options.connectTimeoutMs / 1000} s (MYSQL_CONNECT_TIMEOUT_SECONDS)`;
  }

  #onAbort = (): void => {
    const { target } = this.#options;
    if (this.phase === "connect") {
      this.stop(connectFailure(abortError(), target, this.#signal));
      return;
    }
    const during: Record<Exclude<MysqlPhase, "connect">, string> = {
      handshake: `waiting for the MySQL greeting from ${target}`,
      auth: `during TLS / login at ${target}`,
      query: `during query ${this.query ?? ""} on ${target}`.replace("  ", " "),
      close: `while closing the connection to ${target}`,
    };
    this.stop(
      new Failure("timeout", `timed out ${during[this.phase]}`, {
        phase: this.phase,
        ...(this.query ? { query: this.query } : {}),
      }),
    );
  };

  #onConnectTimeout = (): void => {
    const { target } = this.#options;
    if (this.phase === "connect") {
      this.stop(
        new Failure(
          "timeout",
          `TCP connection to ${target} not established within ${this.#seconds()}`,
          { phase: "connect" },
        ),
      );
    } else if (this.phase === "handshake" && this.#greeting.empty) {
      // Given up as MySQL anyway: ask once what is listening.
      this.#probing = true;
      this.#socket?.write(PROBE_LINE, noop);
      this.#probeTimer = setTimeout(() => {
        this.stop(
          new Failure(
            "timeout",
            `${target} accepted the connection but sent no MySQL greeting within ${this.#seconds()}`,
            { phase: "handshake" },
          ),
        );
      }, PROBE_WAIT_MS);
    } else if (this.phase === "handshake") {
      this.#notMysql();
    } else {
      this.stop(
        new Failure(
          "timeout",
          `TLS / login at ${target} did not complete within ${this.#seconds()}`,
          { phase: this.phase },
        ),
      );
    }
  };

  #onData = (chunk: Uint8Array): void => {
    const verdict = this.#greeting.add(chunk);
    if (verdict === "incomplete") return;
    this.#socket?.off("data", this.#onData);
    if (verdict === "other") {
      this.#notMysql();
    } else if (this.#probing) {
      this.stop(
        new Failure(
          "timeout",
          `${this.#options.target} sent its MySQL greeting only after ${this.#seconds()}`,
          { phase: "handshake" },
        ),
      );
    } else {
      this.phase = "auth";
    }
  };

  #notMysql(): void {
    const answer = previewBytes(this.#greeting.bytes);
    const how = this.#probing ? "stayed silent, then answered a probe line with" : "sent";
    this.stop(
      new Failure(
        "protocol",
        `${this.#options.target} is not a MySQL server: it ${how} ${answer}`,
        { phase: "handshake", answer },
      ),
    );
  }
}

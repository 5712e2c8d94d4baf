/**
 * The connection of one run: TCP connect ({@link dialNode}), the TLS request
 * and handshake ({@link upgradeTls}), and the {@link StartupRelay} the driver
 * talks through. The session opens every socket itself and tracks it until
 * it has closed, so the run can destroy all of them when it ends, whatever
 * phase it stopped in, and tell TLS failures and peers that are not
 * PostgreSQL apart from other errors. The driver's own connect code, SSL
 * code and environment defaults stay out of the way.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type net from "node:net";
import type { Duplex } from "node:stream";
import { Failure } from "../../src/check.ts";
import { describeBytes } from "../common/bytes.ts";
import { abortError, untilAborted } from "../common/deadline.ts";
import { dialNode } from "../common/dial_node.ts";
import { TlsFailure, upgradeTls } from "../common/tls.ts";
import type { PostgresConfig } from "./config.ts";
import type { PostgresPhase, RunState } from "./errors.ts";
import type { TlsFacts } from "./metrics.ts";
import { StartupRelay } from "./relay.ts";

/** The SSLRequest message: length 8, code 80877103. */
const SSL_REQUEST = new Uint8Array([0, 0, 0, 8, 4, 210, 22, 47]);
const TLS_YES = 0x53; // S
const TLS_NO = 0x4e; // N

/** How long {@link Session.allClosed} waits at most: a destroyed socket closes within milliseconds. */
const CLOSE_WAIT_MS = 2000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first chunk the peer sends, or a rejection when it closes or fails first. */
function firstChunk(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = () => {
      socket.removeListener("data", onData);
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
    };
    const onData = (chunk: Buffer) => (done(), resolve(chunk));
    const onError = (error: Error) => (done(), reject(error));
    const onClose = () => (done(), reject(new Error("closed")));
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

/** See the module doc. One session per run. */
export class Session implements RunState {
  #phase: PostgresPhase = "connect";
  /** Set by the run: tells the scheduler the phase, so a timeout at the deadline names it. */
  onPhase: (phase: PostgresPhase) => void = () => {};
  /** Whether the session is encrypted, once the TLS step is done. */
  tls: TlsFacts = { tls: false };
  #opened = false;
  #relay: StartupRelay | undefined;
  readonly #streams: { stream: Duplex; closed: Promise<void> }[] = [];

  constructor(private readonly config: PostgresConfig, private readonly signal: AbortSignal) {}

  get phase(): PostgresPhase {
    return this.#phase;
  }
  set phase(phase: PostgresPhase) {
    this.#phase = phase;
    this.onPhase(phase);
  }

  /** A failure the relay decided about the peer; it wins over the driver's error. */
  get failure(): Failure | undefined {
    return this.#relay?.failure;
  }

  /** `promise`, or an `AbortError` as soon as the signal fires. */
  bounded<T>(promise: Promise<T>): Promise<T> {
    return untilAborted(promise, this.signal);
  }

  #track<T extends Duplex>(stream: T): T {
    const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
    this.#streams.push({ stream, closed });
    if (this.signal.aborted) stream.destroy(abortError()); // it opened just as the signal fired
    return stream;
  }

  /**
   * The socket factory postgres.js calls: TCP connect, TLS, then the relay.
   * Called once per run; a second call (the driver reconnecting) is refused,
   * because a check makes exactly one attempt.
   */
  async open(): Promise<Duplex> {
    if (this.#opened) throw new Failure("internal", "the driver tried to reconnect");
    this.#opened = true;
    const { host, port, address, sslMode } = this.config;
    const raw = this.#track(await dialNode({ host, port, address, signal: this.signal }));
    const socket = sslMode === "disable" ? raw : await this.#negotiateTls(raw);
    if (this.signal.aborted) throw abortError();
    this.phase = "handshake";
    const relay = this.#track(
      new StartupRelay(socket, address, (stage) => {
        this.phase = stage === "ready" ? "query" : "auth";
      }),
    );
    this.#relay = relay;
    return relay;
  }

  /** SSLRequest, then TLS or (for `prefer`) plain text, as libpq does. */
  async #negotiateTls(raw: net.Socket): Promise<net.Socket> {
    const { address, sslMode: mode } = this.config;
    this.phase = "tls";
    raw.write(SSL_REQUEST);
    const answer = await this.bounded(firstChunk(raw)).catch((error) => {
      if (this.signal.aborted) throw abortError();
      throw new Failure(
        "protocol",
        `${address} closed the connection when asked for TLS; is it a PostgreSQL server? (${
          errorText(error)
        })`,
        { phase: "tls" },
      );
    });
    // A PostgreSQL server answers one byte and waits; anything longer is some
    // other protocol talking first (an SSH banner starts with "S" too).
    if (answer.length !== 1 || (answer[0] !== TLS_YES && answer[0] !== TLS_NO)) {
      throw new Failure(
        "protocol",
        `${address} is not a PostgreSQL server: unexpected answer to the TLS request (${
          describeBytes(answer)
        })`,
        { phase: "tls" },
      );
    }
    if (answer[0] === TLS_NO) {
      if (mode === "prefer") return raw;
      throw new Failure(
        "tls",
        `${address} does not accept TLS connections (POSTGRES_SSLMODE=${mode})`,
        { phase: "tls" },
      );
    }
    const verify = mode === "verify-full";
    const ca = verify ? await this.#rootCert() : undefined;
    try {
      const secure = this.#track(
        await upgradeTls(raw, { host: this.config.host, address, verify, ca, signal: this.signal }),
      );
      this.tls = { tls: true, protocol: secure.getProtocol() ?? undefined };
      return secure;
    } catch (error) {
      throw error instanceof TlsFailure ? this.#reword(error) : error;
    }
  }

  /** The TLS helper's verdict, in the words of the PostgreSQL TLS request ("S" = yes). */
  #reword(failure: TlsFailure): Failure {
    const { address, sslMode } = this.config;
    switch (failure.kind) {
      case "not_tls":
        return new Failure(
          "protocol",
          `${address} is not a PostgreSQL server: it agreed to TLS ("S"), then sent bytes that are not TLS (${failure.underlying})`,
          failure.details,
        );
      case "closed":
        return new Failure(
          "protocol",
          `${address} did not start TLS after agreeing to ("S"): it closed the connection before any TLS record; is it a PostgreSQL server?`,
          failure.details,
        );
      case "handshake":
        return new Failure(
          "tls",
          `TLS handshake with ${address} failed (POSTGRES_SSLMODE=${sslMode}): ${failure.underlying}`,
          failure.details,
        );
      case "timeout":
        return failure;
    }
  }

  /** The PEM of POSTGRES_SSLROOTCERT, or undefined for the system store. */
  async #rootCert(): Promise<string | undefined> {
    const path = this.config.sslRootCert;
    if (path === undefined) return undefined;
    try {
      return await this.bounded(Deno.readTextFile(path));
    } catch (error) {
      if (this.signal.aborted) throw abortError();
      const reason = error instanceof Deno.errors.NotCapable ? "permission" : "config";
      throw new Failure(reason, `cannot read POSTGRES_SSLROOTCERT ${path}: ${errorText(error)}`, {
        phase: "tls",
      });
    }
  }

  /**
   * Destroys every socket at once; the run calls it when it ends, also right
   * after an abort (every wait of the run is bounded by the signal). With an
   * error, so that postgres.js fails a pending query instead of reconnecting.
   */
  destroyAll(): void {
    for (const { stream } of this.#streams) {
      if (!stream.destroyed) stream.destroy(abortError());
    }
  }

  /** Waits until every socket opened in this run has closed (at most {@link CLOSE_WAIT_MS}). */
  async allClosed(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.#streams.map((s) => s.closed)),
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_WAIT_MS)),
    ]);
    clearTimeout(timer);
  }
}

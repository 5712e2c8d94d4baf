/**
 * PostgreSQL check: connects, runs `SELECT 1`, collects the health metrics an
 * operator looks at first (connections, database size, uptime, recovery and
 * replay lag, commits/rollbacks/deadlocks) and closes. One connection, one
 * attempt per run; the run's signal bounds every phase.
 *
 * Client: `npm:postgres` (postgres.js). `npm:pg` with its defaults waits
 * forever on a server that accepts and never answers (connect timeout 0) and
 * takes the whole process down when a backend is terminated and no `error`
 * listener is attached; postgres.js has neither trap, has bundled types and
 * gives the SQLSTATE of every server error.
 *
 * The module opens the TCP connection and does the TLS negotiation itself and
 * hands the ready socket to postgres.js (its `socket` option). That way it
 * owns every socket it opened and can destroy it the moment the signal fires
 * in any phase; it can tell TLS failures and non-PostgreSQL servers apart
 * from other errors; and the driver's own connect timer, SSL code and
 * environment defaults stay out of the way.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import postgresJs from "postgres";
import type {
  CheckModule,
  CheckResult,
  Details,
  InstanceSpec,
  OptionSpec,
  RunContext,
} from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import {
  ConfigValueError,
  hostOf,
  hostPort,
  integer,
  oneOf,
  optional,
  port,
  required,
} from "../../src/config_values.ts";
import { classifyNetworkError } from "../common/net_errors.ts";

/** How TLS is negotiated, as libpq's `sslmode` (without `allow` and `verify-ca`). */
export type SslMode = "disable" | "prefer" | "require" | "verify-full";

/** Every accepted `POSTGRES_SSLMODE`. */
export const SSL_MODES: readonly SslMode[] = ["disable", "prefer", "require", "verify-full"];

/** One PostgreSQL target. */
export interface PostgresConfig {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  user: string;
  /** Absent: no password is sent (trust or peer-less setups). */
  password?: string;
  database: string;
  sslMode: SslMode;
  /** PEM file with the CA certificates `verify-full` trusts instead of the system store. */
  sslRootCert?: string;
  /** `status: "warn"` from this share (percent) of `max_connections` in use. */
  warnConnectionsPct: number;
  /** `host:port` exactly as dialled (IPv6 in brackets): the `--allow-net` entry. */
  address: string;
  /** `host:port/database`, as written in events. */
  target: string;
}

/** Variables the module reads. */
const OPTIONS: readonly OptionSpec[] = [
  { name: "host", kind: "string", doc: "host name or IP address; IPv6 as `::1` or `[::1]`" },
  { name: "port", kind: "integer", default: "5432", doc: "TCP port" },
  {
    name: "user",
    kind: "string",
    doc:
      "the role the check logs in as (required, so the driver never falls back to the OS user name)",
  },
  {
    name: "password",
    kind: "string",
    secret: true,
    default: "none sent",
    doc: "redacted from every log line and event",
  },
  {
    name: "db",
    kind: "string",
    default: "postgres",
    doc: "database to connect to; its size and transaction counters are reported",
  },
  {
    name: "sslmode",
    kind: "string",
    default: "prefer",
    doc: "`disable`, `prefer`, `require` or `verify-full`",
  },
  {
    name: "sslrootcert",
    kind: "path",
    default: "system store",
    doc: "PEM file with the CA certificate(s) that `verify-full` trusts; only with `verify-full`",
  },
  {
    name: "warn_connections_pct",
    kind: "integer",
    default: "90",
    doc:
      '`status: "warn"` when the client connections reach this percentage (1–100) of `max_connections`',
  },
];

const DEFAULT_PORT = 5432;
const DEFAULT_DATABASE = "postgres";
const DEFAULT_SSL_MODE: SslMode = "prefer";
const DEFAULT_WARN_PCT = 90;

/**
 * Server-side limit for the check's own statements, sent as a startup
 * parameter: if the client gives up (timeout) while a statement waits, e.g.
 * on a lock, the server still ends it instead of holding a backend slot
 * (PostgreSQL notices a closed client only when it next reads or writes).
 */
const STATEMENT_TIMEOUT_MS = 15_000;

/**
 * postgres.js's connect timer, in seconds. The run's signal normally ends a
 * hanging connect long before; this is only a backstop.
 */
const DRIVER_CONNECT_TIMEOUT_S = 60;

/** Shown in `pg_stat_activity.application_name` for the check's session. */
export const APPLICATION_NAME = "kozak-agent";

function parse(env: (name: string) => string | undefined): InstanceSpec<PostgresConfig>[] {
  const rawHost = optional(env, "POSTGRES_HOST");
  const fallbackTarget = rawHost
    ? `${rawHost}:${optional(env, "POSTGRES_PORT") ?? DEFAULT_PORT}/${
      optional(env, "POSTGRES_DB") ?? DEFAULT_DATABASE
    }`
    : "postgres";
  try {
    const host = hostOf(
      env,
      "POSTGRES_HOST",
      "is required (the server's host name or IP address)",
      "POSTGRES_PORT",
    );
    const portNumber = port(env, "POSTGRES_PORT", DEFAULT_PORT);
    const user = required(env, "POSTGRES_USER", "is required (the role the check logs in as)");
    // A password is taken as written: surrounding spaces may be part of it.
    const rawPassword = env("POSTGRES_PASSWORD");
    const password = rawPassword === undefined || rawPassword === "" ? undefined : rawPassword;
    const database = optional(env, "POSTGRES_DB") ?? DEFAULT_DATABASE;
    const sslMode = oneOf(env, "POSTGRES_SSLMODE", SSL_MODES, DEFAULT_SSL_MODE);
    const sslRootCert = optional(env, "POSTGRES_SSLROOTCERT");
    if (sslRootCert !== undefined && sslMode !== "verify-full") {
      throw new ConfigValueError(
        "POSTGRES_SSLROOTCERT",
        `is only used with POSTGRES_SSLMODE=verify-full (it is ${sslMode}); set both or neither`,
      );
    }
    const warnConnectionsPct = integer(
      env,
      "POSTGRES_WARN_CONNECTIONS_PCT",
      DEFAULT_WARN_PCT,
      1,
      100,
    );
    const address = hostPort(host, portNumber);
    const target = `${address}/${database}`;
    const config: PostgresConfig = {
      host,
      port: portNumber,
      user,
      database,
      sslMode,
      warnConnectionsPct,
      address,
      target,
    };
    if (password !== undefined) config.password = password;
    if (sslRootCert !== undefined) config.sslRootCert = sslRootCert;
    return [{ name: target, targets: [target], ok: true, config }];
  } catch (error) {
    return [{
      name: fallbackTarget,
      targets: [fallbackTarget],
      ok: false,
      error: error instanceof ConfigValueError
        ? error.message
        : `POSTGRES: ${(error as Error).message}`,
    }];
  }
}

// ---------------------------------------------------------------------------
// Running

/** Where a run is; named in timeout messages and used to classify errors. */
type Phase = "connect" | "tls" | "startup" | "query" | "close";

/** A failure the module decided itself (before or beside the driver). */
class CheckFailure extends Error {
  constructor(
    readonly reason: CheckResult["reason"] & string,
    message: string,
    readonly details: Details = {},
  ) {
    super(message);
    this.name = "CheckFailure";
  }
}

/** The SSLRequest message: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

/** Message types a server may send first in answer to a StartupMessage. */
const FIRST_MESSAGE_TYPES = new Set([
  0x52, // R Authentication*
  0x45, // E ErrorResponse
  0x76, // v NegotiateProtocolVersion
]);

/** Authentication request codes postgres.js answers: ok, cleartext, MD5, SASL (start, continue, final). */
const SUPPORTED_AUTH = new Set([0, 3, 5, 10, 11, 12]);

/**
 * The sockets of one run. Every socket it opens is tracked until it has
 * closed, so that `close()` can destroy and await all of them whatever
 * phase the run stopped in.
 */
class Session {
  #phase: Phase = "connect";
  /** Set by the run: tells the scheduler the phase, so a timeout at the deadline names it. */
  onPhase: (phase: Phase) => void = () => {};
  get phase(): Phase {
    return this.#phase;
  }
  set phase(phase: Phase) {
    this.#phase = phase;
    this.onPhase(phase);
  }
  /** A failure detected beside the driver; wins over whatever the driver reports. */
  failure: CheckFailure | undefined;
  tls = false;
  tlsProtocol: string | undefined;
  private opened = false;
  private readonly sockets: { socket: net.Socket; closed: Promise<void> }[] = [];
  private readonly abortListeners = new Set<() => void>();

  constructor(private readonly config: PostgresConfig, private readonly signal: AbortSignal) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  private onAbort = () => {
    this.destroyAll();
    for (const listener of this.abortListeners) listener();
  };

  /** Resolves with `promise`, or rejects as soon as the signal fires. */
  bounded<T>(promise: Promise<T>): Promise<T> {
    // Whatever the race's outcome, the loser must not become an unhandled rejection.
    promise.catch(() => {});
    if (this.signal.aborted) return Promise.reject(abortError());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError());
      this.abortListeners.add(onAbort);
      promise.then(resolve, reject).finally(() => this.abortListeners.delete(onAbort));
    });
  }

  private track(socket: net.Socket): void {
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // Until postgres.js takes a socket over, nobody else listens for its errors;
    // an error event without a listener would be thrown.
    socket.on("error", () => {});
    this.sockets.push({ socket, closed });
  }

  /**
   * The socket factory postgres.js calls: TCP connect, TLS negotiation, then
   * the startup watch. Called once per run; a second call (the driver
   * reconnecting) is refused, because a check makes exactly one attempt.
   */
  async open(): Promise<net.Socket> {
    if (this.opened) throw new CheckFailure("internal", "the driver tried to reconnect");
    this.opened = true;
    if (this.signal.aborted) throw abortError();
    const { host, port: portNumber } = this.config;
    this.phase = "connect";
    const raw = new net.Socket();
    // Without it every small TLS record waits for the peer's delayed ACK: +40 ms per round trip.
    raw.setNoDelay(true);
    this.track(raw);
    try {
      await this.bounded(
        new Promise<void>((resolve, reject) => {
          raw.once("connect", resolve);
          raw.once("error", reject);
          raw.connect({ host, port: portNumber });
        }),
      );
    } catch (error) {
      if (this.signal.aborted) throw abortError();
      const kind = classifyNetworkError(error, this.signal);
      throw new CheckFailure(
        kind.reason,
        `cannot connect to ${this.config.address}: ${kind.message}`,
      );
    }
    let socket: net.Socket = raw;
    if (this.config.sslMode !== "disable") socket = await this.negotiateTls(raw);
    if (this.signal.aborted) throw abortError();
    this.phase = "startup";
    this.watchStartup(socket);
    return socket;
  }

  /** SSLRequest, then TLS or (for `prefer`) plain text, as libpq does. */
  private async negotiateTls(raw: net.Socket): Promise<net.Socket> {
    const mode = this.config.sslMode;
    this.phase = "tls";
    const answer = await this.bounded(
      new Promise<Buffer>((resolve, reject) => {
        raw.once("data", resolve);
        raw.once("error", reject);
        raw.once("close", () => reject(new Error("closed")));
        raw.write(SSL_REQUEST);
      }),
    ).catch((error) => {
      if (this.signal.aborted) throw abortError();
      throw new CheckFailure(
        "protocol",
        `${this.config.address} closed the connection when asked for TLS; is it a PostgreSQL server? (${
          scrub(errorText(error), this.config.password)
        })`,
      );
    });
    raw.removeAllListeners("data");
    // A PostgreSQL server answers one byte and waits; anything longer is some
    // other protocol talking first (an SSH banner starts with "S" too).
    if (answer.length !== 1 || (answer[0] !== 0x53 && answer[0] !== 0x4e)) {
      throw new CheckFailure(
        "protocol",
        `${this.config.address} is not a PostgreSQL server: unexpected answer to the TLS request (${
          describeBytes(answer)
        })`,
      );
    }
    if (answer[0] === 0x4e) {
      if (mode === "prefer") return raw;
      throw new CheckFailure(
        "tls",
        `${this.config.address} does not accept TLS connections (POSTGRES_SSLMODE=${mode})`,
      );
    }
    const verify = mode === "verify-full";
    let ca: string | undefined;
    if (verify && this.config.sslRootCert) {
      try {
        ca = await this.bounded(Deno.readTextFile(this.config.sslRootCert));
      } catch (error) {
        if (this.signal.aborted) throw abortError();
        const reason = error instanceof Deno.errors.NotCapable ? "permission" : "config";
        throw new CheckFailure(
          reason,
          `cannot read POSTGRES_SSLROOTCERT ${this.config.sslRootCert}: ${errorText(error)}`,
        );
      }
    }
    // What the peer has sent so far: the one byte "S". If no byte follows
    // before the end, no TLS record ever came (see the catch below).
    const agreedAtBytes = raw.bytesRead;
    let peerClosed = false;
    const secure = tls.connect({
      socket: raw,
      host: this.config.host,
      servername: net.isIP(this.config.host) ? undefined : this.config.host,
      rejectUnauthorized: verify,
      ...(ca !== undefined ? { ca: [ca] } : {}),
    });
    this.track(secure);
    try {
      await this.bounded(
        new Promise<void>((resolve, reject) => {
          secure.once("secureConnect", resolve);
          secure.once("error", reject);
          secure.once("close", () => {
            peerClosed = true;
            reject(new Error("the server closed the connection"));
          });
        }),
      );
    } catch (error) {
      if (this.signal.aborted) throw abortError();
      const code = (error as { code?: string }).code;
      // A first byte "S" is not proof of PostgreSQL: any peer may send it. Only
      // a failure from a TLS peer (certificate, alert) is tls.
      if (isNotTls(error)) {
        throw new CheckFailure(
          "protocol",
          `${this.config.address} is not a PostgreSQL server: it agreed to TLS ("S"), then sent bytes that are not TLS (${
            scrub(errorText(error), this.config.password)
          })`,
        );
      }
      if (
        raw.bytesRead === agreedAtBytes &&
        (peerClosed || code === "ECONNRESET" || code === "EPIPE")
      ) {
        throw new CheckFailure(
          "protocol",
          `${this.config.address} did not start TLS after agreeing to ("S"): it closed the connection before any TLS record; is it a PostgreSQL server?`,
        );
      }
      throw new CheckFailure(
        "tls",
        `TLS handshake with ${this.config.address} failed (POSTGRES_SSLMODE=${mode}): ${
          scrub(errorText(error), this.config.password)
        }`,
        code ? { tls_error: code } : {},
      );
    }
    secure.removeAllListeners("secureConnect");
    this.tls = true;
    this.tlsProtocol = secure.getProtocol?.() ?? undefined;
    return secure;
  }

  /**
   * Reads the message frames the server sends during the startup, before
   * postgres.js sees them: the first must be a PostgreSQL answer (something
   * else would make the driver wait for a length that never arrives, or print
   * "Unknown Message" to the console), an authentication request must be one
   * the driver can answer, and ReadyForQuery ends the startup phase (later
   * server errors belong to the query). Steps aside after ReadyForQuery.
   */
  private watchStartup(socket: net.Socket): void {
    const emit = socket.emit;
    const reader = new StartupReader();
    socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event === "data") {
        const verdict = reader.push(args[0] as Uint8Array);
        if (verdict instanceof CheckFailure) {
          socket.emit = emit;
          this.failure = verdict;
          socket.destroy(verdict);
          return true;
        }
        if (verdict === "ready") {
          socket.emit = emit;
          this.phase = "query";
        }
      }
      return (emit as (...a: unknown[]) => boolean).apply(socket, [event, ...args]);
    }) as typeof socket.emit;
  }

  /**
   * Destroys every socket at once (abort, failure). With an error, so that
   * postgres.js fails the pending query instead of reconnecting.
   */
  destroyAll(): void {
    for (const { socket } of this.sockets) {
      if (!socket.destroyed) socket.destroy(abortError());
    }
  }

  /**
   * Waits until every socket opened in this run has emitted `close`, at most
   * `limitMs` (a backstop: a destroyed socket closes within milliseconds).
   */
  async allClosed(limitMs = 2000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(this.sockets.map((s) => s.closed)),
      new Promise((resolve) => timer = setTimeout(resolve, limitMs)),
    ]);
    clearTimeout(timer);
  }

  dispose(): void {
    this.signal.removeEventListener("abort", this.onAbort);
    this.abortListeners.clear();
  }
}

/** Longest message a server sends during a startup (error texts, parameters). */
const MAX_STARTUP_MESSAGE = 64 * 1024;

/**
 * Follows the message frames (type byte, int32 length) of the startup
 * exchange across chunk boundaries.
 */
class StartupReader {
  private header: number[] = [];
  private skip = 0;
  private first = true;

  /** A failure, "ready" once ReadyForQuery arrived, or undefined to go on. */
  push(chunk: Uint8Array): CheckFailure | "ready" | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i++]);
      if (this.header.length < 5) continue;
      const [type, a, b, c, d] = this.header;
      const length = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
      this.header = [];
      if (this.first) {
        this.first = false;
        if (!FIRST_MESSAGE_TYPES.has(type)) {
          return new CheckFailure(
            "protocol",
            `not a PostgreSQL server: unexpected answer to the startup message (${
              describeBytes(chunk)
            })`,
          );
        }
      }
      if (length < 4 || length > MAX_STARTUP_MESSAGE) {
        return new CheckFailure(
          "protocol",
          `not a PostgreSQL server: a startup message of ${length} bytes (${describeBytes(chunk)})`,
        );
      }
      if (type === 0x52 && length >= 8 && i + 4 <= chunk.length) {
        const code =
          ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
        if (!SUPPORTED_AUTH.has(code)) {
          return new CheckFailure(
            "auth",
            `the server asks for an authentication method the check does not support (request code ${code}); use scram-sha-256, md5 or password`,
          );
        }
      }
      if (type === 0x5a) return "ready"; // Z ReadyForQuery: the rest is the driver's
      this.skip = length - 4;
    }
    return undefined;
  }
}

function describeBytes(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  const printable = [...head].every((b) => b >= 0x20 && b < 0x7f || b === 0x0d || b === 0x0a);
  const shown = printable
    ? JSON.stringify(new TextDecoder().decode(head))
    : [...head].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return `${bytes.length} byte${bytes.length === 1 ? "" : "s"}: ${shown}${
    bytes.length > head.length ? " …" : ""
  }`;
}

/**
 * TLS error codes and words saying that the peer's bytes were no TLS records
 * at all, as OpenSSL (Node) and Deno's rustls-based `node:tls` put it; Deno
 * reports e.g. "received corrupt message of type InvalidContentType (SSL
 * routines:ssl3_get_record:wrong version number)".
 */
const NOT_TLS_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_UNKNOWN_PROTOCOL",
  "ERR_SSL_RECORD_LENGTH_MISMATCH",
]);
const NOT_TLS_WORDS =
  /wrong version number|packet length too long|unknown protocol|corrupt message of type (InvalidContentType|MessageTooLarge)/i;

function isNotTls(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (code !== undefined && NOT_TLS_CODES.has(code)) || NOT_TLS_WORDS.test(errorText(error));
}

function abortError(): Error {
  const error = new Error("aborted");
  error.name = "AbortError";
  return error;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Removes the password from any text that comes from a driver or a server. */
function scrub(text: string, password: string | undefined): string {
  if (!password) return text;
  let out = text;
  for (const form of new Set([password, encodeURIComponent(password)])) {
    out = out.split(form).join("***");
  }
  return out;
}

/** A server error as postgres.js reports it. */
interface ServerError {
  code: string;
  message: string;
}

function serverError(error: unknown): ServerError | undefined {
  if (
    error instanceof Error && error.name === "PostgresError" &&
    typeof (error as { code?: unknown }).code === "string"
  ) {
    return error as unknown as ServerError;
  }
  return undefined;
}

/** SQLSTATEs of failures to log in: bad password or role, no pg_hba entry, no CONNECT right. */
const AUTH_STATES = new Set(["28P01", "28000", "42501"]);

/** Turns what went wrong during connect/startup/query into a result. */
function classify(
  error: unknown,
  session: Session,
  config: PostgresConfig,
  signal: AbortSignal,
): CheckResult {
  const target = config.target;
  if (session.failure) {
    return failure(
      target,
      session.failure.reason,
      session.failure.message,
      session.failure.details,
    );
  }
  if (signal.aborted || (error instanceof Error && error.name === "AbortError")) {
    return failure(
      target,
      "timeout",
      `no answer from ${config.address} within the timeout (${describePhase(session.phase)})`,
    );
  }
  if (error instanceof CheckFailure) {
    return failure(target, error.reason, error.message, error.details);
  }
  if (error instanceof QueryFailure) {
    const server = serverError(error.original);
    const details: Details = { query: error.query };
    if (server) details.sqlstate = server.code;
    const text = scrub(server?.message ?? errorText(error.original), config.password);
    return failure(
      target,
      "unavailable",
      `the ${error.query} query failed after a good connect: ${text}${
        server ? ` (SQLSTATE ${server.code})` : ""
      }`,
      details,
    );
  }
  const server = serverError(error);
  if (server) {
    const details = { sqlstate: server.code };
    const text = scrub(server.message, config.password);
    if (session.phase === "query") {
      return failure(
        target,
        "unavailable",
        `the health query failed after a good connect: ${text} (SQLSTATE ${server.code})`,
        { ...details, query: "health" },
      );
    }
    if (AUTH_STATES.has(server.code)) {
      return failure(
        target,
        "auth",
        `login as ${config.user} refused: ${text} (SQLSTATE ${server.code})`,
        details,
      );
    }
    if (server.code === "3D000") {
      return failure(
        target,
        "config",
        `database ${
          JSON.stringify(config.database)
        } does not exist (SQLSTATE 3D000); check POSTGRES_DB`,
        details,
      );
    }
    if (server.code.startsWith("08")) {
      return failure(target, "protocol", `${text} (SQLSTATE ${server.code})`, details);
    }
    return failure(
      target,
      "unavailable",
      `the server refused the session: ${text} (SQLSTATE ${server.code})`,
      details,
    );
  }
  const code = (error as { code?: string } | null)?.code;
  const text = scrub(errorText(error), config.password);
  if (code === "CONNECT_TIMEOUT") {
    return failure(
      target,
      "timeout",
      `no answer from ${config.address} (${describePhase(session.phase)})`,
    );
  }
  if (code === "SASL_SIGNATURE_MISMATCH") {
    return failure(
      target,
      "auth",
      `the server did not prove it knows the password (SCRAM signature mismatch)`,
    );
  }
  if (session.phase === "startup") {
    const network = classifyNetworkError(error, signal);
    if (network.reason === "refused" || code === "CONNECTION_CLOSED") {
      return failure(
        target,
        "protocol",
        `${config.address} closed the connection during the startup handshake; is it a PostgreSQL server? (${text})`,
      );
    }
    return failure(target, "protocol", `unexpected answer during the startup handshake: ${text}`);
  }
  if (session.phase === "query") {
    return failure(target, "unavailable", `the connection failed during the query: ${text}`);
  }
  const network = classifyNetworkError(error, signal);
  return failure(
    target,
    network.reason,
    `cannot connect to ${config.address}: ${scrub(network.message, config.password)}`,
  );
}

function describePhase(phase: Phase): string {
  switch (phase) {
    case "connect":
      return "while connecting";
    case "tls":
      return "during the TLS handshake";
    case "startup":
      return "during the startup and login";
    case "query":
      return "while waiting for a query";
    case "close":
      return "while closing";
  }
}

// ---------------------------------------------------------------------------
// Metrics

/** The state names of `pg_stat_activity.state`, as details keys. */
const STATE_KEYS: Record<string, string> = {
  "active": "active",
  "idle": "idle",
  "idle in transaction": "idle_in_transaction",
  "idle in transaction (aborted)": "idle_in_transaction_aborted",
  "fastpath function call": "fastpath_function_call",
  "disabled": "disabled",
};

/**
 * The metric queries. Each stands alone so that one the role may not run
 * (SQLSTATE 42501) leaves only its own fields out. Everything is written
 * with `pg_catalog.` so that a role's `search_path` cannot redirect it.
 */
const QUERIES = {
  server: `SELECT pg_catalog.current_setting('server_version') AS server_version,
      pg_catalog.current_setting('server_version_num')::int AS server_version_num,
      pg_catalog.current_setting('max_connections')::int AS max_connections,
      pg_catalog.current_setting('superuser_reserved_connections')::int AS reserved,
      pg_catalog.pg_is_in_recovery() AS in_recovery`,
  // Without pg_read_all_stats, other roles' rows show neither backend_type
  // nor state; those with a database (datid) are counted as hidden sessions,
  // background processes have none.
  connections: `SELECT state, backend_type IS NULL AS hidden, pg_catalog.count(*)::int AS n
      FROM pg_catalog.pg_stat_activity
      WHERE backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL)
      GROUP BY 1, 2`,
  size: `SELECT pg_catalog.pg_database_size(pg_catalog.current_database())::float8 AS bytes`,
  uptime:
    `SELECT EXTRACT(EPOCH FROM pg_catalog.now() - pg_catalog.pg_postmaster_start_time())::float8 AS seconds`,
  transactions: `SELECT xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks,
      deadlocks::float8 AS deadlocks FROM pg_catalog.pg_stat_database
      WHERE datname = pg_catalog.current_database()`,
  replay: `SELECT CASE
        WHEN NOT pg_catalog.pg_is_in_recovery() THEN NULL
        WHEN pg_catalog.pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_catalog.pg_last_wal_replay_lsn() THEN 0
        ELSE EXTRACT(EPOCH FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp())::float8
      END AS lag`,
} as const;

type QueryName = keyof typeof QUERIES;
type Row = Record<string, unknown>;

/** What each query contributes, and what its absence means. */
const QUERY_FIELDS: Record<QueryName, string> = {
  server: "server_version, max_connections, in_recovery",
  connections: "connections_total, connections_by_state",
  size: "database_size_bytes",
  uptime: "uptime_seconds",
  transactions: "commits, rollbacks, deadlocks",
  replay: "replay_lag_seconds",
};

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** One session: connect, TLS, login, the metric queries, close. */
export async function run(
  config: PostgresConfig,
  { signal, phase }: RunContext,
): Promise<CheckResult> {
  if (signal.aborted) {
    return failure(config.target, "timeout", `no time left to check ${config.address}`);
  }
  const session = new Session(config, signal);
  // The shared vocabulary: the startup exchange is where the login happens.
  const shared = (p: typeof session.phase) => p === "startup" ? "auth" : p;
  if (phase) session.onPhase = (p) => phase(shared(p));
  phase?.(shared(session.phase));
  const sql = postgresJs(driverOptions(config, session));
  let graceful = false;
  try {
    // The first query opens the connection: connect, TLS, startup, login.
    await session.bounded(sql.unsafe("SELECT 1 AS ok") as Promise<Row[]>);
    session.phase = "query";
    const outcome = await collect(sql, session);
    graceful = true;
    return judge(config, session, outcome);
  } catch (error) {
    return classify(error, session, config, signal);
  } finally {
    await close(sql, session, graceful);
  }
}

/**
 * postgres.js options. Every option it would otherwise take from a PG*
 * variable is set, so that the agent's environment does not change what is
 * checked; it still reads PGAPPNAME (overridden by `connection`) and
 * PGTARGETSESSIONATTRS, hence `env: ["PG*"]` in needs(). The password is
 * passed as a function: an empty string would make the driver fall back to
 * PGPASSWORD.
 */
function driverOptions(config: PostgresConfig, session: Session): postgresJs.Options<never> {
  const options = {
    host: [config.host],
    port: [config.port],
    user: config.user,
    pass: () => config.password ?? "",
    database: config.database,
    ssl: false, // Session does the TLS negotiation before the driver gets the socket
    sslnegotiation: null,
    socket: () => session.open(),
    max: 1,
    connect_timeout: DRIVER_CONNECT_TIMEOUT_S,
    idle_timeout: DRIVER_CONNECT_TIMEOUT_S,
    max_lifetime: null,
    keep_alive: null,
    backoff: 0,
    prepare: false, // unnamed statements only: nothing stays on the server, poolers are fine
    fetch_types: false,
    max_pipeline: 100,
    publications: "alltables",
    debug: false,
    onnotice: () => {},
    onparameter: () => {},
    connection: {
      application_name: APPLICATION_NAME,
      statement_timeout: STATEMENT_TIMEOUT_MS,
    },
  };
  return options as unknown as postgresJs.Options<never>;
}

/** A metric query that failed for another reason than a missing privilege. */
class QueryFailure extends Error {
  constructor(readonly query: QueryName, readonly original: unknown) {
    super(errorText(original));
    this.name = "QueryFailure";
  }
}

interface Outcome {
  rows: Partial<Record<QueryName, Row[]>>;
  denied: QueryName[];
}

/** Sends every metric query at once (pipelined: one round trip) and sorts the answers. */
async function collect(sql: postgresJs.Sql, session: Session): Promise<Outcome> {
  const names = Object.keys(QUERIES) as QueryName[];
  const settled = await session.bounded(
    Promise.allSettled(names.map((name) => sql.unsafe(QUERIES[name]) as Promise<Row[]>)),
  );
  const outcome: Outcome = { rows: {}, denied: [] };
  settled.forEach((result, i) => {
    const name = names[i];
    if (result.status === "fulfilled") outcome.rows[name] = [...result.value];
    else if (serverError(result.reason)?.code === "42501") outcome.denied.push(name);
    else throw new QueryFailure(name, result.reason);
  });
  return outcome;
}

function judge(config: PostgresConfig, session: Session, outcome: Outcome): CheckResult {
  const details: Details = { tls: session.tls };
  if (session.tlsProtocol) details.tls_protocol = session.tlsProtocol;
  const notes: string[] = [];
  const { rows } = outcome;

  const server = rows.server?.[0];
  let maxConnections: number | undefined;
  if (server) {
    details.server_version = String(server.server_version);
    details.server_version_num = Number(server.server_version_num);
    maxConnections = Number(server.max_connections);
    details.max_connections = maxConnections;
    details.superuser_reserved_connections = Number(server.reserved);
    details.in_recovery = server.in_recovery === true;
  }
  for (const name of outcome.denied) {
    if (name === "replay" && details.in_recovery !== true) continue; // not reported on a primary
    notes.push(
      `${QUERY_FIELDS[name]}: left out, ${config.user} may not read them (SQLSTATE 42501)`,
    );
  }

  let total: number | undefined;
  if (rows.connections) {
    const byState: Record<string, number> = Object.fromEntries(
      [...Object.values(STATE_KEYS), "hidden"].map((k) => [k, 0]),
    );
    total = 0;
    for (const row of rows.connections) {
      const n = Number(row.n);
      total += n;
      const key = row.hidden === true ? "hidden" : STATE_KEYS[String(row.state)] ?? "other";
      byState[key] = (byState[key] ?? 0) + n;
    }
    details.connections_total = total;
    details.connections_by_state = byState;
    if (byState.hidden > 0) {
      notes.push(
        `connections_by_state.hidden: ${config.user} cannot see the state of ${byState.hidden} session(s) of other roles (grant pg_monitor or pg_read_all_stats)`,
      );
    }
  }
  if (total !== undefined && maxConnections) {
    details.connections_used_pct = Math.round((total / maxConnections) * 1000) / 10;
  }

  const size = rows.size?.[0];
  if (size) details.database_size_bytes = Number(size.bytes);
  const uptime = rows.uptime?.[0];
  if (uptime) details.uptime_seconds = Math.floor(Number(uptime.seconds));
  const transactions = rows.transactions?.[0];
  if (transactions) {
    details.commits = Number(transactions.commits);
    details.rollbacks = Number(transactions.rollbacks);
    details.deadlocks = Number(transactions.deadlocks);
  }
  if (details.in_recovery === true && rows.replay) {
    const lag = rows.replay[0]?.lag;
    if (lag === null || lag === undefined) {
      notes.push(
        "replay_lag_seconds: left out, no transaction has been replayed since the standby started",
      );
    } else {
      details.replay_lag_seconds = round3(Math.max(0, Number(lag)));
    }
  }
  if (notes.length > 0) details.notes = notes;

  if (
    total !== undefined && maxConnections &&
    total * 100 >= config.warnConnectionsPct * maxConnections
  ) {
    return {
      target: config.target,
      status: "warn",
      reason: "threshold",
      message:
        `${total} of ${maxConnections} connections in use (${details.connections_used_pct}%), at or above POSTGRES_WARN_CONNECTIONS_PCT=${config.warnConnectionsPct}%`,
      details,
    };
  }
  return { target: config.target, status: "ok", details };
}

/**
 * Ends the session: politely after a good run (Terminate message, then the
 * server closes), at once otherwise. Either way every socket this run opened
 * has closed when this returns.
 */
async function close(sql: postgresJs.Sql, session: Session, graceful: boolean): Promise<void> {
  session.phase = "close";
  try {
    if (graceful) await session.bounded(sql.end({ timeout: 1 })).catch(() => {});
    await sql.end({ timeout: 0 }).catch(() => {});
  } finally {
    session.destroyAll();
    await session.allClosed();
    session.dispose();
  }
}

/** The `postgres` module. */
export const postgres: CheckModule<PostgresConfig> = {
  name: "postgres",
  options: OPTIONS,
  parse,
  needs: (config) => ({
    net: [config.address],
    env: ["PG*"],
    ...(config.sslRootCert ? { read: [config.sslRootCert] } : {}),
  }),
  load: () => Promise.resolve({ run }),
  secrets: (config) => (config.password ? [config.password] : []),
};

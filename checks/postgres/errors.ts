/**
 * Names what went wrong in a PostgreSQL run: a reason from the contract, a
 * sentence, and the SQLSTATE where the server gave one. Pure functions of
 * the error and of how far the run got, so every mapping is tested without
 * a server.
 *
 * @module
 */

import type { CheckResult, Phase } from "../../src/check.ts";
import { Failure, failure } from "../../src/check.ts";
import { isAbortError } from "../common/deadline.ts";
import { classifyNetworkError } from "../common/net_errors.ts";
import type { PostgresConfig } from "./config.ts";

/**
 * The phases a run goes through: `connect`, `tls` (the TLS request and
 * handshake), `handshake` (the startup message sent, no answer yet), `auth`
 * (the server answered: the authentication exchange and the session start,
 * until ReadyForQuery), `query`, `close`.
 */
export type PostgresPhase = Extract<
  Phase,
  "connect" | "tls" | "handshake" | "auth" | "query" | "close"
>;

/** How far a run got, and a failure decided beside the driver (it wins over the driver's error). */
export interface RunState {
  phase: PostgresPhase;
  failure?: Failure;
}

/** A server error as postgres.js reports it. */
export interface ServerError {
  code: string;
  message: string;
}

/** The server error inside `error`, when it is one (postgres.js's `PostgresError`). */
export function serverError(error: unknown): ServerError | undefined {
  if (
    error instanceof Error && error.name === "PostgresError" &&
    typeof (error as { code?: unknown }).code === "string"
  ) {
    return error as unknown as ServerError;
  }
  return undefined;
}

/** A metric query that failed for another reason than a missing privilege. */
export class QueryFailure extends Error {
  constructor(readonly query: string, readonly original: unknown) {
    super(errorText(original));
    this.name = "QueryFailure";
  }
}

/** SQLSTATEs of failures to log in: bad password or role, no pg_hba entry, no CONNECT right. */
const AUTH_STATES = new Set(["28P01", "28000", "42501"]);

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The phase as timeout messages say it. */
export function describePhase(phase: PostgresPhase): string {
  switch (phase) {
    case "connect":
      return "while connecting";
    case "tls":
      return "during the TLS handshake";
    case "handshake":
    case "auth":
      return "during the startup and login";
    case "query":
      return "while waiting for a query";
    case "close":
      return "while closing";
  }
}

/** Turns what went wrong during connect, TLS, startup or a query into a result. */
export function classify(
  error: unknown,
  state: RunState,
  config: PostgresConfig,
  signal: AbortSignal,
): CheckResult {
  const target = config.target;
  if (state.failure) return state.failure.result(target);
  if (signal.aborted || isAbortError(error)) {
    return failure(
      target,
      "timeout",
      `no answer from ${config.address} within the timeout (${describePhase(state.phase)})`,
      { phase: state.phase },
    );
  }
  if (error instanceof Failure) return error.result(target);
  if (error instanceof QueryFailure) {
    const server = serverError(error.original);
    const text = server?.message ?? errorText(error.original);
    return failure(
      target,
      "unavailable",
      `the ${error.query} query failed after a good connect: ${text}${
        server ? ` (SQLSTATE ${server.code})` : ""
      }`,
      server ? { query: error.query, sqlstate: server.code } : { query: error.query },
    );
  }
  const server = serverError(error);
  if (server) return serverFailure(server, state.phase, config);
  return driverFailure(error, state.phase, config, signal);
}

/** An ErrorResponse: during the login it is about the login, after it about the query. */
function serverFailure(
  server: ServerError,
  phase: PostgresPhase,
  config: PostgresConfig,
): CheckResult {
  const { target } = config;
  const details = { sqlstate: server.code };
  const sqlstate = `(SQLSTATE ${server.code})`;
  if (phase === "query") {
    return failure(
      target,
      "unavailable",
      `the health query failed after a good connect: ${server.message} ${sqlstate}`,
      { ...details, query: "health" },
    );
  }
  if (AUTH_STATES.has(server.code)) {
    return failure(
      target,
      "auth",
      `login as ${config.user} refused: ${server.message} ${sqlstate}`,
      details,
    );
  }
  if (server.code === "3D000") {
    return failure(
      target,
      "config",
      `database ${JSON.stringify(config.database)} does not exist ${sqlstate}; check POSTGRES_DB`,
      details,
    );
  }
  if (server.code.startsWith("08")) {
    return failure(target, "protocol", `${server.message} ${sqlstate}`, details);
  }
  return failure(
    target,
    "unavailable",
    `the server refused the session: ${server.message} ${sqlstate}`,
    details,
  );
}

/** Anything else the driver reports: its own codes, or the socket's errors. */
function driverFailure(
  error: unknown,
  phase: PostgresPhase,
  config: PostgresConfig,
  signal: AbortSignal,
): CheckResult {
  const { target, address } = config;
  const code = (error as { code?: string } | null)?.code;
  const text = errorText(error);
  if (code === "SASL_SIGNATURE_MISMATCH") {
    return failure(
      target,
      "auth",
      `the server did not prove it knows the password (SCRAM signature mismatch)`,
    );
  }
  if (phase === "handshake" || phase === "auth") {
    const network = classifyNetworkError(error, signal);
    if (network.reason === "refused" || code === "CONNECTION_CLOSED") {
      return failure(
        target,
        "protocol",
        `${address} closed the connection during the startup handshake; is it a PostgreSQL server? (${text})`,
      );
    }
    return failure(target, "protocol", `unexpected answer during the startup handshake: ${text}`);
  }
  if (phase === "query") {
    return failure(target, "unavailable", `the connection failed during the query: ${text}`);
  }
  const network = classifyNetworkError(error, signal);
  return failure(target, network.reason, `cannot connect to ${address}: ${network.message}`);
}

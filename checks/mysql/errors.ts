/**
 * Names what went wrong with a MySQL / MariaDB connection or query: a
 * {@link Failure} with a reason from the contract, a sentence, and the
 * server's error number where there is one. Pure functions, so every mapping
 * is tested without a server.
 *
 * @module
 */

import { type Details, Failure, type Phase } from "../../src/check.ts";
import { classifyNetworkError } from "../common/net_errors.ts";

/** The phases of a run, in the shared vocabulary: the greeting is the handshake, the login `auth`. */
export type MysqlPhase = Extract<Phase, "connect" | "handshake" | "auth" | "query" | "close">;

/** How each phase is named in messages. */
export const PHASE_WORDS: Readonly<Record<MysqlPhase, string>> = {
  connect: "connect",
  handshake: "greeting",
  auth: "login",
  query: "query",
  close: "close",
};

/** The fields of a mysql2 / node error this module looks at. */
interface DriverError {
  message: string;
  code?: string;
  errno?: number;
  sqlState?: string;
}

/** Server error numbers meaning the login itself was refused. */
const AUTH_ERRORS = new Set([
  1045, // ER_ACCESS_DENIED_ERROR: wrong user or password
  1130, // ER_HOST_NOT_PRIVILEGED: this client host may not log in
  1251, // ER_NOT_SUPPORTED_AUTH_MODE: the account's auth plugin is not supported by the client
  1698, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR: e.g. a unix_socket account over TCP
  1820, // ER_MUST_CHANGE_PASSWORD: the password has expired
  1862, // ER_MUST_CHANGE_PASSWORD_LOGIN
  3118, // ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
  4151, // ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)
]);

/** Server error numbers meaning `MYSQL_DATABASE` cannot be used. */
const DATABASE_ERRORS = new Set([
  1049, // ER_BAD_DB_ERROR: unknown database
  1044, // ER_DBACCESS_DENIED_ERROR: MariaDB answers this for an unknown database too, unless the account has rights on that name
]);

/** Server error numbers meaning "you may not read this": the metric is left out, the check stays ok. */
export const NOT_PERMITTED_ERRORS: ReadonlySet<number> = new Set([
  1044, // ER_DBACCESS_DENIED_ERROR
  1142, // ER_TABLEACCESS_DENIED_ERROR
  1143, // ER_COLUMNACCESS_DENIED_ERROR
  1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR: needs SUPER / REPLICATION CLIENT / SLAVE MONITOR
  1370, // ER_PROCACCESS_DENIED_ERROR
  3167, // ER_FEATURE_DISABLED_SEE_DOC (MySQL 5.7 with show_compatibility_56)
]);

/** Driver codes of a failed or refused TLS handshake or certificate check. */
const TLS_CODES = new Set([
  "HANDSHAKE_NO_SSL_SUPPORT",
  "HANDSHAKE_SSL_ERROR",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function asDriverError(error: unknown): DriverError {
  if (error instanceof Error) return error as DriverError;
  return { message: String(error) };
}

/**
 * A server-side error number. mysql2 gives server errors a positive `errno`
 * (system errors from node have negative ones); an error packet sent in place
 * of the greeting has no SQL state.
 */
export function serverErrorNumber(error: unknown): number | undefined {
  const e = asDriverError(error);
  return typeof e.errno === "number" && e.errno > 0 ? e.errno : undefined;
}

/** `details` facts of a server error. */
function serverDetails(error: DriverError, phase: MysqlPhase, query?: string): Details {
  const details: Details = { phase, error_code: error.errno };
  if (error.sqlState) details.sql_state = error.sqlState;
  if (query) details.query = query;
  return details;
}

/** Where the error happened, for the verdict. */
export interface ErrorContext {
  target: string;
  user: string;
  phase: MysqlPhase;
  /** The server sent a MySQL greeting (or error packet) before things went wrong. */
  greeted: boolean;
  /** The query in flight, by its name in `details.query`. */
  query?: string;
}

/**
 * Classifies an error the driver reported once the TCP connection was open
 * (the connect itself is `dialNode`'s): during the greeting, TLS and login,
 * a query or the close.
 */
export function classifyMysqlError(error: unknown, context: ErrorContext): Failure {
  const e = asDriverError(error);
  const { target, phase } = context;
  const text = e.message;
  const errno = serverErrorNumber(error);

  if (errno !== undefined) {
    const details = serverDetails(e, phase, context.query);
    const where = context.query ? `query ${context.query} failed` : "login failed";
    if (AUTH_ERRORS.has(errno)) {
      return new Failure(
        "auth",
        `MySQL at ${target} refused user ${JSON.stringify(context.user)}: ${text} (error ${errno})`,
        details,
      );
    }
    if (DATABASE_ERRORS.has(errno) && phase === "auth") {
      return new Failure(
        "config",
        `MYSQL_DATABASE cannot be used on ${target}: ${text} (error ${errno})`,
        details,
      );
    }
    return new Failure(
      "unavailable",
      `MySQL at ${target}: ${where}: ${text} (error ${errno})`,
      details,
    );
  }

  if (e.code && (TLS_CODES.has(e.code) || /^ERR_(TLS|SSL)_/.test(e.code))) {
    return new Failure("tls", `TLS with MySQL at ${target} failed: ${text}`, {
      phase,
      error: e.code,
    });
  }

  const lost = e.code === "PROTOCOL_CONNECTION_LOST" || e.code === "ECONNRESET" ||
    e.code === "EPIPE";
  if (!lost && e.code !== undefined && /^E[A-Z]+$/.test(e.code)) {
    const kind = classifyNetworkError(error);
    return new Failure(kind.reason, `cannot connect to MySQL at ${target}: ${kind.message}`, {
      phase,
    });
  }

  if (lost) {
    if (!context.greeted) {
      return new Failure(
        "protocol",
        `${target} closed the connection without sending a MySQL greeting: not a MySQL server?`,
        { phase },
      );
    }
    return new Failure(
      "unavailable",
      `MySQL at ${target} closed the connection during the ${PHASE_WORDS[phase]}: ${text}`,
      { phase },
    );
  }

  // Anything else is the driver failing to make sense of what it received.
  return new Failure(
    "protocol",
    `unexpected answer from ${target} during the ${PHASE_WORDS[phase]}: ${text}`,
    {
      phase,
      ...(e.code ? { error: e.code } : {}),
    },
  );
}

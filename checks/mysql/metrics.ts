/**
 * What one logged-in run asks the server, and how the answers become
 * `details`: liveness (`SELECT 1`), version and flavour, the global status
 * counters, `max_connections` and the share in use, and the replication
 * state on a replica. Queries go through a function passed in, so the
 * mapping is tested on captured rows without a server.
 *
 * @module
 */

import type { Details, Status } from "../../src/check.ts";
import { connectionsVerdict, usedPct } from "../common/threshold.ts";
import { NOT_PERMITTED_ERRORS, serverErrorNumber } from "./errors.ts";

/** Runs one named query and returns its rows (objects keyed by column name). */
export type QueryRunner = (name: string, sql: string) => Promise<Record<string, unknown>[]>;

/** The `SHOW GLOBAL STATUS` variables reported, and their names in `details`. */
export const STATUS_FIELDS: Readonly<Record<string, string>> = {
  Threads_connected: "threads_connected",
  Threads_running: "threads_running",
  Uptime: "uptime_seconds",
  Questions: "questions",
  Slow_queries: "slow_queries",
  Aborted_connects: "aborted_connects",
};

/** The queries, by the name used in messages and `details.query`. */
export const QUERIES = {
  select_1: "SELECT 1 AS alive",
  server: "SELECT VERSION() AS version, @@version_comment AS version_comment, " +
    "@@max_connections AS max_connections",
  status: `SHOW GLOBAL STATUS WHERE Variable_name IN (${
    Object.keys(STATUS_FIELDS).map((n) => `'${n}'`).join(", ")
  })`,
  replication: "SHOW REPLICA STATUS",
  replication_legacy: "SHOW SLAVE STATUS",
} as const;

/** A liveness answer that is not `1`: the peer speaks the protocol but is not sane. */
export class UnexpectedAnswer extends Error {
  readonly code = "UNEXPECTED_ANSWER";
  constructor(message: string) {
    super(message);
    this.name = "UnexpectedAnswer";
  }
}

/** The outcome of a logged-in run. */
export interface Collected {
  status: Extract<Status, "ok" | "warn">;
  /** Set when `status` is `warn`. */
  message?: string;
  details: Details;
}

/** MySQL or MariaDB, from `VERSION()` and `@@version_comment`. */
export function flavourOf(version: string, comment: string): "mariadb" | "mysql" {
  return /mariadb/i.test(`${version} ${comment}`) ? "mariadb" : "mysql";
}

function toNumber(value: unknown): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** A permission error on a metric: left out with a note instead of failing the check. */
function notPermitted(error: unknown): number | undefined {
  const errno = serverErrorNumber(error);
  return errno !== undefined && NOT_PERMITTED_ERRORS.has(errno) ? errno : undefined;
}

/**
 * `SHOW REPLICA STATUS` rows → replication facts. MySQL 8.0.22+ names the
 * columns `Replica_*` / `Seconds_Behind_Source`, MariaDB and older MySQL
 * `Slave_*` / `Seconds_Behind_Master`. Several rows are several channels.
 */
export function replicationDetails(rows: Record<string, unknown>[]): Details {
  if (rows.length === 0) return { replica: false };
  const yes = (v: unknown) => String(v ?? "").toLowerCase() === "yes";
  const io = rows.every((r) => yes(r.Replica_IO_Running ?? r.Slave_IO_Running));
  const sql = rows.every((r) => yes(r.Replica_SQL_Running ?? r.Slave_SQL_Running));
  const lags = rows.map((r) => toNumber(r.Seconds_Behind_Source ?? r.Seconds_Behind_Master));
  return {
    replica: true,
    replication_running: io && sql,
    replication_io_running: io,
    replication_sql_running: sql,
    // Unknown (null) while a thread is stopped: the server cannot tell the lag then.
    replication_lag_seconds: lags.some((l) => l === undefined)
      ? null
      : Math.max(...(lags as number[])),
    replication_channels: rows.length,
  };
}

/** `SHOW GLOBAL STATUS` rows → `details` fields, and a note for each variable missing. */
export function statusDetails(
  rows: Record<string, unknown>[],
): { values: Details; notes: string[] } {
  const byName = new Map<string, unknown>();
  for (const row of rows) {
    byName.set(
      String(row.Variable_name ?? row.VARIABLE_NAME ?? ""),
      row.Value ?? row.VARIABLE_VALUE,
    );
  }
  const values: Details = {};
  const notes: string[] = [];
  for (const [variable, field] of Object.entries(STATUS_FIELDS)) {
    const n = toNumber(byName.get(variable));
    if (n === undefined) notes.push(`${variable} is not reported by this server`);
    else values[field] = n;
  }
  return { values, notes };
}

/**
 * Runs the queries in order and builds the details. A permission error on the
 * status or replication query leaves those metrics out with a note; any other
 * error is thrown to the caller with the query named by the runner.
 */
export async function collect(query: QueryRunner, warnConnectionsPct: number): Promise<Collected> {
  const alive = await query("select_1", QUERIES.select_1);
  if (toNumber(alive[0]?.alive) !== 1) {
    throw new UnexpectedAnswer(`SELECT 1 returned ${JSON.stringify(alive[0] ?? null)}`);
  }

  const [server] = await query("server", QUERIES.server);
  const version = String(server?.version ?? "");
  const comment = String(server?.version_comment ?? "");
  const details: Details = {
    server_version: version,
    flavour: flavourOf(version, comment),
    version_comment: comment,
  };
  const notes: string[] = [];

  try {
    const status = statusDetails(await query("status", QUERIES.status));
    Object.assign(details, status.values);
    notes.push(...status.notes);
  } catch (error) {
    const errno = notPermitted(error);
    if (errno === undefined) throw error;
    notes.push(
      `global status is not readable by this account (error ${errno}): threads, uptime, ` +
        "questions, slow queries, aborted connects and the connection share are left out",
    );
  }

  const maxConnections = toNumber(server?.max_connections);
  if (maxConnections !== undefined) details.max_connections = maxConnections;
  let warn: ReturnType<typeof connectionsVerdict>;
  const connected = details.threads_connected as number | undefined;
  if (maxConnections !== undefined && maxConnections > 0 && connected !== undefined) {
    details.connections_used_pct = usedPct(connected, maxConnections);
    details.warn_connections_pct = warnConnectionsPct;
    warn = connectionsVerdict({
      used: connected,
      max: maxConnections,
      warnPct: warnConnectionsPct,
      option: "MYSQL_WARN_CONNECTIONS_PCT",
    });
  }

  try {
    let rows: Record<string, unknown>[];
    try {
      rows = await query("replication", QUERIES.replication);
    } catch (error) {
      // 1064: a server older than MySQL 8.0.22 / MariaDB 10.5.1 only knows the old spelling.
      if (serverErrorNumber(error) !== 1064) throw error;
      rows = await query("replication", QUERIES.replication_legacy);
    }
    Object.assign(details, replicationDetails(rows));
  } catch (error) {
    const errno = notPermitted(error);
    if (errno === undefined) throw error;
    notes.push(
      `replication state is not readable by this account (error ${errno}): it needs ` +
        "REPLICATION CLIENT (MySQL) or SLAVE MONITOR (MariaDB); replica fields are left out",
    );
  }

  if (notes.length > 0) details.notes = notes;
  return warn?.message
    ? { status: "warn", message: warn.message, details }
    : { status: "ok", details };
}

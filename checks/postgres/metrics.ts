/**
 * The metric queries and the verdict: what the check reads from the server
 * and how it turns the rows into details, notes and a status. No driver
 * here: the queries are run through a {@link QueryRunner}, so the verdict is
 * tested on plain rows.
 *
 * @module
 */

import type { CheckResult, Details } from "../../src/check.ts";
import { connectionsVerdict, usedPct } from "../common/threshold.ts";
import type { PostgresConfig } from "./config.ts";
import { QueryFailure, serverError } from "./errors.ts";

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
export const QUERIES = {
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

/** The name of a metric query. */
export type QueryName = keyof typeof QUERIES;

/** One result row. */
export type Row = Record<string, unknown>;

/** Runs one statement; rejects with the driver's error. */
export type QueryRunner = (sql: string) => Promise<Row[]>;

/** What each query contributes, for the note when it is left out. */
const QUERY_FIELDS: Record<QueryName, string> = {
  server: "server_version, max_connections, in_recovery",
  connections: "connections_total, connections_by_state",
  size: "database_size_bytes",
  uptime: "uptime_seconds",
  transactions: "commits, rollbacks, deadlocks",
  replay: "replay_lag_seconds",
};

/** The answers: rows per query, and the queries the role may not run. */
export interface Outcome {
  rows: Partial<Record<QueryName, Row[]>>;
  denied: QueryName[];
}

/** Whether and how the session was encrypted. */
export interface TlsFacts {
  tls: boolean;
  protocol?: string;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Sends every metric query at once (the driver pipelines them: one round
 * trip) and sorts the answers; a failure other than a missing privilege is
 * thrown as a {@link QueryFailure}.
 */
export async function collect(query: QueryRunner): Promise<Outcome> {
  const names = Object.keys(QUERIES) as QueryName[];
  const settled = await Promise.allSettled(names.map((name) => query(QUERIES[name])));
  const outcome: Outcome = { rows: {}, denied: [] };
  settled.forEach((result, i) => {
    const name = names[i];
    if (result.status === "fulfilled") outcome.rows[name] = [...result.value];
    else if (serverError(result.reason)?.code === "42501") outcome.denied.push(name);
    else throw new QueryFailure(name, result.reason);
  });
  return outcome;
}

/** The result: details from the rows, notes for what is left out, warn at the connections threshold. */
export function judge(config: PostgresConfig, tls: TlsFacts, outcome: Outcome): CheckResult {
  const details: Details = { tls: tls.tls };
  if (tls.protocol) details.tls_protocol = tls.protocol;
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
  const total = rows.connections
    ? connections(rows.connections, details, notes, config)
    : undefined;
  if (total !== undefined && maxConnections) {
    details.connections_used_pct = usedPct(total, maxConnections);
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

  const verdict = total === undefined || maxConnections === undefined
    ? undefined
    : connectionsVerdict({
      used: total,
      max: maxConnections,
      warnPct: config.warnConnectionsPct,
      option: "POSTGRES_WARN_CONNECTIONS_PCT",
    });
  return { target: config.target, status: "ok", ...verdict, details };
}

/** Counts the client sessions by state into `details`; returns the total. */
function connections(
  rows: Row[],
  details: Details,
  notes: string[],
  config: PostgresConfig,
): number {
  const byState: Record<string, number> = Object.fromEntries(
    [...Object.values(STATE_KEYS), "hidden"].map((k) => [k, 0]),
  );
  let total = 0;
  for (const row of rows) {
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
  return total;
}

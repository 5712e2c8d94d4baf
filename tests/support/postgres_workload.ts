/**
 * What the real-server tests of the `postgres` check do to a server besides
 * running the check: the roles and the database they log into, a workload
 * (sessions held, rollbacks, a deadlock), and the direct query the check's
 * metrics are compared with.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { APPLICATION_NAME } from "../../checks/postgres/mod.ts";
import type { PostgresConfig } from "../../checks/postgres/mod.ts";
import { local, PW } from "./postgres_check.ts";
import type { PostgresServer } from "./postgres_server.ts";
import { waitFor } from "./processes.ts";

/**
 * Roles `checker` (pg_monitor), `limited` (no pg_monitor, no uptime),
 * `nologin`, `serial` (serializable by default) and `app` (owns `appdb`),
 * and a table `t` in `appdb` where `pg_postmaster_start_time()` is revoked
 * from PUBLIC.
 */
export async function createRoles(server: PostgresServer): Promise<void> {
  await server.psql(`
    CREATE ROLE checker LOGIN PASSWORD '${PW.checker}';
    GRANT pg_monitor TO checker;
    CREATE ROLE limited LOGIN PASSWORD '${PW.limited}';
    CREATE ROLE nologin NOLOGIN PASSWORD '${PW.nologin}';
    CREATE ROLE serial LOGIN PASSWORD '${PW.serial}';
    ALTER ROLE serial SET default_transaction_isolation = 'serializable';
    CREATE ROLE app LOGIN PASSWORD '${PW.app}';`);
  await server.psql("CREATE DATABASE appdb OWNER app");
  // function privileges belong to each database: appdb is the hardened one
  await server.psql(
    `CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
     INSERT INTO t SELECT g, 0 FROM generate_series(1, 1000) g;
     ALTER TABLE t OWNER TO app;
     REVOKE EXECUTE ON FUNCTION pg_postmaster_start_time() FROM PUBLIC;
     GRANT EXECUTE ON FUNCTION pg_postmaster_start_time() TO checker;`,
    "appdb",
  );
}

/** The check as role `checker` on `appdb` of `server`, with `extra` variables. */
export function checker(
  server: PostgresServer,
  extra: Record<string, string> = {},
): PostgresConfig {
  return local(server.port, { POSTGRES_DB: "appdb", ...extra });
}

/** Every metric of the check, read directly by the superuser over the socket. */
export const DIRECT_METRICS = (db: string) => `
SELECT json_build_object(
  'server_version', current_setting('server_version'),
  'server_version_num', current_setting('server_version_num')::int,
  'max_connections', current_setting('max_connections')::int,
  'superuser_reserved_connections', current_setting('superuser_reserved_connections')::int,
  'in_recovery', pg_is_in_recovery(),
  'connections_total',
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  'states', (SELECT coalesce(json_object_agg(coalesce(state, 'hidden'), n), '{}')
    FROM (SELECT state, count(*) AS n FROM pg_stat_activity
          WHERE backend_type = 'client backend' GROUP BY state) s),
  'database_size_bytes', pg_database_size('${db}'),
  'uptime_seconds', extract(epoch FROM now() - pg_postmaster_start_time()),
  'commits', (SELECT xact_commit FROM pg_stat_database WHERE datname = '${db}'),
  'rollbacks', (SELECT xact_rollback FROM pg_stat_database WHERE datname = '${db}'),
  'deadlocks', (SELECT deadlocks FROM pg_stat_database WHERE datname = '${db}'),
  'replay_lag_seconds', CASE WHEN pg_is_in_recovery() THEN
    CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END END
)`;

/** What {@link DIRECT_METRICS} returns. */
export interface Direct {
  server_version: string;
  server_version_num: number;
  max_connections: number;
  superuser_reserved_connections: number;
  in_recovery: boolean;
  connections_total: number;
  states: Record<string, number>;
  database_size_bytes: number;
  uptime_seconds: number;
  commits: number;
  rollbacks: number;
  deadlocks: number;
  replay_lag_seconds: number | null;
}

/** `pg_stat_activity.state` → the check's `connections_by_state` key. */
export const STATE_NAMES: Record<string, string> = {
  "active": "active",
  "idle": "idle",
  "idle in transaction": "idle_in_transaction",
  "hidden": "hidden",
};

/** `actual` is a number within `tolerance` of `expected`. */
export function near(actual: unknown, expected: number, tolerance: number, what: string): void {
  assert.equal(typeof actual, "number", `${what} is missing`);
  assert.ok(
    Math.abs((actual as number) - expected) <= tolerance,
    `${what}: check said ${actual}, direct query ${expected} (±${tolerance})`,
  );
}

/** Waits until the check's own session is gone from the server. */
export async function noCheckSessionLeft(server: PostgresServer): Promise<void> {
  await waitFor("the check's session to end", async () =>
    (await server.psql(
      `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${APPLICATION_NAME}'`,
    )) === "0", 5000);
}

/** A client for the test's own workload (role `app`), outside the check. */
export function appClient(server: PostgresServer): postgres.Sql {
  return postgres({
    host: server.host,
    port: server.port,
    user: "app",
    pass: PW.app,
    database: "appdb",
    ssl: false,
    max: 12,
    prepare: false,
    // with fetch_types: false, postgres.js 3.4.9 never resolves reserve() on a new connection
    fetch_types: true,
    connect_timeout: 10,
    idle_timeout: 0,
    onnotice: () => {},
    connection: { application_name: "kozak-test-workload" },
  });
}

/** Opens `n` connections as `app` and keeps them; `inTransaction` leaves them idle in a transaction. */
export async function hold(
  app: postgres.Sql,
  n: number,
  inTransaction = false,
): Promise<postgres.ReservedSql[]> {
  const held: postgres.ReservedSql[] = [];
  for (let i = 0; i < n; i++) {
    const conn = await app.reserve();
    held.push(conn);
    if (inTransaction) await conn`BEGIN`;
    await conn`SELECT 1`;
  }
  return held;
}

/** Gives held connections back (rolling back what they left open). */
export async function release(held: postgres.ReservedSql[]): Promise<void> {
  for (const conn of held) {
    await conn`ROLLBACK`.catch(() => {});
    conn.release();
  }
}

/** Three rolled-back transactions and one deadlock in appdb. */
export async function runWorkload(sql: postgres.Sql): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await sql.begin(async (tx) => {
      await tx`UPDATE t SET v = v + 1 WHERE id = 1`;
      throw new Error("rolled back on purpose");
    }).catch((e) => assert.match(e.message, /on purpose/));
  }
  const [a, b] = [await sql.reserve(), await sql.reserve()];
  try {
    await a`BEGIN`;
    await b`BEGIN`;
    await a`UPDATE t SET v = v + 1 WHERE id = 1`;
    await b`UPDATE t SET v = v + 1 WHERE id = 2`;
    const outcomes = await Promise.allSettled([
      a`UPDATE t SET v = v + 1 WHERE id = 2`,
      b`UPDATE t SET v = v + 1 WHERE id = 1`,
    ]);
    const failed = outcomes.filter((o) => o.status === "rejected");
    assert.equal(failed.length, 1);
    assert.equal((failed[0] as PromiseRejectedResult).reason.code, "40P01");
  } finally {
    await release([a, b]);
  }
}

/** Collects one line per case for the test's output: what the check answered. */
export function caseLog(): {
  note: (name: string, result: { status: string; reason?: string }) => void;
  print: () => void;
} {
  const seen: string[] = [];
  return {
    note: (name, r) => seen.push(`${name}: ${r.status}${r.reason ? `/${r.reason}` : ""}`),
    print: () => console.log(`postgres real-server cases:\n  ${seen.join("\n  ")}`),
  };
}

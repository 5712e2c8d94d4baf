import assert from "node:assert/strict";
import {
  collect,
  QUERIES,
  type QueryRunner,
  replicationDetails,
  statusDetails,
} from "./metrics.ts";

Deno.test("replicationDetails() reads MariaDB and MySQL 8 column names and several channels", () => {
  assert.deepEqual(replicationDetails([]), { replica: false });
  assert.deepEqual(
    replicationDetails([{
      Slave_IO_Running: "Yes",
      Slave_SQL_Running: "Yes",
      Seconds_Behind_Master: 3,
    }]),
    {
      replica: true,
      replication_running: true,
      replication_io_running: true,
      replication_sql_running: true,
      replication_lag_seconds: 3,
      replication_channels: 1,
    },
  );
  const mysql8 = replicationDetails([
    { Replica_IO_Running: "Yes", Replica_SQL_Running: "Yes", Seconds_Behind_Source: "0" },
    { Replica_IO_Running: "Connecting", Replica_SQL_Running: "Yes", Seconds_Behind_Source: 7 },
  ]);
  assert.equal(mysql8.replication_running, false);
  assert.equal(mysql8.replication_io_running, false);
  assert.equal(mysql8.replication_lag_seconds, 7);
  const stopped = replicationDetails([
    { Slave_IO_Running: "Yes", Slave_SQL_Running: "No", Seconds_Behind_Master: null },
  ]);
  assert.equal(stopped.replication_running, false);
  assert.equal(stopped.replication_lag_seconds, null);
});

Deno.test("statusDetails() notes a status variable the server does not report", () => {
  const { values, notes } = statusDetails([
    { Variable_name: "Threads_connected", Value: "4" },
    { Variable_name: "Uptime", Value: "100" },
  ]);
  assert.deepEqual(values, { threads_connected: 4, uptime_seconds: 100 });
  assert.equal(notes.length, 4);
  assert.match(notes.join(" "), /Questions is not reported/);
});

Deno.test("collect() leaves out what the account may not read and falls back to SHOW SLAVE STATUS", async () => {
  const denied = Object.assign(new Error("Access denied; you need SUPER"), {
    errno: 1227,
    sqlState: "42000",
  });
  const syntax = Object.assign(new Error("syntax"), { errno: 1064, sqlState: "42000" });
  const asked: string[] = [];
  const collected = await collect((name, sql) => {
    asked.push(sql);
    if (sql === QUERIES.select_1) return Promise.resolve([{ alive: 1 }]);
    if (sql === QUERIES.server) {
      return Promise.resolve([{
        version: "8.0.36",
        version_comment: "MySQL Community Server - GPL",
        max_connections: 10,
      }]);
    }
    if (sql === QUERIES.status) return Promise.reject(denied);
    if (sql === QUERIES.replication) return Promise.reject(syntax);
    assert.equal(name, "replication");
    return Promise.resolve([]);
  }, 90);
  assert.equal(collected.status, "ok");
  assert.equal(collected.details.flavour, "mysql");
  assert.equal(collected.details.replica, false);
  assert.equal(collected.details.threads_connected, undefined);
  assert.equal(collected.details.connections_used_pct, undefined);
  assert.match((collected.details.notes as string[])[0], /global status is not readable.*1227/);
  assert.deepEqual(asked.slice(-2), [QUERIES.replication, QUERIES.replication_legacy]);
});

/** A server that answers every query, with `connected` of `max` connections in use. */
function serverWith(connected: number, max: number): QueryRunner {
  return (_name, sql) => {
    if (sql === QUERIES.select_1) return Promise.resolve([{ alive: 1 }]);
    if (sql === QUERIES.server) {
      return Promise.resolve([{
        version: "10.11.6-MariaDB",
        version_comment: "",
        max_connections: max,
      }]);
    }
    if (sql === QUERIES.status) {
      return Promise.resolve([{ Variable_name: "Threads_connected", Value: String(connected) }]);
    }
    return Promise.resolve([]);
  };
}

Deno.test("collect() warns at exactly MYSQL_WARN_CONNECTIONS_PCT of max_connections, not below", async () => {
  const at = await collect(serverWith(9, 10), 90);
  assert.equal(at.status, "warn");
  assert.equal(
    at.message,
    "9 of 10 connections in use (90%), at or above MYSQL_WARN_CONNECTIONS_PCT=90%",
  );
  assert.equal(at.details.connections_used_pct, 90);
  assert.equal(at.details.warn_connections_pct, 90);
  const below = await collect(serverWith(8, 10), 90);
  assert.equal(below.status, "ok");
  assert.equal(below.message, undefined);
  assert.equal(below.details.connections_used_pct, 80);
  // The exact share decides, not the rounded one: 899 of 1000 is 89.9 %.
  assert.equal((await collect(serverWith(899, 1000), 90)).status, "ok");
  // Without a limit there is no share and no verdict.
  const unlimited = await collect(serverWith(5, 0), 90);
  assert.equal(unlimited.status, "ok");
  assert.equal(unlimited.details.connections_used_pct, undefined);
});

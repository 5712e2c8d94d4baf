import assert from "node:assert/strict";
import { configOf } from "../../tests/support/postgres_check.ts";
import { QueryFailure } from "./errors.ts";
import { collect, judge, type Outcome, QUERIES, type Row } from "./metrics.ts";

const config = configOf({ POSTGRES_HOST: "db", POSTGRES_USER: "monitor", POSTGRES_DB: "app" });

const SERVER: Row = {
  server_version: "15.18 (Debian 15.18-0+deb12u1)",
  server_version_num: 150018,
  max_connections: 10,
  reserved: 1,
  in_recovery: false,
};

/** Rows of every query, with `clients` sessions: n per state. */
function rows(clients: Row[], server: Row = SERVER): Outcome["rows"] {
  return {
    server: [server],
    connections: clients,
    size: [{ bytes: 7741955 }],
    uptime: [{ seconds: 3.9 }],
    transactions: [{ commits: 52, rollbacks: 5, deadlocks: 1 }],
    replay: [{ lag: null }],
  };
}

const sessions = (active: number, idle: number, hidden = 0): Row[] => [
  { state: "active", hidden: false, n: active },
  { state: "idle", hidden: false, n: idle },
  ...(hidden ? [{ state: null, hidden: true, n: hidden }] : []),
];

Deno.test("judge: every metric from the rows, ok below the threshold", () => {
  const result = judge(config, { tls: true, protocol: "TLSv1.3" }, {
    rows: rows(sessions(1, 3)),
    denied: [],
  });
  assert.deepEqual(result, {
    target: "db:5432/app",
    status: "ok",
    details: {
      tls: true,
      tls_protocol: "TLSv1.3",
      server_version: "15.18 (Debian 15.18-0+deb12u1)",
      server_version_num: 150018,
      max_connections: 10,
      superuser_reserved_connections: 1,
      in_recovery: false,
      connections_total: 4,
      connections_by_state: {
        active: 1,
        idle: 3,
        idle_in_transaction: 0,
        idle_in_transaction_aborted: 0,
        fastpath_function_call: 0,
        disabled: 0,
        hidden: 0,
      },
      connections_used_pct: 40,
      database_size_bytes: 7741955,
      uptime_seconds: 3,
      commits: 52,
      rollbacks: 5,
      deadlocks: 1,
    },
  });
});

Deno.test("judge: warn with reason threshold at POSTGRES_WARN_CONNECTIONS_PCT of max_connections", () => {
  const at = (active: number, pct?: string) =>
    judge(
      pct
        ? configOf({ POSTGRES_HOST: "db", POSTGRES_USER: "m", POSTGRES_WARN_CONNECTIONS_PCT: pct })
        : config,
      { tls: false },
      { rows: rows(sessions(active, 0)), denied: [] },
    );
  const warn = at(9);
  assert.equal(warn.status, "warn");
  assert.equal(warn.reason, "threshold");
  assert.equal(
    warn.message,
    "9 of 10 connections in use (90%), at or above POSTGRES_WARN_CONNECTIONS_PCT=90%",
  );
  assert.equal(warn.details?.connections_used_pct, 90);
  assert.equal(at(8).status, "ok");
  assert.equal(at(9, "95").status, "ok");
  assert.equal(at(10, "95").status, "warn");
});

Deno.test("judge: no verdict on connections when max_connections could not be read", () => {
  const result = judge(config, { tls: false }, {
    rows: { connections: sessions(50, 50) },
    denied: ["server"],
  });
  assert.equal(result.status, "ok");
  assert.equal(result.details?.connections_total, 100);
  assert.equal(result.details?.connections_used_pct, undefined);
  assert.deepEqual(result.details?.notes, [
    "server_version, max_connections, in_recovery: left out, monitor may not read them (SQLSTATE 42501)",
  ]);
});

Deno.test("judge: notes for metrics a role may not read and for sessions it cannot see", () => {
  const outcome: Outcome = { rows: rows(sessions(1, 0, 3)), denied: ["uptime", "replay"] };
  delete outcome.rows.uptime;
  delete outcome.rows.replay;
  const result = judge(config, { tls: false }, outcome);
  assert.equal(result.details?.uptime_seconds, undefined);
  assert.equal((result.details?.connections_by_state as Record<string, number>).hidden, 3);
  // the replay lag is not reported on a primary: no note for it
  assert.deepEqual(result.details?.notes, [
    "uptime_seconds: left out, monitor may not read them (SQLSTATE 42501)",
    "connections_by_state.hidden: monitor cannot see the state of 3 session(s) of other roles (grant pg_monitor or pg_read_all_stats)",
  ]);
});

Deno.test("judge: on a standby, the replay lag (never below 0, 3 decimals) or a note when none", () => {
  const standby = { ...SERVER, in_recovery: true };
  const lagOf = (lag: unknown) => {
    const outcome: Outcome = {
      rows: { ...rows(sessions(1, 0), standby), replay: [{ lag }] },
      denied: [],
    };
    return judge(config, { tls: false }, outcome).details!;
  };
  assert.equal(lagOf(1.23456).replay_lag_seconds, 1.235);
  assert.equal(lagOf(-0.002).replay_lag_seconds, 0);
  assert.equal(lagOf(0).replay_lag_seconds, 0);
  const none = lagOf(null);
  assert.equal(none.replay_lag_seconds, undefined);
  assert.deepEqual(none.notes, [
    "replay_lag_seconds: left out, no transaction has been replayed since the standby started",
  ]);
  assert.equal(lagOf(null).in_recovery, true);
});

Deno.test("collect: sends every query at once, leaves out the denied ones, throws for any other failure", async () => {
  const denied = Object.assign(new Error("permission denied"), {
    name: "PostgresError",
    code: "42501",
  });
  const sent: string[] = [];
  const outcome = await collect((sql) => {
    sent.push(sql);
    return sql === QUERIES.uptime ? Promise.reject(denied) : Promise.resolve([{ sql }]);
  });
  assert.deepEqual(sent, Object.values(QUERIES));
  assert.deepEqual(outcome.denied, ["uptime"]);
  assert.deepEqual(Object.keys(outcome.rows).sort(), [
    "connections",
    "replay",
    "server",
    "size",
    "transactions",
  ]);

  const broken = Object.assign(new Error("canceling statement"), {
    name: "PostgresError",
    code: "57014",
  });
  const error = await collect((sql) =>
    sql === QUERIES.size ? Promise.reject(broken) : Promise.resolve([])
  )
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof QueryFailure);
  assert.equal(error.query, "size");
  assert.equal(error.original, broken);
});

import assert from "node:assert/strict";
import postgres from "postgres";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  blackholeListener,
  closedPort,
  serveTcp,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import {
  backendMessage,
  POSTGRES_BINARIES,
  type PostgresServer,
  scriptedListener,
  startPostgres,
  TEST_CA_FILE,
  until,
} from "../../tests/support/postgres_server.ts";
import { spawnDeno } from "../../tests/support/processes.ts";
import { APPLICATION_NAME, postgres as postgresCheck, type PostgresConfig } from "./mod.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { moduleEnvNames, secretVariables } from "../../src/config_modules.ts";

/** Distinct passwords, so that a leak of any of them is found. */
const PW = {
  checker: "chk-Pw_7f3a9c",
  limited: "lim-Pw_52be10",
  nologin: "nol-Pw_c0ffee",
  serial: "ser-Pw_0a000e",
  app: "app-Pw_d34d10",
  wrong: "wrong-Pw_9e8d7c",
};

/** Timeouts are asserted to end within this much after the deadline. */
const TIMEOUT_MARGIN_MS = 300;

function envReader(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

function configOf(vars: Record<string, string>): PostgresConfig {
  const [spec] = postgresCheck.parse(envReader(vars));
  return unitConfig(spec);
}

async function runCheck(
  config: PostgresConfig,
  timeoutMs = 5000,
): Promise<{ result: CheckResult; elapsedMs: number }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const result = await (await postgresCheck.load()).run(config, {
      signal: controller.signal,
      memory: new Map(),
    });
    assert.ok(!Array.isArray(result));
    return { result, elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function assertNoSecret(value: unknown, ...secrets: string[]): void {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a password leaked into ${text}`);
  }
}

function assertTimedOut(result: CheckResult, elapsedMs: number, timeoutMs: number): void {
  assert.equal(result.status, "error");
  assert.equal(result.reason, "timeout", JSON.stringify(result));
  assert.ok(
    elapsedMs >= timeoutMs - 5 && elapsedMs < timeoutMs + TIMEOUT_MARGIN_MS,
    `took ${elapsedMs} ms for a ${timeoutMs} ms timeout`,
  );
}

/** Resolves true when `closed` settles within `ms`. */
async function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  return outcome;
}

const local = (port: number, extra: Record<string, string> = {}) =>
  configOf({
    POSTGRES_HOST: "127.0.0.1",
    POSTGRES_PORT: String(port),
    POSTGRES_USER: "checker",
    POSTGRES_PASSWORD: PW.checker,
    ...extra,
  });

// ---------------------------------------------------------------------------
// Configuration

Deno.test("postgres parses its variables with defaults and needs only the target's host:port", () => {
  const [spec] = postgresCheck.parse(envReader({
    POSTGRES_HOST: "db.internal",
    POSTGRES_USER: "monitor",
    POSTGRES_PASSWORD: " spaced pw ",
  }));
  assert.deepEqual(unitConfig(spec), {
    host: "db.internal",
    port: 5432,
    user: "monitor",
    password: " spaced pw ",
    database: "postgres",
    sslMode: "prefer",
    warnConnectionsPct: 90,
    address: "db.internal:5432",
    target: "db.internal:5432/postgres",
  });
  assert.deepEqual(spec.targets, ["db.internal:5432/postgres"]);
  assert.deepEqual(postgresCheck.needs(unitConfig(spec)), {
    net: ["db.internal:5432"],
    env: ["PG*"],
  });
  assert.deepEqual(postgresCheck.secrets!(unitConfig(spec)), [" spaced pw "]);
  assert.deepEqual(secretVariables(postgresCheck), ["POSTGRES_PASSWORD"]);
  assert.equal(postgresCheck.name, "postgres");
});

Deno.test("postgres writes IPv6 hosts in brackets and reads the root certificate file only when set", () => {
  for (const host of ["::1", "[::1]"]) {
    const config = configOf({
      POSTGRES_HOST: host,
      POSTGRES_PORT: "6543",
      POSTGRES_USER: "monitor",
      POSTGRES_DB: "app",
      POSTGRES_SSLMODE: "verify-full",
      POSTGRES_SSLROOTCERT: "/etc/ssl/db-ca.pem",
      POSTGRES_WARN_CONNECTIONS_PCT: "75",
    });
    assert.equal(config.host, "::1");
    assert.equal(config.target, "[::1]:6543/app");
    assert.equal(config.password, undefined);
    assert.equal(config.warnConnectionsPct, 75);
    assert.deepEqual(postgresCheck.needs(config), {
      net: ["[::1]:6543"],
      env: ["PG*"],
      read: ["/etc/ssl/db-ca.pem"],
    });
  }
});

Deno.test("postgres turns each bad value into a config error that names the variable and hides the password", () => {
  const good = {
    POSTGRES_HOST: "db",
    POSTGRES_USER: "monitor",
    POSTGRES_PASSWORD: "pw-in-config-test",
  };
  const cases: [Record<string, string>, RegExp][] = [
    [{ POSTGRES_HOST: "" }, /^POSTGRES_HOST: is required/],
    [{ POSTGRES_USER: " " }, /^POSTGRES_USER: is required/],
    [{ POSTGRES_PORT: "70000" }, /^POSTGRES_PORT: must be a port/],
    [{ POSTGRES_PORT: "5432x" }, /^POSTGRES_PORT: /],
    [{ POSTGRES_HOST: "bad host" }, /^POSTGRES_HOST: .* holds a space/],
    [{ POSTGRES_HOST: "bad!host" }, /^POSTGRES_HOST: .* not a valid host name/],
    [{ POSTGRES_HOST: "::1::2::" }, /^POSTGRES_HOST: .* not a host name or IP address/],
    [{ POSTGRES_SSLMODE: "verify-ca" }, /^POSTGRES_SSLMODE: must be one of disable, prefer/],
    [{ POSTGRES_WARN_CONNECTIONS_PCT: "0" }, /^POSTGRES_WARN_CONNECTIONS_PCT: .*1 to 100/],
    [{ POSTGRES_WARN_CONNECTIONS_PCT: "95.5" }, /^POSTGRES_WARN_CONNECTIONS_PCT: /],
    [{ POSTGRES_SSLROOTCERT: "/ca.pem" }, /^POSTGRES_SSLROOTCERT: is only used with .*verify-full/],
  ];
  for (const [override, expected] of cases) {
    const specs = postgresCheck.parse(envReader({ ...good, ...override }));
    assert.equal(specs.length, 1);
    assert.equal(specs[0].ok, false);
    assert.match(unitError(specs[0]), expected, JSON.stringify(override));
    assert.equal(specs[0].targets.length, 1);
    assertNoSecret(specs[0], good.POSTGRES_PASSWORD);
  }
  const [unset] = postgresCheck.parse(() => undefined);
  assert.match(unitError(unset), /^POSTGRES_HOST: is required/);
  assert.deepEqual(unset.targets, ["postgres"]);
});

Deno.test("postgres reads no variable besides the ones it declares", () => {
  const asked = new Set<string>();
  postgresCheck.parse((name) => {
    asked.add(name);
    return { POSTGRES_HOST: "db", POSTGRES_USER: "u" }[name];
  });
  for (const name of asked) {
    assert.ok(moduleEnvNames(postgresCheck).includes(name), `reads ${name}`);
  }
  assert.ok(asked.has("POSTGRES_SSLMODE") && asked.has("POSTGRES_WARN_CONNECTIONS_PCT"));
});

// ---------------------------------------------------------------------------
// Network failures against real loopback listeners (no PostgreSQL needed)

Deno.test("postgres reports refused for a closed port", async () => {
  const { result } = await runCheck(local(closedPort()));
  assert.equal(result.status, "error");
  assert.equal(result.reason, "refused");
  assert.match(result.message ?? "", /refused/);
});

Deno.test("postgres reports dns for a host name that does not resolve", async () => {
  const config = configOf({ POSTGRES_HOST: UNRESOLVABLE_HOST, POSTGRES_USER: "checker" });
  const { result } = await runCheck(config);
  assert.equal(result.status, "error");
  assert.equal(result.reason, "dns");
  assert.match(result.message ?? "", /not resolved/);
});

Deno.test("postgres reports timeout at the deadline for a server that accepts and never answers", async () => {
  const silent = silentListener();
  try {
    for (const mode of ["prefer", "disable"]) {
      const { result, elapsedMs } = await runCheck(
        local(silent.port, { POSTGRES_SSLMODE: mode }),
        400,
      );
      assertTimedOut(result, elapsedMs, 400);
      assert.match(result.message ?? "", mode === "prefer" ? /TLS handshake/ : /startup/);
    }
    assert.equal(silent.accepted(), 2);
  } finally {
    await silent.close();
  }
});

Deno.test("postgres closes its socket when it times out in each phase (TLS request, startup, query)", async () => {
  // startup answered with AuthenticationOk + ReadyForQuery, then silence: the query never returns
  const loggedIn = scriptedListener({
    answer: (_chunk, index) =>
      index === 0 ? new Uint8Array([...backendMessage.authOk(), ...backendMessage.ready()]) : null,
  });
  const silent = scriptedListener();
  try {
    const cases: [number, string, RegExp][] = [
      [silent.port, "require", /TLS handshake/],
      [silent.port, "disable", /startup and login/],
      [loggedIn.port, "disable", /waiting for a query/],
    ];
    for (const [port, mode, phase] of cases) {
      const server = port === silent.port ? silent : loggedIn;
      const before = server.connections.length;
      const { result, elapsedMs } = await runCheck(local(port, { POSTGRES_SSLMODE: mode }), 300);
      assertTimedOut(result, elapsedMs, 300);
      assert.match(result.message ?? "", phase);
      assert.equal(server.connections.length, before + 1, "exactly one connection per run");
      const connection = server.connections[before];
      assert.ok(connection.received > 0);
      assert.ok(
        await closesWithin(connection.closed, 200),
        "the check left its connection open after the timeout",
      );
    }
    // the query phase was reached: the check sent its query after the login
    assert.ok(loggedIn.connections[0].received > 100);
  } finally {
    await loggedIn.close();
    await silent.close();
  }
});

Deno.test("postgres reports timeout at the deadline when the TCP connect never completes", async () => {
  const hole = await blackholeListener();
  try {
    const { result, elapsedMs } = await runCheck(local(hole.port), 300);
    assertTimedOut(result, elapsedMs, 300);
    assert.match(result.message ?? "", /while connecting/);
  } finally {
    hole.close();
  }
});

Deno.test("postgres does not connect at all when the signal has already fired", async () => {
  const listener = scriptedListener();
  try {
    const controller = new AbortController();
    controller.abort();
    const result = await (await postgresCheck.load()).run(local(listener.port), {
      signal: controller.signal,
      memory: new Map(),
    }) as CheckResult;
    assert.equal(result.reason, "timeout");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(listener.connections.length, 0);
  } finally {
    await listener.close();
  }
});

Deno.test("postgres reports protocol for servers that are not PostgreSQL (SSH banner, HTTP)", async () => {
  const ssh = scriptedListener({
    greeting: new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("not postgres"),
  );
  try {
    for (const port of [ssh.port, http.addr.port]) {
      for (const mode of ["disable", "prefer", "require"]) {
        const { result, elapsedMs } = await runCheck(local(port, { POSTGRES_SSLMODE: mode }));
        assert.equal(result.status, "error");
        assert.equal(result.reason, "protocol", JSON.stringify(result));
        assert.match(result.message ?? "", /not a PostgreSQL server/);
        assert.match(result.message ?? "", port === ssh.port ? /SSH-2\.0/ : /HTTP\/1\.1 400/);
        assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
      }
    }
    for (const c of ssh.connections) assert.ok(await closesWithin(c.closed, 200));
  } finally {
    await ssh.close();
    await http.shutdown();
  }
});

Deno.test("postgres reports tls when TLS is required and the server declines it", async () => {
  const noTls = scriptedListener({
    answer: (chunk, index) => index === 0 && chunk.length === 8 ? new Uint8Array([0x4e]) : null,
  });
  try {
    for (const mode of ["require", "verify-full"]) {
      const { result } = await runCheck(local(noTls.port, { POSTGRES_SSLMODE: mode }));
      assert.equal(result.status, "error");
      assert.equal(result.reason, "tls");
      assert.match(result.message ?? "", /does not accept TLS/);
    }
  } finally {
    await noTls.close();
  }
});

/** A peer that answers the SSLRequest with "S" and then `then`: bytes, or closing (on the ClientHello or at once). */
function agreesToTls(then: Uint8Array | "close" | "close at once") {
  return serveTcp(async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    if (await conn.read(buffer) === null) return; // the SSLRequest
    await conn.write(new Uint8Array([0x53]));
    if (then === "close at once") return;
    if (await conn.read(buffer) === null) return; // the ClientHello
    if (then === "close") return;
    await conn.write(then);
    while (await conn.read(buffer) !== null) { /* until the client closes */ }
  });
}

Deno.test('postgres reports protocol, not tls, for a peer that agrees to TLS ("S") and then does not speak it', async () => {
  const notTls =
    /is not a PostgreSQL server: it agreed to TLS \("S"\), then sent bytes that are not TLS/;
  const closed = /did not start TLS after agreeing to \("S"\)/;
  const peers: [string, ReturnType<typeof agreesToTls>, RegExp][] = [
    [
      "plain HTTP",
      agreesToTls(
        new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
      ),
      notTls,
    ],
    ["binary bytes", agreesToTls(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3])), notTls],
    ["closing on the ClientHello", agreesToTls("close"), closed],
    ["closing right after the S", agreesToTls("close at once"), closed],
  ];
  // The contrast: a TLS peer that refuses the handshake with an alert is a TLS failure.
  const alert = agreesToTls(new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]));
  try {
    for (const mode of ["prefer", "require", "verify-full"]) {
      for (const [name, peer, message] of peers) {
        const { result } = await runCheck(local(peer.port, { POSTGRES_SSLMODE: mode }));
        assert.equal(result.status, "error");
        assert.equal(result.reason, "protocol", `${name}, ${mode}: ${JSON.stringify(result)}`);
        assert.match(result.message ?? "", message, name);
      }
      const { result } = await runCheck(local(alert.port, { POSTGRES_SSLMODE: mode }));
      assert.equal(result.reason, "tls", JSON.stringify(result));
      assert.match(result.message ?? "", /TLS handshake .* failed .*HandshakeFailure/);
      assert.equal(typeof result.details?.tls_error, "string");
    }
  } finally {
    for (const [, peer] of peers) await peer.close();
    await alert.close();
  }
});

Deno.test("postgres dials IPv6 literals: the TLS request reaches a server on [::1]", async () => {
  const listener = Deno.listen({ hostname: "::1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    await conn.write(new Uint8Array([0x4e])); // "N": no TLS here
    await conn.read(buffer).catch(() => null); // until the client closes
    conn.close();
    return n;
  })();
  try {
    const config = configOf({
      POSTGRES_HOST: "::1",
      POSTGRES_PORT: String(port),
      POSTGRES_USER: "checker",
      POSTGRES_SSLMODE: "require",
    });
    assert.deepEqual(postgresCheck.needs(config).net, [`[::1]:${port}`]);
    const { result } = await runCheck(config);
    assert.equal(result.target, `[::1]:${port}/postgres`);
    assert.equal(result.reason, "tls");
    assert.equal(await served, 8, "the server got the 8-byte SSLRequest");
  } finally {
    listener.close();
  }
});

Deno.test("postgres reports auth when the server asks for a method the driver cannot answer", async () => {
  // AuthenticationGSS (code 7): postgres.js would print "Unknown Auth" and wait forever
  const gss = scriptedListener({
    answer: (_chunk, index) => index === 0 ? new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 7]) : null,
  });
  try {
    const { result, elapsedMs } = await runCheck(local(gss.port, { POSTGRES_SSLMODE: "disable" }));
    assert.equal(result.status, "error");
    assert.equal(result.reason, "auth");
    assert.match(result.message ?? "", /request code 7/);
    assert.ok(elapsedMs < 1000);
  } finally {
    await gss.close();
  }
});

// ---------------------------------------------------------------------------
// A real PostgreSQL server (and a hot standby of it)

const DIRECT_METRICS = (db: string) => `
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

interface Direct {
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

const STATE_NAMES: Record<string, string> = {
  "active": "active",
  "idle": "idle",
  "idle in transaction": "idle_in_transaction",
  "hidden": "hidden",
};

function near(actual: unknown, expected: number, tolerance: number, what: string): void {
  assert.equal(typeof actual, "number", `${what} is missing`);
  assert.ok(
    Math.abs((actual as number) - expected) <= tolerance,
    `${what}: check said ${actual}, direct query ${expected} (±${tolerance})`,
  );
}

/** Waits until the check's own session is gone from the server. */
async function noCheckSessionLeft(server: PostgresServer): Promise<void> {
  await until("the check's session to end", async () =>
    (await server.psql(
      `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${APPLICATION_NAME}'`,
    )) === "0", 2000);
}

/** A client for the test's own workload (role `app`), outside the check. */
function appClient(server: PostgresServer): postgres.Sql {
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
async function hold(
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

/** Three rolled-back transactions and one deadlock in appdb. */
async function runWorkload(sql: postgres.Sql): Promise<void> {
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

async function release(held: postgres.ReservedSql[]): Promise<void> {
  for (const conn of held) {
    await conn`ROLLBACK`.catch(() => {});
    conn.release();
  }
}

Deno.test({
  name:
    "postgres against a real PostgreSQL server: metrics equal a direct query, TLS modes, auth, config, warn, replica, failing query, stopped server",
  ignore: skipUnlessAvailable(...POSTGRES_BINARIES),
  fn: async (t) => {
    const primary = await startPostgres({
      ssl: true,
      maxConnections: 10,
      superuserReserved: 1,
      settings: { deadlock_timeout: "'100ms'" },
    });
    let standby: PostgresServer | undefined;
    let app: postgres.Sql | undefined;
    const seen: string[] = [];
    const note = (name: string, r: CheckResult, ms?: number) =>
      seen.push(
        `${name}: ${r.status}${r.reason ? `/${r.reason}` : ""}${
          ms === undefined ? "" : ` (${ms.toFixed(1)} ms)`
        }`,
      );
    const checker = (server: PostgresServer, extra: Record<string, string> = {}) =>
      local(server.port, { POSTGRES_DB: "appdb", ...extra });
    try {
      await primary.psql(`
        CREATE ROLE checker LOGIN PASSWORD '${PW.checker}';
        GRANT pg_monitor TO checker;
        CREATE ROLE limited LOGIN PASSWORD '${PW.limited}';
        CREATE ROLE nologin NOLOGIN PASSWORD '${PW.nologin}';
        CREATE ROLE serial LOGIN PASSWORD '${PW.serial}';
        ALTER ROLE serial SET default_transaction_isolation = 'serializable';
        CREATE ROLE app LOGIN PASSWORD '${PW.app}';`);
      await primary.psql("CREATE DATABASE appdb OWNER app");
      // function privileges belong to each database: appdb is the hardened one
      await primary.psql(
        `CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
         INSERT INTO t SELECT g, 0 FROM generate_series(1, 1000) g;
         ALTER TABLE t OWNER TO app;
         REVOKE EXECUTE ON FUNCTION pg_postmaster_start_time() FROM PUBLIC;
         GRANT EXECUTE ON FUNCTION pg_postmaster_start_time() TO checker;`,
        "appdb",
      );

      await t.step("workload: three rollbacks and one deadlock in appdb", async () => {
        // its own client: a backend flushes its statistics when it exits (an idle
        // one only every 10 s)
        const burst = appClient(primary);
        try {
          await runWorkload(burst);
        } finally {
          await burst.end({ timeout: 1 });
        }
        await until("the deadlock and rollbacks to reach pg_stat_database", async () => {
          const s = await primary.queryJson<{ d: number; r: number }>(
            "SELECT json_build_object('d', deadlocks, 'r', xact_rollback) FROM pg_stat_database WHERE datname = 'appdb'",
          );
          return s.d === 1 && s.r >= 3;
        });
      });

      app = appClient(primary);
      const workload = app;
      // two idle sessions and one idle in a transaction, held by another role
      const held = [...await hold(workload, 2), ...await hold(workload, 1, true)];

      await t.step(
        "ok: every metric present and equal to a direct query (sslmode prefer → TLS)",
        async () => {
          const config = checker(primary);
          const durations: number[] = [];
          let last: CheckResult | undefined;
          for (let i = 0; i < 5; i++) {
            const { result, elapsedMs } = await runCheck(config);
            assert.equal(result.status, "ok", JSON.stringify(result));
            durations.push(elapsedMs);
            last = result;
          }
          await noCheckSessionLeft(primary);
          const direct = await primary.queryJson<Direct>(DIRECT_METRICS("appdb"));
          const result = last!;
          const d = result.details!;
          assert.equal(result.target, `127.0.0.1:${primary.port}/appdb`);
          assert.equal(result.reason, undefined);
          assert.equal(d.tls, true);
          assert.equal(d.tls_protocol, "TLSv1.3");
          assert.equal(d.server_version, direct.server_version);
          assert.equal(d.server_version_num, direct.server_version_num);
          assert.equal(d.max_connections, direct.max_connections);
          assert.equal(d.max_connections, 10);
          assert.equal(d.superuser_reserved_connections, direct.superuser_reserved_connections);
          assert.equal(d.in_recovery, false);
          assert.equal(d.in_recovery, direct.in_recovery);
          // the check's own session is counted by the check, psql's by the direct query
          near(d.connections_total, direct.connections_total, 1, "connections_total");
          assert.equal(d.connections_total, 4);
          const byState = d.connections_by_state as Record<string, number>;
          for (const [state, key] of Object.entries(STATE_NAMES)) {
            const expected = direct.states[state] ?? 0;
            near(byState[key], expected, key === "active" ? 1 : 0, `connections_by_state.${key}`);
          }
          assert.equal(byState.idle, 2);
          assert.equal(byState.idle_in_transaction, 1);
          assert.equal(
            Object.values(byState).reduce((a, b) => a + b, 0),
            d.connections_total,
          );
          assert.equal(d.connections_used_pct, 40);
          near(
            d.database_size_bytes,
            direct.database_size_bytes,
            256 * 1024,
            "database_size_bytes",
          );
          near(d.uptime_seconds, direct.uptime_seconds, 2, "uptime_seconds");
          // the check's own transactions reach the statistics after its session ends
          assert.ok((d.commits as number) > 0);
          assert.ok(direct.commits >= (d.commits as number), "commits went down");
          near(d.commits, direct.commits, 20, "commits");
          assert.equal(d.rollbacks, direct.rollbacks);
          assert.ok((d.rollbacks as number) >= 3);
          assert.equal(d.deadlocks, direct.deadlocks);
          assert.equal(d.deadlocks, 1);
          assert.equal(d.replay_lag_seconds, undefined);
          assert.equal(d.notes, undefined);
          durations.sort((a, b) => a - b);
          const median = durations[2];
          assert.ok(median < 1000, `a successful check took ${median} ms`);
          note("ok (prefer/TLS), median of 5", result, median);
          console.log(
            `postgres: successful check durations (ms): ${
              durations.map((x) => x.toFixed(1)).join(", ")
            }`,
          );
        },
      );

      await t.step(
        "ok in a separate process started with only the permissions the module declares",
        async () => {
          for (const [password, expected] of [[PW.checker, "ok"], [PW.wrong, "auth"]]) {
            const vars = {
              POSTGRES_HOST: "127.0.0.1",
              POSTGRES_PORT: String(primary.port),
              POSTGRES_USER: "checker",
              POSTGRES_PASSWORD: password,
              POSTGRES_DB: "appdb",
            };
            const needs = postgresCheck.needs(configOf(vars));
            const child = spawnDeno([
              "run",
              `--allow-net=${needs.net!.join(",")}`,
              `--allow-env=${[...moduleEnvNames(postgresCheck), ...needs.env!].join(",")}`,
              "tests/fixtures/postgres/run_check.ts",
            ], vars);
            const status = await child.exit(20_000);
            assert.equal(status.code, 0, child.stderr.join("\n"));
            const result = JSON.parse(child.stdout.at(-1) ?? "{}") as CheckResult;
            assert.equal(result.reason ?? result.status, expected, JSON.stringify(result));
            assertNoSecret(child.stdout.join("\n") + child.stderr.join("\n"), password);
            note(`separate process, ${expected === "ok" ? "right" : "wrong"} password`, result);
          }
        },
      );

      await t.step("sslmode disable, require and verify-full with the test CA: ok", async () => {
        const cases: [Record<string, string>, boolean][] = [
          [{ POSTGRES_SSLMODE: "disable" }, false],
          [{ POSTGRES_SSLMODE: "require" }, true],
          [{ POSTGRES_SSLMODE: "verify-full", POSTGRES_SSLROOTCERT: TEST_CA_FILE }, true],
        ];
        for (const [extra, tls] of cases) {
          const { result } = await runCheck(checker(primary, extra));
          assert.equal(result.status, "ok", JSON.stringify(result));
          assert.equal(result.details?.tls, tls);
          assert.equal(typeof result.details?.uptime_seconds, "number");
          note(`sslmode=${extra.POSTGRES_SSLMODE}`, result);
        }
      });

      await t.step("verify-full against a certificate from an unknown CA: tls", async () => {
        const { result } = await runCheck(checker(primary, { POSTGRES_SSLMODE: "verify-full" }));
        assert.equal(result.status, "error");
        assert.equal(result.reason, "tls");
        assert.match(result.message ?? "", /TLS handshake .* failed/);
        assert.equal(typeof result.details?.tls_error, "string");
        note("verify-full, unknown CA", result);
      });

      await t.step(
        "wrong password, unknown role, NOLOGIN role: auth; unknown database: config",
        async () => {
          const cases: [string, Record<string, string>, string, string, string][] = [
            ["wrong password", { POSTGRES_PASSWORD: PW.wrong }, "auth", "28P01", PW.wrong],
            ["unknown role", { POSTGRES_USER: "ghost" }, "auth", "28P01", PW.checker],
            [
              "NOLOGIN role",
              { POSTGRES_USER: "nologin", POSTGRES_PASSWORD: PW.nologin },
              "auth",
              "28000",
              PW.nologin,
            ],
            ["unknown database", { POSTGRES_DB: "nosuchdb" }, "config", "3D000", PW.checker],
          ];
          for (const [name, extra, reason, sqlstate, password] of cases) {
            for (const mode of ["disable", "require"]) {
              const { result } = await runCheck(
                checker(primary, { ...extra, POSTGRES_SSLMODE: mode }),
              );
              assert.equal(result.status, "error");
              assert.equal(result.reason, reason, `${name}: ${JSON.stringify(result)}`);
              assert.equal(result.details?.sqlstate, sqlstate);
              assertNoSecret(result, password, PW.checker);
              if (mode === "disable") note(name, result);
            }
          }
          await noCheckSessionLeft(primary);
        },
      );

      await t.step(
        "a role without pg_monitor and without uptime access: ok, those metrics left out with notes",
        async () => {
          const { result } = await runCheck(
            checker(primary, { POSTGRES_USER: "limited", POSTGRES_PASSWORD: PW.limited }),
          );
          assert.equal(result.status, "ok", JSON.stringify(result));
          const d = result.details!;
          assert.equal(d.uptime_seconds, undefined);
          const byState = d.connections_by_state as Record<string, number>;
          assert.equal(byState.hidden, 3, "the workload's three sessions are hidden");
          assert.equal(byState.active, 1, "its own session is visible");
          assert.equal(d.connections_total, 4);
          for (const key of ["server_version", "database_size_bytes", "commits", "deadlocks"]) {
            assert.notEqual(d[key], undefined, key);
          }
          const notes = d.notes as string[];
          assert.equal(notes.length, 2);
          assert.match(
            notes[0],
            /^uptime_seconds: left out, limited may not read them \(SQLSTATE 42501\)/,
          );
          assert.match(notes[1], /^connections_by_state\.hidden: .* 3 session/);
          note("role without pg_monitor", result);
        },
      );

      await t.step(
        "warn when the connections in use reach POSTGRES_WARN_CONNECTIONS_PCT",
        async () => {
          // 3 held + 5 more + the check's own = 9 of max_connections 10
          const crowd = appClient(primary);
          const crowded: postgres.ReservedSql[] = [];
          try {
            crowded.push(...await hold(crowd, 5));
            const { result } = await runCheck(checker(primary));
            assert.equal(result.status, "warn", JSON.stringify(result));
            assert.equal(result.reason, "threshold");
            assert.equal(result.details?.connections_total, 9);
            assert.equal(result.details?.connections_used_pct, 90);
            assert.match(
              result.message ?? "",
              /^9 of 10 connections in use \(90%\), at or above POSTGRES_WARN_CONNECTIONS_PCT=90%/,
            );
            note("9 of 10 connections, default threshold 90", result);

            const higher = await runCheck(
              checker(primary, { POSTGRES_WARN_CONNECTIONS_PCT: "95" }),
            );
            assert.equal(higher.result.status, "ok");
            assert.equal(higher.result.details?.connections_used_pct, 90);
            note("9 of 10 connections, threshold 95", higher.result);

            // one more: no slot is left for a non-superuser
            crowded.push(...await hold(crowd, 1));
            const { result: full } = await runCheck(checker(primary));
            assert.equal(full.status, "error");
            assert.equal(full.reason, "unavailable");
            assert.equal(full.details?.sqlstate, "53300");
            note("no connection slot left", full);
          } finally {
            await release(crowded);
            await crowd.end({ timeout: 1 });
          }
        },
      );
      await release(held);
      await app.end({ timeout: 1 });
      app = appClient(primary);
      const writer = app;

      standby = await startPostgres({
        standbyOf: primary,
        maxConnections: 10,
        superuserReserved: 1,
      });
      const replica = standby;

      await t.step("hot standby in sync: in_recovery and a replay lag of 0", async () => {
        await writer`INSERT INTO t VALUES (1001, 1)`;
        await until("the standby to replay the insert", async () =>
          (await replica.psql(
            "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AND pg_last_xact_replay_timestamp() IS NOT NULL",
          )) === "t");
        const { result } = await runCheck(checker(replica));
        assert.equal(result.status, "ok", JSON.stringify(result));
        const direct = await replica.queryJson<Direct>(DIRECT_METRICS("appdb"));
        assert.equal(result.details?.in_recovery, true);
        assert.equal(direct.in_recovery, true);
        assert.equal(result.details?.tls, false);
        assert.equal(result.details?.replay_lag_seconds, 0);
        assert.equal(direct.replay_lag_seconds, 0);
        assert.equal(result.details?.deadlocks, direct.deadlocks);
        note("standby in sync", result);
      });

      await t.step(
        "hot standby with replay paused: replay lag equal to a direct query",
        async () => {
          await replica.psql("SELECT pg_wal_replay_pause()");
          try {
            await until(
              "replay to pause",
              async () =>
                (await replica.psql("SELECT pg_get_wal_replay_pause_state()")) === "paused",
            );
            await new Promise((r) => setTimeout(r, 1100));
            await writer`INSERT INTO t VALUES (1002, 2)`;
            await until(
              "the standby to receive WAL it does not replay",
              async () =>
                (await replica.psql(
                  "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()",
                )) === "t",
            );
            const { result } = await runCheck(checker(replica));
            const direct = await replica.queryJson<Direct>(DIRECT_METRICS("appdb"));
            assert.equal(result.status, "ok", JSON.stringify(result));
            const lag = result.details?.replay_lag_seconds as number;
            assert.ok(lag >= 1, `lag ${lag}`);
            near(lag, direct.replay_lag_seconds!, 2, "replay_lag_seconds");
            note("standby with replay paused", result);
          } finally {
            await replica.psql("SELECT pg_wal_replay_resume()");
          }
        },
      );

      await t.step("a query failing after a good connect: the SQLSTATE in details", async () => {
        // default_transaction_isolation=serializable cannot run on a hot standby
        const { result } = await runCheck(
          checker(replica, { POSTGRES_USER: "serial", POSTGRES_PASSWORD: PW.serial }),
        );
        assert.equal(result.status, "error");
        assert.equal(result.reason, "unavailable", JSON.stringify(result));
        assert.equal(result.details?.sqlstate, "0A000");
        assert.equal(result.details?.query, "health");
        assert.match(result.message ?? "", /failed after a good connect: cannot use serializable/);
        assertNoSecret(result, PW.serial);
        note("query fails after login (serializable on a standby)", result);
        // the same role on the primary is fine
        const { result: onPrimary } = await runCheck(
          checker(primary, { POSTGRES_USER: "serial", POSTGRES_PASSWORD: PW.serial }),
        );
        assert.equal(onPrimary.status, "ok", JSON.stringify(onPrimary));
      });

      await t.step("TLS required by the check, server without ssl: tls", async () => {
        for (const mode of ["require", "verify-full"]) {
          const { result } = await runCheck(checker(replica, { POSTGRES_SSLMODE: mode }));
          assert.equal(result.status, "error");
          assert.equal(result.reason, "tls");
          assert.match(result.message ?? "", /does not accept TLS/);
          note(`sslmode=${mode} against a server with ssl=off`, result);
        }
        const { result } = await runCheck(checker(replica, { POSTGRES_SSLMODE: "prefer" }));
        assert.equal(result.status, "ok");
        assert.equal(result.details?.tls, false);
      });
      await noCheckSessionLeft(replica);
      await noCheckSessionLeft(primary);

      await t.step("the server stopped: refused", async () => {
        await primary.stop();
        const { result } = await runCheck(checker(primary));
        assert.equal(result.status, "error");
        assert.equal(result.reason, "refused");
        note("server stopped", result);
      });
      console.log(`postgres real-server cases:\n  ${seen.join("\n  ")}`);
    } finally {
      await app?.end({ timeout: 1 }).catch(() => {});
      await standby?.destroy();
      await primary.destroy();
    }
  },
});

import assert from "node:assert/strict";
import mysql2 from "mysql2/promise";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  blackholeListener,
  closedPort,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import {
  type MariaDb,
  MARIADB_BINARIES,
  startMariaDb,
} from "../../tests/support/mariadb_server.ts";
import {
  type FakeBehaviour,
  type FakeMysql,
  handshakePacket,
  startFakeMysql,
  startTlsFakeMysql,
} from "../../tests/support/mysql_fakes.ts";
import { ROOT, waitFor } from "../../tests/support/processes.ts";
import { classifyMysqlError, scrub } from "./errors.ts";
import { inspectGreeting, previewBytes } from "./greeting.ts";
import { PROBE_WAIT_MS } from "./link.ts";
import { collect, percent, QUERIES, replicationDetails, statusDetails } from "./metrics.ts";
import { mysql, type MysqlConfig } from "./mod.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { moduleEnvNames, secretVariables } from "../../src/config_modules.ts";

const FIXTURES = `${ROOT}tests/fixtures/mysql`;
/** Scheduling slack allowed on top of a deadline. */
const MARGIN_MS = 500;

function specs(vars: Record<string, string>) {
  return mysql.parse((name) => vars[name]);
}

function configOf(vars: Record<string, string>): MysqlConfig {
  const [spec] = specs(vars);
  return unitConfig(spec);
}

/** One run with a deadline, the way the scheduler runs it; also returns how long it took. */
async function runCheck(
  config: MysqlConfig,
  deadlineMs = 3_000,
): Promise<{ result: CheckResult; elapsedMs: number }> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("deadline", "TimeoutError")),
    deadlineMs,
  );
  const started = performance.now();
  try {
    const result = await (await mysql.load()).run(config, {
      signal: controller.signal,
      memory: new Map(),
    });
    assert.ok(!Array.isArray(result));
    return { result, elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function assertNoSecret(result: CheckResult, ...secrets: string[]) {
  const text = JSON.stringify(result);
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a password leaked into ${text}`);
  }
}

function assertError(result: CheckResult, reason: string) {
  assert.equal(result.status, "error", JSON.stringify(result));
  assert.equal(result.reason, reason, JSON.stringify(result));
  assert.ok(result.message && result.message.length > 0);
}

// --- configuration ---------------------------------------------------------

Deno.test("mysql parses its variables with the documented defaults", () => {
  const config = configOf({ MYSQL_HOST: "db.local", MYSQL_USER: "monitor" });
  assert.deepEqual(config, {
    host: "db.local",
    port: 3306,
    target: "db.local:3306",
    user: "monitor",
    password: "",
    ssl: false,
    warnConnectionsPct: 90,
    connectTimeoutMs: 3_000,
  });
  assert.deepEqual(mysql.needs(config), { net: ["db.local:3306"] });
  assert.deepEqual(secretVariables(mysql), ["MYSQL_PASSWORD"]);
});

Deno.test("mysql takes every variable and writes IPv6 targets in brackets", () => {
  for (const host of ["::1", "[::1]"]) {
    const config = configOf({
      MYSQL_HOST: host,
      MYSQL_PORT: "3307",
      MYSQL_USER: "u",
      MYSQL_PASSWORD: " pw with blanks ",
      MYSQL_DATABASE: "app",
      MYSQL_SSL: "true",
      MYSQL_WARN_CONNECTIONS_PCT: "75",
      MYSQL_CONNECT_TIMEOUT_SECONDS: "1.5",
    });
    assert.equal(config.host, "::1");
    assert.equal(config.target, "[::1]:3307");
    assert.equal(config.password, " pw with blanks ");
    assert.equal(config.database, "app");
    assert.equal(config.ssl, true);
    assert.equal(config.warnConnectionsPct, 75);
    assert.equal(config.connectTimeoutMs, 1_500);
    assert.deepEqual(mysql.needs(config), { net: ["[::1]:3307"] });
  }
});

Deno.test("mysql turns each bad value into a config error naming the variable, never the password", () => {
  const base = { MYSQL_HOST: "127.0.0.1", MYSQL_USER: "u", MYSQL_PASSWORD: "hunter2-secret" };
  const cases: [Record<string, string>, RegExp][] = [
    [{ ...base, MYSQL_HOST: "" }, /^MYSQL_HOST: is required/],
    [{ ...base, MYSQL_USER: " " }, /^MYSQL_USER: is required/],
    [{ ...base, MYSQL_HOST: "bad host" }, /^MYSQL_HOST: /],
    [{ ...base, MYSQL_HOST: "db.local:3306" }, /^MYSQL_HOST: .*port in MYSQL_PORT/],
    [{ ...base, MYSQL_HOST: "[::1" }, /^MYSQL_HOST: /],
    [{ ...base, MYSQL_HOST: "fe80::zz" }, /^MYSQL_HOST: /],
    [{ ...base, MYSQL_PORT: "0" }, /^MYSQL_PORT: /],
    [{ ...base, MYSQL_PORT: "3306x" }, /^MYSQL_PORT: /],
    [{ ...base, MYSQL_SSL: "maybe" }, /^MYSQL_SSL: must be true or false/],
    [{ ...base, MYSQL_HOST: "a:b:c" }, /^MYSQL_HOST: "a:b:c" is not a host name or IP address/],
    [{ ...base, MYSQL_HOST: ":80" }, /^MYSQL_HOST: ":80" holds a port/],
    [{ ...base, MYSQL_WARN_CONNECTIONS_PCT: "0" }, /^MYSQL_WARN_CONNECTIONS_PCT: /],
    [{ ...base, MYSQL_WARN_CONNECTIONS_PCT: "101" }, /^MYSQL_WARN_CONNECTIONS_PCT: /],
    [{ ...base, MYSQL_CONNECT_TIMEOUT_SECONDS: "-1" }, /^MYSQL_CONNECT_TIMEOUT_SECONDS: /],
  ];
  for (const [vars, pattern] of cases) {
    const all = specs(vars);
    assert.equal(all.length, 1);
    assert.equal(all[0].ok, false);
    assert.match(unitError(all[0]), pattern);
    assert.ok(!unitError(all[0]).includes("hunter2-secret"));
    assert.equal(all[0].targets.length, 1);
  }
  assert.deepEqual(specs({ ...base, MYSQL_USER: "" })[0].targets, ["127.0.0.1:3306"]);
});

Deno.test("mysql reads only the variables it lists", () => {
  const read = new Set<string>();
  mysql.parse((name) => {
    read.add(name);
    return { MYSQL_HOST: "h", MYSQL_USER: "u" }[name];
  });
  for (const name of read) {
    assert.ok(moduleEnvNames(mysql).includes(name), `${name} is read but not listed`);
  }
  assert.ok(read.size >= 7);
});

// --- pure parts ------------------------------------------------------------

Deno.test("inspectGreeting() tells a MySQL greeting from other protocols' first bytes", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(inspectGreeting(handshakePacket()), "mysql");
  assert.equal(inspectGreeting(handshakePacket().subarray(0, 4)), "incomplete");
  // "Too many connections" sent instead of a greeting
  assert.equal(inspectGreeting(Uint8Array.from([0x17, 0, 0, 0, 0xff, 0x10, 0x04, 0x54])), "mysql");
  assert.equal(inspectGreeting(text("SSH-2.0-OpenSSH_9.2p1\r\n")), "other");
  assert.equal(inspectGreeting(text("HTTP/1.1 400 Bad Request\r\n")), "other");
  assert.equal(inspectGreeting(text("220 mail ESMTP\r\n")), "other");
  assert.equal(inspectGreeting(text("+OK")), "other");
  assert.equal(inspectGreeting(Uint8Array.from([5, 0, 0, 0, 0x42, 1, 2, 3, 4])), "other");
  assert.equal(previewBytes(text("HTTP/1.1 400\r\n\x00")), "HTTP/1.1 400\\r\\n\\x00");
});

Deno.test("classifyMysqlError() maps server errors, TLS and network failures to reasons", () => {
  const serverError = (errno: number, sqlState: string, message: string) =>
    Object.assign(new Error(message), { errno, sqlState, code: "ER_X" });
  const at = (phase: "connect" | "greeting" | "login" | "query", greeted = true) => ({
    target: "db:3306",
    user: "monitor",
    phase,
    greeted,
  });
  const cases: [unknown, ReturnType<typeof at>, string][] = [
    [serverError(1045, "28000", "Access denied"), at("login"), "auth"],
    [serverError(1698, "28000", "Access denied"), at("login"), "auth"],
    [serverError(1820, "HY000", "You must SET PASSWORD"), at("query"), "auth"],
    [serverError(1049, "42000", "Unknown database 'x'"), at("login"), "config"],
    [serverError(1044, "42000", "Access denied to database 'x'"), at("login"), "config"],
    [serverError(1040, "08004", "Too many connections"), at("login"), "unavailable"],
    [serverError(1226, "42000", "exceeded max_queries_per_hour"), at("query"), "unavailable"],
    [Object.assign(new Error("no TLS"), { code: "HANDSHAKE_NO_SSL_SUPPORT" }), at("login"), "tls"],
    [Object.assign(new Error("self-signed"), { code: "HANDSHAKE_SSL_ERROR" }), at("login"), "tls"],
    [
      Object.assign(new Error("refused"), { code: "ECONNREFUSED" }),
      at("connect", false),
      "refused",
    ],
    [
      Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }),
      at("connect"),
      "dns",
    ],
    [
      new Deno.errors.NotCapable('Requires net access to "x:1"'),
      at("connect", false),
      "permission",
    ],
    [
      Object.assign(new Error("lost"), { code: "PROTOCOL_CONNECTION_LOST" }),
      at("greeting", false),
      "protocol",
    ],
    [
      Object.assign(new Error("lost"), { code: "PROTOCOL_CONNECTION_LOST" }),
      at("query"),
      "unavailable",
    ],
    [new RangeError("offset out of range"), at("login"), "protocol"],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), at("connect", false), "refused"],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), at("greeting", false), "protocol"],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), at("login"), "unavailable"],
    [
      Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }),
      at("greeting", false),
      "timeout",
    ],
  ];
  for (const [error, context, reason] of cases) {
    const failure = classifyMysqlError(error, context);
    assert.equal(failure.reason, reason, `${(error as Error).message} → ${failure.message}`);
    assert.ok(failure.message.length > 0);
  }
  const denied = classifyMysqlError(serverError(1045, "28000", "Access denied"), at("login"));
  assert.deepEqual(denied.details, { phase: "login", error_code: 1045, sql_state: "28000" });
});

Deno.test("scrub() removes every occurrence of the password", () => {
  assert.equal(scrub("mysql://u:pw1@h pw1", "pw1"), "mysql://u:***@h ***");
  assert.equal(scrub("nothing to hide", ""), "nothing to hide");
});

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

// --- failures without a MySQL server ---------------------------------------

Deno.test("mysql reports refused for a closed port", async () => {
  const { result } = await runCheck(configOf({
    MYSQL_HOST: "127.0.0.1",
    MYSQL_PORT: String(closedPort()),
    MYSQL_USER: "u",
  }));
  assertError(result, "refused");
});

Deno.test("mysql reports dns for a name that does not resolve", async () => {
  const { result } = await runCheck(configOf({ MYSQL_HOST: UNRESOLVABLE_HOST, MYSQL_USER: "u" }));
  assertError(result, "dns");
});

Deno.test("mysql reports permission when the agent may not dial the target", async () => {
  // Deno refuses before any packet is sent: the test's --allow-net does not list 127.0.0.2.
  const { result } = await runCheck(configOf({ MYSQL_HOST: "127.0.0.2", MYSQL_USER: "u" }));
  assertError(result, "permission");
});

Deno.test("mysql reports timeout at the deadline for a listener that accepts and never answers", async () => {
  const silent = silentListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(silent.port), MYSQL_USER: "u" }),
      800,
    );
    assertError(result, "timeout");
    assert.equal(result.details?.phase, "greeting");
    assert.ok(elapsedMs >= 790 && elapsedMs < 800 + MARGIN_MS, `took ${elapsedMs} ms`);
    assert.equal(silent.accepted(), 1);
  } finally {
    await silent.close();
  }
});

Deno.test("mysql reports timeout after its connect timeout when a silent peer ignores the probe line", async () => {
  const silent = silentListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({
        MYSQL_HOST: "127.0.0.1",
        MYSQL_PORT: String(silent.port),
        MYSQL_USER: "u",
        MYSQL_CONNECT_TIMEOUT_SECONDS: "0.3",
      }),
      3_000,
    );
    assertError(result, "timeout");
    assert.match(result.message ?? "", /sent no MySQL greeting within 0.3 s/);
    const expected = 300 + PROBE_WAIT_MS;
    assert.ok(
      elapsedMs >= expected - 10 && elapsedMs < expected + MARGIN_MS,
      `took ${elapsedMs} ms`,
    );
  } finally {
    await silent.close();
  }
});

Deno.test("mysql reports timeout at the deadline for a TCP connect that never completes", async () => {
  const hole = await blackholeListener();
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(hole.port), MYSQL_USER: "u" }),
      500,
    );
    assertError(result, "timeout");
    assert.equal(result.details?.phase, "connect");
    assert.ok(elapsedMs >= 490 && elapsedMs < 500 + MARGIN_MS, `took ${elapsedMs} ms`);
  } finally {
    hole.close();
  }
});

Deno.test("mysql reports protocol for an HTTP server on the port", async (t) => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("not MySQL"),
  );
  try {
    await t.step("the silent HTTP server answers the probe line: protocol", async () => {
      const { result, elapsedMs } = await runCheck(
        configOf({
          MYSQL_HOST: "127.0.0.1",
          MYSQL_PORT: String(server.addr.port),
          MYSQL_USER: "u",
          MYSQL_CONNECT_TIMEOUT_SECONDS: "0.5",
        }),
        3_000,
      );
      assertError(result, "protocol");
      assert.match(result.message ?? "", /is not a MySQL server: .*HTTP\/1\.1 400/);
      assert.ok(elapsedMs >= 490 && elapsedMs < 500 + MARGIN_MS, `took ${elapsedMs} ms`);
    });
    await t.step(
      "with a deadline shorter than the connect timeout it stays a timeout",
      async () => {
        const { result, elapsedMs } = await runCheck(
          configOf({
            MYSQL_HOST: "127.0.0.1",
            MYSQL_PORT: String(server.addr.port),
            MYSQL_USER: "u",
          }),
          600,
        );
        assertError(result, "timeout");
        assert.ok(elapsedMs < 600 + MARGIN_MS, `took ${elapsedMs} ms`);
      },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("mysql reports protocol at once for a server that speaks another protocol first", async () => {
  const fake = startFakeMysql({
    kind: "banner",
    bytes: new TextEncoder().encode("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
  });
  try {
    const { result, elapsedMs } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
    );
    assertError(result, "protocol");
    assert.match(String(result.details?.answer), /^SSH-2\.0-OpenSSH/);
    assert.ok(elapsedMs < 500, `took ${elapsedMs} ms`);
    await waitFor("the client to close", () => fake.closedByClient() === 1, 2_000);
  } finally {
    await fake.close();
  }
});

Deno.test("mysql reports unavailable for an error packet sent in place of the greeting", async () => {
  const message = new TextEncoder().encode("Too many connections");
  const payload = [0xff, 0x10, 0x04, ...message]; // error 1040, no SQL state
  const fake = startFakeMysql({
    kind: "banner",
    bytes: Uint8Array.from([payload.length, 0, 0, 0, ...payload]),
  });
  try {
    const { result } = await runCheck(
      configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
    );
    assertError(result, "unavailable");
    assert.equal(result.details?.error_code, 1040);
    assert.match(result.message ?? "", /Too many connections/);
    await waitFor("the client to close", () => fake.closedByClient() === 1, 2_000);
  } finally {
    await fake.close();
  }
});

Deno.test("mysql honours the deadline in every phase and closes its connection", async (t) => {
  // Each case: a fake that stalls in one phase, the run's deadline, and what the result must say.
  const cases: Array<{
    name: string;
    behaviour: FakeBehaviour;
    vars: Record<string, string>;
    deadlineMs: number;
    /** When the run must end (the deadline, or the shorter connect timeout). */
    endsAtMs: number;
    expect: (result: CheckResult, fake: FakeMysql) => void;
  }> = [
    {
      name: "login never answered (plain)",
      behaviour: { kind: "greet-then-silent" },
      vars: { MYSQL_PASSWORD: "fake-pw-1" },
      deadlineMs: 500,
      endsAtMs: 500,
      expect: (result) => assert.equal(result.details?.phase, "login"),
    },
    {
      name: "TLS handshake never answered (MYSQL_SSL=true)",
      behaviour: { kind: "greet-then-silent", ssl: true },
      vars: { MYSQL_SSL: "true" },
      deadlineMs: 500,
      endsAtMs: 500,
      expect: (result) => assert.equal(result.details?.phase, "login"),
    },
    {
      name: "login stalls past MYSQL_CONNECT_TIMEOUT_SECONDS",
      behaviour: { kind: "greet-then-silent" },
      vars: { MYSQL_CONNECT_TIMEOUT_SECONDS: "0.3" },
      deadlineMs: 3_000,
      endsAtMs: 300,
      expect: (result) =>
        assert.match(result.message ?? "", /login .* did not complete within 0.3 s/),
    },
    {
      name: "query never answered",
      behaviour: { kind: "login-then-silent" },
      vars: {},
      deadlineMs: 500,
      endsAtMs: 500,
      expect: (result, fake) => {
        assert.equal(result.details?.phase, "query");
        assert.equal(result.details?.query, "select_1");
        assert.deepEqual(fake.queries(), [QUERIES.select_1]);
      },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const fake = startFakeMysql(c.behaviour);
      try {
        const { result, elapsedMs } = await runCheck(
          configOf({
            MYSQL_HOST: "127.0.0.1",
            MYSQL_PORT: String(fake.port),
            MYSQL_USER: "u",
            ...c.vars,
          }),
          c.deadlineMs,
        );
        assertError(result, "timeout");
        c.expect(result, fake);
        assert.ok(
          elapsedMs >= c.endsAtMs - 10 && elapsedMs < c.endsAtMs + MARGIN_MS,
          `took ${elapsedMs} ms`,
        );
        await waitFor("the client to close", () => fake.closedByClient() === 1, 2_000);
      } finally {
        await fake.close();
      }
    });
  }

  await t.step("an already aborted signal ends the run at once", async () => {
    const fake = startFakeMysql({ kind: "login-then-silent" });
    try {
      const controller = new AbortController();
      controller.abort();
      const started = performance.now();
      const result = await (await mysql.load()).run(
        configOf({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(fake.port), MYSQL_USER: "u" }),
        { signal: controller.signal, memory: new Map() },
      );
      assert.ok(!Array.isArray(result));
      assertError(result, "timeout");
      assert.ok(performance.now() - started < 200);
    } finally {
      await fake.close();
    }
  });
});

/** Runs the check in a child `deno` granted only `needs()`, trusting the fixture CA; `elapsedMs` is the run's own. */
async function runInChild(
  vars: Record<string, string>,
  deadlineMs = 5_000,
): Promise<{ result: CheckResult; elapsedMs: number }> {
  const needs = mysql.needs(configOf(vars));
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      `--allow-net=${needs.net!.join(",")}`,
      "tests/support/mysql_run_once.ts",
      JSON.stringify(vars),
      String(deadlineMs),
    ],
    cwd: ROOT,
    env: { DENO_CERT: `${FIXTURES}/ca.pem`, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

Deno.test("mysql honours the deadline after TLS is up, while the login is unanswered", async () => {
  const fake = await startTlsFakeMysql(`${FIXTURES}/server.pem`, `${FIXTURES}/server-key.pem`);
  try {
    const { result, elapsedMs } = await runInChild(
      {
        MYSQL_HOST: "127.0.0.1",
        MYSQL_PORT: String(fake.port),
        MYSQL_USER: "u",
        MYSQL_SSL: "true",
      },
      800,
    );
    assertError(result, "timeout");
    assert.equal(result.details?.phase, "login");
    assert.ok(elapsedMs >= 790 && elapsedMs < 800 + MARGIN_MS, `took ${elapsedMs} ms`);
    assert.ok(fake.loginBytes() > 0, "the login never arrived over TLS");
    await waitFor(
      "the client to close the TLS connection",
      () => fake.closedByClient() === 1,
      2_000,
    );
  } finally {
    await fake.close();
  }
});

// --- against a real MariaDB ------------------------------------------------

type Row = Record<string, unknown>;

/** A TCP session of the test itself, to read what the server says about itself. */
async function observe(db: MariaDb, user: string, password: string) {
  const conn = await mysql2.createConnection({ host: "127.0.0.1", port: db.port, user, password });
  return {
    conn,
    async status(): Promise<Map<string, number>> {
      const [rows] = await conn.query("SHOW GLOBAL STATUS");
      return new Map((rows as Row[]).map((r) => [String(r.Variable_name), Number(r.Value)]));
    },
    async scalar(sql: string): Promise<unknown> {
      const [rows] = await conn.query(sql);
      return Object.values((rows as Row[])[0])[0];
    },
    close: () => conn.end(),
  };
}

function secret(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}#Pw!`;
}

Deno.test({
  name: "mysql against a real MariaDB server",
  ignore: skipUnlessAvailable(...MARIADB_BINARIES),
  fn: async (t) => {
    const pw = {
      monitor: secret("monitor"),
      plain: secret("plain"),
      observer: secret("observer"),
      expired: secret("expired"),
      limited: secret("limited"),
    };
    const allSecrets = Object.values(pw);
    const db = await startMariaDb({
      bindAddress: "127.0.0.1,::1",
      args: [
        `--ssl-cert=${FIXTURES}/server.pem`,
        `--ssl-key=${FIXTURES}/server-key.pem`,
        `--ssl-ca=${FIXTURES}/ca.pem`,
      ],
    });
    try {
      await db.sql(`
        CREATE DATABASE app;
        CREATE USER 'monitor'@'%' IDENTIFIED BY '${pw.monitor}';
        GRANT PROCESS, SLAVE MONITOR ON *.* TO 'monitor'@'%';
        GRANT SELECT ON app.* TO 'monitor'@'%';
        GRANT SELECT ON nope.* TO 'monitor'@'%';
        CREATE USER 'plain'@'%' IDENTIFIED BY '${pw.plain}';
        CREATE USER 'observer'@'%' IDENTIFIED BY '${pw.observer}';
        CREATE USER 'expired'@'%' IDENTIFIED BY '${pw.expired}' PASSWORD EXPIRE;
        CREATE USER 'limited'@'%' IDENTIFIED BY '${pw.limited}' WITH MAX_QUERIES_PER_HOUR 1;
      `);
      const base = { MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(db.port) };
      const monitor = { ...base, MYSQL_USER: "monitor", MYSQL_PASSWORD: pw.monitor };

      await t.step("ok: every metric present and equal to SHOW GLOBAL STATUS", async () => {
        const observer = await observe(db, "observer", pw.observer);
        try {
          const version = await observer.scalar("SELECT VERSION()");
          const maxConnections = Number(await observer.scalar("SELECT @@max_connections"));
          const before = await observer.status();
          const { result } = await runCheck(configOf(monitor));
          const after = await observer.status();
          assert.equal(result.status, "ok", JSON.stringify(result));
          assert.equal(result.reason, undefined);
          const d = result.details!;
          assert.equal(d.server_version, version);
          assert.equal(d.flavour, "mariadb");
          assert.equal(d.max_connections, maxConnections);
          const counters: [string, string][] = [
            ["Uptime", "uptime_seconds"],
            ["Questions", "questions"],
            ["Slow_queries", "slow_queries"],
            ["Aborted_connects", "aborted_connects"],
          ];
          for (const [variable, field] of counters) {
            const value = d[field] as number;
            assert.equal(typeof value, "number", field);
            assert.ok(
              before.get(variable)! <= value && value <= after.get(variable)!,
              `${field}=${value} not within ${before.get(variable)}..${after.get(variable)}`,
            );
          }
          // Gauges: the check's own connection is one more than the observer sees around it.
          const connected = d.threads_connected as number;
          assert.ok(
            connected >= before.get("Threads_connected")! &&
              connected <= after.get("Threads_connected")! + 1,
            `threads_connected=${connected}`,
          );
          const running = d.threads_running as number;
          const runningAround = [before.get("Threads_running")!, after.get("Threads_running")!];
          assert.ok(
            running >= Math.min(...runningAround) && running <= Math.max(...runningAround) + 1,
            `threads_running=${running}`,
          );
          assert.equal(d.connections_used_pct, percent(connected, maxConnections));
          assert.equal(d.warn_connections_pct, 90);
          assert.equal(d.replica, false);
          assert.equal(d.notes, undefined);
          assert.equal(d.tls, false);
          assert.equal(typeof d.connect_ms, "number");
          assert.equal(typeof d.query_ms, "number");
          assertNoSecret(result, ...allSecrets);

          // It closed politely: its connection is gone and the server counted no aborted client.
          await waitFor(
            "the check's connection to end",
            async () => (await observer.status()).get("Threads_connected") === 1,
            3_000,
          );
          assert.equal(
            (await observer.status()).get("Aborted_clients"),
            after.get("Aborted_clients"),
          );
        } finally {
          await observer.close();
        }
      });

      await t.step("ok: duration of a successful check (median of 5)", async () => {
        const durations: number[] = [];
        for (let i = 0; i < 5; i++) {
          const { result, elapsedMs } = await runCheck(configOf(monitor));
          assert.equal(result.status, "ok");
          durations.push(elapsedMs);
        }
        durations.sort((a, b) => a - b);
        console.log(
          `mysql: successful check took ${durations[2].toFixed(1)} ms (median of 5; ` +
            `${durations.map((d) => d.toFixed(1)).join(", ")})`,
        );
        assert.ok(durations[2] < 1_000);
      });

      await t.step("ok over IPv6 loopback", async () => {
        const { result } = await runCheck(configOf({ ...monitor, MYSQL_HOST: "::1" }));
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.target, `[::1]:${db.port}`);
      });

      await t.step("ok with a note for what the account may not read", async () => {
        const { result } = await runCheck(
          configOf({ ...base, MYSQL_USER: "plain", MYSQL_PASSWORD: pw.plain }),
        );
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.details?.replica, undefined);
        assert.match(
          (result.details?.notes as string[]).join(" "),
          /replication state is not readable.*error 1227/,
        );
        assert.equal(typeof result.details?.threads_connected, "number");
        assertNoSecret(result, ...allSecrets);
      });

      await t.step("wrong password: auth (1045), neither password in the result", async () => {
        const wrong = secret("wrong");
        const { result } = await runCheck(configOf({ ...monitor, MYSQL_PASSWORD: wrong }));
        assertError(result, "auth");
        assert.equal(result.details?.error_code, 1045);
        assertNoSecret(result, wrong, ...allSecrets);
      });

      await t.step("unknown database: config (1049)", async () => {
        const { result } = await runCheck(configOf({ ...monitor, MYSQL_DATABASE: "nope" }));
        assertError(result, "config");
        assert.equal(result.details?.error_code, 1049);
        assertNoSecret(result, ...allSecrets);
      });

      await t.step("database the account has no rights on: config (1044)", async () => {
        const { result } = await runCheck(
          configOf({
            ...base,
            MYSQL_USER: "plain",
            MYSQL_PASSWORD: pw.plain,
            MYSQL_DATABASE: "nope",
          }),
        );
        assertError(result, "config");
        assert.equal(result.details?.error_code, 1044);
      });

      await t.step("a query failing after login: unavailable with the error code", async () => {
        const { result } = await runCheck(
          configOf({ ...base, MYSQL_USER: "limited", MYSQL_PASSWORD: pw.limited }),
        );
        assertError(result, "unavailable");
        assert.equal(result.details?.error_code, 1226);
        assert.equal(result.details?.query, "server");
        assertNoSecret(result, ...allSecrets);
      });

      await t.step("an expired password: auth (1820) on SELECT 1", async () => {
        const { result } = await runCheck(
          configOf({ ...base, MYSQL_USER: "expired", MYSQL_PASSWORD: pw.expired }),
        );
        assertError(result, "auth");
        assert.equal(result.details?.error_code, 1820);
        assert.equal(result.details?.query, "select_1");
      });

      await t.step("MYSQL_SSL=true with a certificate the agent does not trust: tls", async () => {
        const { result } = await runCheck(configOf({ ...monitor, MYSQL_SSL: "true" }));
        assertError(result, "tls");
        assert.match(result.message ?? "", /certificate/);
        assertNoSecret(result, ...allSecrets);
      });

      await t.step(
        "MYSQL_SSL=true with a trusted CA, in a process granted only needs()",
        async () => {
          const vars = { ...monitor, MYSQL_HOST: "localhost", MYSQL_SSL: "true" };
          assert.deepEqual(mysql.needs(configOf(vars)), { net: [`localhost:${db.port}`] });
          const { result } = await runInChild(vars);
          assert.equal(result.status, "ok", JSON.stringify(result));
          assert.equal(result.details?.tls, true);
          assert.match(String(result.details?.tls_version), /^TLSv1\.[23]$/);
          assertNoSecret(result, ...allSecrets);
        },
      );

      await t.step(
        "warn near max_connections, ok below MYSQL_WARN_CONNECTIONS_PCT, unavailable when full",
        async () => {
          await db.sql("SET GLOBAL max_connections = 10");
          const held: Awaited<ReturnType<typeof mysql2.createConnection>>[] = [];
          try {
            for (let i = 0; i < 8; i++) {
              held.push(
                await mysql2.createConnection({
                  host: "127.0.0.1",
                  port: db.port,
                  user: "observer",
                  password: pw.observer,
                }),
              );
            }
            // 8 held + the check's own = 9 of 10 = 90 %.
            const { result } = await runCheck(configOf(monitor));
            assert.equal(result.status, "warn", JSON.stringify(result));
            assert.equal(result.reason, "threshold");
            assert.equal(result.details?.max_connections, 10);
            assert.ok((result.details?.threads_connected as number) >= 9);
            assert.ok((result.details?.connections_used_pct as number) >= 90);
            assert.match(
              result.message ?? "",
              /connections in use .*MYSQL_WARN_CONNECTIONS_PCT=90/,
            );

            const relaxed = await runCheck(
              configOf({ ...monitor, MYSQL_WARN_CONNECTIONS_PCT: "95" }),
            );
            assert.equal(relaxed.result.status, "ok", JSON.stringify(relaxed.result));
            assert.equal(relaxed.result.details?.connections_used_pct, 90);

            // Every slot taken: the server refuses the check's login.
            for (let i = 0; i < 2; i++) {
              held.push(
                await mysql2.createConnection({
                  host: "127.0.0.1",
                  port: db.port,
                  user: "observer",
                  password: pw.observer,
                }),
              );
            }
            const full = await runCheck(configOf(monitor));
            assertError(full.result, "unavailable");
            assert.equal(full.result.details?.error_code, 1040);
          } finally {
            await Promise.all(held.map((c) => c.end()));
            await db.sql("SET GLOBAL max_connections = 151");
          }
        },
      );

      await t.step("the server stopped: refused", async () => {
        await db.stop();
        const { result } = await runCheck(configOf(monitor));
        assertError(result, "refused");
        assertNoSecret(result, ...allSecrets);
      });
    } finally {
      await db.stop();
    }
  },
});

Deno.test({
  name: "mysql on a MariaDB replica, and against a server without TLS",
  ignore: skipUnlessAvailable(...MARIADB_BINARIES),
  fn: async (t) => {
    const pw = { monitor: secret("monitor"), repl: secret("repl") };
    const primary = await startMariaDb({
      args: ["--server-id=1", "--log-bin=primary-bin", "--binlog-format=ROW"],
    });
    let replica: MariaDb | undefined;
    try {
      await primary.sql(`
        CREATE USER 'repl'@'%' IDENTIFIED BY '${pw.repl}';
        GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
        CREATE USER 'monitor'@'%' IDENTIFIED BY '${pw.monitor}';
        GRANT SLAVE MONITOR ON *.* TO 'monitor'@'%';
      `);
      replica = await startMariaDb({ args: ["--server-id=2"] });
      // The replica gets the accounts above through replication, from the primary's first binlog.
      await replica.sql(`
        CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port},
          MASTER_USER='repl', MASTER_PASSWORD='${pw.repl}', MASTER_CONNECT_RETRY=1;
        START SLAVE;
      `);
      const db = replica;
      await waitFor(
        "the monitor account to arrive on the replica",
        async () =>
          (await db.sql("SELECT COUNT(*) FROM mysql.user WHERE User = 'monitor'")).trim() === "1",
        15_000,
      );
      const monitorOn = (server: MariaDb) => ({
        MYSQL_HOST: "127.0.0.1",
        MYSQL_PORT: String(server.port),
        MYSQL_USER: "monitor",
        MYSQL_PASSWORD: pw.monitor,
      });

      await t.step("primary: not a replica", async () => {
        const { result } = await runCheck(configOf(monitorOn(primary)));
        assert.equal(result.status, "ok", JSON.stringify(result));
        assert.equal(result.details?.replica, false);
      });

      await t.step("replica: replication runs, lag in seconds", async () => {
        const { result } = await runCheck(configOf(monitorOn(db)));
        assert.equal(result.status, "ok", JSON.stringify(result));
        const d = result.details!;
        assert.equal(d.replica, true);
        assert.equal(d.replication_running, true);
        assert.equal(d.replication_io_running, true);
        assert.equal(d.replication_sql_running, true);
        assert.equal(typeof d.replication_lag_seconds, "number");
        assert.ok((d.replication_lag_seconds as number) >= 0);
        assert.equal(d.replication_channels, 1);
        assertNoSecret(result, ...Object.values(pw));
      });

      await t.step(
        "replica with the SQL thread stopped: replication not running, lag unknown",
        async () => {
          await db.sql("STOP SLAVE SQL_THREAD");
          const { result } = await runCheck(configOf(monitorOn(db)));
          assert.equal(result.status, "ok", JSON.stringify(result));
          assert.equal(result.details?.replica, true);
          assert.equal(result.details?.replication_running, false);
          assert.equal(result.details?.replication_sql_running, false);
          assert.equal(result.details?.replication_lag_seconds, null);
        },
      );

      await t.step("MYSQL_SSL=true against a server without TLS: tls", async () => {
        const { result } = await runCheck(configOf({ ...monitorOn(primary), MYSQL_SSL: "true" }));
        assertError(result, "tls");
        assert.match(result.message ?? "", /does not support secure connection/);
      });
    } finally {
      await replica?.stop();
      await primary.stop();
    }
  },
});

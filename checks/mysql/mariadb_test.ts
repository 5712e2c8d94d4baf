/** The mysql check against a real MariaDB started for this file (tests/support/mariadb_server.ts). */

import assert from "node:assert/strict";
import mysql2 from "mysql2/promise";
import { usedPct } from "../common/threshold.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { MARIADB_BINARIES, startMariaDb } from "../../tests/support/mariadb_server.ts";
import {
  assertError,
  assertNoSecret,
  MYSQL_FIXTURES as FIXTURES,
  mysqlConfig as configOf,
  observe,
  randomPassword as secret,
  runMysql as runCheck,
  runMysqlInChild as runInChild,
} from "../../tests/support/mysql_check.ts";
import { waitFor } from "../../tests/support/processes.ts";
import { mysql } from "./mod.ts";

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
          assert.equal(d.connections_used_pct, usedPct(connected, maxConnections));
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
        assert.equal(result.details?.phase, "auth");
        assertNoSecret(result, wrong, ...allSecrets);
      });

      await t.step("unknown database: config (1049)", async () => {
        const { result } = await runCheck(configOf({ ...monitor, MYSQL_DATABASE: "nope" }));
        assertError(result, "config");
        assert.equal(result.details?.error_code, 1049);
        assert.equal(result.details?.phase, "auth");
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

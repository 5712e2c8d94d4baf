/**
 * Against a real PostgreSQL server (tests/support/postgres_server.ts): the
 * metrics equal a direct query, TLS modes, logins refused, a role with
 * fewer privileges, the warn threshold and a full server, and the check in
 * a process with only the permissions it declares.
 */

import assert from "node:assert/strict";
import type postgres from "postgres";
import type { CheckResult } from "../../src/check.ts";
import { moduleEnvNames } from "../../src/config_modules.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertNoSecret, configOf, PW, runCheck } from "../../tests/support/postgres_check.ts";
import {
  POSTGRES_BINARIES,
  startPostgres,
  TEST_CA_FILE,
} from "../../tests/support/postgres_server.ts";
import {
  appClient,
  caseLog,
  checker,
  createRoles,
  type Direct,
  DIRECT_METRICS,
  hold,
  near,
  noCheckSessionLeft,
  release,
  runWorkload,
  STATE_NAMES,
} from "../../tests/support/postgres_workload.ts";
import { spawnDeno, waitFor } from "../../tests/support/processes.ts";
import { postgres as postgresCheck } from "./mod.ts";

Deno.test({
  name:
    "postgres against a real PostgreSQL server: metrics equal a direct query, TLS modes, auth, config, limited role, warn",
  ignore: skipUnlessAvailable(...POSTGRES_BINARIES),
  fn: async (t) => {
    const primary = await startPostgres({
      ssl: true,
      maxConnections: 10,
      superuserReserved: 1,
      settings: { deadlock_timeout: "'100ms'" },
    });
    let app: postgres.Sql | undefined;
    const { note, print } = caseLog();
    try {
      await createRoles(primary);
      await t.step("workload: three rollbacks and one deadlock in appdb", async () => {
        // its own client: a backend flushes its statistics when it exits (an idle
        // one only every 10 s)
        const burst = appClient(primary);
        try {
          await runWorkload(burst);
        } finally {
          await burst.end({ timeout: 1 });
        }
        await waitFor("the deadlock and rollbacks to reach pg_stat_database", async () => {
          const s = await primary.queryJson<{ d: number; r: number }>(
            "SELECT json_build_object('d', deadlocks, 'r', xact_rollback) FROM pg_stat_database WHERE datname = 'appdb'",
          );
          return s.d === 1 && s.r >= 3;
        });
      });

      app = appClient(primary);
      // two idle sessions and one idle in a transaction, held by another role
      const held = [...await hold(app, 2), ...await hold(app, 1, true)];

      await t.step(
        "ok: every metric present and equal to a direct query (sslmode prefer → TLS)",
        async () => {
          let last: CheckResult | undefined;
          for (let i = 0; i < 5; i++) {
            const { result } = await runCheck(checker(primary));
            assert.equal(result.status, "ok", JSON.stringify(result));
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
          assert.equal(Object.values(byState).reduce((a, b) => a + b, 0), d.connections_total);
          assert.equal(d.connections_used_pct, 40);
          near(d.database_size_bytes, direct.database_size_bytes, 256 * 1024, "database_size");
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
          note("ok (prefer/TLS), 5 runs", result);
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
        assert.equal(result.details?.tls_error, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
        assert.equal(result.details?.phase, "tls");
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
      await noCheckSessionLeft(primary);
      print();
    } finally {
      await app?.end({ timeout: 1 }).catch(() => {});
      await primary.destroy();
    }
  },
});

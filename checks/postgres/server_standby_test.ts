/**
 * Against a real PostgreSQL primary and a hot standby of it
 * (tests/support/postgres_server.ts): recovery and replay lag equal a
 * direct query, a query failing after a good login, TLS required against a
 * server without TLS, and a stopped server.
 */

import assert from "node:assert/strict";
import type postgres from "postgres";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { assertNoSecret, PW, runCheck } from "../../tests/support/postgres_check.ts";
import {
  POSTGRES_BINARIES,
  type PostgresServer,
  startPostgres,
} from "../../tests/support/postgres_server.ts";
import {
  appClient,
  caseLog,
  checker,
  createRoles,
  type Direct,
  DIRECT_METRICS,
  near,
  noCheckSessionLeft,
} from "../../tests/support/postgres_workload.ts";
import { waitFor } from "../../tests/support/processes.ts";

Deno.test({
  name:
    "postgres against a real hot standby: in_recovery, replay lag, a query failing after login, TLS not offered, stopped server",
  ignore: skipUnlessAvailable(...POSTGRES_BINARIES),
  fn: async (t) => {
    const primary = await startPostgres({ ssl: true, maxConnections: 10, superuserReserved: 1 });
    let standby: PostgresServer | undefined;
    let writer: postgres.Sql | undefined;
    const { note, print } = caseLog();
    try {
      await createRoles(primary);
      writer = appClient(primary);
      const app = writer;
      standby = await startPostgres({
        standbyOf: primary,
        maxConnections: 10,
        superuserReserved: 1,
      });
      const replica = standby;

      await t.step("hot standby in sync: in_recovery and a replay lag of 0", async () => {
        await app`INSERT INTO t VALUES (1001, 1)`;
        await waitFor("the standby to replay the insert", async () =>
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
            await waitFor(
              "replay to pause",
              async () =>
                (await replica.psql("SELECT pg_get_wal_replay_pause_state()")) === "paused",
            );
            // the lag is the age of the last replayed transaction: let it grow past 1 s
            await waitFor(
              "the last replayed transaction to be a second old",
              async () =>
                (await replica.psql(
                  "SELECT now() - pg_last_xact_replay_timestamp() > interval '1.1 seconds'",
                )) === "t",
            );
            await app`INSERT INTO t VALUES (1002, 2)`;
            await waitFor(
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
      print();
    } finally {
      await writer?.end({ timeout: 1 }).catch(() => {});
      await standby?.destroy();
      await primary.destroy();
    }
  },
});

/** The mysql check on a MariaDB replica, and against a server without TLS. */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  type MariaDb,
  MARIADB_BINARIES,
  startMariaDb,
} from "../../tests/support/mariadb_server.ts";
import {
  assertError,
  assertNoSecret,
  mysqlConfig as configOf,
  randomPassword as secret,
  runMysql as runCheck,
} from "../../tests/support/mysql_check.ts";
import { waitFor } from "../../tests/support/processes.ts";

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

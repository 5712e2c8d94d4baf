/**
 * Real servers for the module figures, each in a temp dir on a free loopback
 * port, started with the test suite's starters and stopped by PID: sshd (a
 * temporary account, key login, pinned host key), PostgreSQL (a pg_monitor
 * role), MariaDB (a PROCESS + SLAVE MONITOR user), nginx (stub_status for
 * `nginx`, a plain page for `http`), a fake `systemctl` printing captured
 * output of real systemd (systemd is not PID 1 here; the tests do the same),
 * and TCP listeners. A server whose binary is missing, or that fails to
 * start, leaves its module out with the reason.
 *
 * @module
 */

import { findBinary, freePort, retryOnPortClash } from "../tests/support/binaries.ts";
import { MARIADB_BINARIES, startMariaDb } from "../tests/support/mariadb_server.ts";
import { openListener } from "../tests/support/listeners.ts";
import {
  makePrefix,
  NGINX_BINARY,
  nginxPreamble,
  spawnNginx,
} from "../tests/support/nginx_server.ts";
import { POSTGRES_BINARIES, startPostgres } from "../tests/support/postgres_server.ts";
import { SSHD, startSshd } from "../tests/support/sshd_server.ts";
import { fakeSystemctl } from "../tests/support/systemd_fake.ts";
import { untilDone } from "./interrupt.ts";

/** The modules the figures cover, in table order. */
export const MODULE_NAMES = [
  "ssh",
  "postgres",
  "mysql",
  "nginx",
  "http",
  "systemd",
  "tcp",
] as const;
export type ModuleName = typeof MODULE_NAMES[number];

/** A module's configuration against its server, or why there is none. */
export type ModuleTarget =
  | { ok: true; vars: Record<string, string>; pathFirst?: string; what: string }
  | { ok: false; why: string };

/** The running servers. */
export interface Servers {
  targets: Record<ModuleName, ModuleTarget>;
  /** PATH entries the agent needs first (the fake systemctl), for a run of several modules. */
  pathFirst(modules: readonly ModuleName[]): string | undefined;
  stop(): Promise<void>;
}

function secret(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16)).join("")
    .padEnd(20, "x");
}

/** Starts whatever is installed; never throws for a missing or failing server. */
export async function startServers(progress: (line: string) => void): Promise<Servers> {
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };
  const done = untilDone(stopAll);
  const targets = {} as Record<ModuleName, ModuleTarget>;
  const attempt = async (name: ModuleName, start: () => Promise<ModuleTarget>) => {
    progress(`starting the ${name} server`);
    try {
      targets[name] = await start();
    } catch (error) {
      targets[name] = { ok: false, why: `server failed: ${(error as Error).message.slice(0, 80)}` };
    }
  };

  await attempt("ssh", async () => {
    if (!findBinary(SSHD)) return { ok: false, why: "not installed (openssh-server)" };
    const sshd = await startSshd();
    stops.push(() => sshd.stop());
    return {
      ok: true,
      what: "OpenSSH sshd, key login",
      vars: {
        SSH_HOST: "127.0.0.1",
        SSH_PORT: String(sshd.port),
        SSH_USER: sshd.user,
        SSH_KEY_PATH: sshd.keys.plain,
        SSH_HOST_KEY_SHA256: sshd.hostKeySha256,
      },
    };
  });

  await attempt("postgres", async () => {
    if (!findBinary(...POSTGRES_BINARIES)) return { ok: false, why: "not installed (postgresql)" };
    const pg = await startPostgres({ maxConnections: 40 });
    stops.push(() => pg.destroy());
    const password = secret();
    await pg.psql(
      `CREATE ROLE kozak_bench LOGIN PASSWORD '${password}'; GRANT pg_monitor TO kozak_bench;`,
    );
    return {
      ok: true,
      what: "PostgreSQL, pg_monitor role",
      vars: {
        POSTGRES_HOST: "127.0.0.1",
        POSTGRES_PORT: String(pg.port),
        POSTGRES_USER: "kozak_bench",
        POSTGRES_PASSWORD: password,
        POSTGRES_DB: "postgres",
      },
    };
  });

  await attempt("mysql", async () => {
    if (!findBinary(...MARIADB_BINARIES)) {
      return { ok: false, why: "not installed (mariadb-server)" };
    }
    const db = await startMariaDb();
    stops.push(() => db.stop());
    const password = secret();
    await db.sql(
      `CREATE USER 'kozak_bench'@'127.0.0.1' IDENTIFIED BY '${password}';
       GRANT PROCESS, SLAVE MONITOR ON *.* TO 'kozak_bench'@'127.0.0.1';`,
    );
    return {
      ok: true,
      what: "MariaDB",
      vars: {
        MYSQL_HOST: "127.0.0.1",
        MYSQL_PORT: String(db.port),
        MYSQL_USER: "kozak_bench",
        MYSQL_PASSWORD: password,
      },
    };
  });

  if (!findBinary(NGINX_BINARY)) {
    targets.nginx = { ok: false, why: "not installed (nginx)" };
    targets.http = targets.nginx;
  } else {
    let port = 0;
    await attempt("nginx", async () => {
      // A new port and prefix when the free port was taken before nginx bound it.
      const { nginx, prefix } = await retryOnPortClash(async () => {
        const prefix = await makePrefix();
        port = freePort();
        const config = `${nginxPreamble(prefix)}  server {
    listen 127.0.0.1:${port};
    location = /status { stub_status; }
    location = / { return 200 "kozak bench ok\\n"; }
  }
}
`;
        try {
          return { nginx: await spawnNginx(prefix, config, [port]), prefix };
        } catch (error) {
          await Deno.remove(prefix, { recursive: true }).catch(() => {});
          throw error;
        }
      });
      stops.push(async () => {
        await nginx.stop();
        await Deno.remove(prefix, { recursive: true }).catch(() => {});
      });
      return {
        ok: true,
        what: "nginx stub_status",
        vars: { NGINX_STATUS_URL: `http://127.0.0.1:${port}/status` },
      };
    });
    targets.http = targets.nginx.ok
      ? { ok: true, what: "nginx, a 200 page", vars: { HTTP_URL: `http://127.0.0.1:${port}/` } }
      : targets.nginx;
  }

  await attempt("systemd", async () => {
    const fake = await fakeSystemctl({
      mode: "show",
      units: { "ssh.service": "active.show", "cron.service": "active.show" },
    });
    stops.push(() => Deno.remove(fake.dir, { recursive: true }));
    return {
      ok: true,
      what: "fake systemctl (captured systemd 252 output)",
      vars: { SYSTEMD_SERVICES: "ssh.service,cron.service" },
      pathFirst: fake.dir,
    };
  });

  await attempt("tcp", () => {
    const listeners = Array.from({ length: 10 }, () => openListener());
    stops.push(() => Promise.all(listeners.map((l) => l.close())));
    return Promise.resolve({
      ok: true as const,
      what: "10 loopback listeners",
      vars: { TCP_CHECKS: listeners.map((l) => `127.0.0.1:${l.port}`).join(",") },
    });
  });

  return {
    targets,
    pathFirst(modules) {
      for (const m of modules) {
        const t = targets[m];
        if (t.ok && t.pathFirst) return t.pathFirst;
      }
      return undefined;
    },
    async stop() {
      await stopAll();
      done();
    },
  };
}

/**
 * A real MariaDB server for tests: its own data directory, socket, pid file
 * and error log in a temp dir, listening on a free loopback port; stopped by
 * its PID (never by name) and removed afterwards.
 *
 * Runs as root (`--user=root`), as the tests do. `--max-connect-errors` is
 * raised because bare TCP probes count as connection errors and MariaDB would
 * otherwise block 127.0.0.1 after a few test cases.
 *
 * @module
 */

import { freePort, retryOnPortClash } from "./binaries.ts";
import { stopChild } from "./child.ts";

/** The binaries a MariaDB test needs; pass them to `skipUnlessAvailable`. */
export const MARIADB_BINARIES = [
  "/usr/sbin/mariadbd",
  "/usr/bin/mariadb-install-db",
  "/usr/bin/mariadb",
] as const;

/** How to start the server. */
export interface MariaDbOptions {
  /** Addresses to listen on; MariaDB 10.11 takes a comma list. Default `127.0.0.1`. */
  bindAddress?: string;
  /** More `mariadbd` options, e.g. `--server-id=2`. */
  args?: string[];
}

/** A running server. */
export interface MariaDb {
  port: number;
  /** The Unix socket where root logs in without a password. */
  socketPath: string;
  /** The temp dir holding data, socket, pid file and log. */
  dir: string;
  pid: number;
  /** Runs SQL as root over the socket; returns the rows, tab-separated, without headers. */
  sql(statements: string): Promise<string>;
  /** The error log so far (for failure messages). */
  log(): Promise<string>;
  /** SIGTERM to the PID, SIGKILL after 20 s, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdin: "null" }).output();
  const text = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${command} failed (exit ${output.code}): ${text.decode(output.stderr)}${
        text.decode(output.stdout)
      }`,
    );
  }
  return text.decode(output.stdout);
}

/** Starts MariaDB and resolves once it accepts connections. */
export function startMariaDb(options: MariaDbOptions = {}): Promise<MariaDb> {
  return retryOnPortClash(() => startMariaDbOnce(options));
}

async function startMariaDbOnce(options: MariaDbOptions): Promise<MariaDb> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-mariadb-" });
  const dataDir = `${dir}/data`;
  const socketPath = `${dir}/mysqld.sock`;
  const logPath = `${dir}/error.log`;
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child) await stopChild(child, 20_000);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const log = () => Deno.readTextFile(logPath).catch(() => "");

  try {
    await run("mariadb-install-db", [
      "--no-defaults",
      `--datadir=${dataDir}`,
      "--user=root",
      "--auth-root-authentication-method=socket",
      "--skip-test-db",
    ]);
    child = new Deno.Command("mariadbd", {
      args: [
        "--no-defaults",
        `--datadir=${dataDir}`,
        `--port=${port}`,
        `--bind-address=${options.bindAddress ?? "127.0.0.1"}`,
        `--socket=${socketPath}`,
        `--pid-file=${dir}/mariadbd.pid`,
        `--log-error=${logPath}`,
        "--skip-name-resolve",
        "--max-connect-errors=1000000",
        "--innodb-buffer-pool-size=32M",
        "--user=root",
        ...(options.args ?? []),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = performance.now() + 30_000;
    while (!(await log()).includes("ready for connections")) {
      if (exited) throw new Error(`mariadbd exited during start-up:\n${await log()}`);
      if (performance.now() > deadline) {
        throw new Error(`mariadbd not ready in 30 s:\n${await log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    port,
    socketPath,
    dir,
    pid: child.pid,
    sql: (statements) =>
      run("mariadb", [
        "--no-defaults",
        "-S",
        socketPath,
        "-u",
        "root",
        "-N",
        "-B",
        "-e",
        statements,
      ]),
    log,
    stop,
  };
}

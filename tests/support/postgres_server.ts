/**
 * A real PostgreSQL server for tests: Debian's `initdb` and `pg_ctl`, run as
 * the `postgres` OS user through `runuser` (initdb refuses to run as root),
 * in a temp dir on a free 127.0.0.1 port, password (scram) authentication
 * over TCP and trust over its own Unix socket, which the tests use to set up
 * roles and to read the values a check must report. A standby made with
 * `pg_basebackup -R` from a running server is available too.
 *
 * Servers are stopped with `pg_ctl stop`, which signals the PID in the data
 * directory's `postmaster.pid`; never by process name.
 *
 * @module
 */

import { findBinary, freePort, retryOnPortClash } from "./binaries.ts";
import { serveTcp } from "./listeners.ts";

/** Debian's server binaries, newest version first. */
const VERSIONS = ["17", "16", "15", "14", "13"];

/** The directory with `initdb`, `pg_ctl`, `postgres`, `psql`, or undefined. */
export function postgresBinDir(): string | undefined {
  const initdb = findBinary(...VERSIONS.map((v) => `/usr/lib/postgresql/${v}/bin/initdb`));
  return initdb?.slice(0, initdb.lastIndexOf("/"));
}

/** Paths for `skipUnlessAvailable`. */
export const POSTGRES_BINARIES = VERSIONS.map((v) => `/usr/lib/postgresql/${v}/bin/initdb`);

const FIXTURES = new URL("../fixtures/postgres/", import.meta.url).pathname;

/** The test CA that signed the fixture server certificate (for `verify-full`). */
export const TEST_CA_FILE = `${FIXTURES}ca.crt`;

/** Options for {@link startPostgres}. */
export interface PostgresOptions {
  /** `max_connections`; small values make the "nearly full" case cheap. Default 20. */
  maxConnections?: number;
  /** `superuser_reserved_connections`. Default 1. */
  superuserReserved?: number;
  /** Serve TLS with the fixture certificate (`ssl=on`). Default false. */
  ssl?: boolean;
  /** Make a hot standby of this running server instead of a new cluster. */
  standbyOf?: PostgresServer;
  /** More `postgresql.conf` settings, written as given (quote strings yourself). */
  settings?: Record<string, string>;
}

/** A running (or stopped) test server. */
export interface PostgresServer {
  host: "127.0.0.1";
  port: number;
  /** The temp dir holding data, socket and log. */
  dir: string;
  dataDir: string;
  socketDir: string;
  /** Runs SQL as the superuser over the Unix socket; returns psql's unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  /** Runs one query returning one JSON value (e.g. `json_build_object(...)`) and parses it. */
  queryJson<T = Record<string, unknown>>(sql: string, database?: string): Promise<T>;
  /** Stops the server (fast shutdown, by the PID in postmaster.pid). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it if running and removes the temp dir. */
  destroy(): Promise<void>;
  /** The server log so far, for failure messages. */
  log(): string;
}

interface Ids {
  uid: number;
  gid: number;
}

function postgresIds(): Ids {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith("postgres:")
  );
  if (!line) throw new Error("no postgres OS user (install the postgresql package)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a PostgreSQL program as the postgres OS user; throws with its output on failure. */
async function asPostgres(
  bin: string,
  args: string[],
  options: { cwd?: string; allowFailure?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("runuser", {
    args: ["-u", "postgres", "--", bin, ...args],
    cwd: options.cwd ?? "/",
    env: { LC_ALL: "C", PGTZ: "UTC" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const result = {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
  if (result.code !== 0 && !options.allowFailure) {
    throw new Error(
      `${bin} ${args.join(" ")} exited ${result.code}: ${result.stderr}${result.stdout}`,
    );
  }
  return result;
}

async function copyOwned(from: string, to: string, ids: Ids, mode: number): Promise<void> {
  await Deno.copyFile(from, to);
  await Deno.chown(to, ids.uid, ids.gid);
  await Deno.chmod(to, mode);
}

/**
 * Creates and starts a server (or a standby of `options.standbyOf`).
 * The caller must call {@link PostgresServer.destroy} in a finally block.
 */
export function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  return retryOnPortClash(() => startPostgresOnce(options));
}

async function startPostgresOnce(options: PostgresOptions): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  const ids = postgresIds();
  const dir = await Deno.makeTempDir({ prefix: "kozak-pg-" });
  await Deno.chown(dir, ids.uid, ids.gid);
  const dataDir = `${dir}/data`;
  const socketDir = `${dir}/sock`;
  const logFile = `${dir}/server.log`;
  await Deno.mkdir(socketDir);
  await Deno.chown(socketDir, ids.uid, ids.gid);
  const port = freePort();
  let running = false;

  const primary = options.standbyOf;
  if (primary) {
    // -R writes standby.signal and primary_conninfo (over the primary's socket, trust).
    await asPostgres(`${bin}/pg_basebackup`, [
      "-h",
      primary.socketDir,
      "-p",
      String(primary.port),
      "-U",
      "postgres",
      "-D",
      dataDir,
      "-R",
      "-X",
      "stream",
      "-c",
      "fast",
      "--no-sync",
    ]);
  } else {
    const pwfile = `${dir}/superuser.pw`;
    await Deno.writeTextFile(pwfile, crypto.randomUUID() + "\n");
    await Deno.chown(pwfile, ids.uid, ids.gid);
    await asPostgres(`${bin}/initdb`, [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--pwfile",
      pwfile,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--no-sync",
      "--no-instructions",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
  }

  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${socketDir}'`,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: String(options.maxConnections ?? 20),
    superuser_reserved_connections: String(options.superuserReserved ?? 1),
    ssl: "off",
    log_min_messages: "warning",
    log_connections: "off",
    // no autovacuum worker showing up in pg_stat_activity in the middle of a test
    autovacuum: "off",
    ...options.settings,
  };
  if (options.ssl) {
    await copyOwned(`${FIXTURES}server.crt`, `${dir}/server.crt`, ids, 0o644);
    await copyOwned(`${FIXTURES}server.key`, `${dir}/server.key`, ids, 0o600);
    settings.ssl = "on";
    settings.ssl_cert_file = `'${dir}/server.crt'`;
    settings.ssl_key_file = `'${dir}/server.key'`;
  }
  // Later lines win: these override whatever a base backup copied from the primary.
  await Deno.writeTextFile(
    `${dataDir}/postgresql.conf`,
    "\n# kozak-agent tests\n" +
      Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n",
    { append: true },
  );

  const start = async () => {
    await asPostgres(`${bin}/pg_ctl`, ["start", "-D", dataDir, "-w", "-t", "60", "-l", logFile]);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await asPostgres(`${bin}/pg_ctl`, ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "60"]);
    running = false;
  };
  const psql = async (sql: string, database = "postgres") => {
    const { stdout } = await asPostgres(`${bin}/psql`, [
      "-h",
      socketDir,
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      database,
      "-X",
      "-A",
      "-t",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      sql,
    ]);
    return stdout.trim();
  };
  const server: PostgresServer = {
    host: "127.0.0.1",
    port,
    dir,
    dataDir,
    socketDir,
    psql,
    async queryJson<T>(sql: string, database?: string) {
      return JSON.parse(await psql(sql, database)) as T;
    },
    stop,
    start,
    async destroy() {
      try {
        await stop();
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
    log() {
      try {
        return Deno.readTextFileSync(logFile);
      } catch {
        return "";
      }
    },
  };
  try {
    await start();
  } catch (error) {
    const log = server.log();
    await server.destroy();
    throw new Error(`${(error as Error).message}\nserver log:\n${log}`);
  }
  return server;
}

/** One accepted connection of a {@link scriptedListener}. */
export interface ScriptedConnection {
  /** Bytes received so far. */
  received: number;
  /** Resolves when the client closed (read returned EOF or failed). */
  closed: Promise<void>;
}

/**
 * A loopback listener that talks a fixed script: writes `greeting` on
 * accept, then answers the n-th chunk it reads with `answer(chunk, n)` (null:
 * stay silent). Records when each client closes, so a test can check that a
 * timed-out run really closed its socket.
 */
export function scriptedListener(
  options: {
    greeting?: Uint8Array;
    answer?: (chunk: Uint8Array, index: number) => Uint8Array | null;
  } = {},
): { port: number; connections: ScriptedConnection[]; close: () => Promise<void> } {
  const connections: ScriptedConnection[] = [];
  const server = serveTcp(async (conn) => {
    let done!: () => void;
    const record: ScriptedConnection = { received: 0, closed: new Promise<void>((r) => done = r) };
    connections.push(record);
    try {
      if (options.greeting) await conn.write(options.greeting);
      const buffer = new Uint8Array(64 * 1024);
      for (let index = 0;; index++) {
        const n = await conn.read(buffer);
        if (n === null) break;
        record.received += n;
        const reply = options.answer?.(buffer.slice(0, n), index);
        if (reply) await conn.write(reply);
      }
    } finally {
      done(); // EOF, a reset by the client, or closed by close()
    }
  });
  return { port: server.port, connections, close: server.close };
}

/** PostgreSQL backend messages for fake servers. */
export const backendMessage = {
  /** AuthenticationOk. */
  authOk: (): Uint8Array => new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 0]),
  /** ReadyForQuery, idle. */
  ready: (): Uint8Array => new Uint8Array([0x5a, 0, 0, 0, 5, 0x49]),
  /** AuthenticationCleartextPassword: the client answers with a PasswordMessage. */
  cleartext: (): Uint8Array => new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 3]),
};

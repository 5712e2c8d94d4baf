/**
 * MySQL / MariaDB check: log in over one connection, run `SELECT 1`, read the
 * health metrics, close. `warn` when the connections in use reach
 * `MYSQL_WARN_CONNECTIONS_PCT` of `max_connections`.
 *
 * The driver is `npm:mysql2` on a socket this module opens itself
 * ({@link Link}), so the check's signal can stop every phase and the
 * connection is always destroyed, also on timeout. The password goes only to
 * the driver; every message and detail is scrubbed of it before it leaves.
 *
 * @module
 */

import mysql2 from "mysql2";
import type { CheckModule, CheckResult, Details, RunContext } from "../../src/check.ts";
import { MYSQL_OPTIONS, type MysqlConfig, parseMysql } from "./config.ts";
import { classifyMysqlError, scrub } from "./errors.ts";
import { Link, PROBE_WAIT_MS } from "./link.ts";
import { collect, type QueryRunner } from "./metrics.ts";

export type { MysqlConfig } from "./config.ts";

/** The driver's connection, as far as this module uses it. */
interface Driver {
  query(sql: string, callback: (error: unknown, rows: unknown) => void): unknown;
  end(callback: (error?: unknown) => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
  once(event: "connect" | "error", listener: (arg: unknown) => void): unknown;
  /** The current socket (a TLS socket after STARTTLS). */
  stream?: { destroy(): void; getProtocol?: () => string | null };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Replaces the password in every string of a result, however it got there. */
function scrubResult(result: CheckResult, password: string): CheckResult {
  if (password === "") return result;
  const clean = (value: unknown): unknown => {
    if (typeof value === "string") return scrub(value, password);
    if (Array.isArray(value)) return value.map(clean);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    }
    return value;
  };
  return clean(result) as CheckResult;
}

function openDriver(config: MysqlConfig, link: Link): Driver {
  const driver = mysql2.createConnection({
    stream: link.socket,
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    ssl: config.ssl ? { rejectUnauthorized: true, verifyIdentity: true } : undefined,
    // A backstop only: the link's own connect timeout and the check's signal come first.
    connectTimeout: config.connectTimeoutMs + PROBE_WAIT_MS + 1_000,
  }) as unknown as Driver;
  // Permanent: mysql2 can emit more than one error while a connection dies.
  driver.on("error", () => {});
  return driver;
}

/** One login, the metric queries, and a polite close. */
export async function run(
  config: MysqlConfig,
  { signal, phase }: RunContext,
): Promise<CheckResult> {
  const started = performance.now();
  const link = new Link(config, signal);
  // The shared vocabulary: the greeting is the protocol's handshake, the login is auth.
  const shared = (p: typeof link.phase) =>
    p === "greeting" ? "handshake" : p === "login" ? "auth" : p;
  if (phase) link.onPhase = (p) => phase(shared(p));
  phase?.(shared(link.phase));
  let result: CheckResult;
  try {
    const driver = openDriver(config, link);
    link.attachDriver(() => driver.stream);
    await link.guard(
      new Promise<void>((resolve, reject) => {
        driver.once("connect", () => resolve());
        driver.once("error", reject);
      }),
    );
    const connectMs = performance.now() - started;
    link.loggedIn();

    const query: QueryRunner = (name, sql) => {
      link.query = name;
      return link.guard(
        new Promise<Record<string, unknown>[]>((resolve, reject) => {
          driver.query(sql, (error, rows) => {
            if (error) reject(error);
            else resolve(rows as Record<string, unknown>[]);
          });
        }),
      );
    };
    const queriesStarted = performance.now();
    const collected = await collect(query, config.warnConnectionsPct);
    const details: Details = {
      ...collected.details,
      tls: config.ssl,
      ...(config.ssl ? { tls_version: driver.stream?.getProtocol?.() ?? null } : {}),
      connect_ms: round(connectMs),
      query_ms: round(performance.now() - queriesStarted),
    };
    link.query = undefined;

    // Polite close: COM_QUIT, then the server hangs up (no "aborted client" on its side).
    link.phase = "close";
    await link.guard(new Promise<void>((resolve) => driver.end(() => resolve())));
    await link.closedByServer();

    result = collected.status === "warn"
      ? {
        target: config.target,
        status: "warn",
        reason: "threshold",
        message: collected.message,
        details,
      }
      : { target: config.target, status: "ok", details };
  } catch (error) {
    const failure = link.failure ?? classifyMysqlError(error, {
      target: config.target,
      user: config.user,
      phase: link.phase,
      greeted: link.greeted,
      query: link.query,
    });
    result = {
      target: config.target,
      status: "error",
      reason: failure.reason,
      message: failure.message,
      details: failure.details,
    };
  } finally {
    await link.dispose();
  }
  return scrubResult(result, config.password);
}

/** The `mysql` module. */
export const mysql: CheckModule<MysqlConfig> = {
  name: "mysql",
  options: MYSQL_OPTIONS,
  parse: parseMysql,
  needs: (config) => ({ net: [config.target] }),
  load: () => Promise.resolve({ run }),
};

/**
 * One run of the mysql check: the driver (`npm:mysql2`) on a socket the
 * {@link Link} opened, so that the check's signal can stop every phase and
 * the connection is always destroyed, also on timeout. Loaded only when the
 * module is enabled (see `mod.ts`).
 *
 * The password goes only to the driver. A driver or server message that
 * quotes it is redacted by the agent's one redaction point (every event
 * passes it), not here.
 *
 * @module
 */

import mysql2 from "mysql2";
import type net from "node:net";
import { type CheckResult, type Details, Failure, type RunContext } from "../../src/check.ts";
import { msSince } from "../common/ms.ts";
import type { MysqlConfig } from "./config.ts";
import { classifyMysqlError } from "./errors.ts";
import { Link, PROBE_WAIT_MS } from "./link.ts";
import { collect, type QueryRunner } from "./metrics.ts";

/** The driver's connection, as far as this module uses it. */
interface Driver {
  query(sql: string, callback: (error: unknown, rows: unknown) => void): unknown;
  end(callback: (error?: unknown) => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
  once(event: "connect" | "error", listener: (arg: unknown) => void): unknown;
  /** The current socket (a TLS socket after STARTTLS). */
  stream?: { destroy(): void; getProtocol?: () => string | null };
}

function openDriver(config: MysqlConfig, stream: net.Socket): Driver {
  const driver = mysql2.createConnection({
    stream,
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

/** Logs in, runs the metric queries and closes politely; the result of the run. */
async function session(config: MysqlConfig, link: Link, started: number): Promise<CheckResult> {
  const driver = openDriver(config, await link.connect());
  link.attachDriver(() => driver.stream);
  await link.guard(
    new Promise<void>((resolve, reject) => {
      driver.once("connect", () => resolve());
      driver.once("error", reject);
    }),
  );
  const connectMs = msSince(started);
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
    connect_ms: connectMs,
    query_ms: msSince(queriesStarted),
  };
  link.query = undefined;

  // Polite close: COM_QUIT, then the server hangs up (no "aborted client" on its side).
  link.phase = "close";
  await link.guard(new Promise<void>((resolve) => driver.end(() => resolve())));
  await link.closedByServer();

  return collected.status === "warn"
    ? {
      target: config.target,
      status: "warn",
      reason: "threshold",
      message: collected.message,
      details,
    }
    : { target: config.target, status: "ok", details };
}

/** One login, the metric queries, and a polite close. */
export async function run(
  config: MysqlConfig,
  { signal, phase }: RunContext,
): Promise<CheckResult> {
  const started = performance.now();
  const link = new Link(config, signal);
  if (phase) link.onPhase = phase;
  phase?.(link.phase);
  try {
    return await session(config, link, started);
  } catch (error) {
    const failure = link.failure ?? (error instanceof Failure ? error : classifyMysqlError(error, {
      target: config.target,
      user: config.user,
      phase: link.phase,
      greeted: link.greeted,
      query: link.query,
    }));
    return failure.result(config.target);
  } finally {
    await link.dispose();
  }
}

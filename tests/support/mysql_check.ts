/**
 * Running the mysql check in tests: parse a set of variables, run once with a
 * deadline the way the scheduler does (in this process or in a child granted
 * only `needs()`), and the assertions every mysql test file shares.
 *
 * @module
 */

import assert from "node:assert/strict";
import mysql2 from "mysql2/promise";
import type { CheckResult, InstanceSpec } from "../../src/check.ts";
import { mysql, type MysqlConfig } from "../../checks/mysql/mod.ts";
import type { MariaDb } from "./mariadb_server.ts";
import { ROOT } from "./processes.ts";
import { unitConfig } from "./specs.ts";

/** Certificates of the TLS tests (see its README). */
export const MYSQL_FIXTURES = `${ROOT}tests/fixtures/mysql`;

/** Scheduling slack allowed on top of a deadline. */
export const MARGIN_MS = 500;

/** The units `vars` parse into. */
export function mysqlSpecs(vars: Record<string, string>): InstanceSpec<MysqlConfig>[] {
  return mysql.parse((name) => vars[name]);
}

/** The configuration of `vars`, which must be valid. */
export function mysqlConfig(vars: Record<string, string>): MysqlConfig {
  return unitConfig(mysqlSpecs(vars)[0]);
}

/** A run and how long it took. */
export interface TimedResult {
  result: CheckResult;
  elapsedMs: number;
}

/** One run with a deadline, the way the scheduler runs it; also returns how long it took. */
export async function runMysql(config: MysqlConfig, deadlineMs = 3_000): Promise<TimedResult> {
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

/**
 * Runs the check in a child `deno` granted only `needs()`, trusting the
 * fixture CA; `elapsedMs` is the run's own.
 */
export async function runMysqlInChild(
  vars: Record<string, string>,
  deadlineMs = 5_000,
): Promise<TimedResult> {
  const needs = mysql.needs(mysqlConfig(vars));
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      `--allow-net=${needs.net!.join(",")}`,
      "tests/support/mysql_run_once.ts",
      JSON.stringify(vars),
      String(deadlineMs),
    ],
    cwd: ROOT,
    env: { DENO_CERT: `${MYSQL_FIXTURES}/ca.pem`, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** No secret appears anywhere in the result. */
export function assertNoSecret(result: CheckResult, ...secrets: string[]): void {
  const text = JSON.stringify(result);
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a password leaked into ${text}`);
  }
}

/** An error result with this reason and a message. */
export function assertError(result: CheckResult, reason: string): void {
  assert.equal(result.status, "error", JSON.stringify(result));
  assert.equal(result.reason, reason, JSON.stringify(result));
  assert.ok(result.message && result.message.length > 0);
}

/** The run took from `fromMs` to `fromMs + MARGIN_MS` (it ended at its deadline, not later). */
export function assertEndedAt(elapsedMs: number, fromMs: number): void {
  assert.ok(elapsedMs >= fromMs - 10 && elapsedMs < fromMs + MARGIN_MS, `took ${elapsedMs} ms`);
}

/** A password for a test account: random, with characters that need quoting. */
export function randomPassword(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}#Pw!`;
}

type Row = Record<string, unknown>;

/** A TCP session of the test itself, to read what the server says about itself. */
export async function observe(db: MariaDb, user: string, password: string) {
  const conn = await mysql2.createConnection({ host: "127.0.0.1", port: db.port, user, password });
  return {
    conn,
    /** `SHOW GLOBAL STATUS` as numbers. */
    async status(): Promise<Map<string, number>> {
      const [rows] = await conn.query("SHOW GLOBAL STATUS");
      return new Map((rows as Row[]).map((r) => [String(r.Variable_name), Number(r.Value)]));
    },
    /** The first column of the first row. */
    async scalar(sql: string): Promise<unknown> {
      const [rows] = await conn.query(sql);
      return Object.values((rows as Row[])[0])[0];
    },
    close: () => conn.end(),
  };
}

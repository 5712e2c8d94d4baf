/**
 * Running the `postgres` check in tests: configuration from variables, one
 * run with a deadline, and the assertions the postgres test files share.
 *
 * @module
 */

import assert from "node:assert/strict";
import { postgres, type PostgresConfig } from "../../checks/postgres/mod.ts";
import type { CheckResult } from "../../src/check.ts";
import { unitConfig } from "./specs.ts";

/** Distinct passwords, so that a leak of any of them is found. */
export const PW = {
  checker: "chk-Pw_7f3a9c",
  limited: "lim-Pw_52be10",
  nologin: "nol-Pw_c0ffee",
  serial: "ser-Pw_0a000e",
  app: "app-Pw_d34d10",
  wrong: "wrong-Pw_9e8d7c",
};

/**
 * How long after its signal fired a run may take before the test calls it
 * hung. Not a speed target (those are in the report of issue 12 for `deno
 * task bench`): it only tells "the signal ended the run" from "nothing did".
 */
export const HANG_MS = 10_000;

/** Reads variables from a plain object. */
export function envReader(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => vars[name];
}

/** The configuration the module parses from `vars`; fails the test when it is invalid. */
export function configOf(vars: Record<string, string>): PostgresConfig {
  const [spec] = postgres.parse(envReader(vars));
  return unitConfig(spec);
}

/** A target on 127.0.0.1:`port` as role `checker`. */
export function local(port: number, extra: Record<string, string> = {}): PostgresConfig {
  return configOf({
    POSTGRES_HOST: "127.0.0.1",
    POSTGRES_PORT: String(port),
    POSTGRES_USER: "checker",
    POSTGRES_PASSWORD: PW.checker,
    ...extra,
  });
}

/** `promise`, or a test failure naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One run whose signal fires after `timeoutMs`, as the scheduler's would. */
export async function runCheck(
  config: PostgresConfig,
  timeoutMs = 5000,
): Promise<{ result: CheckResult; elapsedMs: number }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const { run } = await postgres.load();
    const result = await within(
      run(config, { signal: controller.signal, memory: new Map() }),
      timeoutMs + HANG_MS,
      "the run ended after its signal fired",
    );
    assert.ok(!Array.isArray(result));
    return { result, elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Fails when any of `secrets` occurs in `value` (a string or anything JSON). */
export function assertNoSecret(value: unknown, ...secrets: string[]): void {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `a password leaked into ${text}`);
  }
}

/** A timeout verdict that came at the deadline, not before it. */
export function assertTimedOut(result: CheckResult, elapsedMs: number, timeoutMs: number): void {
  assert.equal(result.status, "error");
  assert.equal(result.reason, "timeout", JSON.stringify(result));
  assert.ok(elapsedMs >= timeoutMs - 5, `ended after ${elapsedMs} ms, before the deadline`);
}

/**
 * Running the http module in tests: its config from variables, one run with
 * a deadline as the scheduler gives it, and assertions on the result.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CheckResult, Phase } from "../../src/check.ts";
import { http, type HttpConfig } from "../../checks/http/mod.ts";
import { run } from "../../checks/http/run.ts";
import { unitConfig } from "./specs.ts";

/** The module's configuration for these `HTTP_*` variables (which must be valid). */
export function httpConfig(env: Record<string, string>): HttpConfig {
  return unitConfig(http.parse((name) => env[name])[0]);
}

/** One run with a deadline, as the scheduler does it (abort with a TimeoutError). */
export async function runHttp(
  env: Record<string, string>,
  { timeoutMs = 3000, phases = [] as Phase[] } = {},
): Promise<CheckResult> {
  const config = httpConfig(env);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`deadline of ${timeoutMs} ms reached`, "TimeoutError")),
    timeoutMs,
  );
  try {
    const result = await run(config, {
      signal: controller.signal,
      memory: new Map(),
      phase: (name) => phases.push(name),
    });
    assert.equal(result.target, config.url);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** A result with this status and reason (none for ok), a matching message and `details.phase`. */
export function assertVerdict(
  result: CheckResult,
  status: "ok" | "warn" | "error",
  reason?: string,
  message?: RegExp,
  phase?: Phase,
): void {
  const shown = JSON.stringify(result);
  assert.equal(result.status, status, shown);
  assert.equal(result.reason, reason, shown);
  if (message) assert.match(result.message ?? "", message, shown);
  if (status === "ok") assert.equal(result.message, undefined, shown);
  assert.equal(result.details?.phase, phase, shown);
}

/** Every phase duration the run reports, by name. */
export function phaseDurations(result: CheckResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(result.details ?? {})) {
    if (!name.endsWith("_ms")) continue;
    assert.equal(typeof value, "number", name);
    assert.ok((value as number) >= 0, `${name} = ${value}`);
    out[name] = value as number;
  }
  return out;
}

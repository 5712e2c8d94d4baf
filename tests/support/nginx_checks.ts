/**
 * Running the nginx module in tests: its config from a URL, one run with a
 * deadline as the scheduler gives it, assertions on the result, and a real
 * nginx (with its upstream) for the length of one test.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CheckResult, Phase } from "../../src/check.ts";
import { nginx, type NginxConfig } from "../../checks/nginx/mod.ts";
import { run } from "../../checks/nginx/run.ts";
import {
  directGet,
  type NginxOptions,
  nginxOptions,
  type NginxServer,
  numbersOf,
  startNginx,
  startUpstream,
} from "./nginx_server.ts";
import { unitConfig } from "./specs.ts";
import { retryOnPortClash } from "./binaries.ts";

/** How much later than its deadline a run may end. */
const MARGIN_MS = 250;

/** The module's units for `NGINX_STATUS_URL=value`. */
export function specFor(value: string | undefined) {
  return nginx.parse((name) => (name === "NGINX_STATUS_URL" ? value : undefined));
}

/** The configuration of a URL that must be valid. */
export function configFor(url: string): NginxConfig {
  const [spec] = specFor(url);
  return unitConfig(spec);
}

/** One run with a deadline, as the scheduler does it (abort with a TimeoutError). */
export async function runCheck(
  config: NginxConfig,
  { timeoutMs = 3000, memory = new Map<string, unknown>(), phases = [] as Phase[] } = {},
): Promise<{ result: CheckResult; elapsedMs: number }> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`deadline of ${timeoutMs} ms reached`, "TimeoutError")),
    timeoutMs,
  );
  const started = performance.now();
  try {
    const result = await run(config, {
      signal: controller.signal,
      memory,
      phase: (name) => phases.push(name),
    });
    assert.ok(!Array.isArray(result));
    assert.equal(result.target, config.url);
    return { result, elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** An error result with this reason, a matching message and (when given) this `details.phase`. */
export function assertError(
  result: CheckResult,
  reason: string,
  message: RegExp,
  phase?: string,
): void {
  assert.equal(result.status, "error", JSON.stringify(result));
  assert.equal(result.reason, reason, JSON.stringify(result));
  assert.match(result.message ?? "", message);
  if (phase !== undefined) assert.equal(result.details?.phase, phase, JSON.stringify(result));
}

/** The run ended at its deadline, not before and not long after. */
export function assertTimedOut(elapsedMs: number, timeoutMs: number): void {
  assert.ok(
    elapsedMs >= timeoutMs - 10 && elapsedMs < timeoutMs + MARGIN_MS,
    `took ${elapsedMs.toFixed(0)} ms for a ${timeoutMs} ms deadline`,
  );
}

/** What a test gets while its nginx runs. */
export interface NginxFixture {
  options: NginxOptions;
  /** The running nginx; undefined after a test stopped it. */
  server: NginxServer | undefined;
  /** Its stub_status URL on 127.0.0.1. */
  statusUrl: string;
  /** Stops nginx (a test may, to see it down). */
  stop(): Promise<void>;
  /** Starts it again on the same ports. */
  restart(): Promise<void>;
  /** Waits until nginx counts only the connection asking: the runs closed theirs. */
  activeSettles(): Promise<void>;
}

/** Runs `fn` against a real nginx (and its upstream) started for it, and cleans up. */
export async function withNginx(fn: (nginx: NginxFixture) => Promise<void>): Promise<void> {
  const upstream = startUpstream();
  let options: NginxOptions | undefined;
  try {
    // Each attempt gets new ports (and a new prefix; a failed one's is removed).
    const server = await retryOnPortClash(async () => {
      if (options) await Deno.remove(options.prefix, { recursive: true });
      options = await nginxOptions(upstream.port);
      return await startNginx(options);
    });
    const started = options!;
    const fixture: NginxFixture = {
      options: started,
      server,
      statusUrl: "",
      async stop() {
        await fixture.server?.stop();
        fixture.server = undefined;
      },
      async restart() {
        fixture.server = await startNginx(started);
      },
      async activeSettles() {
        let active = -1;
        for (let i = 0; i < 100; i++) {
          active = numbersOf((await directGet(fixture.statusUrl)).text)[0];
          if (active === 1) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.fail(`nginx still counts ${active} active connections: a run left one open`);
      },
    };
    fixture.statusUrl = fixture.server!.url("/status");
    try {
      await fn(fixture);
    } finally {
      await fixture.stop();
    }
  } finally {
    await upstream.close();
    if (options) await Deno.remove(options.prefix, { recursive: true });
  }
}

/**
 * A timeout at the deadline names the phase the real module was in: the
 * module's own verdict (given in the scheduler's grace) or the scheduler's,
 * from the modules' `phase` reports.
 */

import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { realClock } from "../src/clock.ts";
import { resolveConfig } from "../src/config.ts";
import { loadRunners, scheduleInstances } from "../src/instances.ts";
import type { CheckOutcome } from "../src/protocol.ts";
import { Scheduler } from "../src/scheduler.ts";
import { silentListener } from "./support/listeners.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function timeoutAgainstSilentPeer(
  vars: (port: number) => Record<string, string>,
): Promise<CheckOutcome> {
  const listener = silentListener();
  try {
    const env: Record<string, string> = { CHECK_TIMEOUT_SECONDS: "0.3", ...vars(listener.port) };
    const result = resolveConfig((n) => env[n], { modules: MODULES, hostname: () => "t" });
    assert.ok(result.ok);
    const { checks, problems } = scheduleInstances(
      result.config.checks,
      await loadRunners(result.config.checks),
    );
    assert.deepEqual(problems, []);
    const outcomes: CheckOutcome[] = [];
    await new Scheduler({ checks, clock: realClock, log: silent, sink: (o) => outcomes.push(o) })
      .runOnce();
    assert.equal(outcomes.length, 1);
    return outcomes[0];
  } finally {
    await listener.close();
  }
}

Deno.test("a MySQL server that never greets times out during the handshake (its greeting)", async () => {
  const outcome = await timeoutAgainstSilentPeer((port) => ({
    ENABLED_MODULES: "mysql",
    MYSQL_HOST: "127.0.0.1",
    MYSQL_PORT: String(port),
    MYSQL_USER: "u",
  }));
  assert.equal(outcome.reason, "timeout");
  assert.equal(outcome.details?.phase, "handshake");
  assert.match(
    outcome.message ?? "",
    /timed out waiting for the MySQL greeting from 127\.0\.0\.1:/,
  );
});

Deno.test("an SSH server that never sends its banner times out during the handshake", async () => {
  const outcome = await timeoutAgainstSilentPeer((port) => ({
    ENABLED_MODULES: "ssh",
    SSH_HOST: "127.0.0.1",
    SSH_PORT: String(port),
    SSH_USER: "u",
    SSH_PASSWORD: "p",
  }));
  assert.equal(outcome.reason, "timeout");
  assert.equal(outcome.details?.phase, "handshake");
});

Deno.test("a PostgreSQL server that never answers times out in its first phase after connect", async () => {
  const outcome = await timeoutAgainstSilentPeer((port) => ({
    ENABLED_MODULES: "postgres",
    POSTGRES_HOST: "127.0.0.1",
    POSTGRES_PORT: String(port),
    POSTGRES_USER: "u",
  }));
  assert.equal(outcome.reason, "timeout");
  assert.ok(["tls", "startup"].includes(String(outcome.details?.phase)), JSON.stringify(outcome));
});

Deno.test("an HTTP server that never answers times out in first_byte, or in tls for https, with the module's words", async () => {
  const plain = await timeoutAgainstSilentPeer((port) => ({
    ENABLED_MODULES: "http",
    HTTP_URL: `http://127.0.0.1:${port}/health`,
  }));
  assert.equal(plain.reason, "timeout");
  assert.equal(plain.details?.phase, "first_byte");
  assert.match(
    plain.message ?? "",
    /accepted the connection but sent no answer before the deadline$/,
  );
  assert.equal(typeof plain.details?.connect_ms, "number", "what was measured is kept");
  const secure = await timeoutAgainstSilentPeer((port) => ({
    ENABLED_MODULES: "http",
    HTTP_URL: `https://127.0.0.1:${port}/health`,
  }));
  assert.equal(secure.reason, "timeout");
  assert.equal(secure.details?.phase, "tls");
  assert.match(secure.message ?? "", /^timed out in the TLS handshake with 127\.0\.0\.1:\d+$/);
});

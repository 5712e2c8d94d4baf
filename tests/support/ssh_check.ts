/**
 * Running the ssh check in tests: parse a set of variables (failing on any
 * variable the module does not declare), run once with a deadline, a
 * listener that holds connections open, and the assertions the ssh test
 * files share.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CheckResult, InstanceSpec } from "../../src/check.ts";
import { moduleEnvNames } from "../../src/config_modules.ts";
import { ssh, type SshConfig } from "../../checks/ssh/mod.ts";
import { unitConfig } from "./specs.ts";

/** A timeout case must end within its timeout plus this. */
export const MARGIN_MS = 300;

/** The units `vars` parse into; reading an undeclared variable fails the test. */
export function sshSpecs(vars: Record<string, string>): InstanceSpec<SshConfig>[] {
  return ssh.parse((name) => {
    assert.ok(moduleEnvNames(ssh).includes(name), `parse read ${name}, which is not in ssh.env`);
    return vars[name];
  });
}

/** The configuration of `vars`, which must be valid. */
export function sshConfig(vars: Record<string, string>): SshConfig {
  return unitConfig(sshSpecs(vars)[0]);
}

/** A run and how long it took. */
export interface Timed {
  result: CheckResult;
  elapsedMs: number;
}

/**
 * A listener that accepts, optionally sends `greeting`, and then never writes
 * again; it can tell whether the client closed each connection (EOF).
 */
export function holdingListener(greeting?: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        held.push(conn);
        if (greeting) await conn.write(new TextEncoder().encode(greeting));
      }
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => held.length,
    /** Whether the client closed connection `index` (EOF within `waitMs`). */
    async clientClosed(index: number, waitMs = 1000): Promise<boolean> {
      const conn = held[index];
      const buffer = new Uint8Array(4096);
      const deadline = AbortSignal.timeout(waitMs);
      const timedOut = new Promise<"open">((resolve) =>
        deadline.addEventListener("abort", () => resolve("open"), { once: true })
      );
      while (true) {
        const n = await Promise.race([conn.read(buffer).catch(() => null), timedOut]);
        if (n === "open") return false;
        if (n === null) return true;
      }
    },
    async close() {
      listener.close();
      held.forEach((c) => {
        try {
          c.close();
        } catch { /* already closed */ }
      });
      await accepting;
    },
  };
}

/** A password login to `127.0.0.1:port` as user "u": the config of the network-failure cases. */
export function passwordTarget(port: number): SshConfig {
  return sshConfig({
    SSH_HOST: "127.0.0.1",
    SSH_PORT: String(port),
    SSH_USER: "u",
    SSH_PASSWORD: "p",
  });
}

/** One run with a deadline of `timeoutMs`, as the scheduler runs it; checks the result's shape. */
export async function runSsh(
  config: SshConfig,
  timeoutMs = 5000,
  memory = new Map<string, unknown>(),
): Promise<Timed> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const result = await (await ssh.load()).run(config, { signal: controller.signal, memory });
    const elapsedMs = performance.now() - started;
    assert.ok(!Array.isArray(result));
    assert.equal(result.target, config.target);
    if (result.status !== "ok") assert.ok(result.message, "a failed result has a message");
    return { result, elapsedMs };
  } finally {
    clearTimeout(timer);
  }
}

/** An error result with this reason (and a message matching `message`). */
export function assertFailed(timed: Timed, reason: string, message?: RegExp) {
  const { result } = timed;
  assert.equal(result.status, "error", JSON.stringify(result));
  assert.equal(result.reason, reason, JSON.stringify(result));
  if (message) assert.match(result.message ?? "", message);
}

/** The run ended before `limitMs`. */
export function assertWithin(timed: Timed, limitMs: number) {
  assert.ok(timed.elapsedMs < limitMs, `took ${timed.elapsedMs.toFixed(0)} ms, limit ${limitMs}`);
}

/** A timeout that ended at its deadline (within {@link MARGIN_MS}). */
export function assertTimedOut(timed: Timed, timeoutMs: number) {
  assertFailed(timed, "timeout");
  assert.ok(
    timed.elapsedMs >= timeoutMs - 10 && timed.elapsedMs < timeoutMs + MARGIN_MS,
    `took ${timed.elapsedMs.toFixed(0)} ms for a ${timeoutMs} ms timeout`,
  );
}

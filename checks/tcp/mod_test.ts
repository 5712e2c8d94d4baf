import assert from "node:assert/strict";
import {
  blackholeListener,
  closedPort,
  openListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import type { CheckResult, Phase } from "../../src/check.ts";
import { unitConfig, unitError } from "../../tests/support/specs.ts";
import { run, tcp, type TcpConfig } from "./mod.ts";

function spec(text: string) {
  const specs = tcp.parse((name) => (name === "TCP_CHECKS" ? text : undefined));
  return specs;
}

function configOf(text: string): TcpConfig {
  return unitConfig(spec(text)[0]);
}

async function runOnce(
  config: TcpConfig,
  timeoutMs = 2000,
  phases: Phase[] = [],
): Promise<CheckResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const result = await run(config, {
      signal: controller.signal,
      memory: new Map(),
      phase: (name) => phases.push(name),
    });
    assert.ok(!Array.isArray(result));
    return result;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("tcp parses host:port, IPv6 literals and names one instance per target", () => {
  const specs = spec("127.0.0.1:22, [::1]:80 ,db.local:5432,127.0.0.1:22");
  assert.deepEqual(specs.map((s) => s.name), ["127.0.0.1:22", "[::1]:80", "db.local:5432"]);
  assert.deepEqual(unitConfig(specs[1]), { host: "::1", port: 80, target: "[::1]:80" });
  assert.deepEqual(tcp.needs(unitConfig(specs[1])), { net: ["[::1]:80"] });
});

Deno.test("tcp turns each bad target into a config error that names it", () => {
  const specs = spec(
    "nohost,host:0,host:70000,::1:80,bad host:1,:80,[::1],http://example.com:80,[a:b:c]:22",
  );
  assert.equal(specs.length, 9);
  for (const s of specs) {
    assert.match(unitError(s), /^TCP_CHECKS: /);
  }
  assert.match(unitError(specs[0]), /the port is missing/);
  assert.match(unitError(specs[3]), /brackets/);
  assert.match(unitError(specs[7]), /is a URL: write host:port/);
  assert.doesNotMatch(unitError(specs[7]), /brackets/);
  assert.match(unitError(specs[8]), /not a valid IPv6 address/);
});

Deno.test("tcp reports ok with the resolved address for an open port, in phase connect", async () => {
  const listener = openListener();
  try {
    const phases: Phase[] = [];
    const result = await runOnce(configOf(`localhost:${listener.port}`), 2000, phases);
    assert.deepEqual(phases, ["connect"]);
    assert.equal(result.status, "ok");
    assert.equal(result.target, `localhost:${listener.port}`);
    assert.equal(result.details?.address, "127.0.0.1");
    assert.equal(result.details?.port, listener.port);
    assert.equal(typeof result.details?.connect_ms, "number");
  } finally {
    await listener.close();
  }
});

Deno.test("tcp reports refused for a closed port, with the connect phase", async () => {
  const port = closedPort();
  const result = await runOnce(configOf(`127.0.0.1:${port}`));
  assert.deepEqual(result, {
    target: `127.0.0.1:${port}`,
    status: "error",
    reason: "refused",
    message: `cannot connect to 127.0.0.1:${port}: connection refused`,
    details: { phase: "connect" },
  });
});

Deno.test("tcp reports refused for a closed IPv6 loopback port", async () => {
  const result = await runOnce(configOf(`[::1]:${closedPort()}`));
  assert.equal(result.reason, "refused");
  assert.equal(result.target.startsWith("[::1]:"), true);
});

Deno.test("tcp reports ok over IPv6 loopback", async () => {
  const listener = openListener("::1");
  try {
    const result = await runOnce(configOf(`[::1]:${listener.port}`));
    assert.equal(result.status, "ok");
    assert.equal(result.details?.address, "::1");
  } finally {
    await listener.close();
  }
});

Deno.test("tcp reports timeout for a connect that never completes, at the deadline", async () => {
  const hole = await blackholeListener();
  try {
    const started = performance.now();
    const result = await runOnce(configOf(`127.0.0.1:${hole.port}`), 300);
    const elapsed = performance.now() - started;
    assert.equal(result.reason, "timeout");
    assert.equal(result.details?.phase, "connect");
    assert.ok(elapsed >= 290 && elapsed < 1000, `took ${elapsed} ms`);
  } finally {
    hole.close();
  }
});

Deno.test("tcp reports dns for a name that does not resolve", async () => {
  const result = await runOnce(configOf(`${UNRESOLVABLE_HOST}:80`));
  assert.equal(result.reason, "dns");
  assert.match(result.message ?? "", /not resolved/);
});

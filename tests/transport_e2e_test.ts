/**
 * End-to-end tests of delivery: the real agent process (started through the
 * launcher, as `deno task start` does) against a real WebSocket server inside
 * this test process (tests/support/ws_server.ts), which records how each
 * connection was closed.
 */

import assert from "node:assert/strict";
import { startTask, waitFor } from "./support/processes.ts";
import { TestWsServer, within } from "./support/ws_server.ts";

const FAST = {
  AGENT_ID: "e2e-transport",
  HEARTBEAT_INTERVAL_SECONDS: "0.2",
  MONITORING_CONNECT_TIMEOUT_SECONDS: "1",
  LOG_LEVEL: "debug",
};

Deno.test("e2e: SIGTERM closes the monitoring connection with 1000 'agent stopping' before the process exits", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const agent = await startTask("start", { ...FAST, MONITORING_URL: server.url.href });
  try {
    await waitFor("a heartbeat at the server", () => server.frames.length >= 1, 15_000);
    agent.kill("SIGTERM");
    const status = await agent.exit();
    assert.equal(status.code, 0, agent.stderr.join("\n"));
    assert.equal(server.connections.length, 1, agent.stderr.join("\n"));
    // The process is gone: whatever close frame it managed to write has arrived by now.
    const info = await within(server.connections[0].closed, 3_000, "the server-side close");
    assert.deepEqual(
      { code: info.code, reason: info.reason, wasClean: info.wasClean },
      { code: 1000, reason: "agent stopping", wasClean: true },
      agent.stderr.join("\n"),
    );
    const stopped = agent.stderr.find((l) => / stopped delivered_all=/.test(l)) ?? "";
    assert.match(stopped, /delivered_all=true confirmed=\d+ written_unconfirmed=0 /);
  } finally {
    agent.kill("SIGKILL");
    await agent.exit();
    await server.stop();
  }
});

Deno.test("e2e: against a server without acks the agent warns at connect, and its shutdown line does not claim delivery", async () => {
  const server = await TestWsServer.start({ hello: null });
  const agent = await startTask("start", { ...FAST, MONITORING_URL: server.url.href });
  try {
    await waitFor("two heartbeats at the server", () => server.frames.length >= 2, 15_000);
    agent.kill("SIGTERM");
    const status = await agent.exit();
    const log = agent.stderr.join("\n");
    assert.equal(status.code, 0, log);
    const warnings = agent.stderr.filter((l) => l.includes("does not acknowledge events"));
    assert.equal(warnings.length, 1, log);
    assert.match(warnings[0], /WARN/);
    const stopped = agent.stderr.find((l) => / stopped delivered_all=/.test(l)) ?? "";
    const written = Number(/written_unconfirmed=(\d+)/.exec(stopped)?.[1]);
    assert.match(stopped, /delivered_all=false confirmed=0 /, log);
    assert.ok(written >= 2 && written <= server.frames.length, log);
  } finally {
    agent.kill("SIGKILL");
    await agent.exit();
    await server.stop();
  }
});

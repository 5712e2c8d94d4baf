/**
 * Network failures against real loopback listeners (no PostgreSQL needed):
 * refused, dns, timeouts in each phase with the socket closed afterwards,
 * the phases reported, and a peer that hangs up during the startup.
 */

import assert from "node:assert/strict";
import type { Phase } from "../../src/check.ts";
import {
  blackholeListener,
  closedPort,
  serveTcp,
  silentListener,
  UNRESOLVABLE_HOST,
} from "../../tests/support/listeners.ts";
import {
  assertTimedOut,
  configOf,
  local,
  runCheck,
  within,
} from "../../tests/support/postgres_check.ts";
import { backendMessage, scriptedListener } from "../../tests/support/postgres_server.ts";
import { waitFor } from "../../tests/support/processes.ts";
import { postgres as postgresCheck } from "./mod.ts";

const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));

Deno.test("postgres reports refused for a closed port", async () => {
  const { result } = await runCheck(local(closedPort()));
  assert.equal(result.status, "error");
  assert.equal(result.reason, "refused");
  assert.match(result.message ?? "", /^cannot connect to 127\.0\.0\.1:\d+: connection refused$/);
  assert.deepEqual(result.details, { phase: "connect" });
});

Deno.test("postgres reports dns for a host name that does not resolve", async () => {
  const config = configOf({ POSTGRES_HOST: UNRESOLVABLE_HOST, POSTGRES_USER: "checker" });
  const { result } = await runCheck(config);
  assert.equal(result.status, "error");
  assert.equal(result.reason, "dns");
  assert.match(result.message ?? "", /not resolved/);
});

Deno.test("postgres reports timeout at the deadline for a server that accepts and never answers", async () => {
  const silent = silentListener();
  try {
    const cases: [string, RegExp, Phase][] = [
      ["prefer", /TLS handshake/, "tls"],
      ["disable", /startup/, "handshake"],
    ];
    for (const [mode, message, phase] of cases) {
      const { result, elapsedMs } = await runCheck(
        local(silent.port, { POSTGRES_SSLMODE: mode }),
        400,
      );
      assertTimedOut(result, elapsedMs, 400);
      assert.match(result.message ?? "", message);
      assert.equal(result.details?.phase, phase);
    }
    assert.equal(silent.accepted(), 2);
  } finally {
    await silent.close();
  }
});

Deno.test("postgres closes its socket when it times out in each phase (TLS request, startup, login, query)", async () => {
  // answers the startup with AuthenticationOk + ReadyForQuery, then silence: the query never returns
  const loggedIn = scriptedListener({
    answer: (_chunk, index) =>
      index === 0 ? concat(backendMessage.authOk(), backendMessage.ready()) : null,
  });
  // asks for a password, then never says whether it was right
  const asksPassword = scriptedListener({
    answer: (_chunk, index) => index === 0 ? backendMessage.cleartext() : null,
  });
  const silent = scriptedListener();
  try {
    const cases: [typeof silent, string, RegExp, Phase][] = [
      [silent, "require", /TLS handshake/, "tls"],
      [silent, "disable", /startup and login/, "handshake"],
      [asksPassword, "disable", /startup and login/, "auth"],
      [loggedIn, "disable", /waiting for a query/, "query"],
    ];
    for (const [server, mode, message, phase] of cases) {
      const before = server.connections.length;
      const { result, elapsedMs } = await runCheck(
        local(server.port, { POSTGRES_SSLMODE: mode }),
        300,
      );
      assertTimedOut(result, elapsedMs, 300);
      assert.match(result.message ?? "", message);
      assert.equal(result.details?.phase, phase);
      assert.equal(server.connections.length, before + 1, "exactly one connection per run");
      const connection = server.connections[before];
      assert.ok(connection.received > 0);
      await within(connection.closed, 5000, "the check closed its connection after the timeout");
    }
    // the password was sent, and the query after the login
    assert.ok(asksPassword.connections[0].received > 8 + "checker".length);
    assert.ok(loggedIn.connections[0].received > 100);
  } finally {
    await loggedIn.close();
    await asksPassword.close();
    await silent.close();
  }
});

Deno.test("postgres tells the scheduler each phase it enters, in the shared vocabulary", async () => {
  // TLS declined ("N"), a password asked for, accepted, then no answer to the query
  const server = scriptedListener({
    answer: (chunk, index) => {
      if (index === 0 && chunk.length === 8) return new Uint8Array([0x4e]);
      if (index === 1) return backendMessage.cleartext();
      if (index === 2) return concat(backendMessage.authOk(), backendMessage.ready());
      return null;
    },
  });
  try {
    const phases: Phase[] = [];
    const controller = new AbortController();
    const { run } = await postgresCheck.load();
    const running = run(local(server.port), {
      signal: controller.signal,
      memory: new Map(),
      phase: (name) => phases.push(name),
    });
    await waitFor("the query phase", () => phases.includes("query"), 5000);
    controller.abort();
    const result = await within(running, 5000, "the run ended after the abort");
    assert.ok(!Array.isArray(result));
    assert.equal(result.reason, "timeout");
    assert.deepEqual(phases, ["connect", "tls", "handshake", "auth", "query", "close"]);
  } finally {
    await server.close();
  }
});

Deno.test("postgres reports timeout at the deadline when the TCP connect never completes", async () => {
  const hole = await blackholeListener();
  try {
    const { result, elapsedMs } = await runCheck(local(hole.port), 300);
    assertTimedOut(result, elapsedMs, 300);
    assert.match(result.message ?? "", /while connecting/);
    assert.equal(result.details?.phase, "connect");
  } finally {
    hole.close();
  }
});

Deno.test("postgres does not connect at all when the signal has already fired", async () => {
  const listener = scriptedListener();
  try {
    const { run } = await postgresCheck.load();
    const result = await run(local(listener.port), {
      signal: AbortSignal.abort(),
      memory: new Map(),
    });
    assert.ok(!Array.isArray(result));
    assert.equal(result.reason, "timeout");
    // A barrier instead of a sleep: a connection of the check would have been
    // accepted before this one, which is opened after the run returned.
    const probe = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    await waitFor("the probe to be accepted", () => listener.connections.length > 0, 5000);
    probe.close();
    assert.equal(listener.connections.length, 1, "the check connected");
  } finally {
    await listener.close();
  }
});

Deno.test("postgres reports protocol, not internal, for a peer that hangs up after the startup message", async () => {
  // postgres.js answers a clean close before ReadyForQuery by reconnecting; one attempt only
  const hangsUp = serveTcp(async (conn) => {
    await conn.read(new Uint8Array(1024)); // the StartupMessage
  });
  try {
    const { result } = await runCheck(local(hangsUp.port, { POSTGRES_SSLMODE: "disable" }));
    assert.equal(result.status, "error");
    assert.equal(result.reason, "protocol", JSON.stringify(result));
    assert.match(
      result.message ?? "",
      /^127\.0\.0\.1:\d+ closed the connection during the startup handshake; is it a PostgreSQL server\?/,
    );
    assert.equal(hangsUp.accepted(), 1, "no second attempt");
  } finally {
    await hangsUp.close();
  }
});

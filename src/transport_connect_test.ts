/**
 * Transport connect tests: attempts, their timeout, backoff and refused
 * upgrades, against real servers on 127.0.0.1 with the transport on a manual
 * clock (tests/support/transport_harness.ts). Backoff has no jitter here
 * (`random` 0.5), so its delays are exact: 50, 100, 200, 200 … ms.
 *
 * Run: deno test --allow-net=127.0.0.1 --allow-env --allow-read src/transport_connect_test.ts
 */

import assert from "node:assert/strict";
import type { SocketFactory } from "./transport.ts";
import { upgradeStatus } from "./transport_connect.ts";
import { SilentTcpServer } from "../tests/support/raw_servers.ts";
import { TestWsServer } from "../tests/support/ws_server.ts";
import {
  closeTransport,
  event,
  harness,
  logged,
  pushEvents,
  range,
  TIMINGS,
  TOKEN,
  until,
} from "../tests/support/transport_harness.ts";

Deno.test("Transport retries a server that is down with exact backoff, then delivers everything queued", async () => {
  // Learn a free port, then leave it closed until the server "comes up".
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  await server.stop();
  const h = harness(server.url);
  const { clock, transport, queue, attempts } = h;
  const reconnects = () => logged(h, "reconnecting to monitoring");
  try {
    pushEvents(queue, 1, 5);
    transport.start();
    transport.notify();
    for (const [n, delay] of [[1, 50], [2, 100], [3, 200], [4, 200]]) {
      await until(clock, `backoff after attempt ${n}`, () => reconnects().length === n, {
        state: () => h.lines,
      });
      assert.equal(reconnects()[n - 1].fields?.in_ms, delay);
      await clock.advance(delay - 1);
      assert.equal(attempts.length, n, `attempt ${n + 1} came before its backoff`);
      await clock.advance(1);
      await until(clock, `attempt ${n + 1}`, () => attempts.length === n + 1);
    }
    pushEvents(queue, 6, 10);
    transport.notify();
    assert.equal(transport.connections, 0);
    assert.equal(queue.size, 10, "nothing leaves the queue while the server is down");
    assert.ok(logged(h, "cannot connect", "warn").length >= 4);

    await server.start();
    await until(clock, "an empty queue", () => queue.size === 0, {
      stepMs: 10,
      state: () => queue.size,
    });
    assert.deepEqual(server.seqs(), range(1, 10));
    assert.deepEqual(server.frames.map((f) => f.data), range(1, 10).map((s) => event(s).data));
    assert.equal(transport.connections, 1);
    for (const a of attempts) assert.equal(a.headers.Authorization, `Bearer ${TOKEN}`);
    assert.equal(server.requests.at(-1)?.authorization, `Bearer ${TOKEN}`);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport abandons a connect attempt that hangs after connectTimeoutMs and retries", async () => {
  const tcp = new SilentTcpServer();
  const h = harness(new URL(`ws://127.0.0.1:${tcp.port}/agent`));
  const { clock, transport, queue } = h;
  const timeoutWarnings = () =>
    logged(h, "cannot connect", "warn").filter((l) =>
      String(l.fields?.error).includes(`no answer within ${TIMINGS.connectTimeoutMs} ms`)
    );
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    await until(clock, "the upgrade request at the server", () => tcp.accepted[0]?.bytes > 0);
    await clock.advance(TIMINGS.connectTimeoutMs - 1);
    assert.equal(timeoutWarnings().length, 0, "gave up before the connect timeout");
    assert.equal(tcp.accepted[0].closedByPeerAt, undefined);
    await clock.advance(1);
    assert.equal(timeoutWarnings().length, 1, JSON.stringify(h.lines));
    await until(
      clock,
      "the abandoned connection to be closed by the client",
      () => tcp.accepted[0].closedByPeerAt !== undefined,
    );
    await clock.advance(TIMINGS.backoff.baseMs);
    await until(clock, "a second TCP connection", () => tcp.accepted.length >= 2);
    assert.equal(transport.connections, 0);
    assert.equal(queue.size, 3);
    // close() during a pending attempt ends it at once, not at the connect timeout.
    assert.equal(await closeTransport(h), 0);
    assert.equal(clock.pending(), 0, "close() leaves no timer armed");
  } finally {
    await closeTransport(h, 50);
    await tcp.close();
  }
  assert.equal(queue.size, 3);
});

Deno.test("Transport says once that the server refused MONITORING_TOKEN, keeps retrying with backoff, and says it again after a change", async () => {
  const server = await TestWsServer.start({ refuseStatus: 401, autoAck: true });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  const refusals = () => h.lines.filter((l) => l.message.includes("refused MONITORING_TOKEN"));
  const warnings = () => h.lines.filter((l) => l.level === "warn" || l.level === "error");
  try {
    pushEvents(queue, 1, 4);
    transport.start();
    transport.notify();
    await until(clock, "4 refused upgrades", () => server.requests.length >= 4, { stepMs: 10 });
    assert.ok(server.requests.every((r) => r.status === 401));
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.deepEqual(
      logged(h, "reconnecting to monitoring").slice(0, 3).map((l) => l.fields?.in_ms),
      [50, 100, 200],
      "retried with backoff",
    );
    assert.equal(refusals().length, 1, JSON.stringify(h.lines));
    assert.equal(refusals()[0].level, "warn");
    assert.equal(refusals()[0].fields?.status, 401);
    assert.deepEqual(warnings(), refusals(), "no other warning for the same refusal");
    assert.equal(transport.connections, 0);
    assert.equal(queue.size, 4);
    assert.ok(!JSON.stringify(h.lines).includes(TOKEN), "the token is never logged");

    // Once the server accepts the token, everything queued arrives.
    server.refuseStatus = undefined;
    await until(clock, "an empty queue", () => queue.size === 0, { stepMs: 10 });
    assert.deepEqual(server.seqs(), range(1, 4));

    // Refused again later: that is a change, so it is said again.
    server.refuseStatus = 401;
    server.open.forEach((c) => c.socket.close(1001, "token revoked"));
    await until(clock, "the second refusal to be said", () => refusals().length === 2, {
      stepMs: 10,
    });
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport says once that the server requires a token when MONITORING_TOKEN is not set", async () => {
  const server = await TestWsServer.start({ refuseStatus: 401 });
  const h = harness(server.url, { token: undefined });
  const { clock, transport } = h;
  try {
    transport.start();
    await until(clock, "3 refused upgrades", () => server.requests.length >= 3, { stepMs: 10 });
    assert.ok(server.requests.every((r) => r.authorization === null));
    const required = h.lines.filter((l) => l.level === "warn");
    assert.equal(required.length, 1, JSON.stringify(h.lines));
    assert.match(required[0].message, /requires a token.*MONITORING_TOKEN is not set/);
    assert.equal(required[0].fields?.status, 401);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport backs off more and more from a server that accepts and drops every connection", async () => {
  // Accepts the upgrade, then closes at once without taking anything.
  const server = await TestWsServer.start({ hello: null });
  const dropping: SocketFactory = (url, headers) => {
    const socket = new WebSocket(url, { headers } as unknown as string[]);
    socket.addEventListener("open", () => {
      setTimeout(() => server.open.forEach((c) => c.socket.close(1011, "go away")), 0);
    });
    return socket;
  };
  const h = harness(server.url, {
    socketFactory: dropping,
    backoff: { baseMs: 40, maxMs: 10_000 },
    helloWaitMs: 0,
  });
  const { clock, transport, queue, attempts } = h;
  const reconnects = () => logged(h, "reconnecting to monitoring");
  try {
    // Nothing is queued, so no session ever delivers anything.
    assert.equal(queue.size, 0);
    transport.start();
    for (let n = 1; n <= 4; n++) {
      await until(clock, `connection ${n} dropped`, () => reconnects().length === n, {
        state: () => h.lines,
      });
      if (n < 4) await clock.advance(Number(reconnects()[n - 1].fields?.in_ms));
    }
    assert.equal(server.connections.length, 4);
    assert.deepEqual(reconnects().map((l) => l.fields?.in_ms), [40, 80, 160, 320]);
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
    assert.deepEqual(gaps.slice(0, 3), [40, 80, 160]);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("upgradeStatus() reads the HTTP status out of Deno's refused-upgrade message only", () => {
  const deno = "NetworkError: failed to connect to WebSocket: Invalid status code: 401";
  assert.equal(upgradeStatus(deno), 401);
  assert.equal(upgradeStatus("failed to connect to WebSocket: Invalid status code: 503"), 503);
  for (
    const other of [
      "Unexpected EOF",
      "connection refused (os error 111)",
      "no answer within 401 ms",
      "",
    ]
  ) {
    assert.equal(upgradeStatus(other), undefined, other);
  }
});

Deno.test("Transport retries quickly while the port refuses connections, then backs off, and delivers at once on return", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  await server.stop(); // the port is closed: connects are refused at the TCP level
  const h = harness(server.url, { retry: { afterSessionMs: 50, fastMs: 30, fastWindowMs: 200 } });
  const { clock, transport, queue, attempts } = h;
  const delays = () => logged(h, "reconnecting to monitoring").map((l) => l.fields?.in_ms);
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    await until(clock, "eight attempts", () => attempts.length >= 8, { stepMs: 10 });
    // Every 30 ms for the first 200 ms of the outage, then the exponential backoff (50, 100, …).
    assert.deepEqual(delays().slice(0, 6), [30, 30, 30, 30, 30, 30]);
    assert.ok(delays().slice(7).every((d) => Number(d) >= 50), JSON.stringify(delays()));
    await server.start();
    await until(clock, "delivery after the return", () => queue.size === 0, { stepMs: 10 });
    assert.deepEqual(server.seqs(), range(1, 3));
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

/**
 * Transport session tests: liveness (a server that stops confirming) and the
 * server's messages, against real servers on 127.0.0.1 with the transport on
 * a manual clock (tests/support/transport_harness.ts).
 *
 * Run: deno test --allow-net=127.0.0.1 --allow-env --allow-read src/transport_session_test.ts
 */

import assert from "node:assert/strict";
import { StallingWsServer } from "../tests/support/raw_servers.ts";
import { TestWsServer, within } from "../tests/support/ws_server.ts";
import {
  closeTransport,
  harness,
  holds,
  logged,
  pushEvents,
  range,
  TIMINGS,
  until,
} from "../tests/support/transport_harness.ts";

/** The session's idle re-check while events are in flight (transport_session.ts). */
const POLL_MS = 250;

Deno.test("Transport detects a frozen server (acks promised, none coming) after the ack timeout and reconnects", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  const stalled = () => logged(h, "monitoring stopped confirming events");
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    transport.notify();
    await until(clock, "delivery of 1-3", () => queue.size === 0, { state: () => queue.size });

    server.freeze();
    const sentAt = clock.now();
    pushEvents(queue, 4, 6);
    transport.notify();
    await until(clock, "4-6 at the frozen server", () => server.frames.length >= 6);
    await clock.advance(TIMINGS.ackTimeoutMs);
    assert.equal(stalled().length, 0, "deemed dead before the ack timeout");
    await until(clock, "the stall to be noticed", () => stalled().length === 1, { stepMs: 10 });
    assert.ok(clock.now() - sentAt <= TIMINGS.ackTimeoutMs + POLL_MS, `at ${clock.now()} ms`);
    const [warning] = stalled();
    assert.equal(warning.level, "warn");
    assert.equal(warning.fields?.outstanding, 3);
    // The transport closed the stale session itself, with its "reconnecting" code.
    await until(
      clock,
      "the old connection to close",
      () => server.connections[0].close !== undefined,
    );
    assert.equal(server.connections[0].close?.code, 4000);
    assert.equal(queue.size, 3, "unacked events stay queued");

    // The server recovers: the unacked events are resent and confirmed.
    server.freeze(false);
    await until(clock, "an empty queue", () => queue.size === 0, {
      stepMs: 10,
      state: () => ({ size: queue.size, seqs: server.seqs() }),
    });
    const resent = server.frames.filter((f) => f.connection !== server.connections[0].id);
    assert.deepEqual([...new Set(resent.map((f) => f.seq))], [4, 5, 6]);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport ignores a later hello: the ack mode of a connection never changes mid-stream", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  const h = harness(server.url, { ackTimeoutMs: 60_000 });
  const { clock, transport, queue } = h;
  const again = () => logged(h, "monitoring server sent hello again");
  try {
    transport.start();
    await until(clock, "the session to start", () => logged(h, "monitoring session").length === 1);
    assert.equal(logged(h, "monitoring session")[0].fields?.acks, true);
    // A confused server takes its promise back, twice: events would then count as
    // delivered once written, and the agent would forget what was never acked.
    server.send({ type: "hello", v: 1, acks: false });
    server.send({ type: "hello", v: 1, acks: false });
    pushEvents(queue, 1, 5);
    transport.notify();
    await until(clock, "5 frames", () => server.frames.length >= 5);
    await holds(clock, "all 5 still queued without an ack", 200, () => queue.size === 5, {
      stepMs: 5,
      state: () => queue.size,
    });
    await until(clock, "the repeated hello to be noticed", () => again().length > 0);
    assert.equal(again().length, 1, "logged once per connection");
    assert.equal(again()[0].level, "warn");
    server.ack(5);
    await until(clock, "an empty queue after the ack", () => queue.size === 0);
    assert.deepEqual(server.seqs(), range(1, 5));

    // A new connection is a new session: its own first hello counts, and a repeat is logged again.
    server.open.forEach((c) => c.socket.close(1001, "restart"));
    await until(clock, "a second session", () => logged(h, "monitoring session").length === 2, {
      stepMs: 10,
    });
    server.send({ type: "hello", v: 1, acks: false });
    await until(clock, "the repeat on the second connection", () => again().length === 2);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport warns once at connect that a server without acks leaves delivery unconfirmed, and counts those events as only written", async () => {
  const server = await TestWsServer.start({ hello: null });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  const unconfirmed = () => logged(h, "the monitoring server does not acknowledge events", "warn");
  try {
    pushEvents(queue, 1, 5);
    transport.start();
    await until(clock, "the connection", () => transport.connected);
    assert.equal(unconfirmed().length, 0, "said before the hello wait was over");
    await clock.advance(TIMINGS.helloWaitMs);
    assert.equal(unconfirmed().length, 1, JSON.stringify(h.lines));
    await until(clock, "an empty queue", () => queue.size === 0, { stepMs: 5 });
    assert.deepEqual(
      { acked: transport.delivery.acked, written: transport.delivery.written },
      { acked: 0, written: 5 },
    );

    // Reconnecting to the same kind of server is no change: not said again.
    server.open.forEach((c) => c.socket.close(1001, "restart"));
    await until(clock, "a second session", () => logged(h, "monitoring session").length === 2, {
      stepMs: 10,
    });
    pushEvents(queue, 6, 7);
    transport.notify();
    await until(clock, "an empty queue again", () => queue.size === 0, { stepMs: 5 });
    assert.equal(unconfirmed().length, 1);
    assert.deepEqual(
      { acked: transport.delivery.acked, written: transport.delivery.written },
      { acked: 0, written: 7 },
    );
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

/** Events big enough that 200 of them overflow the OS buffers of a peer that does not read. */
const big = (seq: number) => ({
  seq,
  run: "r",
  id: `b${seq}`,
  data: JSON.stringify({ seq, run: "r", pad: "x".repeat(64 * 1024) }),
});

Deno.test("Transport deems a socket dead whose buffer stops draining; unwritten events stay queued and are not counted", async () => {
  const server = new StallingWsServer();
  // A large buffer cap, so that far more than the OS takes sits in bufferedAmount.
  const h = harness(server.url, { maxBufferedBytes: 64 << 20 });
  const { clock, transport, queue } = h;
  const stalls = () => logged(h, "monitoring stopped reading", "warn");
  const state = () => ({ size: queue.size, delivery: transport.delivery, lines: h.lines.length });
  try {
    for (let seq = 1; seq <= 200; seq++) queue.push(big(seq));
    transport.start();
    await until(clock, "the connection", () => transport.connected);
    await clock.advance(TIMINGS.helloWaitMs); // no hello: no acks
    const startedAt = clock.now();
    await until(clock, "every event on the socket", () => queue.unsent(1).length === 0, {
      stepMs: 5,
    });
    // Most of it never leaves the socket's buffer: the server reads nothing.
    await holds(
      clock,
      "no stall before the ack timeout",
      TIMINGS.ackTimeoutMs - 100,
      () => stalls().length === 0,
    );
    const before = transport.delivery.written;
    assert.ok(before < 200, `all ${before} written although nothing is read`);

    // The server reads 256 KB: the buffer drains a little, which is life, not death.
    await within(server.read(256 * 1024), 3_000, "the server reading 256 KB");
    await until(clock, "more events written", () => transport.delivery.written > before, {
      stepMs: 5,
      state,
    });
    const drainedAt = clock.now();
    await holds(
      clock,
      "no stall right after draining",
      TIMINGS.ackTimeoutMs - 50,
      () => stalls().length === 0,
    );
    assert.ok(clock.now() - startedAt > TIMINGS.ackTimeoutMs, "past the first ack timeout");

    await until(clock, "the stall to be noticed", () => stalls().length === 1, {
      stepMs: 10,
      state,
    });
    assert.ok(clock.now() - drainedAt >= TIMINGS.ackTimeoutMs, `at ${clock.now()} ms`);
    const written = transport.delivery.written;
    assert.ok(written > before && written < 200, `written ${written}`);
    assert.equal(transport.delivery.acked, 0);
    // What never left the buffer is not counted and stays queued, in order, to go out again.
    assert.deepEqual(
      queue.waiting().map((w) => JSON.parse(w.data).seq),
      range(written + 1, 200),
    );
    assert.ok(Number(stalls()[0].fields?.waited_ms) >= TIMINGS.ackTimeoutMs);
    assert.equal(stalls()[0].fields?.unwritten, 200 - written);
    await until(clock, "a reconnect", () => server.connections.length === 2, { stepMs: 10 });
  } finally {
    await closeTransport(h, 50);
    await server.close();
  }
});

/**
 * Transport delivery tests: a real in-process WebSocket server on 127.0.0.1
 * (tests/support/ws_server.ts), the transport on a manual clock
 * (tests/support/transport_harness.ts). Connecting and backoff are in
 * transport_connect_test.ts, liveness and server messages in
 * transport_session_test.ts.
 *
 * Run: deno test --allow-net=127.0.0.1 --allow-env --allow-read src/transport_test.ts
 */

import assert from "node:assert/strict";
import { TestWsServer, within } from "../tests/support/ws_server.ts";
import {
  closeTransport,
  event,
  harness,
  holds,
  pushEvents,
  range,
  TIMINGS,
  TOKEN,
  track,
  until,
} from "../tests/support/transport_harness.ts";

Deno.test("Transport delivers in seq order with the bearer token; with acks, events leave the queue only on ack", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  const size = () => queue.size;
  try {
    pushEvents(queue, 1, 5);
    transport.start();
    transport.notify();
    await until(clock, "5 frames at the server", () => server.frames.length >= 5, {
      state: () => server.seqs(),
    });
    assert.deepEqual(server.seqs(), range(1, 5));
    assert.deepEqual(server.frames.map((f) => f.data), range(1, 5).map((s) => event(s).data));
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(server.connections[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(transport.connected, true);
    assert.equal(transport.connections, 1);

    // Written but not acknowledged: everything stays queued.
    await holds(clock, "queue.size === 5 without an ack", 200, () => size() === 5, { state: size });

    // A partial cumulative ack removes exactly the acked prefix.
    server.ack(2);
    await until(clock, "queue.size 3 after ack 2", () => size() === 3, { state: size });
    await holds(clock, "queue.size === 3", 100, () => size() === 3, { state: size });

    server.ack(5);
    await until(clock, "an empty queue after ack 5", () => size() === 0, { state: size });

    // Later events follow on the same connection, still in order.
    pushEvents(queue, 6, 8);
    transport.notify();
    await until(clock, "8 frames", () => server.frames.length >= 8, { state: () => server.seqs() });
    assert.deepEqual(server.seqs(), range(1, 8));
    assert.equal(size(), 3);
    server.ack(8);
    await until(clock, "an empty queue after ack 8", () => size() === 0, { state: size });
    assert.equal(server.connections.length, 1, "no reconnect happened");
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport without a hello sends after the hello wait, and events leave the queue once written", async () => {
  const server = await TestWsServer.start({ hello: null });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  try {
    pushEvents(queue, 1, 20);
    transport.start();
    transport.notify();
    await until(clock, "the connection", () => transport.connected);
    await holds(
      clock,
      "nothing sent during the hello wait",
      TIMINGS.helloWaitMs - 1,
      () => server.frames.length === 0,
    );
    await clock.advance(1);
    await until(clock, "an empty queue", () => queue.size === 0, {
      stepMs: 5,
      state: () => queue.size,
    });
    await until(clock, "20 frames", () => server.frames.length >= 20);
    assert.deepEqual(server.seqs(), range(1, 20));
    assert.deepEqual(server.frames.map((f) => f.data), range(1, 20).map((s) => event(s).data));
    assert.equal(server.requests[0].authorization, `Bearer ${TOKEN}`);

    pushEvents(queue, 21, 25);
    transport.notify();
    await until(clock, "an empty queue again", () => queue.size === 0, { stepMs: 5 });
    await until(clock, "25 frames", () => server.frames.length >= 25);
    assert.deepEqual(server.seqs(), range(1, 25));
    assert.equal(server.connections.length, 1);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport resends unacked events after a server restart, none lost, same data", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  try {
    pushEvents(queue, 1, 10);
    transport.start();
    transport.notify();
    await until(clock, "10 frames", () => server.frames.length >= 10, {
      state: () => server.seqs(),
    });
    const firstData = new Map(server.frames.map((f) => [f.seq, f.data]));
    server.ack(4);
    await until(clock, "queue.size 6 after ack 4", () => queue.size === 6);

    await server.stop();
    await until(clock, "the transport to notice", () => !transport.connected);
    pushEvents(queue, 11, 12); // queued while the server is away
    transport.notify();
    assert.equal(queue.size, 8);
    const framesBefore = server.frames.length;

    server.autoAck = true;
    await server.start();
    await until(clock, "an empty queue", () => queue.size === 0, {
      stepMs: 10,
      state: () => queue.size,
    });
    assert.equal(server.connections.length, 2);

    const again = server.frames.slice(framesBefore);
    assert.deepEqual(again.map((f) => f.seq), range(5, 12), "resend starts at the first unacked");
    for (const f of again.filter((f) => f.seq <= 10)) {
      assert.equal(f.data, firstData.get(f.seq), `seq ${f.seq} resent with the same data`);
    }
    assert.ok(again.every((f) => f.connection === server.connections.at(-1)!.id));
    assert.deepEqual([...new Set(server.seqs())].sort((a, b) => a - b), range(1, 12));
    assert.equal(transport.connections, 2);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport keeps at most maxInFlight events outstanding until an ack arrives", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  // Acks are withheld on purpose; keep the dead-server timeout out of the way.
  const h = harness(server.url, { maxInFlight: 10, ackTimeoutMs: 60_000 });
  const { clock, transport, queue } = h;
  const seqs = () => server.seqs();
  try {
    pushEvents(queue, 1, 25);
    transport.start();
    transport.notify();
    await until(clock, "10 frames", () => server.frames.length >= 10, { state: seqs });
    await holds(clock, "exactly 10 frames sent", 300, () => server.frames.length === 10, {
      state: seqs,
    });
    assert.deepEqual(seqs(), range(1, 10));
    assert.equal(queue.size, 25);

    server.ack(5);
    await until(clock, "15 frames after ack 5", () => server.frames.length >= 15, { state: seqs });
    await holds(clock, "exactly 15 frames sent", 300, () => server.frames.length === 15, {
      state: seqs,
    });
    assert.deepEqual(seqs(), range(1, 15));
    assert.equal(queue.size, 20);

    server.ack(15);
    await until(clock, "25 frames after ack 15", () => server.frames.length >= 25, { state: seqs });
    assert.deepEqual(seqs(), range(1, 25));
    server.ack(25);
    await until(clock, "an empty queue", () => queue.size === 0);
    assert.equal(server.connections.length, 1);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport never lets an ack beyond what this connection sent remove unsent events", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  const h = harness(server.url, { maxInFlight: 3 });
  const { clock, transport, queue } = h;
  try {
    pushEvents(queue, 1, 6);
    transport.start();
    transport.notify();
    await until(clock, "3 frames (the in-flight window)", () => server.frames.length >= 3);
    server.ack(1_000); // a confused server acks far more than it received
    await until(clock, "the window to move on", () => server.frames.length >= 6, {
      state: () => server.seqs(),
    });
    // Only 1–3 were sent when that ack came: 4–6 stayed queued and were then sent.
    assert.deepEqual(server.seqs(), range(1, 6));
    assert.equal(queue.size, 3);
    server.ack();
    await until(clock, "the queue to drain", () => queue.size === 0);
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport.flush() resolves true as soon as acks empty the queue, without polling the clock", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  try {
    transport.start();
    await until(clock, "a connection", () => transport.connected);
    pushEvents(queue, 1, 30);
    transport.notify();
    const startedAt = clock.now();
    const flushed = track(transport.flush(3_000));
    // Stepping 0 ms: only the acks' I/O can end this wait, not a timer.
    await until(clock, "flush() to resolve", () => flushed.done, { state: () => queue.size });
    assert.equal(flushed.value, true);
    assert.equal(clock.now(), startedAt);
    assert.equal(queue.size, 0);
    assert.deepEqual(server.seqs(), range(1, 30));
    assert.deepEqual(
      { acked: transport.delivery.acked, written: transport.delivery.written },
      { acked: 30, written: 0 },
    );
    assert.equal(await transport.flush(100), true, "an empty queue flushes at once");
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

Deno.test("Transport.flush() resolves false at its timeout when the queue cannot drain", async () => {
  const server = await TestWsServer.start();
  await server.stop(); // a free port with nothing listening
  const h = harness(server.url);
  const { clock, transport, queue } = h;
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    transport.notify();
    const flushed = track(transport.flush(300));
    await clock.advance(299);
    assert.equal(flushed.done, false, "flush(300) gave up early");
    await clock.advance(1);
    await until(clock, "flush() to resolve", () => flushed.done);
    assert.equal(flushed.value, false);
    assert.equal(queue.size, 3);
    assert.equal(await closeTransport(h), 0, "close() during the backoff needs no timer");
    assert.equal(clock.pending(), 0, "close() leaves no timer armed");
  } finally {
    await closeTransport(h, 50);
  }
  assert.equal(queue.size, 3, "close() keeps unsent events queued");
});

Deno.test("Transport.close() closes with 1000 'agent stopping' and resolves only once the closing handshake is done", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const h = harness(server.url);
  const { clock, transport } = h;
  try {
    transport.start();
    await until(clock, "a connection", () => transport.connected);
    assert.equal(await closeTransport(h), 0, "a clean close needs no timer");
    // CLOSED means the server's close frame came back, so ours had been written:
    // main.ts may exit the process right after close().
    assert.equal(h.sockets.length, 1);
    assert.equal(h.sockets[0].readyState, WebSocket.CLOSED, "close() returned mid-handshake");
    assert.equal(transport.connected, false);
    assert.equal(clock.pending(), 0, "close() leaves no timer armed");
    const info = await within(server.connections[0].closed, 2_000, "server-side close event");
    assert.equal(info.code, 1000);
    assert.equal(info.reason, "agent stopping");
  } finally {
    await closeTransport(h, 50);
    await server.stop();
  }
});

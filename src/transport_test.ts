/**
 * Transport tests against a real in-process WebSocket server on 127.0.0.1
 * (tests/support/ws_server.ts), with the real clock and small timings.
 *
 * Run: deno test --allow-net=127.0.0.1 --allow-env --allow-read src/transport_test.ts
 */

import assert from "node:assert/strict";
import { realClock } from "./clock.ts";
import type { LogFields, Logger } from "./log.ts";
import { EventQueue } from "./queue.ts";
import { type SocketFactory, Transport, type TransportOptions } from "./transport.ts";
import { SilentTcpServer, TestWsServer, within } from "../tests/support/ws_server.ts";

const TOKEN = "t0ken-for-tests";
const CONNECT_TIMEOUT_MS = 300;
const ACK_TIMEOUT_MS = 500;
const HELLO_WAIT_MS = 200;
const BACKOFF = { baseMs: 50, maxMs: 200 };

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface LogLine {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms; fails with `what` (and `state()`) after `timeoutMs`. */
async function waitFor(
  what: string,
  cond: () => boolean,
  state: () => unknown = () => undefined,
  timeoutMs = 5_000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) {
      const s = state();
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (s === undefined ? "" : `; state: ${JSON.stringify(s)}`),
      );
    }
    await sleep(10);
  }
}

/** Checks `cond` every 10 ms for `ms`; fails as soon as it is false. */
async function holdsFor(
  what: string,
  ms: number,
  cond: () => boolean,
  state: () => unknown = () => undefined,
): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    assert.ok(cond(), `expected ${what} to hold for ${ms} ms; state: ${JSON.stringify(state())}`);
    await sleep(10);
  }
  assert.ok(cond(), `expected ${what} to hold for ${ms} ms; state: ${JSON.stringify(state())}`);
}

const event = (seq: number) => ({ seq, data: JSON.stringify({ seq, type: "check", n: seq * 7 }) });

function pushEvents(queue: EventQueue, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) assert.equal(queue.push(event(seq)), 0);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function makeTransport(
  url: URL,
  overrides: Partial<TransportOptions> = {},
): { transport: Transport; queue: EventQueue } {
  const queue = overrides.queue ?? new EventQueue(1_000, "drop-oldest");
  const transport = new Transport({
    url,
    token: TOKEN,
    queue,
    clock: realClock,
    log: silent,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    helloWaitMs: HELLO_WAIT_MS,
    backoff: BACKOFF,
    ...overrides,
  });
  return { transport, queue };
}

/** close() bounded: a hanging close fails the test instead of hanging it. */
async function closeTransport(transport: Transport, ms = 3_000): Promise<number> {
  const started = performance.now();
  await within(transport.close(), ms, "Transport.close()");
  return performance.now() - started;
}

/** A factory using the real WebSocket that counts attempts and records the headers. */
function countingFactory(): { factory: SocketFactory; attempts: Array<Record<string, string>> } {
  const attempts: Array<Record<string, string>> = [];
  return {
    attempts,
    factory: (url, headers) => {
      attempts.push({ ...headers });
      return new WebSocket(url, { headers } as unknown as string[]);
    },
  };
}

Deno.test("1: delivers in seq order with the bearer token; with acks, items leave the queue only on ack", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  // The server withholds acks on purpose here; a longer ack timeout keeps the
  // "dead server" reconnect (tested in case 6) out of this test.
  const { transport, queue } = makeTransport(server.url, { ackTimeoutMs: 5_000 });
  try {
    pushEvents(queue, 1, 5);
    transport.start();
    transport.notify();
    await waitFor("5 frames at the server", () => server.frames.length >= 5, () => server.seqs());
    assert.deepEqual(server.seqs(), range(1, 5));
    assert.deepEqual(server.frames.map((f) => f.data), range(1, 5).map((s) => event(s).data));
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(server.connections[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(transport.connected, true);
    assert.equal(transport.connections, 1);

    // Written but not acknowledged: everything stays queued.
    await holdsFor(
      "queue.size === 5 without an ack",
      200,
      () => queue.size === 5,
      () => queue.size,
    );

    // A partial cumulative ack removes exactly the acked prefix.
    server.ack(2);
    await waitFor("queue.size 3 after ack 2", () => queue.size === 3, () => queue.size);
    await holdsFor("queue.size === 3", 100, () => queue.size === 3, () => queue.size);

    server.ack(5);
    await waitFor("an empty queue after ack 5", () => queue.size === 0, () => queue.size);

    // Later events follow on the same connection, still in order.
    pushEvents(queue, 6, 8);
    transport.notify();
    await waitFor("8 frames", () => server.frames.length >= 8, () => server.seqs());
    assert.deepEqual(server.seqs(), range(1, 8));
    assert.equal(queue.size, 3);
    server.ack(8);
    await waitFor("an empty queue after ack 8", () => queue.size === 0, () => queue.size);
    assert.equal(server.connections.length, 1, "no reconnect happened");
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("2: without hello, items leave the queue once written and all arrive", async () => {
  const server = await TestWsServer.start({ hello: null });
  const { transport, queue } = makeTransport(server.url);
  try {
    pushEvents(queue, 1, 20);
    transport.start();
    transport.notify();
    await waitFor("an empty queue", () => queue.size === 0, () => queue.size);
    await waitFor("20 frames", () => server.frames.length >= 20, () => server.seqs());
    assert.deepEqual(server.seqs(), range(1, 20));
    assert.deepEqual(server.frames.map((f) => f.data), range(1, 20).map((s) => event(s).data));
    assert.equal(server.requests[0].authorization, `Bearer ${TOKEN}`);

    pushEvents(queue, 21, 25);
    transport.notify();
    await waitFor("an empty queue again", () => queue.size === 0, () => queue.size);
    await waitFor("25 frames", () => server.frames.length >= 25, () => server.seqs());
    assert.deepEqual(server.seqs(), range(1, 25));
    assert.equal(server.connections.length, 1);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("3: server down at start: retries with backoff, then delivers everything queued", async () => {
  // Learn a free port, then leave it closed until the server "comes up".
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  await server.stop();
  const { factory, attempts } = countingFactory();
  const { transport, queue } = makeTransport(server.url, { socketFactory: factory });
  try {
    pushEvents(queue, 1, 5);
    const startedAt = performance.now();
    transport.start();
    transport.notify();
    await waitFor("2 connect attempts", () => attempts.length >= 2, () => attempts.length);
    pushEvents(queue, 6, 10);
    transport.notify();
    const elapsed = performance.now() - startedAt;
    if (elapsed < 300) await sleep(300 - elapsed);
    assert.equal(transport.connections, 0);
    assert.equal(queue.size, 10, "nothing leaves the queue while the server is down");
    const attemptsWhileDown = attempts.length;
    assert.ok(attemptsWhileDown >= 2, `attempts while down: ${attemptsWhileDown}`);
    // Backoff, not a busy loop: 50, 100, 200, 200 … ms (±10 %) between attempts.
    const downMs = performance.now() - startedAt;
    const maxExpected = 4 + Math.ceil(downMs / 180);
    assert.ok(
      attemptsWhileDown <= maxExpected,
      `${attemptsWhileDown} attempts in ${Math.round(downMs)} ms (at most ${maxExpected} expected)`,
    );

    await server.start();
    await waitFor("an empty queue", () => queue.size === 0, () => ({ size: queue.size }));
    assert.deepEqual(server.seqs(), range(1, 10));
    assert.deepEqual(server.frames.map((f) => f.data), range(1, 10).map((s) => event(s).data));
    assert.equal(transport.connections, 1);
    for (const headers of attempts) assert.equal(headers.Authorization, `Bearer ${TOKEN}`);
    assert.equal(server.requests.at(-1)?.authorization, `Bearer ${TOKEN}`);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("4: server restarted mid-run: unacked events are resent after the restart, none lost", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  const { transport, queue } = makeTransport(server.url);
  try {
    pushEvents(queue, 1, 10);
    transport.start();
    transport.notify();
    await waitFor("10 frames", () => server.frames.length >= 10, () => server.seqs());
    const firstData = new Map(server.frames.map((f) => [f.seq, f.data]));
    server.ack(4);
    await waitFor("queue.size 6 after ack 4", () => queue.size === 6, () => queue.size);

    await server.stop();
    await waitFor("the transport to notice", () => !transport.connected);
    pushEvents(queue, 11, 12); // queued while the server is away
    transport.notify();
    assert.equal(queue.size, 8);
    const framesBefore = server.frames.length;

    server.autoAck = true;
    await server.start();
    await waitFor("an empty queue", () => queue.size === 0, () => queue.size);
    await waitFor("a second connection", () => server.connections.length >= 2);

    const again = server.frames.slice(framesBefore);
    assert.deepEqual(again.map((f) => f.seq), range(5, 12), "resend starts at the first unacked");
    for (const f of again.filter((f) => f.seq <= 10)) {
      assert.equal(f.data, firstData.get(f.seq), `seq ${f.seq} resent with the same data`);
    }
    assert.ok(again.every((f) => f.connection === server.connections.at(-1)!.id));
    const distinct = new Set(server.seqs());
    assert.equal(distinct.size, 12);
    assert.deepEqual([...distinct].sort((a, b) => a - b), range(1, 12));
    assert.equal(transport.connections, 2);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("5: a connect attempt that hangs is abandoned after connectTimeoutMs and retried", async () => {
  const tcp = new SilentTcpServer();
  const { log, lines } = capturingLogger();
  const { transport, queue } = makeTransport(new URL(`ws://127.0.0.1:${tcp.port}/agent`), { log });
  let closeMs = NaN;
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    await waitFor("2 accepted TCP connections", () => tcp.accepted.length >= 2, () => tcp.accepted);
    const [first, second] = tcp.accepted;
    assert.ok(first.bytes > 0, "the client sent its upgrade request");
    // The first attempt was given its full connect timeout, then its socket was closed.
    const gap = second.at - first.at;
    assert.ok(gap >= CONNECT_TIMEOUT_MS - 20, `retried after ${gap} ms`);
    assert.ok(gap < CONNECT_TIMEOUT_MS + 1_000, `retried after ${gap} ms`);
    await waitFor(
      "the abandoned connection to be closed by the client",
      () => first.closedByPeerAt !== undefined,
    );
    assert.ok(
      lines.some((l) =>
        l.level === "warn" && l.message.startsWith("cannot connect") &&
        String(l.fields?.error).includes(`no answer within ${CONNECT_TIMEOUT_MS} ms`)
      ),
      JSON.stringify(lines),
    );
    assert.equal(transport.connections, 0);
    assert.equal(queue.size, 3);
  } finally {
    closeMs = await closeTransport(transport);
    await tcp.close();
  }
  // close() during a pending (or backing-off) attempt must not wait for the connect timeout.
  assert.ok(closeMs < 250, `close() took ${closeMs} ms`);
  assert.equal(queue.size, 3);
});

Deno.test("6: a frozen server (hello with acks, then no acks) is detected and the transport reconnects", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const { log, lines } = capturingLogger();
  const { transport, queue } = makeTransport(server.url, { log });
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    transport.notify();
    await waitFor("delivery of 1-3", () => queue.size === 0, () => queue.size);

    server.freeze();
    const pushedAt = performance.now();
    pushEvents(queue, 4, 6);
    transport.notify();
    await waitFor("4-6 at the frozen server", () => server.frames.length >= 6, () => server.seqs());
    await waitFor(
      "a reconnect after the ack timeout",
      () => server.requests.length >= 2,
      () => ({ requests: server.requests.length, lines }),
    );
    const reconnectMs = server.requests[1].at - pushedAt;
    assert.ok(reconnectMs >= ACK_TIMEOUT_MS - 20, `reconnected too early: ${reconnectMs} ms`);
    assert.ok(reconnectMs <= ACK_TIMEOUT_MS + 1_000, `reconnected late: ${reconnectMs} ms`);
    const warning = lines.find((l) => l.message.includes("stopped confirming events"));
    assert.ok(warning, `no "stopped confirming events" line in ${JSON.stringify(lines)}`);
    assert.equal(warning.level, "warn");
    assert.equal(warning.fields?.outstanding, 3);
    // The transport closed the stale session itself, with its "reconnecting" code.
    await waitFor("the old connection to close", () => server.connections[0].close !== undefined);
    assert.equal(server.connections[0].close?.code, 4000);
    assert.equal(queue.size, 3, "unacked events stay queued");

    // The server recovers: the unacked events are resent and confirmed.
    server.freeze(false);
    server.ack();
    await waitFor("an empty queue", () => queue.size === 0, () => ({
      size: queue.size,
      seqs: server.seqs(),
    }));
    const resent = server.frames.filter((f) => f.connection !== server.connections[0].id);
    assert.deepEqual([...new Set(resent.map((f) => f.seq))], [4, 5, 6]);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("7: a 401 from the server does not crash the transport; it keeps retrying, events stay queued", async () => {
  const server = await TestWsServer.start({ refuseStatus: 401, autoAck: true });
  const { log, lines } = capturingLogger();
  const { transport, queue } = makeTransport(server.url, { log });
  try {
    pushEvents(queue, 1, 4);
    transport.start();
    transport.notify();
    await waitFor("3 refused upgrades", () => server.requests.length >= 3, () => server.requests);
    assert.ok(server.requests.every((r) => r.status === 401));
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.equal(server.connections.length, 0);
    assert.equal(transport.connections, 0);
    assert.equal(transport.connected, false);
    assert.equal(queue.size, 4);
    assert.ok(
      lines.some((l) => l.level === "warn" && l.message.startsWith("cannot connect")),
      JSON.stringify(lines),
    );
    assert.ok(!lines.some((l) => l.level === "error"), JSON.stringify(lines));
    assert.ok(!JSON.stringify(lines).includes(TOKEN), "the token is never logged");

    // Once the server accepts the token, everything queued arrives.
    server.refuseStatus = undefined;
    await waitFor("an empty queue", () => queue.size === 0, () => queue.size);
    assert.deepEqual(server.seqs(), range(1, 4));
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("8a: flush() resolves true once the queue drains; close() closes with code 1000", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const { transport, queue } = makeTransport(server.url);
  try {
    transport.start();
    await waitFor("a connection", () => transport.connected);
    pushEvents(queue, 1, 30);
    transport.notify();
    assert.equal(await transport.flush(3_000), true);
    assert.equal(queue.size, 0);
    assert.deepEqual(server.seqs(), range(1, 30));
    assert.equal(await transport.flush(100), true, "an empty queue flushes at once");

    const closeMs = await closeTransport(transport);
    assert.ok(closeMs < 1_000, `close() took ${closeMs} ms`);
    const info = await within(server.connections[0].closed, 2_000, "server-side close event");
    assert.equal(info.code, 1000);
    assert.equal(info.reason, "agent stopping");
    assert.equal(transport.connected, false);
    assert.equal(server.connections.length, 1);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("8c: close() resolves only once the closing handshake is done, so an exit right after it loses no close frame", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: true });
  const sockets: WebSocket[] = [];
  const { factory } = countingFactory();
  const recording: SocketFactory = (url, headers) => {
    const socket = factory(url, headers);
    sockets.push(socket);
    return socket;
  };
  const { transport } = makeTransport(server.url, { socketFactory: recording });
  try {
    transport.start();
    await waitFor("a connection", () => transport.connected);
    await closeTransport(transport);
    // CLOSED means the server's close frame came back, so ours had been written.
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0].readyState, WebSocket.CLOSED, "close() returned mid-handshake");
    const info = await within(server.connections[0].closed, 2_000, "server-side close event");
    assert.equal(info.code, 1000);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("8b: flush() resolves false when the queue cannot drain (server down)", async () => {
  const server = await TestWsServer.start();
  await server.stop();
  const { transport, queue } = makeTransport(server.url);
  try {
    pushEvents(queue, 1, 3);
    transport.start();
    transport.notify();
    const started = performance.now();
    const flushed = await within(transport.flush(300), 2_000, "flush(300)");
    const took = performance.now() - started;
    assert.equal(flushed, false);
    assert.ok(took >= 290 && took < 1_000, `flush(300) took ${took} ms`);
    assert.equal(queue.size, 3);
  } finally {
    const closeMs = await closeTransport(transport);
    assert.ok(closeMs < 500, `close() took ${closeMs} ms`);
  }
  assert.equal(queue.size, 3, "close() keeps unsent events queued");
});

Deno.test("9: back-pressure: at most maxInFlight events are outstanding until an ack arrives", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  // Acks are withheld on purpose; keep the dead-server timeout out of the way.
  const { transport, queue } = makeTransport(server.url, { maxInFlight: 10, ackTimeoutMs: 5_000 });
  try {
    pushEvents(queue, 1, 25);
    transport.start();
    transport.notify();
    await waitFor("10 frames", () => server.frames.length >= 10, () => server.seqs());
    await holdsFor(
      "exactly 10 frames sent",
      200,
      () => server.frames.length === 10,
      () => server.seqs(),
    );
    assert.deepEqual(server.seqs(), range(1, 10));
    assert.equal(queue.size, 25);

    server.ack(5);
    await waitFor("15 frames after ack 5", () => server.frames.length >= 15, () => server.seqs());
    await holdsFor(
      "exactly 15 frames sent",
      200,
      () => server.frames.length === 15,
      () => server.seqs(),
    );
    assert.deepEqual(server.seqs(), range(1, 15));
    assert.equal(queue.size, 20);

    server.ack(15);
    await waitFor("25 frames after ack 15", () => server.frames.length >= 25, () => server.seqs());
    assert.deepEqual(server.seqs(), range(1, 25));
    server.ack(25);
    await waitFor("an empty queue", () => queue.size === 0, () => queue.size);
    assert.equal(server.connections.length, 1);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("10: an ack beyond what this connection sent never removes unsent events", async () => {
  const server = await TestWsServer.start({ hello: { acks: true }, autoAck: false });
  const { transport, queue } = makeTransport(server.url, { ackTimeoutMs: 5_000, maxInFlight: 3 });
  try {
    pushEvents(queue, 1, 6);
    transport.start();
    transport.notify();
    await waitFor(
      "3 frames (the in-flight window)",
      () => server.frames.length >= 3,
      () => server.seqs(),
    );
    server.ack(1_000); // a confused server acks far more than it received
    await waitFor("the window to move on", () => server.frames.length >= 6, () => server.seqs());
    // Only 1–3 were sent when that ack came: 4–6 stayed queued and were then sent.
    assert.deepEqual(server.seqs(), range(1, 6));
    assert.equal(queue.size, 3);
    server.ack();
    await waitFor("the queue to drain", () => queue.size === 0, () => queue.size);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

Deno.test("11: a server that accepts and drops every connection is retried with growing backoff", async () => {
  // Accepts the upgrade, then closes at once without taking anything.
  const server = await TestWsServer.start({ hello: null });
  const { factory, attempts } = countingFactory();
  const opened: number[] = [];
  const dropping: SocketFactory = (url, headers) => {
    const socket = factory(url, headers);
    socket.addEventListener("open", () => {
      opened.push(performance.now());
      setTimeout(() => server.open.forEach((c) => c.socket.close(1011, "go away")), 0);
    });
    return socket;
  };
  const { transport, queue } = makeTransport(server.url, {
    socketFactory: dropping,
    backoff: { baseMs: 40, maxMs: 10_000 },
    helloWaitMs: 0,
  });
  try {
    // Nothing is queued, so no session ever delivers anything.
    assert.equal(queue.size, 0);
    transport.start();
    await waitFor("4 connections", () => opened.length >= 4, () => opened, 5_000);
    const gaps = opened.slice(1).map((t, i) => t - opened[i]);
    // 40, 80, 160 ms (±10 %): each gap clearly longer than the one before.
    assert.ok(gaps[2] > gaps[0] * 2.5, `gaps ${gaps.map(Math.round)}`);
    assert.ok(attempts.length >= 4);
  } finally {
    await closeTransport(transport);
    await server.stop();
  }
});

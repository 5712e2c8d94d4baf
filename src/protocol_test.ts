import assert from "node:assert/strict";
import { EventFactory, parseServerMessage, PROTOCOL_VERSION } from "./protocol.ts";

function factory() {
  let n = 0;
  return new EventFactory({
    agent: "web-1",
    run: "run-a",
    now: () => Date.UTC(2026, 11, 1, 12, 0, 0, 250),
    newId: () => `id-${++n}`,
  });
}

Deno.test("EventFactory: seq counts from 1 across checks and heartbeats, with id, run and timestamp", () => {
  const f = factory();
  assert.equal(f.lastSeq, 0);
  const a = f.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1.26 });
  const b = f.heartbeat({
    uptime_s: 5,
    queue: { size: 0, dropped: 0 },
    version: "0.1.0",
    skipped_runs: 0,
    interval_s: 30,
  });
  assert.deepEqual([a.seq, b.seq, f.lastSeq], [1, 2, 2]);
  assert.deepEqual([a.id, b.id], ["id-1", "id-2"]);
  assert.equal(a.v, PROTOCOL_VERSION);
  assert.equal(a.run, "run-a");
  assert.equal(a.agent, "web-1");
  assert.equal(a.timestamp, "2026-12-01T12:00:00.250Z");
  assert.equal(a.duration_ms, 1.3, "rounded to 0.1 ms");
  assert.equal(a.instance, "tcp", "the module's name when the outcome has no instance");
});

Deno.test("EventFactory.check: a not-ok outcome gets a reason and a message; broken durations become 0", () => {
  const f = factory();
  const bare = f.check({ module: "tcp", target: "t", status: "error", duration_ms: NaN });
  assert.equal(bare.reason, "internal");
  assert.equal(bare.message, "tcp check is error");
  assert.equal(bare.duration_ms, 0);
  const blank = f.check({
    module: "tcp",
    target: "t",
    status: "error",
    reason: "refused",
    message: "  ",
    duration_ms: -5,
  });
  assert.equal(blank.reason, "refused");
  assert.equal(blank.message, "tcp check is error", "a blank message counts as none");
  assert.equal(blank.duration_ms, 0);
  const ok = f.check({ module: "tcp", target: "t", status: "ok", duration_ms: Infinity });
  assert.equal(ok.reason, undefined);
  assert.equal(ok.message, undefined);
  assert.equal(ok.duration_ms, 0);
});

Deno.test("EventFactory: labels and fields are copied, and a wider heartbeat object adds nothing", () => {
  const f = factory();
  const labels = { env: "prod" };
  const e = f.check({
    module: "tcp",
    instance: "edge",
    labels,
    target: "t",
    status: "ok",
    duration_ms: 1,
  });
  labels.env = "changed";
  assert.deepEqual(e.labels, { env: "prod" });
  assert.equal(e.instance, "edge");
  const queue = { size: 1, dropped: 0 };
  const wide = {
    uptime_s: 1,
    queue,
    version: "v",
    skipped_runs: 0,
    interval_s: 30,
    seq: 99,
    type: "check",
  };
  const h = f.heartbeat(wide);
  queue.size = 50;
  assert.equal(h.type, "heartbeat");
  assert.equal(h.seq, 2);
  assert.equal(h.queue.size, 1);
  assert.equal("delivery" in h, false);
});

Deno.test("parseServerMessage: hello and acks by seq, run+seq and id", () => {
  assert.deepEqual(parseServerMessage('{"type":"hello","v":1,"acks":true}'), {
    type: "hello",
    v: 1,
    acks: true,
  });
  assert.deepEqual(parseServerMessage('{"type":"ack","seq":3}'), { type: "ack", seq: 3 });
  assert.deepEqual(parseServerMessage('{"type":"ack","seq":0,"run":"r"}'), {
    type: "ack",
    seq: 0,
    run: "r",
  });
  assert.deepEqual(parseServerMessage('{"type":"ack","id":"x","extra":1}'), {
    type: "ack",
    id: "x",
  });
});

Deno.test("parseServerMessage: anything else is undefined, never a throw", () => {
  for (
    const text of [
      "",
      "not json",
      "null",
      "42",
      '"ack"',
      "[]",
      '{"type":"hello"}',
      '{"type":"hello","acks":"yes"}',
      '{"type":"ack"}',
      '{"type":"ack","run":"r"}',
      '{"type":"ack","seq":-1}',
      '{"type":"ack","seq":1.5}',
      '{"type":"ack","seq":"3"}',
      '{"type":"ack","id":""}',
      '{"type":"bye"}',
    ]
  ) {
    assert.equal(parseServerMessage(text), undefined, text);
  }
  // An invalid field next to a valid one is dropped, not trusted.
  assert.deepEqual(parseServerMessage('{"type":"ack","seq":2,"run":""}'), { type: "ack", seq: 2 });
});

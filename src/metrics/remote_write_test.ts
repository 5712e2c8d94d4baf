import assert from "node:assert/strict";
import { flush, ManualClock } from "../../tests/support/manual_clock.ts";
import type { Label } from "./registry.ts";
import { RemoteWriter, retryAfterMs } from "./remote_write.ts";
import { type RemoteSample, SampleQueue } from "./sample_queue.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const EPOCH = 1_796_000_000_000;
const label = (name: string): readonly Label[] => [["__name__", name]];

interface Sent {
  headers: Headers;
  /** `name@ms` of every sample of the request, in order. */
  samples: string[];
  at: number;
}

/** A writer on a manual clock whose receiver answers from `answers` (then 204). */
function harness(answers: (() => Response)[], options: { token?: string } = {}) {
  const clock = new ManualClock();
  const queue = new SampleQueue(1_000, "drop-oldest");
  const sent: Sent[] = [];
  const agent = label("kozak_queue_events");
  const writer = new RemoteWriter({
    url: new URL("http://127.0.0.1:9/api/v1/write"),
    token: options.token,
    intervalMs: 1_000,
    queue,
    // The body here is the samples' names and times, so the test reads what a push carried.
    encode: (batches) =>
      new TextEncoder().encode(
        JSON.stringify(batches.flat().map((s) => `${s.labels[0][1]}@${s.timestampMs - EPOCH}`)),
      ),
    collect: (nowMs): RemoteSample[] => [{ labels: agent, value: 0, timestampMs: nowMs }],
    clock,
    now: () => EPOCH + clock.now(),
    random: () => 0.5,
    log: silent,
    fetch: (_url, init) => {
      const body = new TextDecoder().decode(init!.body as Uint8Array);
      sent.push({
        headers: new Headers(init!.headers),
        samples: JSON.parse(body),
        at: clock.now(),
      });
      return Promise.resolve((answers.shift() ?? (() => new Response(null, { status: 204 })))());
    },
  });
  const run = (name: string) =>
    queue.push([{ labels: label(name), value: 1, timestampMs: EPOCH + clock.now() }]);
  return { clock, queue, sent, writer, run };
}

const status = (code: number, headers: Record<string, string> = {}) => () =>
  new Response("answer", { status: code, headers });

Deno.test("remote write pushes every interval with the remote-write headers and the token", async () => {
  const h = harness([], { token: "s3cret-token" });
  h.writer.start();
  h.run("kozak_check_up");
  await h.clock.advance(999);
  assert.equal(h.sent.length, 0, "the first push is one interval after start");
  await h.clock.advance(1);
  assert.equal(h.sent.length, 1);
  assert.deepEqual(h.sent[0].samples, ["kozak_check_up@0", "kozak_queue_events@1000"]);
  const headers = h.sent[0].headers;
  assert.equal(headers.get("content-encoding"), "snappy");
  assert.equal(headers.get("content-type"), "application/x-protobuf");
  assert.equal(headers.get("x-prometheus-remote-write-version"), "0.1.0");
  assert.equal(headers.get("authorization"), "Bearer s3cret-token");
  await h.clock.advance(1000);
  assert.equal(h.sent.length, 2);
  assert.equal(h.queue.size, 0);
  await h.writer.stop(0);
});

Deno.test("samples queued while the receiver fails are pushed later with their own timestamps", async () => {
  const h = harness([
    status(503),
    status(503),
    () => Promise.reject(new TypeError("refused")) as never,
  ]);
  h.writer.start();
  h.run("a");
  await h.clock.advance(1000); // push 1: 503, retry in 1 s
  h.run("b");
  await h.clock.advance(1000); // push 2: 503, retry in 2 s
  await h.clock.advance(2000); // push 3: network error, retry in 4 s
  h.run("c");
  assert.equal(h.sent.length, 3);
  assert.equal(h.writer.stats.failed, 3);
  assert.ok(h.writer.stats.lastError);
  await h.clock.advance(4000); // push 4: accepted, everything in order
  const last = h.sent.at(-1)!;
  assert.deepEqual(last.samples, [
    "a@0",
    "kozak_queue_events@1000",
    "b@1000",
    "kozak_queue_events@2000",
    "kozak_queue_events@3000",
    "kozak_queue_events@4000",
    "c@4000",
    "kozak_queue_events@5000",
    "kozak_queue_events@6000",
    "kozak_queue_events@7000",
    "kozak_queue_events@8000",
  ]);
  assert.equal(h.queue.size, 0);
  assert.equal(h.queue.dropped, 0);
  assert.equal(h.writer.stats.sent, 11);
  assert.equal(h.writer.stats.lastError, undefined);
  await h.writer.stop(0);
});

Deno.test("a 429 waits as long as Retry-After says, though the backoff would be shorter", async () => {
  const h = harness([status(429, { "retry-after": "7" })]);
  h.writer.start();
  await h.clock.advance(1000);
  assert.equal(h.sent.length, 1);
  await h.clock.advance(6999);
  assert.equal(h.sent.length, 1, "no push before Retry-After has passed");
  await h.clock.advance(1);
  assert.equal(h.sent.length, 2);
  assert.equal(h.sent[1].samples.length, 8, "the refused samples came along");
  await h.writer.stop(0);
});

Deno.test("a 400 is never retried: its samples are dropped and counted", async () => {
  const h = harness([status(400)]);
  h.writer.start();
  h.run("bad");
  await h.clock.advance(1000);
  assert.equal(h.sent.length, 1);
  assert.equal(h.queue.dropped, 2);
  assert.equal(h.queue.size, 0);
  await h.clock.advance(1000);
  assert.equal(h.sent.length, 2);
  assert.deepEqual(h.sent[1].samples, ["kozak_queue_events@2000"]);
  assert.equal(h.writer.stats.failed, 0);
  await h.writer.stop(0);
});

Deno.test("stop pushes what is queued one last time", async () => {
  const h = harness([]);
  h.writer.start();
  await flush();
  h.run("last");
  await h.writer.stop(1000);
  assert.equal(h.sent.length, 1);
  assert.deepEqual(h.sent[0].samples, ["last@0", "kozak_queue_events@0"]);
});

Deno.test("retryAfterMs reads seconds and HTTP dates, and caps what it reads", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");
  assert.equal(retryAfterMs("7", now), 7000);
  assert.equal(retryAfterMs("Tue, 01 Dec 2026 10:00:30 GMT", now), 30_000);
  assert.equal(retryAfterMs("Tue, 01 Dec 2026 09:00:00 GMT", now), 0);
  assert.equal(retryAfterMs("86400", now), 600_000);
  assert.equal(retryAfterMs(null, now), undefined);
  assert.equal(retryAfterMs("soon", now), undefined);
});

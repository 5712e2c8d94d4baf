import assert from "node:assert/strict";
import type { Label } from "./registry.ts";
import { type RemoteSample, SampleQueue } from "./sample_queue.ts";

const labels: readonly Label[] = [["__name__", "x"]];
const batch = (n: number, ts: number): RemoteSample[] =>
  Array.from({ length: n }, (_, i) => ({ labels, value: i, timestampMs: ts }));

Deno.test("drop-oldest drops whole old batches until the new one fits, and counts the samples", () => {
  const q = new SampleQueue(5, "drop-oldest");
  assert.equal(q.push(batch(2, 1)), 0);
  assert.equal(q.push(batch(2, 2)), 0);
  assert.equal(q.push(batch(3, 3)), 2, "one old batch makes room");
  assert.equal(q.push(batch(5, 4)), 5, "both queued batches had to go");
  assert.equal(q.size, 5);
  assert.equal(q.dropped, 7);
  assert.deepEqual(q.begin(100).map((b) => b[0].timestampMs), [4]);
});

Deno.test("drop-newest keeps what is queued and drops the batch that does not fit", () => {
  const q = new SampleQueue(5, "drop-newest");
  q.push(batch(4, 1));
  assert.equal(q.push(batch(2, 2)), 2);
  assert.equal(q.push(batch(1, 3)), 0);
  assert.equal(q.size, 5);
  assert.equal(q.dropped, 2);
});

Deno.test("batches in flight are never dropped; when nothing else can go the new batch is", () => {
  const q = new SampleQueue(4, "drop-oldest");
  q.push(batch(2, 1));
  q.push(batch(2, 2));
  assert.equal(q.begin(10).length, 2);
  assert.equal(q.push(batch(1, 3)), 1);
  assert.equal(q.size, 4);
  q.abort();
  assert.equal(q.push(batch(1, 4)), 2, "no longer in flight: the oldest goes");
  assert.deepEqual(q.begin(10).map((b) => b[0].timestampMs), [2, 4]);
});

Deno.test("begin takes at least one batch and then whole batches up to the limit; commit removes them", () => {
  const q = new SampleQueue(100, "drop-oldest");
  q.push(batch(7, 1));
  q.push(batch(2, 2));
  q.push(batch(2, 3));
  assert.equal(q.begin(5).length, 1, "a batch bigger than the limit still goes alone");
  assert.deepEqual(q.begin(5), [], "one push at a time");
  q.commit();
  assert.equal(q.size, 4);
  assert.deepEqual(q.begin(4).map((b) => b[0].timestampMs), [2, 3]);
  q.commit();
  assert.equal(q.size, 0);
  q.drop(3);
  assert.equal(q.dropped, 3);
});

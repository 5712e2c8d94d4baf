import assert from "node:assert/strict";
import { EventQueue, type OverflowPolicy, type QueueItem } from "./queue.ts";

const item = (seq: number): QueueItem => ({ seq, data: `{"seq":${seq}}` });
const seqs = (items: QueueItem[]): number[] => items.map((i) => i.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function filled(max: number, policy: OverflowPolicy, count: number) {
  const queue = new EventQueue(max, policy);
  const returns = range(1, count).map((seq) => queue.push(item(seq)));
  return { queue, returns };
}

Deno.test("EventQueue drop-oldest keeps the newest items and counts each drop", () => {
  const { queue, returns } = filled(3, "drop-oldest", 10);
  assert.deepEqual(returns, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(queue.dropped, 7);
  assert.equal(queue.size, 3);
  assert.deepEqual(seqs(queue.after(0, 100)), [8, 9, 10]);
  assert.deepEqual(queue.after(0, 100).map((i) => i.data), [
    '{"seq":8}',
    '{"seq":9}',
    '{"seq":10}',
  ]);
});

Deno.test("EventQueue drop-newest keeps the oldest items and rejects the rest", () => {
  const { queue, returns } = filled(3, "drop-newest", 10);
  assert.deepEqual(returns, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(queue.dropped, 7);
  assert.equal(queue.size, 3);
  assert.deepEqual(seqs(queue.after(0, 100)), [1, 2, 3]);
});

Deno.test("EventQueue accepts new items again once room is made", () => {
  const queue = new EventQueue(2, "drop-newest");
  queue.push(item(1));
  queue.push(item(2));
  assert.equal(queue.push(item(3)), 1);
  assert.equal(queue.removeThrough(1), 1);
  assert.equal(queue.push(item(4)), 0);
  assert.deepEqual(seqs(queue.after(0, 10)), [2, 4]);
  assert.equal(queue.dropped, 1);
});

Deno.test("EventQueue.after() returns up to `limit` items past `seq` without removing them", () => {
  const { queue } = filled(10, "drop-oldest", 5);
  assert.deepEqual(seqs(queue.after(0, 2)), [1, 2]);
  assert.deepEqual(seqs(queue.after(2, 10)), [3, 4, 5]);
  assert.deepEqual(seqs(queue.after(3, 1)), [4]);
  assert.deepEqual(seqs(queue.after(5, 10)), []);
  assert.deepEqual(seqs(queue.after(99, 10)), []);
  assert.deepEqual(seqs(queue.after(0, 0)), []);
  assert.deepEqual(seqs(queue.after(-1, Infinity)), [1, 2, 3, 4, 5]);
  assert.equal(queue.size, 5, "reading removes nothing");
});

Deno.test("EventQueue.after() finds the position between seqs that have gaps", () => {
  const queue = new EventQueue(10, "drop-oldest");
  for (const seq of [10, 20, 30, 40]) queue.push(item(seq));
  assert.deepEqual(seqs(queue.after(15, 10)), [20, 30, 40]);
  assert.deepEqual(seqs(queue.after(20, 10)), [30, 40]);
  assert.deepEqual(seqs(queue.after(9, 1)), [10]);
  assert.equal(queue.countThrough(25), 2);
  assert.equal(queue.removeThrough(35), 3);
  assert.deepEqual(seqs(queue.after(0, 10)), [40]);
});

Deno.test("EventQueue.countThrough() counts the queued items with seq at or below it", () => {
  const { queue } = filled(3, "drop-oldest", 10); // holds 8, 9, 10
  assert.equal(queue.countThrough(0), 0);
  assert.equal(queue.countThrough(7), 0, "dropped items are not counted");
  assert.equal(queue.countThrough(8), 1);
  assert.equal(queue.countThrough(9), 2);
  assert.equal(queue.countThrough(10), 3);
  assert.equal(queue.countThrough(1_000), 3);
  assert.equal(queue.size, 3);
});

Deno.test("EventQueue.removeThrough() removes only items with seq at or below it", () => {
  const { queue } = filled(10, "drop-oldest", 6);
  assert.equal(queue.removeThrough(0), 0);
  assert.equal(queue.removeThrough(2), 2);
  assert.deepEqual(seqs(queue.after(0, 10)), [3, 4, 5, 6]);
  assert.equal(queue.removeThrough(2), 0, "removing again is a no-op");
  assert.equal(queue.countThrough(4), 2);
  assert.equal(queue.removeThrough(100), 4);
  assert.equal(queue.size, 0);
  assert.deepEqual(queue.after(0, 10), []);
  assert.equal(queue.dropped, 0, "removal is not a drop");
});

Deno.test("EventQueue stays correct across compaction after thousands of pushes and removals", () => {
  const queue = new EventQueue(5_000, "drop-oldest");
  let nextSeq = 1;
  let removedThrough = 0;
  // Push 300, remove 250, repeatedly: the head passes the compaction threshold several times.
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 300; i++) assert.equal(queue.push(item(nextSeq++)), 0);
    const target = removedThrough + 250;
    assert.equal(queue.countThrough(target), 250);
    assert.equal(queue.removeThrough(target), 250);
    removedThrough = target;
    const expectedSize = (round + 1) * 50;
    assert.equal(queue.size, expectedSize, `round ${round}`);
    assert.deepEqual(seqs(queue.after(removedThrough, 3)), range(target + 1, target + 3));
    assert.deepEqual(seqs(queue.after(nextSeq - 3, 10)), [nextSeq - 2, nextSeq - 1]);
    assert.equal(queue.countThrough(nextSeq - 1), expectedSize);
  }
  assert.equal(nextSeq - 1, 6_000);
  assert.deepEqual(seqs(queue.after(0, 5_000)), range(5_001, 6_000));
  assert.equal(queue.removeThrough(6_000), 1_000);
  assert.equal(queue.size, 0);
  assert.equal(queue.dropped, 0);
});

Deno.test("EventQueue drop-oldest stays correct across compaction on the push path", () => {
  const { queue, returns } = filled(100, "drop-oldest", 3_000);
  assert.equal(returns.filter((r) => r === 1).length, 2_900);
  assert.equal(queue.dropped, 2_900);
  assert.equal(queue.size, 100);
  assert.deepEqual(seqs(queue.after(0, 1_000)), range(2_901, 3_000));
  assert.equal(queue.countThrough(2_950), 50);
  assert.equal(queue.removeThrough(2_950), 50);
  assert.deepEqual(seqs(queue.after(0, 1_000)), range(2_951, 3_000));
});

Deno.test("EventQueue rejects a size that is not a whole number >= 1", () => {
  for (const max of [0, -3, 2.5, Number.NaN, Infinity]) {
    assert.throws(
      () => new EventQueue(max, "drop-oldest"),
      (error: unknown) => error instanceof RangeError && error.message.includes(`got ${max}`),
      `size ${max}`,
    );
  }
});

Deno.test("EventQueue rejects an unknown overflow policy", () => {
  assert.throws(
    () => new EventQueue(10, "drop-random" as OverflowPolicy),
    (error: unknown) => error instanceof TypeError && error.message.includes("got drop-random"),
  );
});

Deno.test("EventQueue drop-oldest never drops an item in flight: it drops the oldest unsent one", () => {
  const q = new EventQueue(4, "drop-oldest");
  for (let seq = 1; seq <= 4; seq++) q.push({ seq, data: String(seq) });
  q.markSent(2); // 1 and 2 were sent and await their ack
  assert.equal(q.push({ seq: 5, data: "5" }), 1);
  assert.deepEqual(q.after(0, 10).map((i) => i.seq), [1, 2, 4, 5]);
  assert.equal(q.push({ seq: 6, data: "6" }), 1);
  assert.deepEqual(q.after(0, 10).map((i) => i.seq), [1, 2, 5, 6]);
  assert.equal(q.dropped, 2);
});

Deno.test("EventQueue drop-oldest drops the new item when every queued item is in flight", () => {
  const q = new EventQueue(3, "drop-oldest");
  for (let seq = 1; seq <= 3; seq++) q.push({ seq, data: String(seq) });
  q.markSent(3);
  assert.equal(q.push({ seq: 4, data: "4" }), 1);
  assert.deepEqual(q.after(0, 10).map((i) => i.seq), [1, 2, 3]);
  assert.equal(q.dropped, 1);
  q.resetSent(); // the connection was lost: everything is unsent again
  assert.equal(q.push({ seq: 5, data: "5" }), 1);
  assert.deepEqual(q.after(0, 10).map((i) => i.seq), [2, 3, 5]);
});

Deno.test("EventQueue.unsent() starts after what was marked sent; inFlight counts the rest", () => {
  const { queue } = filled(10, "drop-oldest", 6);
  assert.equal(queue.inFlight, 0);
  assert.deepEqual(seqs(queue.unsent(4)), [1, 2, 3, 4]);
  queue.markSent(4);
  assert.equal(queue.inFlight, 4);
  assert.deepEqual(seqs(queue.unsent(10)), [5, 6]);
  queue.markSent(2); // a mark never moves back
  assert.deepEqual(seqs(queue.unsent(10)), [5, 6]);
  queue.resetSent();
  assert.equal(queue.inFlight, 0);
  assert.deepEqual(seqs(queue.unsent(10)), range(1, 6));
  assert.equal(queue.size, 6, "marking removes nothing");
});

Deno.test("EventQueue.confirmSent() removes only sent items, however far the confirmation reaches", () => {
  const { queue } = filled(10, "drop-oldest", 6);
  assert.equal(queue.confirmSent(6), 0, "nothing was sent");
  queue.markSent(3);
  assert.equal(queue.confirmSent(1), 1);
  assert.equal(queue.inFlight, 2);
  assert.equal(queue.confirmSent(1_000), 2, "capped at what was sent");
  assert.deepEqual(seqs(queue.after(0, 10)), [4, 5, 6]);
  assert.equal(queue.inFlight, 0);
  assert.deepEqual(seqs(queue.unsent(10)), [4, 5, 6]);
  assert.equal(queue.dropped, 0);
});

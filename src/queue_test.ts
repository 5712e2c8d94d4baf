import assert from "node:assert/strict";
import { EventQueue, type OverflowPolicy, type QueueInput, type QueueItem } from "./queue.ts";

const event = (seq: number, run = "run-b"): QueueInput => ({
  seq,
  run,
  id: `${run}-${seq}`,
  data: JSON.stringify({ seq, run, id: `${run}-${seq}` }),
});
const seqs = (items: QueueItem[]): number[] => items.map((i) => i.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function filled(max: number, policy: OverflowPolicy, count: number) {
  const queue = new EventQueue(max, policy);
  const returns = range(1, count).map((seq) => queue.push(event(seq)));
  return { queue, returns };
}

/** Every queued item (in flight or not), in order, as seq/run/id/pos. */
function all(queue: EventQueue): QueueItem[] {
  return queue.waiting().map((w) => ({
    ...JSON.parse(w.data),
    data: w.data,
    pos: w.pos,
    createdAt: w.createdAt,
  }));
}

Deno.test("EventQueue drop-oldest keeps the newest items and counts each drop", () => {
  const { queue, returns } = filled(3, "drop-oldest", 10);
  assert.deepEqual(returns, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(queue.dropped, 7);
  assert.equal(queue.size, 3);
  assert.deepEqual(seqs(all(queue)), [8, 9, 10]);
  assert.deepEqual(all(queue).map((i) => i.pos), [8, 9, 10], "positions follow the pushes");
});

Deno.test("EventQueue drop-newest keeps the oldest items and rejects the rest", () => {
  const { queue, returns } = filled(3, "drop-newest", 10);
  assert.deepEqual(returns, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(queue.stats().droppedOverflow, 7);
  assert.deepEqual(seqs(all(queue)), [1, 2, 3]);
});

Deno.test("EventQueue drop-oldest never drops an item in flight: it drops the oldest unsent one", () => {
  const { queue } = filled(4, "drop-oldest", 4);
  queue.markSent(2); // 1 and 2 were sent and await their ack
  assert.equal(queue.push(event(5)), 1);
  assert.deepEqual(seqs(all(queue)), [1, 2, 4, 5]);
  assert.equal(queue.push(event(6)), 1);
  assert.deepEqual(seqs(all(queue)), [1, 2, 5, 6]);
  assert.equal(queue.dropped, 2);
});

Deno.test("EventQueue drop-oldest drops the new item when every queued item is in flight", () => {
  const { queue } = filled(3, "drop-oldest", 3);
  queue.markSent(3);
  assert.equal(queue.push(event(4)), 1);
  queue.resetSent(); // the connection was lost: everything is unsent again
  assert.deepEqual(seqs(all(queue)), [1, 2, 3]);
  assert.equal(queue.push(event(5)), 1);
  assert.deepEqual(seqs(all(queue)), [2, 3, 5]);
});

Deno.test("EventQueue.unsent() starts after what was marked sent; inFlight counts the rest", () => {
  const { queue } = filled(10, "drop-oldest", 6);
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
  assert.deepEqual(seqs(queue.unsent(10)), [4, 5, 6]);
  assert.equal(queue.dropped, 0);
});

Deno.test("EventQueue.inFlightPos() names events by run and seq, by id, or by seq alone", () => {
  const queue = new EventQueue(10, "drop-oldest");
  // Spooled events of an earlier run go first, then the new run's, whose seqs start at 1 again.
  for (const e of [event(4, "run-a"), event(5, "run-a"), event(1), event(2)]) queue.push(e);
  queue.markSent(4);
  assert.equal(queue.inFlightPos({ run: "run-a", seq: 5 }), 2);
  assert.equal(queue.inFlightPos({ run: "run-b", seq: 1 }), 3);
  assert.equal(queue.inFlightPos({ id: "run-a-4" }), 1);
  assert.equal(queue.inFlightPos({ seq: 2 }), 4, "seq alone: of the run of the latest sent");
  assert.equal(queue.inFlightPos({ seq: 1_000 }), 4, "cumulative: everything up to the ack's seq");
  assert.equal(queue.inFlightPos({ run: "run-a", seq: 4 }), 1);
  assert.equal(queue.inFlightPos({ run: "run-c", seq: 1 }), undefined);
  assert.equal(queue.inFlightPos({ run: "run-b", seq: 0 }), undefined);
  queue.resetSent();
  assert.equal(queue.inFlightPos({ run: "run-a", seq: 5 }), undefined, "only what is in flight");
  queue.markSent(2);
  assert.equal(queue.confirmSent(queue.inFlightPos({ run: "run-a", seq: 5 })!), 2);
  assert.deepEqual(seqs(all(queue)), [1, 2]);
});

Deno.test("EventQueue bounds its bytes too: past maxBytes the policy drops", () => {
  const queue = new EventQueue(1_000, "drop-oldest", { maxBytes: 3 * event(1).data.length });
  for (let seq = 1; seq <= 5; seq++) queue.push(event(seq));
  assert.equal(queue.size, 3);
  assert.equal(queue.stats().droppedOverflow, 2);
  assert.equal(queue.stats().bytes, 3 * event(1).data.length);
  assert.deepEqual(seqs(all(queue)), [3, 4, 5]);
});

Deno.test("EventQueue drops unsent items older than maxAge instead of sending them, and counts them", () => {
  let now = 1_000_000;
  const queue = new EventQueue(100, "drop-oldest", { maxAgeMs: 60_000, now: () => now });
  queue.push(event(1));
  queue.push(event(2));
  queue.markSent(1);
  now += 30_000;
  queue.push(event(3));
  now += 40_000; // 1 and 2 are 70 s old, 3 is 40 s old
  assert.deepEqual(seqs(queue.unsent(10)), [3], "2 expired; 1 is in flight and stays");
  assert.equal(queue.stats().droppedAge, 1);
  assert.equal(queue.dropped, 1);
  queue.resetSent();
  assert.equal(queue.expire(), 1, "1 expires once it is unsent again");
  assert.deepEqual(seqs(all(queue)), [3]);
});

Deno.test("EventQueue.restore() puts spooled events first, keeping their positions, and new ones follow", () => {
  const queue = new EventQueue(100, "drop-oldest");
  const spooled = [event(7, "run-a"), event(8, "run-a")].map((e, i) => ({
    pos: 40 + i,
    createdAt: 5,
    data: e.data,
  }));
  assert.equal(queue.restore(spooled), 0);
  queue.push(event(1));
  const items = all(queue);
  assert.deepEqual(items.map((i) => [i.pos, i.run, i.seq, i.id]), [
    [40, "run-a", 7, "run-a-7"],
    [41, "run-a", 8, "run-a-8"],
    [42, "run-b", 1, "run-b-1"],
  ]);
  assert.equal(items[0].createdAt, 5);
});

Deno.test("EventQueue stays correct across compaction after thousands of pushes and confirmations", () => {
  const queue = new EventQueue(5_000, "drop-oldest");
  let next = 1;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 300; i++) assert.equal(queue.push(event(next++)), 0);
    queue.markSent(next - 1);
    const firstPos = all(queue)[0].pos;
    assert.equal(queue.confirmSent(firstPos + 249), 250);
    queue.resetSent();
    assert.equal(queue.size, (round + 1) * 50, `round ${round}`);
  }
  assert.deepEqual(seqs(all(queue)).slice(0, 3), [5_001, 5_002, 5_003]);
  assert.equal(queue.dropped, 0);
});

Deno.test("EventQueue drop-oldest stays correct across compaction on the push path", () => {
  const { queue, returns } = filled(100, "drop-oldest", 3_000);
  assert.equal(returns.filter((r) => r === 1).length, 2_900);
  assert.deepEqual(seqs(all(queue)), range(2_901, 3_000));
});

Deno.test("EventQueue rejects a size that is not a whole number >= 1 and an unknown policy", () => {
  for (const max of [0, -3, 2.5, Number.NaN, Infinity]) {
    assert.throws(() => new EventQueue(max, "drop-oldest"), RangeError, `size ${max}`);
  }
  assert.throws(
    () => new EventQueue(10, "drop-random" as OverflowPolicy),
    (error: unknown) => error instanceof TypeError && error.message.includes("got drop-random"),
  );
});

import assert from "node:assert/strict";
import { ManualClock } from "../tests/support/manual_clock.ts";
import { TimerHeap } from "./timer_heap.ts";

Deno.test("TimerHeap fires entries in due order, ties in the order they were added, on one clock timer", async () => {
  const clock = new ManualClock();
  const timers = new TimerHeap(clock);
  const fired: string[] = [];
  for (const [at, name] of [[30, "c"], [10, "a"], [20, "b1"], [20, "b2"], [0, "z"]] as const) {
    timers.add(at, () => fired.push(`${name}@${clock.now()}`));
  }
  assert.equal(clock.pending(), 1, "one clock timer for five entries");
  await clock.advance(25);
  assert.deepEqual(fired, ["z@0", "a@10", "b1@20", "b2@20"]);
  assert.equal(timers.size, 1);
  await clock.advance(5);
  assert.deepEqual(fired.at(-1), "c@30");
  assert.equal(clock.pending(), 0, "no timer once the heap is empty");
});

Deno.test("TimerHeap.cancel removes an entry wherever it sits, and moves the clock timer", async () => {
  const clock = new ManualClock();
  const timers = new TimerHeap(clock);
  const fired: number[] = [];
  const entries = Array.from({ length: 50 }, (_, i) => timers.add(100 - i, () => fired.push(i)));
  for (let i = 0; i < 50; i += 2) timers.cancel(entries[i]);
  timers.cancel(entries[0]); // twice is harmless
  assert.equal(timers.size, 25);
  assert.equal(clock.pending(), 1);
  await clock.advance(100);
  assert.deepEqual(fired, Array.from({ length: 25 }, (_, k) => 49 - 2 * k));
});

Deno.test("TimerHeap runs entries added by a firing entry, and a throwing entry stops none", async () => {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const timers = new TimerHeap(clock, (e) => errors.push(e));
  const fired: string[] = [];
  timers.add(10, () => {
    fired.push("first");
    timers.add(clock.now(), () => fired.push("added now"));
    timers.add(clock.now() + 5, () => fired.push("added later"));
    throw new Error("boom");
  });
  timers.add(10, () => fired.push("second"));
  await clock.advance(20);
  assert.deepEqual(fired, ["first", "second", "added now", "added later"]);
  assert.equal((errors[0] as Error).message, "boom");
});

Deno.test("TimerHeap.clear drops every entry and the clock timer", async () => {
  const clock = new ManualClock();
  const timers = new TimerHeap(clock);
  let fired = 0;
  timers.add(5, () => fired++);
  timers.add(6, () => fired++);
  timers.clear();
  assert.equal(clock.pending(), 0);
  await clock.advance(10);
  assert.equal(fired, 0);
});
